"""Recovery from a killed run (kill -9, an OOM kill, a closed laptop) with a plain re-run, no
Dagster daemon needed.

A run killed mid-way stays "STARTED" in the Dagster instance and keeps its `warehouse` pool
slot, so the next run would wait on it forever; and its dbt child, left running, would go on
writing the warehouse. Three things prevent that:

- every process that runs a build (`cli build`, `orchestration.cli.backfill`) stamps itself and
  its runs with an owner token (pid + process start time + host; the start time tells a dead
  pid from a reused one). Children inherit the token in their environment (`CSP_RUN_OWNER`);
- dbt runs through `csp-dbt`, which asks the kernel to kill it when the process that started
  it dies (PR_SET_PDEATHSIG), so a dbt child never outlives its run;
- `recover(instance)`, called before every build and by `orphaned_run_sensor` under the
  daemon, finds the runs whose owner is gone, ends any process still carrying their token,
  marks them failed and frees their pool slots. The warehouse then owes the killed run's
  window (ingestion/load_state.py), which the next build reprocesses.

Runs started through a run launcher (the daemon dequeuing a sensor's, a schedule's or the UI's
run; Dagster records a RUN_STARTING event for them) are judged by the worker process the
launcher started, never by owner tags: they normally carry none, and a re-execution from the UI
copies its parent's tags, so a re-run of a `cli build` run carries the (long gone) owner of
its parent. The worker is the pid of the first engine event with a pid ("Started process for run
(pid: N)"); a live process with that pid that started after the event was written is a reused
pid, not the worker. The code server that launched the worker also fails the run within seconds
when the worker dies (as long as that code server lives); this covers the rest (daemon restarted,
host rebooted).
"""
from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib.run_tags import HOST_TAG, OWNER_TAG

OWNER_ENV = "CSP_RUN_OWNER"


def process_start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            after_comm = f.read().rsplit(")", 1)[1].split()
        return int(after_comm[19])
    except (OSError, IndexError, ValueError):
        return None


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) not in ("Z", "X")   # a killed child not yet reaped is a zombie: dead


def owner_token(pid: int | None = None) -> str:
    pid = pid or os.getpid()
    return f"{pid}:{process_start_ticks(pid) or 0}"


def owner_alive(token: str) -> bool:
    try:
        pid_s, ticks_s = token.split(":", 1)
        pid, ticks = int(pid_s), int(ticks_s)
    except ValueError:
        return True   # not ours to judge
    if not pid_alive(pid):
        return False
    return ticks == 0 or process_start_ticks(pid) == ticks


def claim_process() -> dict[str, str]:
    """Stamp this process (and the children it will start) as the owner of the runs it starts;
    returns the run tags that name it."""
    token = os.environ.get(OWNER_ENV)
    if not token or token.split(":", 1)[0] != str(os.getpid()):
        token = owner_token()
        os.environ[OWNER_ENV] = token
    return {OWNER_TAG: token, HOST_TAG: socket.gethostname()}


def processes_of(token: str) -> list[int]:
    """Live processes (other than this one) whose environment carries the owner token."""
    needle = f"{OWNER_ENV}={token}".encode()
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0") and pid_alive(int(entry.name)):
            out.append(int(entry.name))
    return sorted(out)


def end_processes(pids: list[int], grace_seconds: float = 5.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
            time.sleep(0.1)
        pids = [p for p in pids if pid_alive(p)]
        if not pids:
            return


@dataclass
class Recovered:
    run_id: str
    owner: str
    ended_processes: list[int] = field(default_factory=list)
    launched: bool = False   # started by a run launcher (daemon, UI), judged by its worker pid

    def summary(self) -> str:
        ended = (f", ended its leftover process(es) {', '.join(map(str, self.ended_processes))}"
                 if self.ended_processes else "")
        what = "whose run worker was killed" if self.launched else "left by a killed build"
        return (f"recovered run {self.run_id[:8]} {what} (owner {self.owner} is gone){ended}, "
                "marked it failed and freed its warehouse pool slot")


def _engine_event_pid(instance, run_id: str) -> tuple[int, float] | None:
    """(pid, time written) of the worker Dagster records for runs launched by execute_job / the
    daemon: the first engine event with a pid."""
    from dagster import DagsterEventType

    conn = instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=50)
    for rec in conn.records:
        ev = rec.event_log_entry.dagster_event
        if ev is None:
            continue
        md = getattr(ev.event_specific_data, "metadata", None) or {}
        pid = md.get("pid")
        if pid is not None:
            try:
                return int(getattr(pid, "value", pid)), float(rec.event_log_entry.timestamp)
            except (TypeError, ValueError):
                continue
    return None


def _launched(instance, run_id: str) -> bool:
    """Whether a run launcher started the run (the daemon, the UI), not a process executing it
    in-process (`cli build`, `orchestration.cli.backfill`): Dagster's launch_run records RUN_STARTING."""
    from dagster import DagsterEventType

    return bool(instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_STARTING, limit=1).records)


def _boot_time() -> float | None:
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def process_started_at(pid: int) -> float | None:
    """The process's start time (unix seconds, to about a second), or None where /proc cannot say."""
    ticks, boot = process_start_ticks(pid), _boot_time()
    if ticks is None or boot is None:
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def worker_alive(pid: int, seen_at: float, slack_seconds: float = 5.0) -> bool:
    """Whether the process `pid`, recorded as a run's worker at `seen_at`, still runs: alive, and
    not a newer process that reused the pid (started after the worker was recorded)."""
    if not pid_alive(pid):
        return False
    started = process_started_at(pid)
    return started is None or started <= seen_at + slack_seconds


def recover(instance, log=None) -> list[Recovered]:
    """Fail the runs of this host whose owner process is gone, end what they left running, and
    free their pool slots (also slots still held by runs that already ended)."""
    from dagster import DagsterRunStatus, RunsFilter

    host = socket.gethostname()
    recovered = []
    live = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]
    for rec in instance.get_run_records(RunsFilter(statuses=live)):
        run = rec.dagster_run
        # owner tags on a launched run were inherited (re-execution): not its owner
        launched = _launched(instance, run.run_id)
        token = None if launched else run.tags.get(OWNER_TAG)
        if token:
            if run.tags.get(HOST_TAG, host) != host or owner_alive(token):
                continue
        else:
            worker = _engine_event_pid(instance, run.run_id)
            if worker is None or worker_alive(*worker):
                continue
            token = f"{worker[0]}:0"
        leftovers = processes_of(token)
        end_processes(leftovers)
        item = Recovered(run.run_id, token, leftovers, launched)
        try:
            instance.report_run_failed(run, f"The process running this run ({token} on {host}) is gone "
                                            "(killed or crashed); marked failed by the recovery of the next build "
                                            "or of the orphaned_run_sensor.")
        except Exception:  # it finished in between
            continue
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(item)
        if log is not None:
            log(item.summary())
    _free_slots_of_ended_runs(instance)
    return recovered


def reap_orphaned_runs(instance, log=None) -> list[str]:
    """Mark runs whose process (on this host) is gone as failed, end what they left running and
    free their pool slots. Returns the run ids reaped."""
    return [r.run_id for r in recover(instance, log.warning if log is not None else None)]


def _free_slots_of_ended_runs(instance) -> None:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    from dagster import DagsterRunStatus

    for pool in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(pool)
        for run_id in info.active_run_ids | {s.run_id for s in info.pending_steps}:
            run = instance.get_run_by_id(run_id)
            if run is None or run.status in (DagsterRunStatus.FAILURE, DagsterRunStatus.SUCCESS,
                                              DagsterRunStatus.CANCELED):
                storage.free_concurrency_slots_for_run(run_id)


def dbt_child_main() -> None:
    """`csp-dbt`: dbt, killed by the kernel when the process that started it dies."""
    import ctypes
    import sys

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:   # the parent died before the prctl took effect
        sys.exit(1)
    dbt = str(Path(sys.executable).parent / "dbt")
    os.execv(dbt, [dbt, *sys.argv[1:]])
