"""Mart-by-mart comparison of two builds of the published marts (the DuckDB warehouse and the
Spark export): same columns, same keys, amounts equal to the cent, floating-point columns
within 1e-9, everything else exactly equal. Used by test_spark_parity.py and
bench/spark_vs_duckdb.py."""
from __future__ import annotations

import datetime as dt
import decimal
import math
from pathlib import Path

import duckdb

from orchestration.lib.serving import PUBLISHED_MARTS

MONEY_TOLERANCE = decimal.Decimal("0.005")   # equal to the cent
FLOAT_TOLERANCE = 1e-9                        # rates and other doubles

# Key of every published mart (a mart not listed is compared on all its non-float columns).
MART_KEYS = {
    "dim_accounts": ["account_id"],
    "fct_account_daily": ["account_id", "date"],
    "fct_mrr_movements": ["account_id", "month"],
    "mart_renewals": ["account_id", "due_date"],
    "mart_renewal_rates": ["grain", "period_start", "segment"],
    "mart_revenue_retention": ["month", "segment"],
}


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------
def _read(db: Path, table: str, schema: str = "marts"):
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]
        ).fetchall()
        rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
        names = [d[0] for d in con.description]
    finally:
        con.close()
    return dict(cols), [dict(zip(names, r)) for r in rows]


def _kind(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t.startswith("DECIMAL"):
        return "money"
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return "float"
    return "exact"


def _norm_exact(v):
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC).replace(tzinfo=None)
    return v


def _equal(kind: str, a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if kind == "money":
        return abs(decimal.Decimal(str(a)) - decimal.Decimal(str(b))) < MONEY_TOLERANCE
    if kind == "float":
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=FLOAT_TOLERANCE)
    if isinstance(a, (int, float, decimal.Decimal)) and isinstance(b, (int, float, decimal.Decimal)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return a == b
    return _norm_exact(a) == _norm_exact(b)


def compare_mart(duck_db: Path, spark_db: Path, mart: str, keys: list[str] | None = None) -> list[str]:
    """Differences between one mart of the DuckDB warehouse and of the Spark export (empty =
    the same)."""
    duck_types, duck_rows = _read(duck_db, mart)
    spark_types, spark_rows = _read(spark_db, mart)
    problems: list[str] = []
    if not duck_types:
        return [f"{mart}: missing from the DuckDB build"]
    if not spark_types:
        return [f"{mart}: missing from the Spark build"]
    if set(duck_types) != set(spark_types):
        problems.append(f"{mart}: columns differ: only DuckDB {sorted(set(duck_types) - set(spark_types))}, "
                        f"only Spark {sorted(set(spark_types) - set(duck_types))}")
    kinds = {c: _kind(t) for c, t in duck_types.items() if c in spark_types}
    keys = keys or MART_KEYS.get(mart) or [c for c, k in kinds.items() if k == "exact"]

    def keyed(rows, engine):
        out = {}
        for r in rows:
            k = tuple(_norm_exact(r[c]) for c in keys)
            if k in out:
                problems.append(f"{mart}: duplicate key {k} in the {engine} build")
            out[k] = r
        return out

    duck, spark = keyed(duck_rows, "DuckDB"), keyed(spark_rows, "Spark")
    only_duck, only_spark = sorted(set(duck) - set(spark), key=str), sorted(set(spark) - set(duck), key=str)
    if only_duck or only_spark:
        problems.append(f"{mart}: keys differ ({len(duck)} DuckDB, {len(spark)} Spark): only DuckDB "
                        f"{only_duck[:5]}, only Spark {only_spark[:5]}")
    mismatches = []
    for k in sorted(set(duck) & set(spark), key=str):
        for c, kind in kinds.items():
            if not _equal(kind, duck[k][c], spark[k][c]):
                mismatches.append(f"{k} {c}: DuckDB {duck[k][c]!r} != Spark {spark[k][c]!r}")
    if mismatches:
        problems.append(f"{mart}: {len(mismatches)} values differ, e.g. " + "; ".join(mismatches[:8]))
    return problems


def compare_published(duck_db: Path, spark_db: Path, marts=PUBLISHED_MARTS) -> dict[str, list[str]]:
    return {m: compare_mart(duck_db, spark_db, m) for m in marts}
