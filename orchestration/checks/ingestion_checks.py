"""Checks on the raw layer that span objects: records whose CRM account id matches no billing
customer are kept (never dropped) and counted here, per drop.

`account_ids_match` judges each drop of the run on its own (a drop where a source sent many
records under a wrong or mangled account id stands out instead of being diluted by a long
backfill): the run's drops come from its tags (`dagster/asset_partition_range_start` /
`_end`, or `dagster/partition`); a run without them (the check run alone) judges the
latest loaded drop. It warns when any drop's unmatched share exceeds
`ingestion.max_unmatched_rate`. Ids are already trimmed at ingestion (reader.py), so a
stray space never makes an account unmatched."""

from pathlib import Path

import duckdb
from dagster import (AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue,
                     asset_check)

from ..assets.ingestion import raw_asset_key
from ..ingestion.contracts import OBJECTS, get_object
from ..settings import get_settings

CUSTOMERS = get_object("billing", "customers")
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
SAMPLE_IDS = 20


def _glob(raw_dir: Path, source: str, table: str) -> str:
    return str(raw_dir / source / table / "*" / "*.parquet")


def _drop_files(raw_dir: Path, source: str, table: str) -> dict[str, Path]:
    """{drop date: data file} of a raw table, sorted by drop."""
    folder = Path(raw_dir) / source / table
    out = {}
    for d in sorted(folder.glob("drop_date=*")):
        f = d / "data.parquet"
        if f.is_file():
            out[d.name.split("=", 1)[1]] = f
    return out


def count_unmatched(raw_dir: Path, source: str, table: str, column: str) -> dict:
    """Records of a raw table (all drops) whose account id is null or matches no billing customer."""
    per = count_unmatched_by_drop(raw_dir, source, table, column,
                                  drops=list(_drop_files(raw_dir, source, table)))
    ids = sorted({i for p in per for i in p["unmatched_ids"]})
    return {"records": sum(p["records"] for p in per),
            "without_account": sum(p["without_account"] for p in per),
            "unmatched": sum(p["unmatched"] for p in per), "unmatched_ids": ids[:SAMPLE_IDS]}


def count_unmatched_by_drop(raw_dir: Path, source: str, table: str, column: str,
                            drops: list[str] | None = None) -> list[dict]:
    """Per drop of a raw table: records, records without an account id, records whose account
    id matches no billing customer (metadata.account_id of any loaded drop), their share of
    the drop's records, and up to 20 of those ids (sorted). `drops`: the drop dates to count
    (those not loaded are left out); None = the latest loaded drop. Sorted by drop date."""
    files = _drop_files(raw_dir, source, table)
    wanted = [d for d in (drops if drops is not None else list(files)[-1:]) if d in files]
    if not wanted:
        return []
    customer_files = [str(f) for f in _drop_files(raw_dir, "billing", CUSTOMERS.table).values()]
    accounts = ("select distinct account_id from read_parquet(?) where account_id is not null"
                if customer_files else "select cast(null as varchar) as account_id where false")
    col = '"' + column.replace('"', '""') + '"'
    con = duckdb.connect()
    try:
        rows = con.execute(f"""
            with accounts as ({accounts}),
            t as (select cast(_drop_date as varchar) as drop_date, {col} as account_id
                  from read_parquet(?, union_by_name = true))
            select t.drop_date,
                   count(*) as records,
                   count(*) filter (where t.account_id is null) as without_account,
                   count(*) filter (where t.account_id is not null and a.account_id is null) as unmatched,
                   list_sort(list(distinct t.account_id) filter (
                       where t.account_id is not null and a.account_id is null)) as ids
            from t left join accounts a on a.account_id = t.account_id
            group by t.drop_date
        """, ([customer_files] if customer_files else []) + [[str(files[d]) for d in wanted]]).fetchall()
    finally:
        con.close()
    found = {r[0]: r for r in rows}
    out = []
    for d in wanted:
        _, records, without, unmatched, ids = found.get(d, (d, 0, 0, 0, []))
        out.append({"drop_date": d, "records": records, "without_account": without,
                    "unmatched": unmatched, "share": unmatched / records if records else 0.0,
                    "unmatched_ids": list(ids or [])[:SAMPLE_IDS]})
    return out


def run_drops(tags: dict, loaded: list[str]) -> list[str] | None:
    """The drops a run is about, from its tags, among the `loaded` drop dates (sorted);
    None when the run has no partition tags."""
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if not (start and end):
        start = end = tags.get(PARTITION_TAG)
    if not start:
        return None
    return [d for d in loaded if start <= d <= end]


def judge_unmatched(per_drop: list[dict], max_rate: float) -> tuple[bool, str, dict]:
    """(passed, one-line description naming the worst drop, metadata) for per-drop counts."""
    failing = [p for p in per_drop if p["share"] > max_rate]
    worst = max(per_drop, key=lambda p: (p["share"], p["unmatched"]), default=None)
    if worst is None:
        desc = "no loaded drop in this run: nothing to match"
    else:
        sample = ", ".join(worst["unmatched_ids"][:3])
        desc = (f"{len(failing)} of {len(per_drop)} drop(s) above {max_rate:.1%} unmatched; " if failing
                else f"all {len(per_drop)} drop(s) within {max_rate:.1%} unmatched; ")
        desc += (f"worst {worst['drop_date']}: {worst['unmatched']} of {worst['records']} records "
                 f"({worst['share']:.1%})" + (f", e.g. {sample}" if sample else ""))
    records = sum(p["records"] for p in per_drop)
    unmatched = sum(p["unmatched"] for p in per_drop)
    metadata = {
        "records": records, "unmatched_records": unmatched,
        "records_without_account_id": sum(p["without_account"] for p in per_drop),
        "unmatched_share": unmatched / records if records else 0.0,
        "worst_drop": worst["drop_date"] if worst else "",
        "worst_drop_share": worst["share"] if worst else 0.0,
        "drops_above_threshold": [p["drop_date"] for p in failing],
        "per_drop": MetadataValue.json({p["drop_date"]: {
            "records": p["records"], "unmatched": p["unmatched"], "share": round(p["share"], 6),
            "without_account": p["without_account"], "sample_unmatched_account_ids": p["unmatched_ids"]}
            for p in per_drop}),
        "sample_unmatched_account_ids": MetadataValue.json(
            sorted({i for p in per_drop for i in p["unmatched_ids"]})[:SAMPLE_IDS]),
    }
    return not failing, desc, metadata


def build_unmatched_check(obj):
    @asset_check(
        asset=raw_asset_key(obj),
        name="account_ids_match",
        additional_deps=[raw_asset_key(CUSTOMERS)],
        description=(f"Counts, per drop of the run, `{obj.source}.{obj.name}` records whose "
                     f"`{obj.account_column}` matches no billing customer's metadata.account_id. They "
                     "stay in the raw and staging layers; warns when any drop's share is above "
                     "ingestion.max_unmatched_rate."),
    )
    def _check(context: AssetCheckExecutionContext):
        settings = get_settings()
        loaded = list(_drop_files(settings.raw_dir, obj.source, obj.table))
        drops = run_drops(context.run.tags, loaded)
        per = count_unmatched_by_drop(settings.raw_dir, obj.source, obj.table, obj.account_column, drops)
        passed, desc, metadata = judge_unmatched(per, settings.max_unmatched_rate)
        return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.WARN,
                                description=desc, metadata=metadata)

    return _check


unmatched_checks = [build_unmatched_check(o) for o in OBJECTS
                    if o.account_column and o.source != "billing"]
