"""Daily operations, fast: schedule and new-drop sensor run requests, failure alerts posted to a
local webhook, freshness checks on missing / late drops."""
from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    DagsterRunStatus,
    Definitions,
    Failure,
    MaterializeResult,
    asset,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    materialize,
)
from dagster._core.test_utils import create_run_for_test, instance_for_test

from helpers.landing_builder import Landing
from orchestration.defs.checks.freshness import CHECK_NAME, assert_fresh, freshness_checks
from orchestration.defs.jobs import daily_refresh_job, freshness_checks_job
from orchestration.defs.schedules import daily_refresh_schedule
from orchestration.defs.sensors import check_failure_alert_sensor, new_drop_sensor, run_failure_alert_sensor
from orchestration.lib.freshness import evaluate_source, expected_drop_date
from orchestration.lib.ingestion.contracts import SOURCES
from orchestration.lib.settings import get_settings
from orchestration.runs.recovery import reap_orphaned_runs

UTC = dt.UTC

from orchestration.defs.assets.ingestion import ingestion_assets  # noqa: E402
from orchestration.defs.jobs import jobs  # noqa: E402
from orchestration.defs.schedules import schedules  # noqa: E402
from orchestration.defs.sensors import sensors  # noqa: E402

DEFS = Definitions(assets=ingestion_assets, asset_checks=freshness_checks, jobs=jobs,
                   schedules=schedules, sensors=sensors)
REPO = DEFS.get_repository_def()


def at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def make_landing(root, days: dict[str, list[str]], incomplete: dict[str, list[str]] | None = None):
    """Empty drops (every object file present, no records) per source."""
    lz = Landing(root)
    for source, dates in days.items():
        for d in dates:
            lz.add(source, d, "_", [])
    lz.write(complete=True)
    for source, dates in (incomplete or {}).items():
        for d in dates:
            Landing(root).add(source, d, "_", []).write(complete=False)
    return root


ALL3 = ["2024-01-01", "2024-01-02", "2024-01-03"]


@pytest.fixture
def landing(tmp_path, monkeypatch):
    root = tmp_path / "landing"
    monkeypatch.setenv("CSP_LANDING_DIR", str(root))
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path / "data"))
    return root


@pytest.fixture
def instance():
    with instance_for_test() as inst:  # a real (temporary) instance: schedules need its ref
        yield inst


# ---------------------------------------------------------------------------------------------
# Schedule
# ---------------------------------------------------------------------------------------------
def test_schedule_comes_from_config():
    s = get_settings().schedule
    assert daily_refresh_schedule.cron_schedule == s.cron == "30 6 * * *"
    assert daily_refresh_schedule.execution_timezone == s.timezone == "UTC"
    assert daily_refresh_schedule.job_name == daily_refresh_job.name


def test_schedule_requests_the_days_drop(instance):
    ctx = build_schedule_context(instance=instance, repository_def=REPO, scheduled_execution_time=at("2024-01-05T06:30:00"))
    data = daily_refresh_schedule.evaluate_tick(ctx)
    assert len(data.run_requests) == 1
    req = data.run_requests[0]
    assert req.partition_key == "2024-01-05"
    assert req.tags.get("csp/trigger") == "schedule"


def test_schedule_skips_a_drop_already_processed(instance):
    create_run_for_test(instance, job_name=daily_refresh_job.name, status=DagsterRunStatus.SUCCESS,
                        tags={"dagster/partition": "2024-01-05"})
    ctx = build_schedule_context(instance=instance, repository_def=REPO, scheduled_execution_time=at("2024-01-05T06:30:00"))
    data = daily_refresh_schedule.evaluate_tick(ctx)
    assert not data.run_requests
    assert "already processed" in data.skip_message


# ---------------------------------------------------------------------------------------------
# New-drop sensor
# ---------------------------------------------------------------------------------------------
def tick(instance, cursor):
    ctx = build_sensor_context(instance=instance, cursor=cursor, repository_def=REPO)
    data = new_drop_sensor.evaluate_tick(ctx)
    return data


def test_sensor_one_run_per_complete_drop(landing, instance):
    make_landing(landing, {s: ALL3 for s in SOURCES})
    # 2024-01-04: billing complete, usage still being written, ticketing not there yet
    make_landing(landing, {"billing": ["2024-01-04"]}, incomplete={"usage": ["2024-01-04"]})

    first = tick(instance, None)
    assert [(r.run_key, r.partition_key) for r in first.run_requests] == [(d, d) for d in ALL3]
    assert all(r.job_name in (None, daily_refresh_job.name) for r in first.run_requests)

    again = tick(instance, first.cursor)
    assert not again.run_requests, "no second run for the same drop"
    assert "2024-01-04" in again.skip_message and "usage" in again.skip_message and "ticketing" in again.skip_message

    make_landing(landing, {"usage": ["2024-01-04"], "ticketing": ["2024-01-04"]})
    new = tick(instance, again.cursor)
    assert [r.run_key for r in new.run_requests] == ["2024-01-04"]
    assert new.run_requests[0].partition_key == "2024-01-04"
    assert not tick(instance, new.cursor).run_requests

    # a missing day that arrives late is a new drop too: exactly one run for it
    make_landing(landing, {s: ["2024-01-06"] for s in SOURCES})
    later = tick(instance, new.cursor)
    assert [r.run_key for r in later.run_requests] == ["2024-01-06"]
    make_landing(landing, {s: ["2024-01-05"] for s in SOURCES})
    filled = tick(instance, later.cursor)
    assert [r.run_key for r in filled.run_requests] == ["2024-01-05"]
    assert not tick(instance, filled.cursor).run_requests


def test_sensor_first_tick_does_not_replay_history(landing, instance):
    days = [(dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(30)]
    make_landing(landing, {s: days for s in SOURCES})
    first = tick(instance, None)
    assert [r.run_key for r in first.run_requests] == days[-3:]  # sensor.catch_up_days: 3


def test_sensor_skips_on_empty_landing(landing, instance):
    data = tick(instance, None)
    assert not data.run_requests and "no new complete drop" in data.skip_message


# ---------------------------------------------------------------------------------------------
# Freshness
# ---------------------------------------------------------------------------------------------
def test_expected_drop_date_follows_arrival_time():
    six = dt.time(6, 0)
    assert expected_drop_date(at("2024-01-04T05:59:00"), six, UTC) == dt.date(2024, 1, 3)
    assert expected_drop_date(at("2024-01-04T06:00:00"), six, UTC) == dt.date(2024, 1, 4)


def test_freshness_fresh_late_missing_and_gaps(landing):
    make_landing(landing, {"billing": ALL3}, incomplete={"billing": ["2024-01-04"]})
    ok = evaluate_source(landing, "billing", at("2024-01-04T05:00:00"))
    assert ok.fresh and not ok.missing_days and ok.latest_complete_drop == "2024-01-03"
    late = evaluate_source(landing, "billing", at("2024-01-04T07:00:00"))  # 01-04 has no _SUCCESS
    assert not late.fresh and late.lag_days == 1 and late.incomplete_drops == ["2024-01-04"]
    assert "missing or late" in late.summary()
    # a run over past partitions is judged on its own last date
    past = evaluate_source(landing, "billing", at("2030-01-01T12:00:00"), as_of="2024-01-02")
    assert past.fresh and past.reference == "partition"
    # a missing day between drops
    make_landing(landing, {"usage": ["2024-01-01", "2024-01-03"]})
    gap = evaluate_source(landing, "usage", at("2024-01-03T07:00:00"))
    assert gap.fresh and gap.missing_days == ["2024-01-02"]
    nothing = evaluate_source(landing, "ticketing", at("2024-01-03T07:00:00"))
    assert not nothing.fresh and nothing.latest_complete_drop is None


def test_assert_fresh_blocks_stale_publication(landing):
    make_landing(landing, {"billing": ALL3, "usage": ALL3, "ticketing": ALL3[:2]})
    with pytest.raises(Failure, match="ticketing: drop 2024-01-03 missing or late"):
        assert_fresh(now=at("2024-01-03T08:00:00"))
    assert set(assert_fresh(now=at("2024-01-03T08:00:00"), as_of="2024-01-02")) == set(SOURCES)


def test_freshness_checks_fail_in_dagster_on_late_drop(landing, instance):
    """The freshness-check job (judged against now): drops of 2024 are long late in 2026+."""
    make_landing(landing, {s: ALL3 for s in SOURCES})
    result = DEFS.get_job_def(freshness_checks_job.name).execute_in_process(instance=instance, raise_on_error=False)
    evals = result.get_asset_check_evaluations()
    assert {e.asset_key.path[1] for e in evals} == set(SOURCES)
    assert evals and all(e.check_name == CHECK_NAME and not e.passed for e in evals)
    assert all(e.severity == AssetCheckSeverity.ERROR for e in evals)
    assert not result.success, "a failed blocking freshness check fails its step"
    md = evals[0].metadata
    assert md["latest_complete_drop"].value == "2024-01-03"


# ---------------------------------------------------------------------------------------------
# Alerts to a local webhook
# ---------------------------------------------------------------------------------------------
class _Hook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append({"path": self.path, "ctype": self.headers.get("Content-Type"),
                                    "json": json.loads(body)})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    _Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    monkeypatch.setenv(get_settings().alerts.webhook_env_var, url)
    try:
        yield _Hook.received
    finally:
        server.shutdown()
        server.server_close()


@asset(key=["marts", "boom"])
def boom():
    raise Exception("kaboom: the warehouse is on fire")


@asset(key=["marts", "thin"], check_specs=[AssetCheckSpec("enough_rows", asset=["marts", "thin"])])
def thin():
    return MaterializeResult(check_results=[AssetCheckResult(
        check_name="enough_rows", passed=False, severity=AssetCheckSeverity.ERROR,
        description="only 3 rows, expected at least 10")])


def _failed_run_context(instance):
    result = materialize([boom], instance=instance, raise_on_error=False)
    assert not result.success
    return build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor", dagster_instance=instance,
        dagster_run=result.dagster_run, dagster_event=result.get_run_failure_event(),
    ).for_run_failure(), result.run_id


def test_run_failure_posts_slack_json(webhook, instance):
    ctx, run_id = _failed_run_context(instance)
    run_failure_alert_sensor(ctx)
    assert len(webhook) == 1
    posted = webhook[0]
    assert posted["path"] == "/hook" and posted["ctype"] == "application/json"
    msg = posted["json"]
    assert set(msg) >= {"text", "blocks"}
    run_url = f"{get_settings().alerts.dagster_ui_url}/runs/{run_id}"
    assert "marts/boom" in msg["text"] and "kaboom: the warehouse is on fire" in msg["text"]
    assert run_url in msg["text"]
    blocks = json.dumps(msg["blocks"])
    assert "marts/boom" in blocks and "kaboom" in blocks and run_url in blocks
    assert msg["csp"]["assets"] == ["marts/boom"] and msg["csp"]["run_url"] == run_url


def test_check_failure_posts_once(webhook, instance):
    materialize([thin], instance=instance, raise_on_error=False)
    data = check_failure_alert_sensor.evaluate_tick(build_sensor_context(instance=instance))
    assert len(webhook) == 1
    msg = webhook[0]["json"]
    assert "marts/thin" in msg["text"] and "enough_rows" in msg["text"]
    assert "only 3 rows, expected at least 10" in msg["text"] and "/runs/" in msg["text"]
    # the cursor moves on: the same failure is not posted twice
    check_failure_alert_sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=data.cursor))
    assert len(webhook) == 1


def test_no_url_no_alert_no_error(monkeypatch, instance):
    monkeypatch.delenv(get_settings().alerts.webhook_env_var, raising=False)
    _Hook.received = []
    ctx, _ = _failed_run_context(instance)
    run_failure_alert_sensor(ctx)  # no exception
    assert _Hook.received == []
    from orchestration.lib.alerts import post_alert
    assert post_alert({"text": "x"}) is False


def test_unreachable_webhook_does_not_raise(monkeypatch, instance):
    monkeypatch.setenv(get_settings().alerts.webhook_env_var, "http://127.0.0.1:9/nowhere")
    ctx, _ = _failed_run_context(instance)
    run_failure_alert_sensor(ctx)  # logged, not raised


# ---------------------------------------------------------------------------------------------
# Runs whose worker was killed
# ---------------------------------------------------------------------------------------------
def test_orphaned_run_is_marked_failed(instance):
    import subprocess
    import sys

    from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # a pid that no longer exists
    run = create_run_for_test(instance, job_name=daily_refresh_job.name, status=DagsterRunStatus.STARTED)
    instance.report_engine_event("Started process for run", run, EngineEventData.in_process(proc.pid))
    live = create_run_for_test(instance, job_name=daily_refresh_job.name, status=DagsterRunStatus.STARTED)
    import os
    instance.report_engine_event("Started process for run", live, EngineEventData.in_process(os.getpid()))
    assert reap_orphaned_runs(instance) == [run.run_id]
    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(live.run_id).status == DagsterRunStatus.STARTED
    _ = (DagsterEvent, DagsterEventType)


# ---------------------------------------------------------------------------------------------
# The asset graph reads like documentation
# ---------------------------------------------------------------------------------------------
def test_every_asset_has_description_owner_group_and_kinds():
    from helpers import ops_definitions

    graph = ops_definitions.defs.resolve_asset_graph()
    groups = {"ingestion", "staging", "intermediate", "marts", "publication", "configuration"}
    problems = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        missing = [what for what, bad in (
            ("description", not node.description), ("owners", not node.owners), ("kinds", not node.kinds),
            (f"group ({node.group_name})", node.group_name not in groups)) if bad]
        if missing:
            problems[key.to_user_string()] = missing
    assert not problems, problems


def test_drop_chunks_bound_landing_data_per_run(tmp_path):
    from orchestration.lib.drop_planning import drop_chunks

    sizes = {"2024-01-01": 400, "2024-01-02": 300, "2024-01-03": 500, "2024-01-04": 2000, "2024-01-05": 100}
    for d, n in sizes.items():
        for source in ("billing", "usage", "ticketing"):
            folder = tmp_path / source / d
            folder.mkdir(parents=True)
            (folder / "data.jsonl").write_bytes(b"x" * n)
    drops = list(sizes)
    mb = 2 ** -20   # one byte, in MB
    # 3 sources x size bytes per drop; at most 2,400 bytes per run
    assert drop_chunks(drops, tmp_path, 2400 * mb) == [
        ["2024-01-01", "2024-01-02"], ["2024-01-03"], ["2024-01-04"], ["2024-01-05"]]
    assert drop_chunks(drops, tmp_path, 0) == [drops]          # 0: no limit
    assert drop_chunks(drops, tmp_path, 10**6) == [drops]
    assert drop_chunks([], tmp_path, 1) == []
