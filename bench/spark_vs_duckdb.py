"""Build the same landing zone on DuckDB and on local Spark and print both build times.

    .venv/bin/python bench/spark_vs_duckdb.py                       # 60 accounts x 120 days
    .venv/bin/python bench/spark_vs_duckdb.py --accounts 500 --days 540
    .venv/bin/python bench/spark_vs_duckdb.py --landing data/landing

One ingestion into a temporary raw layer, then `dbt seed` + `dbt build` (models and tests) on
DuckDB, and `dbt build` on Spark (the `spark` target: local[2], 4 shuffle partitions, 2g
driver; includes the JVM start and the Parquet export of the marts), each timed wall-clock.
Then the published marts are compared (tests/helpers/mart_compare.py, as tests/test_spark_parity.py does). Needs the spark extra:
pip install -e '.[spark]'. Results are also appended to bench/results/spark_vs_duckdb.jsonl.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, default=60)
    p.add_argument("--days", type=int, default=120)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--landing", help="an existing landing zone (default: generate a sample)")
    p.add_argument("--workdir", help="keep the builds here (default: a temporary folder)")
    p.add_argument("--no-compare", action="store_true", help="skip the mart comparison")
    a = p.parse_args(argv)

    from orchestration.lib.engines import spark as spark_engine

    missing = spark_engine.missing_requirements()
    if missing:
        print(f"cannot run Spark here: {missing}", file=sys.stderr)
        return 2
    from helpers.pipeline_harness import Pipeline
    from helpers.spark_harness import SparkPipeline

    tmp_ctx = tempfile.TemporaryDirectory(prefix="csp_bench_") if not a.workdir else None
    work = Path(a.workdir or tmp_ctx.name)
    work.mkdir(parents=True, exist_ok=True)
    try:
        if a.landing:
            landing = Path(a.landing).resolve()
            data = f"landing {landing}"
        else:
            landing = work / "landing"
            subprocess.run([sys.executable, "-m", "orchestration.lib.sample_data", "--accounts", str(a.accounts),
                            "--days", str(a.days), "--seed", str(a.seed), "--out", str(landing), "--quiet"],
                           check=True, cwd=ROOT)
            data = f"sample {a.accounts} accounts x {a.days} days (seed {a.seed})"
        duck = Pipeline(work, landing)
        t = time.perf_counter()
        duck.ingest()
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        duck.build()
        duck_s = time.perf_counter() - t
        spark = SparkPipeline(work, duck.raw)
        spark.build()
        spark_s = spark.build_seconds
        rows = duck.query("select count(*) from marts.fct_account_daily")[0][0]

        print(f"data: {data}; raw layer ingested once in {ingest_s:.1f}s; fct_account_daily {rows} rows")
        print(f"{'engine':<8} {'build (s)':>10}")
        print(f"{'duckdb':<8} {duck_s:>10.1f}")
        print(f"{'spark':<8} {spark_s:>10.1f}   ({spark_s / duck_s:.0f}x)")
        same = None
        if not a.no_compare:
            from helpers.mart_compare import compare_published

            diffs = {m: d for m, d in compare_published(duck.warehouse, spark.warehouse).items() if d}
            same = not diffs
            print("published marts: " + ("identical (keys, cents, rates to 1e-9)" if same else f"DIFFER: {diffs}"))
        results = ROOT / "bench" / "results"
        results.mkdir(parents=True, exist_ok=True)
        with open(results / "spark_vs_duckdb.jsonl", "a") as f:
            f.write(json.dumps({"at": dt.datetime.now().isoformat(timespec="seconds"), "data": data,
                                "fct_account_daily_rows": rows, "duckdb_seconds": round(duck_s, 2),
                                "spark_seconds": round(spark_s, 2), "marts_identical": same,
                                "cpus": os.cpu_count(), "python": platform.python_version()}) + "\n")
        return 0 if same in (None, True) else 1
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()


if __name__ == "__main__":
    sys.exit(main())
