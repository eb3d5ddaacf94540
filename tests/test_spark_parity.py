"""Scale-out parity: the same raw layer built on DuckDB and on local Spark (dbt-spark, `spark`
target) gives the same published marts: same columns, same keys, amounts equal to the cent,
rates (and every other floating-point column) within 1e-9, everything else exactly equal.
Then the publication gate runs on the Spark build: the GX suites validate the exported Spark
marts and they are published to a serving DuckDB file.

Data: the hand-built revenue fixture (tests/helpers/fixtures_revenue.py) and a small generated sample
(orchestration.lib.sample_data, 60 accounts x 120 days). One ingestion per landing zone: both
engines read the same Parquet raw layer.

Marked `spark` and `slow` (a few minutes: each Spark build is ~250 dbt nodes on one local
JVM); `make test` / .ci/run run it, `make test-quick` skips it. Skipped with the reason when
the spark extra (pyspark, dbt-spark) or Java is missing.
"""
from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.engines import spark as spark_engine
from orchestration.lib.serving import PUBLISHED_MARTS

pytestmark = [pytest.mark.spark, pytest.mark.slow]

_missing = spark_engine.missing_requirements()
if _missing:
    pytest.skip(f"Spark parity test needs the spark extra and Java: {_missing}", allow_module_level=True)

from helpers import fixtures_revenue  # noqa: E402
from helpers.mart_compare import compare_mart  # noqa: E402
from helpers.pipeline_harness import Pipeline  # noqa: E402
from helpers.spark_harness import SparkPipeline  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Builds (module-scoped: each Spark build takes minutes)
# ---------------------------------------------------------------------------------------------
def _build_both(tmp: Path, landing: Path) -> tuple[Pipeline, SparkPipeline, dict]:
    duck = Pipeline(tmp, landing)
    duck.ingest()
    started = time.perf_counter()
    duck.build()
    duck_seconds = time.perf_counter() - started
    spark = SparkPipeline(tmp, duck.raw)   # the same raw layer: no second ingestion path
    spark.build()
    timings = {"duckdb_seconds": round(duck_seconds, 1), "spark_seconds": round(spark.build_seconds, 1)}
    print(f"\n[{landing.parent.name}] build times: DuckDB {timings['duckdb_seconds']}s, "
          f"Spark {timings['spark_seconds']}s")
    return duck, spark, timings


@pytest.fixture(scope="module")
def fixture_builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parity_fixture")
    fixtures_revenue.write(tmp / "landing")
    return _build_both(tmp, tmp / "landing")


@pytest.fixture(scope="module")
def sample_builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parity_sample")
    subprocess.run([sys.executable, "-m", "orchestration.lib.sample_data", "--accounts", "60", "--days", "120",
                    "--seed", "11", "--out", str(tmp / "landing")], check=True, capture_output=True, text=True)
    return _build_both(tmp, tmp / "landing")


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_fixture_marts_match(fixture_builds, mart):
    duck, spark, _ = fixture_builds
    assert compare_mart(duck.warehouse, spark.warehouse, mart) == []


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_sample_marts_match(sample_builds, mart):
    duck, spark, _ = sample_builds
    problems = compare_mart(duck.warehouse, spark.warehouse, mart)
    assert problems == []
    # not vacuous: the generated sample fills every published mart
    assert spark.query(f"select count(*) from marts.{mart}")[0][0] > 0


def test_fixture_hand_figures_on_spark(fixture_builds):
    """A few of the hand-worked figures of tests/test_revenue.py, read from the Spark build."""
    _, spark, _ = fixture_builds
    D = decimal.Decimal
    assert spark.query("select mrr from marts.fct_account_daily where account_id = 'acc_B' and date = '2024-02-29'") == [(D("110.00"),)]
    assert spark.query("select mrr from marts.fct_account_daily where account_id = 'acc_D' and date = '2024-01-03'") == [(D("98.00"),)]
    assert spark.query("select max(as_of_date) from intermediate.int_as_of_date") == [(dt.date(2024, 4, 15),)]
    assert spark.query("select outcome from marts.mart_renewals where account_id = 'acc_E'") == [("churned",)]


def test_publication_gate_and_publish_on_spark(sample_builds, tmp_path):
    """GX validates the Spark marts; they are then published to a serving DuckDB file that BI
    tools read exactly like the DuckDB engine's."""
    from orchestration.lib.serving.duckdb_file import publish
    from orchestration.lib.validation import validate_marts, validated_marts

    _, spark, _ = sample_builds
    outcomes = validate_marts(spark.warehouse, tmp_path / "gx_docs", "spark-parity")
    assert set(outcomes) == set(validated_marts())
    failed = {m: o.summary() for m, o in outcomes.items() if not o.success}
    assert failed == {}
    serving = tmp_path / "serving" / "analytics.duckdb"
    info = publish(spark.warehouse, serving, PUBLISHED_MARTS, run_id="spark-parity")
    assert set(info["row_counts"]) == set(PUBLISHED_MARTS)
    assert info["as_of_date"] is not None
    con = duckdb.connect(str(serving), read_only=True)
    try:
        for mart in PUBLISHED_MARTS:
            n = con.execute(f"select count(*) from main.{mart}").fetchone()[0]
            assert n == info["row_counts"][mart] > 0
    finally:
        con.close()


def test_gate_blocks_bad_spark_marts(sample_builds, tmp_path):
    """The gate is real on the Spark path: a corrupted exported mart fails its suite."""
    import shutil

    from orchestration.lib.validation import validate_marts

    _, spark, _ = sample_builds
    bad = tmp_path / "bad.duckdb"
    shutil.copy(spark.warehouse, bad)
    con = duckdb.connect(str(bad))
    try:
        con.execute("update marts.fct_mrr_movements set movement_mrr = movement_mrr + 1 "
                    "where movement_type = 'expansion'")
    finally:
        con.close()
    outcome = validate_marts(bad, tmp_path / "gx_docs", "spark-bad", marts=["fct_mrr_movements"])
    assert not outcome["fct_mrr_movements"].success
