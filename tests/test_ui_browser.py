"""The Dagster UI in a real browser: `dagster dev` on loopback over a tiny landing zone whose
drops were materialized by the daily job, opened in headless Chromium (the Debian `chromium`
package). Asserts that the asset graph shows the marts and that a mart has a completed
materialization; screenshots are kept in artifacts/ui/."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.ops_site import RUNNER

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "artifacts" / "ui"
DATES = ["2024-01-01", "2024-01-02", "2024-01-03"]
LOCATION = "helpers.ops_definitions"  # `dagster dev -m` names the code location after the module

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


CHROMIUM = chromium_path()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(base: str, query: str) -> dict:
    req = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _chromium(args: list[str], profile: Path, timeout: int = 180) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
           "--window-size=1600,1000", "--virtual-time-budget=30000", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return proc.stdout


def _text(dom: str) -> str:
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("headless Chromium not found: install the Debian package `chromium` "
                    "(apt-get install -y chromium; CI does) or set CHROMIUM=/path/to/chromium")
    base_dir = tmp_path_factory.mktemp("ui")
    landing, home, data = base_dir / "landing", base_dir / "dagster_home", base_dir / "data"
    home.mkdir()
    shutil.copy(ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "CSP_LANDING_DIR": str(landing), "CSP_DATA_DIR": str(data),
           "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "GX_ANALYTICS_ENABLED": "false"}
    subprocess.run([sys.executable, "-m", "orchestration.lib.sample_data", "--accounts", "20", "--days",
                    str(len(DATES)), "--seed", "5", "--dirt-rate", "0", "--out", str(landing), "--quiet"],
                   cwd=ROOT, env=env, check=True)
    # materialize everything for the tiny landing zone: one backfill run of the daily job
    run = subprocess.run([sys.executable, RUNNER, "backfill", DATES[0], DATES[-1]], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-6000:]

    port = _free_port()
    log = open(base_dir / "dagster_dev.log", "w")
    dagster = str(Path(sys.executable).parent / "dagster")
    proc = subprocess.Popen([dagster, "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
                            cwd=TESTS, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("dagster dev did not start:\n" + (base_dir / "dagster_dev.log").read_text()[-4000:])
                time.sleep(2)
        # wait for the code location to load
        while time.monotonic() < deadline:
            entries = _graphql(base, "{ workspaceOrError { ... on Workspace { locationEntries { name "
                                     "locationOrLoadError { __typename } } } } }")
            locs = entries["data"]["workspaceOrError"]["locationEntries"]
            if locs and locs[0]["locationOrLoadError"] and locs[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation":
                break
            time.sleep(2)
        _graphql(base, "mutation { setNuxSeen }")  # no "join the community" dialog over the screenshot
        yield {"base": base, "profile": base_dir / "chromium-profile"}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=20)
        log.close()


def test_graphql_reports_a_completed_materialization(dagster_ui):
    res = _graphql(dagster_ui["base"], """{
      assetNodeOrError(assetKey: {path: ["marts", "mart_renewals"]}) {
        ... on AssetNode { groupName assetMaterializations(limit: 1) { runId timestamp } }
      }
      runsOrError { ... on Runs { results { runId status jobName } } }
    }""")
    node = res["data"]["assetNodeOrError"]
    assert node["groupName"] == "marts"
    assert node["assetMaterializations"], "mart_renewals was materialized"
    runs = res["data"]["runsOrError"]["results"]
    assert any(r["status"] == "SUCCESS" and r["jobName"] == "daily_refresh_job" for r in runs)


def test_asset_graph_in_headless_chromium(dagster_ui):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = f"{dagster_ui['base']}/locations/{LOCATION}/asset-groups/marts"
    text = _text(_chromium(["--dump-dom", url], dagster_ui["profile"]))
    # the graph renders long names shortened (fct_account…_daily) and only the nodes in view:
    # check names that are shown whole, and the publication group on its own page
    for name in ("mart_renewals", "dim_accounts", "mart_cs_alerts", "mart_renewal_rates"):
        assert name in text, f"{name} not on the asset graph page: {text[:2000]}"
    publication = _text(_chromium(["--dump-dom", f"{dagster_ui['base']}/locations/{LOCATION}/asset-groups/publication"],
                                  dagster_ui["profile"]))
    assert "serving_marts" in publication, publication[:2000]
    shot = ARTIFACTS / "asset_graph.png"
    shot.unlink(missing_ok=True)
    _chromium([f"--screenshot={shot}", url], dagster_ui["profile"])
    assert shot.is_file() and shot.stat().st_size > 20_000, "screenshot of the asset graph"

    asset_url = f"{dagster_ui['base']}/assets/marts/mart_renewals"
    page = _text(_chromium(["--dump-dom", asset_url], dagster_ui["profile"]))
    assert "Latest materialization" in page, page[:2000]
    assert "Never materialized" not in page
    _chromium([f"--screenshot={ARTIFACTS / 'mart_renewals.png'}", asset_url], dagster_ui["profile"])
