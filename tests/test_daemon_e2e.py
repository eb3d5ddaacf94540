"""The daily refresh unattended, as `make serve` / the systemd units run it: `dagster-daemon run`
against a Dagster home made from config/dagster.yaml, the project's real definitions
(orchestration.definitions, code location `cs_data_platform`) and a tiny landing zone, with the
new-drop sensor switched on by configuration only (sensor.default_status: RUNNING in a copy of
config/pipeline.yaml passed as CSP_CONFIG). Nobody starts a run by hand:

1. the sensor's first tick requests the two complete drops; the run queue launches them one at
   a time (concurrency.runs.max_concurrent_runs: 1) and both succeed; the serving file holds
   every published mart and `_publication` says as-of = the newest drop;
2. a third drop lands; the sensor starts its run; the run's worker (launched by the daemon, so
   it carries no `csp/owner` tag) is SIGKILLed while it holds the `warehouse` pool slot: the run
   is marked failed, its slot is freed, and the serving file is still the previous publication.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from helpers.ops_site import Site, snapshot

ROOT = Path(__file__).resolve().parent.parent
LOCATION = "cs_data_platform"
POOL = "warehouse"

pytestmark = pytest.mark.slow


def _write_yaml(path: Path, value) -> Path:
    path.write_text(yaml.safe_dump(value, sort_keys=False))
    return path


class Daemon:
    """`dagster-daemon run` in its own process group, its output in a log file."""

    def __init__(self, cwd: Path, env: dict, workspace: Path, log: Path):
        self.log_path = log
        self._log = open(log, "w")
        daemon = str(Path(sys.executable).parent / "dagster-daemon")
        self.proc = subprocess.Popen([daemon, "run", "-w", str(workspace)], cwd=cwd, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def assert_alive(self):
        assert self.proc.poll() is None, f"dagster-daemon exited ({self.proc.returncode}):\n{self.output()}"

    def stop(self):
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 30)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # the group may outlive its leader (code server, run workers): make sure it is gone
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


def _wait(what: str, predicate, daemon: Daemon, timeout: float, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        daemon.assert_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n--- daemon log ---\n{daemon.output()}")
        time.sleep(every)


def _runs(instance):
    return sorted(instance.get_run_records(), key=lambda r: r.create_timestamp)


def _step_started(instance, run_id: str, step_key: str) -> bool:
    from dagster import DagsterEventType

    return any(e.step_key == step_key for e in instance.all_logs(run_id, of_type=DagsterEventType.STEP_START))


def _worker_pid(instance, run_id: str) -> int | None:
    """The run worker's pid, as the code server recorded it ("Started process for run (pid: N)")."""
    from dagster import DagsterEventType

    for e in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        if e.message.startswith("Started process for run"):
            return int(e.dagster_event.event_specific_data.metadata["pid"].value)
    return None


def test_daemon_runs_the_sensor_and_fails_a_killed_run(tmp_path):
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

    from orchestration.lib.serving import PUBLISHED_MARTS

    # a tiny landing zone of three drops; the third is held back until step 2
    landing, held = tmp_path / "landing", tmp_path / "held"
    subprocess.run([sys.executable, "-m", "orchestration.lib.sample_data", "--accounts", "12", "--days", "3",
                    "--seed", "3", "--dirt-rate", "0", "--out", str(landing), "--quiet"],
                   cwd=ROOT, check=True)
    sources = sorted(p.name for p in landing.iterdir() if p.is_dir())
    dates = sorted(p.name for p in (landing / sources[0]).iterdir() if p.is_dir())
    assert len(dates) == 3, dates
    for s in sources:
        (held / s).mkdir(parents=True)
        shutil.move(str(landing / s / dates[-1]), str(held / s / dates[-1]))

    site = Site(tmp_path / "site", landing)
    # the shipped instance config, with the monitoring daemon polling every few seconds (the
    # shipped 60 s would only make the test wait longer)
    instance_cfg = yaml.safe_load((site.home / "dagster.yaml").read_text())
    assert instance_cfg["concurrency"]["runs"]["max_concurrent_runs"] == 1
    instance_cfg["run_monitoring"].update(poll_interval_seconds=5, free_slots_after_run_end_seconds=5)
    _write_yaml(site.home / "dagster.yaml", instance_cfg)
    # schedule and sensor on by configuration only
    pipeline_cfg = yaml.safe_load((ROOT / "config" / "pipeline.yaml").read_text())
    assert pipeline_cfg["sensor"]["default_status"] == "STOPPED", "the shipped default is off"
    pipeline_cfg["sensor"].update(default_status="RUNNING", minimum_interval_seconds=5, catch_up_days=2)
    config = _write_yaml(tmp_path / "pipeline.yaml", pipeline_cfg)
    workspace = _write_yaml(tmp_path / "workspace.yaml", {"load_from": [{"python_module": {
        "module_name": "orchestration.definitions", "working_directory": str(ROOT), "location_name": LOCATION}}]})
    env = {k: v for k, v in site.env.items() if not k.startswith("CSP_ALERT") and k != "CSP_RUN_OWNER"}
    env.update(CSP_CONFIG=str(config),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))

    started = time.monotonic()
    daemon = Daemon(ROOT, env, workspace, tmp_path / "daemon.log")
    instance = DagsterInstance.from_config(str(site.home))
    try:
        # 1. the sensor requests both complete drops; the queue runs them one after the other
        def two_finished():
            runs = _runs(instance)
            done = [r for r in runs if r.dagster_run.is_finished]
            return runs if len(done) >= 2 else None

        runs = _wait("the sensor's two runs to finish", two_finished, daemon, timeout=900)
        assert len(runs) == 2, [(r.dagster_run.run_id, r.dagster_run.status) for r in runs]
        for r in runs:
            run = r.dagster_run
            assert run.status == DagsterRunStatus.SUCCESS, (run.run_id, run.status, daemon.output())
            assert run.job_name == "daily_refresh_job"
            assert run.tags.get("dagster/sensor_name") == "new_drop_sensor"
            assert "csp/owner" not in run.tags   # launched by the daemon, not by `cli build`
        assert sorted(r.dagster_run.tags["dagster/partition"] for r in runs) == dates[:2]
        first, second = runs
        assert first.end_time <= second.start_time, "max_concurrent_runs: 1 let two runs overlap"
        print(f"two sensor runs succeeded {time.monotonic() - started:.0f}s after the daemon started")

        con = duckdb.connect(str(site.serving), read_only=True)
        try:
            tables = {t for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'").fetchall()}
            assert set(PUBLISHED_MARTS) <= tables, sorted(set(PUBLISHED_MARTS) - tables)
            stamp = con.execute("select distinct as_of_date::varchar, run_id from _publication").fetchall()
            for mart in PUBLISHED_MARTS:
                assert con.execute(f'select count(*) from "{mart}"').fetchone()[0] > 0, f"{mart} is empty"
        finally:
            con.close()
        by_date = {r.dagster_run.tags["dagster/partition"]: r.dagster_run.run_id for r in runs}
        assert stamp == [(dates[1], by_date[dates[1]])], stamp
        # both published: the run waiting in the queue did not block the first one's publication
        for run_id in by_date.values():
            assert "serving_marts" in {e.step_key for e in instance.all_logs(
                run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)}, f"run {run_id} did not publish"
        published = snapshot(site.serving)

        # 2. the third drop lands; its run's worker is killed while it holds the warehouse slot
        for s in sources:
            shutil.move(str(held / s / dates[-1]), str(landing / s / dates[-1]))

        def third_in_dbt():
            runs = _runs(instance)
            if len(runs) < 3:
                return None
            run = runs[-1].dagster_run
            assert not run.is_finished, f"the third run ended before it was killed: {run.status}\n{daemon.output()}"
            if run.status == DagsterRunStatus.STARTED and _step_started(instance, run.run_id, "dbt_models"):
                return run
            return None

        victim = _wait("the third drop's run to reach dbt", third_in_dbt, daemon, timeout=600, every=0.5)
        assert victim.tags["dagster/partition"] == dates[-1]
        assert "csp/owner" not in victim.tags
        assert victim.run_id in instance.event_log_storage.get_concurrency_info(POOL).active_run_ids, \
            "the run's dbt step should hold the warehouse slot"
        pid = _worker_pid(instance, victim.run_id)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()

        status = _wait("the killed run to be marked failed",
                       lambda: instance.get_run_by_id(victim.run_id).is_finished and instance.get_run_by_id(victim.run_id).status,
                       daemon, timeout=180)
        assert status == DagsterRunStatus.FAILURE
        failed_after = time.monotonic() - killed_at
        _wait("the killed run's warehouse slot to be freed",
              lambda: victim.run_id not in instance.event_log_storage.get_concurrency_info(POOL).active_run_ids,
              daemon, timeout=180)
        freed_after = time.monotonic() - killed_at
        print(f"killed run failed after {failed_after:.0f}s, its slot freed after {freed_after:.0f}s")
        # nothing left in flight, and the serving file is still the last good publication
        assert [r.dagster_run.status for r in _runs(instance)] == \
            [DagsterRunStatus.SUCCESS, DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE]
        assert snapshot(site.serving) == published
        daemon.assert_alive()
    finally:
        instance.dispose()
        daemon.stop()
