"""Daily operations end to end, on a small sample landing zone, through real Dagster runs of
`daily_refresh_job` (ingestion -> dbt -> GX checks -> publication) against temporary Dagster
instances: backfill == day by day, two runs started together, runs SIGKILLed at several points.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers.ops_site import Site, snapshot

ROOT = Path(__file__).resolve().parent.parent
DATES = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ops_landing") / "landing"
    subprocess.run([sys.executable, "-m", "orchestration.lib.sample_data", "--accounts", "20", "--days",
                    str(len(DATES)), "--seed", "11", "--dirt-rate", "0", "--out", str(out), "--quiet"],
                   cwd=ROOT, check=True)
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory, landing) -> dict:
    """Marts of one backfill run over all dates (also asserts it is ONE run)."""
    site = Site(tmp_path_factory.mktemp("ops_backfill"), landing)
    site.run("backfill", DATES[0], DATES[-1])
    runs = site.runs()
    assert len(runs) == 1, runs
    job, status, tags = runs[0]
    assert (job, status) == ("daily_refresh_job", "SUCCESS")
    assert tags["dagster/asset_partition_range_start"] == DATES[0]
    assert tags["dagster/asset_partition_range_end"] == DATES[-1]
    snap = snapshot(site.serving)
    assert snap and all(snap.values()), "every published mart has rows"
    return snap


def test_backfill_equals_day_by_day(tmp_path, landing, reference):
    site = Site(tmp_path, landing)
    for d in DATES:
        site.run("daily", d)
    assert [r[1] for r in site.runs()] == ["SUCCESS"] * len(DATES)
    daily = snapshot(site.serving)
    assert set(daily) == set(reference)
    for table in reference:
        assert daily[table] == reference[table], f"{table} differs between backfill and daily runs"


def test_cli_build_in_bounded_runs_equals_one_run(tmp_path, landing, reference):
    """`cli build` over a range bigger than backfill.max_landing_mb_per_run runs consecutive
    runs (here one per drop); only the last publishes, and the marts equal one run's."""
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "pipeline.yaml").read_text())
    cfg["backfill"]["max_landing_mb_per_run"] = 0.001   # every drop is bigger: one run each
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump(cfg))
    site = Site(tmp_path, landing)
    out = subprocess.run([sys.executable, "-m", "orchestration.cli", "build"], cwd=ROOT,
                         env={**site.env, "CSP_CONFIG": str(config)}, capture_output=True, text=True,
                         timeout=1200)
    assert out.returncode == 0, (out.stdout + out.stderr)[-8000:]
    assert f"in {len(DATES)} runs" in out.stdout, out.stdout
    runs = site.runs()
    assert [r[1] for r in runs] == ["SUCCESS"] * len(DATES), runs
    assert sorted(r[2]["dagster/asset_partition_range_start"] for r in runs) == DATES
    assert len(site.step_windows({"serving_marts"})) == 1, "only the last run publishes"
    assert snapshot(site.serving) == reference


def test_two_runs_started_together_both_finish(tmp_path, landing, reference):
    site = Site(tmp_path, landing)
    procs = [site.start("backfill", DATES[0], DATES[-1]) for _ in range(2)]
    outs = [p.communicate(timeout=1200)[0] for p in procs]
    for p, out in zip(procs, outs):
        assert p.returncode == 0, out[-8000:]
        assert "Could not set lock" not in out
    runs = site.runs()
    assert [r[1] for r in runs] == ["SUCCESS", "SUCCESS"], runs
    assert snapshot(site.serving) == reference
    # the `warehouse` pool: the two runs' warehouse steps never overlapped in time
    windows = site.step_windows({"dbt_models", "gx_mart_expectations", "serving_marts"})
    assert len(windows) == 6, windows
    windows.sort()
    for (_, e1, r1, k1), (s2, _, r2, k2) in zip(windows, windows[1:]):
        assert e1 <= s2, f"{k1} of run {r1[:8]} overlapped {k2} of run {r2[:8]}"


def _kill_when(proc: subprocess.Popen, predicate, deadline: float = 600) -> tuple[bool, str]:
    """Read the run's log until `predicate(line, serving_dir_state)` and SIGKILL its whole
    process group (run worker + dbt subprocess), like a machine crash."""
    lines: list[str] = []
    hit = threading.Event()

    def reader():
        for line in proc.stdout:
            lines.append(line)
            if not hit.is_set() and predicate(line):
                hit.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    start = time.monotonic()
    while not hit.is_set() and proc.poll() is None and time.monotonic() - start < deadline:
        time.sleep(0.01)
    killed = False
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        killed = True
    proc.wait(timeout=60)
    t.join(timeout=10)
    return killed, "".join(lines)


def test_runs_killed_at_any_point_never_half_publish(tmp_path, landing, reference):
    # baseline: the first three drops published
    partial = tmp_path / "landing_partial"
    shutil.copytree(landing, partial)
    shutil.rmtree(partial / "billing" / DATES[-1]), shutil.rmtree(partial / "usage" / DATES[-1])
    shutil.rmtree(partial / "ticketing" / DATES[-1])
    site = Site(tmp_path, partial)
    site.run("backfill", DATES[0], DATES[-2])
    baseline = snapshot(site.serving)
    assert baseline != reference
    # the fourth drop lands; runs over all four drops get killed at several points
    for source in ("billing", "usage", "ticketing"):
        shutil.copytree(landing / source / DATES[-1], partial / source / DATES[-1])

    serving_dir = site.serving.parent
    dbt_started: list[float] = []

    def during_dbt(line):
        if 'Started execution of step "dbt_models"' in line or "STEP_START" in line and "dbt_models" in line:
            dbt_started.append(time.monotonic())
        return bool(dbt_started) and (" OK created " in line or "1 of " in line or "START sql" in line)

    def during_publication(line):
        others = [p for p in serving_dir.iterdir() if p.name != site.serving.name]
        return bool(others) or ("serving_marts" in line and "STEP_START" in line)

    kill_points = {
        "ingestion": lambda line: "STEP_START" in line and "raw__usage__events" in line,
        "dbt": during_dbt,
        "publication": during_publication,
    }
    for point, predicate in kill_points.items():
        proc = site.start("backfill", DATES[0], DATES[-1])
        killed, out = _kill_when(proc, predicate)
        assert killed, f"run finished before the kill point {point}:\n{out[-4000:]}"
        # the serving database is exactly the old one or exactly the new one, never half
        state = snapshot(site.serving)
        assert state in (baseline, reference), f"serving database half-published after a kill during {point}"

    # the next run completes without manual repair (orphaned runs are cleaned up first)
    site.run("backfill", DATES[0], DATES[-1])
    assert snapshot(site.serving) == reference
    statuses = [r[1] for r in site.runs()]
    assert statuses.count("SUCCESS") == 2 and "STARTED" not in statuses, statuses
    assert statuses.count("FAILURE") == len(kill_points), "killed runs were marked failed"
    assert [p.name for p in serving_dir.iterdir() if p.name != site.serving.name] == [], "no leftovers"
