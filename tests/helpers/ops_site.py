"""A Dagster site for the operations tests (tests/test_operations_e2e.py, test_daemon_e2e.py,
test_faults_e2e.py): a Dagster home + data dir over a landing zone, runs of
helpers/ops_runner.py in subprocesses, and snapshots of the published serving DB."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent.parent
RUNNER = str(Path(__file__).resolve().parent / "ops_runner.py")


class Site:
    """A Dagster home + data dir (raw, warehouse, serving) over a landing zone."""

    def __init__(self, base: Path, landing: Path):
        self.home = base / "dagster_home"
        self.data = base / "data"
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "config" / "dagster.yaml", self.home / "dagster.yaml")
        self.landing = landing
        self.serving = self.data / "serving" / "analytics.duckdb"
        self._init_storage()

    def _init_storage(self):
        """Create the instance's SQLite databases up front, as `dagster dev` / the daemon do in
        production: two processes creating a brand-new instance at the same moment race on
        its schema migrations (two alembic heads)."""
        from dagster import DagsterInstance

        with DagsterInstance.from_config(str(self.home)) as inst:
            inst.get_runs(limit=1)
            inst.event_log_storage.get_asset_records()
            inst.all_instigator_state()

    @property
    def env(self) -> dict:
        return {**os.environ, "DAGSTER_HOME": str(self.home), "CSP_LANDING_DIR": str(self.landing),
                "CSP_DATA_DIR": str(self.data), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "GX_ANALYTICS_ENABLED": "false"}

    def start(self, *args, log: Path | None = None) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, RUNNER, *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

    def run(self, *args, timeout=900) -> str:
        proc = self.start(*args)
        out, _ = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"run {args} failed:\n{out[-8000:]}"
        return out

    def step_windows(self, step_keys: set[str]) -> list[tuple[float, float, str, str]]:
        """(start, end, run_id, step_key) of the given steps in every run."""
        from dagster import DagsterEventType, DagsterInstance

        out = []
        with DagsterInstance.from_config(str(self.home)) as inst:
            for run in inst.get_runs():
                starts, ends = {}, {}
                for e in inst.all_logs(run.run_id, of_type={DagsterEventType.STEP_START,
                                                             DagsterEventType.STEP_SUCCESS}):
                    if e.step_key in step_keys:
                        (starts if e.dagster_event.event_type == DagsterEventType.STEP_START else ends)[e.step_key] = e.timestamp
                out += [(starts[k], ends.get(k, float("inf")), run.run_id, k) for k in starts]
        return out

    def runs(self):
        from dagster import DagsterInstance

        with DagsterInstance.from_config(str(self.home)) as inst:
            return [(r.job_name, r.status.value, dict(r.tags)) for r in inst.get_runs()]


def snapshot(serving: Path) -> dict:
    """Every published table's rows (sorted), without the publication stamp."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
        out = {}
        for t in tables:
            if t == "_publication":
                continue
            rows = con.execute(f'select * from "{t}"').fetchall()
            out[t] = sorted(tuple(str(v) for v in r) for r in rows)
        return out
    finally:
        con.close()
