"""The operator's console for a build: one line per stage, from the run's own events.

While a run executes in this process, everything Dagster, dbt and the libraries print goes
to a log file (`full_log`: file descriptors 1 and 2 are redirected, so child processes such
as dbt write there too), and `RunWatcher` reads the run's events from the Dagster instance
and prints a line when a stage ends: each ingestion object (drops, records, rejects), the dbt
build (models, tests), the GX gate, the publication (marts, rows, as-of date), then the checks
in one line. On a terminal a progress bar shows the stage in flight.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

GATE_STEP = "gx_mart_expectations"
DBT_STEP = "dbt_models"
PUBLISH_STEP = "serving_marts"
KEEP_LOGS = 30
# dbt's own progress lines in the log ("12 of 255 OK created sql table model ..."): the dbt
# step's events reach the event log when dbt ends, the progress bar follows these instead
DBT_DONE = re.compile(r"^(\d+) of (\d+) (?!START)\S", re.M)


def new_log_path(logs_dir: Path, what: str = "build") -> Path:
    """A new log file in `logs_dir` (the 30 newest are kept)."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    old = sorted(logs_dir.glob(f"{what}-*.log"))
    for p in old[:max(0, len(old) - KEEP_LOGS + 1)]:
        with contextlib.suppress(OSError):
            p.unlink()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = logs_dir / f"{what}-{stamp}.log"
    n = 1
    while path.exists():
        n += 1
        path = logs_dir / f"{what}-{stamp}-{n}.log"
    return path


class Console:
    """Writes the operator's lines to the terminal (or what stdout was) and to the log."""

    def __init__(self, out, log=None):
        self.out = out
        self.log = log
        self.lock = threading.Lock()
        self.progress = None

    def line(self, text: str = "", err: bool = False) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
            else:
                print(text, file=self.out, flush=True)
            if self.log is not None:
                print(text, file=self.log, flush=True)


@contextlib.contextmanager
def full_log(path: Path | None):
    """Send fd 1 and 2 (this process and its children) to `path`; yield a Console on the
    original stdout. With path None (--verbose), nothing is redirected."""
    if path is None:
        yield Console(sys.stdout)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    log = open(path, "a", buffering=1)
    out = os.fdopen(os.dup(saved_out), "w", buffering=1)
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        yield Console(out, log)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        out.close()
        log.close()


def _value(md, key, default=None):
    v = md.get(key)
    return getattr(v, "value", v) if v is not None else default


def _n(x) -> str:
    return f"{int(x):,}"


def _secs(s: float) -> str:
    return f"{s:.1f}s" if s < 60 else f"{int(s // 60)}m{int(s % 60):02d}s"


class RunWatcher:
    """Follows one run's events in the instance (polling) and prints its stages."""

    def __init__(self, instance, run_id: str, console: Console, *, progress: bool = False,
                 publishes: bool = True, log_path: Path | None = None):
        """progress: a progress bar (on a terminal), which follows dbt's lines in `log_path`."""
        self.instance, self.run_id, self.console = instance, run_id, console
        self.publishes = publishes
        self.cursor = None
        self.log_path, self.log_offset, self.dbt_done = log_path, 0, 0
        self.step_start: dict[str, float] = {}
        self.first_md: dict[str, dict] = {}
        self.materialized: dict[str, set] = defaultdict(set)
        self.checks: dict[str, Counter] = defaultdict(Counter)   # step -> passed/failed/warned
        self.check_kinds: Counter = Counter()
        self.warnings: list[str] = []
        self.gx_expectations = 0
        self.failed_gx: list[str] = []
        self.failures: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._progress = None
        self._task = None
        if progress:
            from rich.console import Console as RichConsole
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), console=RichConsole(file=console.out),
                                      transient=True, redirect_stdout=False, redirect_stderr=False)

    # -- life cycle --------------------------------------------------------------------------
    def __enter__(self):
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None)
            self.console.progress = self._progress
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)
        self.poll()   # whatever arrived after the last tick
        if self._progress is not None:
            self._progress.stop()
            self.console.progress = None
        self.finish()

    def _loop(self):
        while not self._stop.wait(0.5):
            try:
                self.poll()
            except Exception as e:  # noqa: BLE001 - the console must never break the run
                print(f"console: could not read run events: {e}", file=sys.stderr)

    def _follow_dbt(self):
        """Advance the progress bar from dbt's progress lines in the log."""
        if self._progress is None or self.log_path is None or DBT_STEP not in self.step_start:
            return
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            chunk = f.read()
        cut = chunk.rfind(b"\n") + 1
        self.log_offset += cut
        for m in DBT_DONE.finditer(chunk[:cut].decode("utf-8", "replace")):
            self.dbt_done += 1
            self._progress.update(self._task, completed=self.dbt_done, total=int(m.group(2)))

    def poll(self):
        self._follow_dbt()
        while True:
            conn = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=500)
            for rec in conn.records:
                entry = rec.event_log_entry
                if entry.dagster_event is not None:
                    self.on_event(entry.dagster_event, entry.timestamp)
            self.cursor = conn.cursor
            if not conn.has_more:
                return

    # -- events ------------------------------------------------------------------------------
    def _describe(self, text: str, total=None, completed=None):
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=text, total=total,
                                  completed=completed if completed is not None else 0)

    def on_event(self, ev, ts: float):
        step, kind = ev.step_key, ev.event_type_value
        if kind == "STEP_START":
            self.step_start[step] = ts
            if step == DBT_STEP:
                self._describe("dbt build")
                if self.log_path is not None:   # dbt's lines start after this point
                    self.log_offset = self.log_path.stat().st_size
            else:
                self._describe(_label(step))
        elif kind == "ASSET_MATERIALIZATION":
            mat = ev.event_specific_data.materialization
            if step not in self.first_md:
                self.first_md[step] = mat.metadata
            self.materialized[step].add(mat.asset_key)
        elif kind == "ASSET_CHECK_EVALUATION":
            ce = ev.event_specific_data
            sev = getattr(ce.severity, "value", "ERROR")
            outcome = "passed" if ce.passed else ("failed" if sev == "ERROR" else "warned")
            self.checks[step][outcome] += 1
            if step != DBT_STEP:
                self.check_kinds[ce.check_name] += 1
            if step == GATE_STEP:
                self.gx_expectations += int(_value(ce.metadata, "expectations_evaluated", 0) or 0)
                if not ce.passed:
                    self.failed_gx.append(ce.asset_key.path[-1])
            if outcome == "warned":
                self.warnings.append(f"check {ce.check_name} on {ce.asset_key.to_user_string()}: "
                                     f"{ce.description or 'warning'}")
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            took = ts - self.step_start.get(step, ts)
            if kind == "STEP_FAILURE":
                from orchestration.runs.pipeline_state import failure_reasons

                self.failures[step] = (failure_reasons([ev]) or ["failed"])[0]
            self.step_line(step, took, failed=kind == "STEP_FAILURE")

    # -- lines -------------------------------------------------------------------------------
    def step_line(self, step: str, took: float, failed: bool):
        md = self.first_md.get(step, {})
        c = self.checks.get(step, Counter())
        say = self.console.line
        if step.startswith("raw__") and (md or failed) and not step.endswith("_account_ids_match"):
            name = ".".join(step.split("__")[1:])
            if failed:
                say(f"  load     {name:<30} FAILED ({_secs(took)})")
                return
            records, rejected = _value(md, "records", 0), _value(md, "rows_rejected", 0)
            share = f" ({rejected / records:.1%})" if records else ""
            redelivered = _value(md, "redelivered_drops", {}) or {}
            extra = f", {len(redelivered)} re-delivered" if redelivered else ""
            say(f"  load     {name:<30} {_n(_value(md, 'drops_loaded', 0)):>5} drops{extra} "
                f"{_n(records):>12} records {_n(rejected):>7} rejected{share:<9} {_secs(took):>7}")
        elif step == DBT_STEP:
            models = len(self.materialized[step])
            tests = f"{c['passed']} tests passed, {c['failed']} failed" + (f", {c['warned']} warned" if c["warned"] else "")
            say(f"  dbt      {models} models and seeds built, {tests}"
                f"{'  FAILED' if failed else ''} ({_secs(took)})")
        elif step == GATE_STEP:
            total = c["passed"] + c["failed"] + c["warned"]
            line = (f"  gate     {c['passed']} of {total} marts pass their GX suites "
                    f"({_n(self.gx_expectations)} expectations)")
            if self.failed_gx:
                line += f"; FAILED: {', '.join(self.failed_gx)}"
            say(f"{line} ({_secs(took)})")
        elif step == PUBLISH_STEP:
            if failed:
                say(f"  publish  REFUSED: nothing published, the serving database keeps the last good "
                    f"publication ({_secs(took)})")
                return
            counts = _value(md, "row_counts", {}) or {}
            say(f"  publish  {len(counts)} tables, {_n(sum(counts.values()))} rows, as of "
                f"{_value(md, 'as_of_date', '?')} -> {_value(md, 'serving_path', '?')} ({_secs(took)})")
        elif failed:
            say(f"  check    {step} FAILED ({_secs(took)})")

    def finish(self):
        """The checks outside dbt and the gate in one line, then each warning."""
        if self.publishes and PUBLISH_STEP not in self.step_start:
            self.console.line("  publish  NOT RUN: a step or blocking check before it failed; the serving "
                              "database keeps the last good publication")
        total = Counter()
        for step, c in self.checks.items():
            if step not in (DBT_STEP, GATE_STEP):
                total.update(c)
        kinds = {k: n for k, n in self.check_kinds.items() if k != "gx_expectations"}
        if kinds:
            what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            self.console.line(f"  checks   {what}: {total['passed']} passed, {total['warned']} warned, "
                              f"{total['failed']} failed")
        for w in self.warnings[:20]:
            self.console.line(f"  warning  {' '.join(w.split())[:300]}")
        if len(self.warnings) > 20:
            self.console.line(f"  ... and {len(self.warnings) - 20} more warnings (see the log)")


def _label(step: str) -> str:
    if step.startswith("raw__"):
        return "loading " + ".".join(step.split("__")[1:])
    return {GATE_STEP: "GX gate", PUBLISH_STEP: "publishing"}.get(step, step)


def elapsed(t0: float) -> str:
    return _secs(time.time() - t0)
