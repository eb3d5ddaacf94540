"""Write-audit-publish: GX suites on the marts gate the atomic publication of the serving DB.

A small warehouse is built by hand (6 accounts, daily MRR 2024-01-01 .. 2025-03-10, marts
computed from it per docs/metrics.md), so the suites are exercised on consistent
data, then on corrupted copies.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from helpers.publication_warehouse import (  # noqa: E402
    AS_OF,
    CORRUPTIONS,
    MART_NAMES,
    PUBLISHED,
    build_warehouse,
    corrupt,
    dagster_assets,
)
from orchestration.lib.serving.duckdb_file import publish  # noqa: E402
from orchestration.lib.validation import validate_marts  # noqa: E402


@pytest.fixture(scope="module")
def base_warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("base") / "warehouse.duckdb")


@pytest.fixture
def warehouse(base_warehouse, tmp_path, monkeypatch) -> Path:
    # the publication gate reads reject blocks from the raw layer: its own, never the checkout's
    monkeypatch.setenv("CSP_RAW_DIR", str(tmp_path / "raw"))
    path = tmp_path / "warehouse" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy(base_warehouse, path)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def validate_and_publish(warehouse: Path, serving: Path, docs: Path, run_id: str):
    """The write-audit-publish flow without Dagster: publish only when every suite passes."""
    outcomes = validate_marts(warehouse, docs, run_id, marts=MART_NAMES)
    if all(o.success for o in outcomes.values()):
        return outcomes, publish(warehouse, serving, PUBLISHED, run_id=run_id)
    return outcomes, None


# ---------------------------------------------------------------------------------------------
# Validation + publication
# ---------------------------------------------------------------------------------------------
def test_sample_marts_pass_and_publish(warehouse, tmp_path):
    import sqlalchemy as sa

    serving = tmp_path / "serving" / "analytics.duckdb"
    outcomes, info = validate_and_publish(warehouse, serving, tmp_path / "docs", "run-ok")
    for mart, outcome in outcomes.items():
        assert outcome.success, (mart, [f.__dict__ for f in outcome.failed], outcome.error)
        assert outcome.evaluated >= 10
        assert outcome.data_docs_path and Path(outcome.data_docs_path).exists()
    assert (tmp_path / "docs" / "run-ok" / "index.html").exists()
    assert info is not None and info["as_of_date"] == AS_OF
    assert list(serving.parent.iterdir()) == [serving], "no temp or WAL files left behind"

    # a real client: SQLAlchemy + duckdb_engine, read-only, unqualified table names
    engine = sa.create_engine(f"duckdb:///{serving}", connect_args={"read_only": True})
    with engine.connect() as conn:
        for table in PUBLISHED:
            rows = conn.execute(sa.text(f"select * from {table}")).fetchall()
            assert len(rows) == info["row_counts"][table] > 0
        pub = conn.execute(sa.text("select run_id, table_name, row_count from _publication")).fetchall()
        assert {r.run_id for r in pub} == {"run-ok"}
        assert {r.table_name: r.row_count for r in pub} == info["row_counts"]
        tables = conn.execute(sa.text(
            "select table_schema, table_name from information_schema.tables")).fetchall()
    engine.dispose()
    # only the published marts (and the stamp), no raw / staging / intermediate data
    assert {(s, t) for s, t in tables} == {("main", t) for t in [*PUBLISHED, "_publication"]}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corruption_is_caught_and_nothing_published(name, warehouse, tmp_path):
    sql, mart, expectation_type, description_part = CORRUPTIONS[name]
    serving = tmp_path / "serving" / "analytics.duckdb"
    # a previous, good publication
    publish(warehouse, serving, PUBLISHED, run_id="previous")
    before = sha256(serving)

    corrupt(warehouse, sql)
    outcomes, info = validate_and_publish(warehouse, serving, tmp_path / "docs", f"run-{name}")

    assert info is None, "a failed validation must publish nothing"
    assert sha256(serving) == before, "the serving database keeps its previous bytes"
    assert list(serving.parent.iterdir()) == [serving]
    outcome = outcomes[mart]
    assert not outcome.success
    hits = [f for f in outcome.failed
            if f.expectation == expectation_type and description_part in f.description]
    assert hits, [(f.expectation, f.description) for f in outcome.failed]
    assert hits[0].sample_rows, "failing rows are reported"
    assert not hits[0].exception
    assert outcome.data_docs_path and Path(outcome.data_docs_path).exists()


def test_sample_rows_identify_the_bad_row(warehouse, tmp_path):
    corrupt(warehouse, CORRUPTIONS["grr_above_1"][0])
    outcome = validate_marts(warehouse, tmp_path / "docs", "r1", marts=["mart_revenue_retention"])[
        "mart_revenue_retention"]
    grr = next(f for f in outcome.failed if f.kwargs.get("column") == "grr")
    assert grr.unexpected_count == 1
    assert grr.sample_rows == [{"month": "2025-02-01", "segment": "all", "grr": 1.2}]


def test_missing_mart_fails_validation(warehouse, tmp_path):
    corrupt(warehouse, "drop table marts.mart_renewal_rates")
    outcomes = validate_marts(warehouse, tmp_path / "docs", "r2", marts=MART_NAMES)
    assert not outcomes["mart_renewal_rates"].success
    assert outcomes["mart_renewals"].success


def test_publish_failure_leaves_nothing_behind(warehouse, tmp_path):
    serving = tmp_path / "serving" / "analytics.duckdb"
    publish(warehouse, serving, PUBLISHED, run_id="previous")
    before = sha256(serving)
    with pytest.raises(duckdb.Error):
        publish(warehouse, serving, [*PUBLISHED, "no_such_mart"], run_id="broken")
    assert sha256(serving) == before
    assert list(serving.parent.iterdir()) == [serving]


# ---------------------------------------------------------------------------------------------
# Readers during publication
# ---------------------------------------------------------------------------------------------
READER = textwrap.dedent("""
    import json, sys, time
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool
    serving, stop = sys.argv[1], sys.argv[2]
    import os
    engine = sa.create_engine(f"duckdb:///{serving}", connect_args={"read_only": True},
                              poolclass=NullPool)
    snapshots, errors, run_ids = 0, [], set()
    while not os.path.exists(stop):
        try:
            with engine.connect() as conn:          # hold the file open for several queries
                for _ in range(3):
                    pub = conn.execute(sa.text(
                        "select run_id, table_name, row_count from _publication")).fetchall()
                    ids = {r[0] for r in pub}
                    if len(ids) != 1:
                        errors.append(f"mixed runs {ids}")
                    for run_id, table, n in pub:
                        got = conn.execute(sa.text(f"select count(*) from {table}")).scalar()
                        if got != n:
                            errors.append(f"{run_id}: {table} has {got} rows, stamped {n}")
                    run_ids |= ids
                    snapshots += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    print(json.dumps({"snapshots": snapshots, "errors": errors[:20], "run_ids": sorted(run_ids)}))
""")


def test_reader_never_sees_errors_or_half_published_state(base_warehouse, tmp_path):
    small = tmp_path / "small.duckdb"
    shutil.copy(base_warehouse, small)
    corrupt(small, "delete from marts.fct_account_daily where account_id in ('a1', 'a2');"
                   "delete from marts.mart_renewals where outcome = 'pending'")
    serving = tmp_path / "serving" / "analytics.duckdb"
    publish(base_warehouse, serving, PUBLISHED, run_id="pub-0")
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # the reader is up and holds the file
        for i in range(1, 9):
            publish(small if i % 2 else base_warehouse, serving, PUBLISHED, run_id=f"pub-{i}")
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["snapshots"] > 10
    assert len(report["run_ids"]) >= 2, report  # it did see publications change under it
    assert list(serving.parent.iterdir()) == [serving]


# ---------------------------------------------------------------------------------------------
# Dagster: blocking checks gate serving_marts
# ---------------------------------------------------------------------------------------------
def test_dagster_blocking_checks_gate_publication(warehouse, tmp_path):
    from dagster import AssetKey, DagsterInstance, materialize

    serving = tmp_path / "serving" / "analytics.duckdb"
    docs = tmp_path / "gx_docs"
    assets = dagster_assets(warehouse, serving, docs)
    instance = DagsterInstance.ephemeral()

    ok = materialize(assets, instance=instance)
    assert ok.success
    pub = [m for m in ok.get_asset_materialization_events()
           if m.asset_key == AssetKey("serving_marts")]
    assert len(pub) == 1
    md = pub[0].materialization.metadata
    assert md["row_counts"].value["mart_renewals"] == 5
    assert set(md["tables"].value) == set(PUBLISHED)
    evaluations = ok.get_asset_check_evaluations()
    assert len(evaluations) == 4 and all(e.passed for e in evaluations)
    assert (docs / ok.run_id / "index.html").exists()
    # re-publishing alone is allowed while the latest validation of every mart passed
    assert materialize(assets, instance=instance, selection=[AssetKey("serving_marts")]).success
    before = sha256(serving)

    corrupt(warehouse, CORRUPTIONS["grr_above_1"][0])
    bad = materialize(assets, instance=instance, raise_on_error=False)
    assert not bad.success
    assert not [m for m in bad.get_asset_materialization_events()
                if m.asset_key == AssetKey("serving_marts")]
    assert "serving_marts" not in {e.step_key for e in bad.all_events
                                   if e.event_type_value == "STEP_START"}, "blocked, not run"
    failed = [e for e in bad.get_asset_check_evaluations() if not e.passed]
    assert [e.asset_key for e in failed] == [AssetKey(["marts", "mart_revenue_retention"])]
    fmd = failed[0].metadata
    assert {"failed_expectations", "sample_failing_rows", "data_docs", "summary"} <= set(fmd)
    assert any(f["expectation"] == "expect_column_values_to_be_between"
               for f in fmd["failed_expectations"].value)
    assert Path(fmd["data_docs"].value).exists()
    assert sha256(serving) == before

    # publishing alone after a failed validation is refused by the asset's own gate
    alone = materialize(assets, instance=instance, raise_on_error=False,
                        selection=[AssetKey("serving_marts")])
    assert not alone.success
    failure = next(e for e in alone.all_events if e.event_type_value == "STEP_FAILURE")
    assert "not publishing: mart_revenue_retention" in str(failure.step_failure_data.error)
    assert sha256(serving) == before


def test_checks_planned_by_queued_runs_do_not_block_publication(warehouse, tmp_path):
    """Runs waiting in the run queue (a sensor's catch-up, schedule + sensor) have PLANNED check
    records from the moment they are created: they must not shadow the validation that the
    publishing run relies on. The run's own unexecuted (PLANNED) checks still block."""
    from dagster import AssetKey, DagsterInstance, Definitions, define_asset_job, materialize
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    from orchestration.defs.checks.gx import gx_check_key

    serving = tmp_path / "serving" / "analytics.duckdb"
    assets = dagster_assets(warehouse, serving, tmp_path / "gx_docs")
    instance = DagsterInstance.ephemeral()
    assert materialize(assets, instance=instance).success
    # a run of everything is created (queued) and waits
    job = Definitions(assets=assets, jobs=[define_asset_job("everything", selection="*")]).resolve_job_def("everything")
    queued = instance.create_run_for_job(job)
    check_key = gx_check_key(AssetKey(["marts", "mart_renewals"]))
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([check_key])[check_key]
    assert (latest.status, latest.run_id) == (AssetCheckExecutionRecordStatus.PLANNED, queued.run_id)
    # publishing now (the validated marts are unchanged) goes ahead
    alone = materialize(assets, instance=instance, selection=[AssetKey("serving_marts")], raise_on_error=False)
    assert alone.success, [str(e.step_failure_data.error) for e in alone.all_events if e.is_step_failure]
