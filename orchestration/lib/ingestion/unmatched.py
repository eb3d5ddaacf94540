"""Records whose CRM account id matches no billing customer: counted per drop of the raw
layer (no Dagster; the `account_ids_match` checks in orchestration/defs/checks/unmatched.py
judge the counts). Such records are kept, never dropped."""
from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib.ingestion.contracts import get_object
from orchestration.lib.run_tags import drop_range

CUSTOMERS = get_object("billing", "customers")
SAMPLE_IDS = 20


def drop_files(raw_dir: Path, source: str, table: str) -> dict[str, Path]:
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
                                  drops=list(drop_files(raw_dir, source, table)))
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
    files = drop_files(raw_dir, source, table)
    wanted = [d for d in (drops if drops is not None else list(files)[-1:]) if d in files]
    if not wanted:
        return []
    customer_files = [str(f) for f in drop_files(raw_dir, "billing", CUSTOMERS.table).values()]
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
    r = drop_range(tags)
    if not r:
        return None
    start, end = r
    return [d for d in loaded if start <= d <= end]
