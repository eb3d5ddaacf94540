"""Checks on the raw layer that span objects: records whose CRM account id matches no billing
customer are kept (never dropped) and counted here."""
from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from ..assets.ingestion import raw_asset_key
from ..ingestion.contracts import OBJECTS, get_object
from ..settings import get_settings

CUSTOMERS = get_object("billing", "customers")


def _glob(raw_dir: Path, source: str, table: str) -> str:
    return str(raw_dir / source / table / "*" / "*.parquet")


def count_unmatched(raw_dir: Path, source: str, table: str, column: str) -> dict:
    """Records of a raw table whose account id is null or matches no billing customer."""
    con = duckdb.connect()
    try:
        rows = con.execute(f"""
            with accounts as (
                select distinct account_id from read_parquet(?) where account_id is not null
            )
            select count(*) as records,
                   count(*) filter (where t.{column} is null) as without_account,
                   count(*) filter (where t.{column} is not null and a.account_id is null) as unmatched,
                   list(distinct t.{column}) filter (where t.{column} is not null and a.account_id is null)
            from read_parquet(?) t left join accounts a on a.account_id = t.{column}
        """, [_glob(raw_dir, "billing", CUSTOMERS.table), _glob(raw_dir, source, table)]).fetchall()[0]
    finally:
        con.close()
    records, without, unmatched, ids = rows
    return {"records": records, "without_account": without, "unmatched": unmatched,
            "unmatched_ids": sorted(ids or [])[:20]}


def build_unmatched_check(obj):
    @asset_check(
        asset=raw_asset_key(obj),
        name="account_ids_match",
        additional_deps=[raw_asset_key(CUSTOMERS)],
        description=(f"Counts `{obj.source}.{obj.name}` records whose `{obj.account_column}` matches no "
                     "billing customer's metadata.account_id. They stay in the raw and staging layers; "
                     "warns above ingestion.max_unmatched_rate."),
    )
    def _check():
        settings = get_settings()
        res = count_unmatched(settings.raw_dir, obj.source, obj.table, obj.account_column)
        share = res["unmatched"] / res["records"] if res["records"] else 0.0
        return AssetCheckResult(
            passed=share <= settings.max_unmatched_rate,
            severity=AssetCheckSeverity.WARN,
            metadata={"records": res["records"], "unmatched_records": res["unmatched"],
                      "records_without_account_id": res["without_account"],
                      "unmatched_share": share,
                      "sample_unmatched_account_ids": MetadataValue.json(res["unmatched_ids"])},
        )

    return _check


unmatched_checks = [build_unmatched_check(o) for o in OBJECTS
                    if o.account_column and o.source != "billing"]
