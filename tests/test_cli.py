"""The operator's command line (orchestration/cli/main.py, the `csp` script) as an operator meets
it: configuration and argument errors stop before anything runs (one line naming the key or
the argument, a distinct exit code, no run in the Dagster history); a missing landing folder
is not an empty one; a build whose GX gate fails says which check and why in its last lines,
`status` then tells the truth, and the next build does not claim to be up to date."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXIT_NOTHING, EXIT_FAILED, EXIT_USAGE, EXIT_NOINPUT, EXIT_CONFIG = 1, 2, 64, 66, 78


def _env(base: Path, landing: Path, config: Path | None = None) -> dict:
    env = {**os.environ, "DAGSTER_HOME": str(base / "home"), "CSP_LANDING_DIR": str(landing),
           "CSP_DATA_DIR": str(base / "data"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "GX_ANALYTICS_ENABLED": "false"}
    if config is not None:
        env["CSP_CONFIG"] = str(config)
    return env


def csp(env: dict, *args, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def runs_in(home: Path) -> int:
    """How many runs the Dagster instance in `home` holds (0 when it was never created)."""
    if not (home / "dagster.yaml").exists():
        return 0
    out = subprocess.run([sys.executable, "-c", "from dagster import DagsterInstance; "
                          "print(len(DagsterInstance.get().get_runs()))"],
                         env={**os.environ, "DAGSTER_HOME": str(home)}, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def tiny_landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli_landing") / "landing"
    subprocess.run([sys.executable, "-m", "orchestration.lib.sample_data", "--accounts", "6", "--days", "4",
                    "--seed", "3", "--dirt-rate", "0", "--late-rate", "0", "--out", str(out), "--quiet"],
                   cwd=ROOT, check=True)
    return out


def _config(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "pipeline.yaml"
    p.write_text(text)
    return p


BASE = (ROOT / "config" / "pipeline.yaml").read_text()


@pytest.mark.parametrize("edit, expected", [
    # a misspelled key: named, with the key it probably means
    (lambda c: c.replace("max_reject_rate: 0.02", "max_reject_rat: 0.02"),
     "ingestion.max_reject_rat: unknown key (did you mean ingestion.max_reject_rate?)"),
    # a misspelled section
    (lambda c: c.replace("\nsensor:", "\nsensors:"), "sensors: unknown section (did you mean sensor?)"),
    # a wrong type
    (lambda c: c.replace("late_event_lookback_days: 7", "late_event_lookback_days: a week"),
     "ingestion.late_event_lookback_days: Input should be a valid integer"),
    # a bad value
    (lambda c: c.replace("max_reject_rate: 0.02", "max_reject_rate: 2"),
     "ingestion.max_reject_rate: Input should be less than or equal to 1"),
    (lambda c: c.replace('cron: "30 6 * * *"', 'cron: "30 25 * * *"'), "schedule.cron: '30 25 * * *' is not a cron"),
    (lambda c: c.replace('timezone: "UTC"', 'timezone: "Europe/Berlinn"'), "schedule.timezone: 'Europe/Berlinn' is not"),
    (lambda c: c.replace('start_date: "2024-01-01"', "start_date: 2024-13-45"), "partitions.start_date: "),
    (lambda c: c.replace("target: duckdb", "target: snowflake"), "publication.target: Input should be 'duckdb' or 'postgres'"),
    # not YAML at all
    (lambda c: c.replace("paths:\n", "paths: [\n", 1), "not valid YAML"),
])
def test_config_errors_are_one_line_naming_file_and_key_and_nothing_runs(tmp_path, tiny_landing, edit, expected):
    config = _config(tmp_path, edit(BASE))
    assert config.read_text() != BASE
    env = _env(tmp_path, tiny_landing, config)
    for cmd in (["validate-config"], ["build"], ["status"]):
        res = csp(env, *cmd)
        assert res.returncode == EXIT_CONFIG, (cmd, res.stdout, res.stderr)
        problems = [line for line in res.stderr.splitlines() if line.startswith(str(config))]
        assert len(problems) == 1 and expected in problems[0], res.stderr
        assert "Traceback" not in res.stderr + res.stdout
    assert runs_in(tmp_path / "home") == 0
    assert not (tmp_path / "data" / "raw").exists()


def test_valid_config_passes_validate_config(tmp_path, tiny_landing):
    res = csp(_env(tmp_path, tiny_landing), "validate-config")
    assert res.returncode == 0, res.stderr
    assert "config/pipeline.yaml: valid" in res.stdout
    assert "health configuration valid" in res.stdout


@pytest.mark.parametrize("args, code, expected", [
    (["backfill", "--start", "2024-13-45"], EXIT_USAGE, "not a date YYYY-MM-DD: '2024-13-45'"),
    (["backfill", "--start", "2024-01-03", "--end", "2024-01-02"], EXIT_USAGE,
     "--start 2024-01-03 is after --end 2024-01-02"),
    (["backfill", "--start", "2023-01-01", "--end", "2023-01-31"], EXIT_USAGE, "before partitions.start_date"),
    (["backfill", "--start", "2025-06-01"], EXIT_USAGE, "after --end 2024-01-04"),
    (["build", "--end", "2024-01-02"], EXIT_USAGE, "--end needs --start"),
    (["build", "--start", "2024-02-30"], EXIT_USAGE, "not a date"),
    (["backfill"], EXIT_USAGE, "--start"),
])
def test_bad_arguments_are_refused_before_any_run(tmp_path, tiny_landing, args, code, expected):
    res = csp(_env(tmp_path, tiny_landing), *args)
    assert res.returncode == code, (res.stdout, res.stderr)
    assert expected in res.stderr
    assert "Traceback" not in res.stderr
    assert runs_in(tmp_path / "home") == 0


def test_missing_landing_folder_is_not_an_empty_one(tmp_path):
    missing = csp(_env(tmp_path, tmp_path / "nowhere"), "build")
    assert missing.returncode == EXIT_NOINPUT
    assert "does not exist" in missing.stderr and str(tmp_path / "nowhere") in missing.stderr
    empty = tmp_path / "empty"
    (empty / "billing" / "2024-01-01").mkdir(parents=True)
    res = csp(_env(tmp_path, empty), "build")
    assert res.returncode == EXIT_NOTHING, (res.stdout, res.stderr)
    assert "No complete drop" in res.stdout and "billing 2024-01-01 (no _SUCCESS marker" in res.stdout
    assert runs_in(tmp_path / "home") == 0


@pytest.fixture(scope="module")
def failed_gate(tmp_path_factory, tiny_landing):
    """A landing zone whose billing exports hold no subscription events: dbt builds (empty
    tables pass its tests) but the GX gate refuses the empty fct_mrr_movements."""
    base = tmp_path_factory.mktemp("cli_gate")
    landing = base / "landing"
    import shutil

    shutil.copytree(tiny_landing, landing)
    for f in landing.glob("billing/*/subscription_events*"):
        f.write_bytes(b"")   # a zero-byte file is an empty object (docs/faults.md)
    env = _env(base, landing)
    first = csp(env, "build")
    return base, env, first


@pytest.mark.slow
def test_failed_gate_console_names_the_check_and_reason_at_the_end(failed_gate):
    base, env, res = failed_gate
    assert res.returncode == EXIT_FAILED, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) < 60, res.stdout
    assert not any("DEBUG" in line or "Traceback" in line for line in lines), res.stdout
    tail = "\n".join(lines[-8:])
    assert "FAILED: run" in tail
    assert "check gx_expectations on marts/fct_mrr_movements failed:" in tail, res.stdout
    assert "the table is not empty" in tail or "row count" in tail.lower(), tail
    log = Path(lines[-1].removeprefix("Full log: "))
    log = log if log.is_absolute() else ROOT / log
    assert lines[-1].startswith("Full log: ") and log.exists()
    full = log.read_text()
    assert "STEP_FAILURE" in full and "dbt" in full and len(full.splitlines()) > 10 * len(lines)
    stages = [line.split()[0] for line in lines if line.startswith("  ") and line.split()]
    assert {"load", "dbt", "gate", "publish", "checks"} <= set(stages), res.stdout
    assert any(line.startswith("  publish  NOT RUN") for line in lines)


@pytest.mark.slow
def test_status_after_a_failed_gate_tells_the_truth(failed_gate):
    base, env, _ = failed_gate
    res = csp(env, "status")
    assert res.returncode == EXIT_FAILED, res.stdout
    assert res.stderr.strip() == "", res.stderr    # no warnings, no tracebacks
    out = res.stdout
    assert "4 complete drops (2024-01-01 .. 2024-01-04)" in out
    assert "4 drops loaded, 0 not yet loaded" in out
    assert ": FAILURE" in out and "check gx_expectations on marts/fct_mrr_movements failed" in out
    assert "published    nothing yet" in out
    assert "STALE        the newest complete drop 2024-01-04 is not published: the last build failed" in out


@pytest.mark.slow
def test_build_after_a_failed_gate_is_not_up_to_date(failed_gate):
    base, env, _ = failed_gate
    res = csp(env, "build")
    assert "Up to date" not in res.stdout
    assert res.returncode == EXIT_FAILED
    assert "The newest drop 2024-01-04 is loaded but not published (published: nothing): the last build" in res.stdout
    assert "failed (check gx_expectations on marts/" in res.stdout


@pytest.mark.slow
def test_docs_read_a_copy_and_never_the_warehouse_a_run_writes(failed_gate):
    import json

    base, env, _ = failed_gate
    warehouse = base / "data" / "warehouse" / "warehouse.duckdb"
    assert warehouse.exists()
    out = base / "docs_free"
    res = csp(env, "docs", "--out", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "with the catalog" in res.stdout
    catalog = json.loads((out / "catalog.json").read_text())
    dim = next(n for k, n in catalog["nodes"].items() if k.endswith(".dim_accounts"))
    assert dim["columns"]["account_id"]["type"].upper() == "VARCHAR"
    page = (out / "static_index.html").read_text()
    assert "dim_accounts" in page
    # a run holds the warehouse (a writer): the docs do not touch it and say what they left out
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(120)", str(warehouse)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        res = csp(env, "docs", "--out", str(base / "docs_locked"))
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"WITHOUT the catalog: a run is writing the warehouse (pid {holder.pid})" in res.stdout
        assert json.loads((base / "docs_locked" / "catalog.json").read_text())["nodes"] == {}
        assert holder.poll() is None
    finally:
        holder.kill()
        holder.wait()
