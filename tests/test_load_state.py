"""What the raw layer remembers between runs: which drops are complete, what each load read
(re-deliveries), the refresh window the warehouse still owes, the drops whose rejects block
publication; and the recovery of runs whose process was killed."""
import datetime as dt
import os
import subprocess
import sys
import time

from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.test_utils import create_run_for_test

from helpers.landing_builder import Landing, customer
from orchestration.defs.checks.freshness import evaluate_source
from orchestration.lib.ingestion.contracts import get_object
from orchestration.lib.ingestion.landing import drop_problems, list_drops
from orchestration.lib.ingestion.load_state import (
    clear_refresh,
    note_loaded,
    pending_refresh,
    record_reject_verdict,
    reject_blocks,
    window_start,
)
from orchestration.lib.ingestion.raw_store import load_drop, loaded_drops, read_manifest, redelivered_drops
from orchestration.runs.recovery import (
    HOST_TAG,
    OWNER_TAG,
    claim_process,
    owner_alive,
    owner_token,
    processes_of,
    recover,
    worker_alive,
)

D1, D2 = "2024-03-01", "2024-03-02"
CUSTOMERS = get_object("billing", "customers")


def _landing(tmp_path):
    lz = Landing(tmp_path / "landing")
    lz.add("billing", D1, "customers", [customer("cus_1", "acc_1", D1)])
    lz.add("billing", D2, "customers", [customer("cus_1", "acc_1", D1, D2, segment="enterprise")])
    lz.add("usage", D2, "users", [])
    return lz.write()


def test_a_marked_drop_missing_an_objects_file_is_incomplete(tmp_path):
    landing = _landing(tmp_path)
    assert list_drops(landing, "usage") == ([D2], [])
    (landing / "usage" / D2 / "events-0000.parquet").unlink()
    assert drop_problems(landing, "usage", D2) == ["missing events-*.parquet"]
    assert list_drops(landing, "usage") == ([], [D2])
    r = evaluate_source(landing, "usage", dt.datetime(2024, 3, 2, 12, tzinfo=dt.UTC))
    assert not r.fresh
    assert r.summary().startswith(f"usage: drop {D2} incomplete (missing events-*.parquet), not read")


def test_zero_byte_file_counts_as_the_object(tmp_path):
    landing = _landing(tmp_path)
    (landing / "usage" / D2 / "events-0000.parquet").write_bytes(b"")
    assert drop_problems(landing, "usage", D2) == []


def test_manifest_tells_a_redelivery_from_a_touch(tmp_path):
    landing, raw = _landing(tmp_path), tmp_path / "raw"
    for d in (D1, D2):
        load_drop(CUSTOMERS, landing, raw, d)
    m = read_manifest(raw, CUSTOMERS, D1)
    assert m["records"] == 1 and m["first_day"] == D1
    assert [f["name"] for f in m["files"]] == [f"billing/{D1}/customers.jsonl"] and len(m["files"][0]["sha256"]) == 64
    assert loaded_drops(raw, CUSTOMERS) == [D1, D2]
    assert redelivered_drops(landing, raw, CUSTOMERS) == {}
    f = landing / "billing" / D1 / "customers.jsonl"
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10**9))      # touched, same bytes
    assert redelivered_drops(landing, raw, CUSTOMERS) == {}
    f.write_text(f.read_text().replace("smb", "mid_market"))       # re-exported with a change
    assert list(redelivered_drops(landing, raw, CUSTOMERS)) == [D1]
    load_drop(CUSTOMERS, landing, raw, D1)
    assert redelivered_drops(landing, raw, CUSTOMERS) == {}
    # a drop the landing zone no longer keeps is not a re-delivery
    (landing / "billing" / D2 / "_SUCCESS").unlink()
    assert redelivered_drops(landing, raw, CUSTOMERS) == {}


def test_refresh_window_is_owed_until_a_build_covers_it(tmp_path):
    raw = tmp_path / "raw"
    assert pending_refresh(raw) == (None, 0)
    assert window_start("2024-03-10", None, 7) == "2024-03-03"
    assert window_start("2024-03-10", "2024-01-15", 7) == "2024-01-15"   # a record older than the lookback
    assert note_loaded(raw, [("2024-03-10", "2024-03-10")], 7) == "2024-03-03"
    assert note_loaded(raw, [("2024-03-12", "2024-03-12")], 7) == "2024-03-03"   # the earliest stays
    owed, gen = pending_refresh(raw)
    assert owed == "2024-03-03"
    note_loaded(raw, [("2024-03-13", "2024-03-13")], 7)     # loaded while the build ran
    assert not clear_refresh(raw, gen) and pending_refresh(raw)[0] == "2024-03-03"
    assert clear_refresh(raw, pending_refresh(raw)[1]) and pending_refresh(raw) == (None, 0)


def test_a_failed_reject_verdict_blocks_until_the_drop_passes(tmp_path):
    raw = tmp_path / "raw"
    record_reject_verdict(raw, "billing", "subscription_events", [(D1, 10, 0), (D2, 3, 2)], False, 0.15, 0.02)
    assert reject_blocks(raw) == [
        "billing.subscription_events: 2 of 3 records rejected in drop(s) 2024-03-02 "
        "(above ingestion.max_reject_rate 2.00%)"]
    # a later load of another drop passing does not lift it
    record_reject_verdict(raw, "billing", "subscription_events", [("2024-03-03", 5, 0)], True, 0.0, 0.02)
    assert len(reject_blocks(raw)) == 1
    # the drop loaded again and passing does
    record_reject_verdict(raw, "billing", "subscription_events", [(D2, 3, 0)], True, 0.0, 0.02)
    assert reject_blocks(raw) == []


def test_recover_fails_runs_whose_owner_is_gone_and_ends_their_children(tmp_path):
    instance = DagsterInstance.ephemeral()
    # a "build" process that started a child carrying its owner token, then was killed
    script = ("import os, subprocess, sys, time\n"
              "from orchestration.runs.recovery import claim_process\n"
              "print(claim_process()['csp/owner'], flush=True)\n"
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
              "time.sleep(120)\n")
    build = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(__file__)))
    token = build.stdout.readline().strip()
    deadline = time.monotonic() + 20
    while not processes_of(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    children = processes_of(token)
    # the child inherited the token (the build set it after it started: /proc shows a
    # process's environment as it was at exec, so the owner itself is not listed)
    assert len(children) == 1 and build.pid not in children
    dead = create_run_for_test(instance, job_name="j", status=DagsterRunStatus.STARTED, tags={OWNER_TAG: token})
    live = create_run_for_test(instance, job_name="j", status=DagsterRunStatus.STARTED,
                               tags=claim_process())
    build.kill()
    build.wait()
    assert not owner_alive(token) and owner_alive(owner_token())
    (item,) = recover(instance)
    assert item.run_id == dead.run_id and item.ended_processes == children
    assert processes_of(token) == []
    assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(live.run_id).status == DagsterRunStatus.STARTED
    assert "left by a killed build" in item.summary()


def _launched_run(instance, tags: dict, worker_pid: int):
    """A run as the daemon runs it: launched (RUN_STARTING, as DagsterInstance.launch_run records
    it), its worker's "Started process for run (pid: N)" engine event, then RUN_START."""
    from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData

    run = create_run_for_test(instance, job_name="j", status=DagsterRunStatus.STARTED, tags=tags)
    instance.report_dagster_event(
        DagsterEvent(event_type_value=DagsterEventType.RUN_STARTING.value, job_name=run.job_name),
        run_id=run.run_id)
    instance.report_engine_event(f"Started process for run (pid: {worker_pid}).", run,
                                 EngineEventData.in_process(worker_pid))
    instance.report_dagster_event(
        DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name=run.job_name),
        run_id=run.run_id)
    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED
    return run


def test_recover_judges_daemon_launched_runs_by_their_worker_not_inherited_owner_tags():
    """A re-execution from the UI copies its parent's tags: a re-run of a `cli build` run carries
    the csp/owner of a build that has long exited. Launched by the daemon, it is alive as long as
    its worker is, and failed once its worker is gone."""
    import socket

    instance = DagsterInstance.ephemeral()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    inherited = {OWNER_TAG: f"{gone.pid}:1234", HOST_TAG: socket.gethostname(), "dagster/parent_run_id": "p"}
    assert not owner_alive(inherited[OWNER_TAG])
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        running = _launched_run(instance, inherited, worker.pid)
        dead_worker = _launched_run(instance, inherited, gone.pid)
        untagged_running = _launched_run(instance, {}, worker.pid)
        # a `cli build` run with the same dead owner (not launched: executed in-process) is failed
        cli_run = create_run_for_test(instance, job_name="j", status=DagsterRunStatus.STARTED, tags=inherited)
        recovered = {item.run_id: item for item in recover(instance)}
        assert set(recovered) == {dead_worker.run_id, cli_run.run_id}
        assert recovered[dead_worker.run_id].launched and not recovered[cli_run.run_id].launched
        assert "whose run worker was killed" in recovered[dead_worker.run_id].summary()
        status = {r.run_id: instance.get_run_by_id(r.run_id).status
                  for r in (running, dead_worker, untagged_running, cli_run)}
        assert status == {running.run_id: DagsterRunStatus.STARTED, dead_worker.run_id: DagsterRunStatus.FAILURE,
                          untagged_running.run_id: DagsterRunStatus.STARTED, cli_run.run_id: DagsterRunStatus.FAILURE}
        # the worker dies: the next recovery fails both of its runs
        worker.kill()
        worker.wait()
        assert {item.run_id for item in recover(instance)} == {running.run_id, untagged_running.run_id}
    finally:
        worker.kill()
        worker.wait()


def test_a_reused_pid_is_not_the_run_worker():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        assert worker_alive(child.pid, time.time())             # recorded after it started: the worker
        assert not worker_alive(child.pid, time.time() - 600)   # recorded before it started: a reused pid
    finally:
        child.kill()
        child.wait()
    assert not worker_alive(child.pid, time.time())
