"""The operator's command line (also installed as `csp`):

    csp build             ingest every complete drop not loaded yet, rebuild, publish (daily / catch-up)
    csp backfill --start YYYY-MM-DD [--end YYYY-MM-DD]
                          load those drops again, rebuild, publish
    csp status            what is loaded, published, stale or blocked, and how the last run ended
    csp validate-config   check config/pipeline.yaml and the health configuration, run nothing
    csp docs              dbt docs (and where the GX Data Docs are), readable offline

`python -m orchestration.cli ...` is the same. A long range (a first load, a catch-up) runs in
consecutive runs of at most backfill.max_landing_mb_per_run of landing data, so that memory and
spill stay bounded and a failure loses one run's work; only the last one publishes.

Exit codes (build and backfill): 0 built and published; 1 nothing to do (up to date, or no
complete drop yet); 2 a run failed (a step or a blocking check; the serving database keeps the
last good publication); 3 publication blocked by rejected records; 64 bad arguments; 66 the
landing folder does not exist; 78 invalid configuration. `status`: 0 the newest complete drop
is published, 1 drops wait to be built, 2 the last build failed or publication is blocked.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

from orchestration.lib.run_tags import RANGE_END_TAG, RANGE_START_TAG

EXIT_OK, EXIT_NOTHING, EXIT_FAILED, EXIT_BLOCKED = 0, 1, 2, 3
EXIT_USAGE, EXIT_NOINPUT, EXIT_CONFIG = 64, 66, 78

# One "materialization planned" event per asset for the whole partition range instead of one
# per asset and partition: with SQLite run storage each event is a separate commit, and a full
# build of N drops otherwise writes ~48*N of them before its first step starts (5 minutes for
# 365 drops; see BENCHMARKS.md). Trade-off (Dagster's): if such a run fails, its partitions
# show as missing rather than failed in the UI; `build` retries missing drops either way.
# Set the variable to false to get the per-partition events back.
PLANNED_EVENTS_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


class CliError(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def _instance():
    """The persistent Dagster instance in $DAGSTER_HOME (default .dagster_home/), created with
    config/dagster.yaml when new, so the UI shows what the command line ran."""
    from dagster import DagsterInstance

    from orchestration.lib.settings import PROJECT_ROOT

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    return DagsterInstance.get()


def _say(*lines: str, err: bool = False) -> None:
    for line in lines:
        print(line, file=sys.stderr if err else sys.stdout, flush=True)


def _rel(path) -> str:
    from orchestration.lib.settings import PROJECT_ROOT

    p = Path(path)
    try:
        return str(p.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(p)


# ---------------------------------------------------------------------------------------------
# build and backfill
# ---------------------------------------------------------------------------------------------
def _require_landing(settings) -> None:
    if not Path(settings.landing_dir).is_dir():
        raise CliError(f"The landing folder {settings.landing_dir} does not exist (paths.landing in "
                       f"config/pipeline.yaml, or CSP_LANDING_DIR). `make sample` writes a sample there.",
                       EXIT_NOINPUT)


def _no_drops_message(settings) -> str:
    from orchestration.runs.pipeline_state import incomplete_drops

    waiting = incomplete_drops()
    msg = (f"No complete drop in {settings.landing_dir} yet: nothing to build (a drop is complete "
           f"when it holds _SUCCESS and a file for every object).")
    if waiting:
        shown = "; ".join(f"{k} ({why})" for k, why in list(waiting.items())[:5])
        msg += f" Incomplete: {shown}" + (f" and {len(waiting) - 5} more" if len(waiting) > 5 else "")
    return msg


def plan_build(force: bool = False, instance=None) -> tuple[list[str], list[str]]:
    """(the complete drops a plain build must run, reasons to print); no drops and the
    "Up to date" message when there is nothing to do; raises CliError when it must refuse."""
    from orchestration.lib.ingestion.load_state import pending_refresh, reject_blocks
    from orchestration.lib.settings import get_settings
    from orchestration.runs.pipeline_state import last_run, pending_drops, published, redeliveries

    settings = get_settings()
    all_drops, missing = pending_drops()
    if not all_drops:
        raise CliError(_no_drops_message(settings), EXIT_NOTHING)
    changed = redeliveries()
    owed, _ = pending_refresh(settings.raw_dir)
    pub = published()
    if pub.error and settings.publication_target == "postgres":
        raise CliError(f"Cannot tell what {pub.where} publishes: {pub.error}. Nothing was run "
                       "(check CSP_POSTGRES_DSN / PG* and that the server is up).", EXIT_FAILED)
    reasons = []
    if changed:
        reasons.append("Re-delivered drops (landing files changed since they were loaded), to be read again: "
                       + "; ".join(f"{obj} {d} ({why})" for obj, drops in changed.items()
                                   for d, why in drops.items()))
    if missing:
        return [d for d in all_drops if missing[0] <= d <= missing[-1]], reasons
    newest = all_drops[-1]
    if not (force or changed or owed or pub.as_of != newest):
        return [], [f"Up to date: all {len(all_drops)} complete drops ({all_drops[0]} .. {newest}) "
                            f"are loaded and published as of {pub.as_of} at {pub.where}."]
    blocks = reject_blocks(settings.raw_dir)
    if blocks and not (force or changed):
        raise CliError(
            "Not published: " + "; ".join(blocks) + f". The serving database keeps the publication as of "
            f"{pub.as_of or '(nothing yet)'}. Re-deliver the drop(s) with fewer rejects (a plain build then "
            "reads them again), or raise ingestion.max_reject_rate in config/pipeline.yaml and load them "
            "again with `csp backfill --start <drop> --end <drop>`.", EXIT_BLOCKED)
    # say why the newest drop is built again
    if owed:
        reasons.append(f"The warehouse owes a refresh from {owed} (the last build did not finish).")
    elif pub.as_of != newest and not force:
        run = last_run(instance) if instance is not None else None
        why = f"The newest drop {newest} is loaded but not published (published: {pub.as_of or 'nothing'})"
        if run is not None and run.status == "FAILURE":
            why += (f": the last build, run {run.run_id[:8]} at {run.started}, failed"
                    + (f" ({run.problems[0]})" if run.problems else ""))
        reasons.append(why + ". Building it again.")
    return [newest], reasons


def validate_range(start: str, end: str | None) -> list[str]:
    """The complete drops of start..end, or a CliError before any run is created."""
    from orchestration.lib.settings import get_settings
    from orchestration.runs.pipeline_state import pending_drops

    settings = get_settings()
    all_drops, _ = pending_drops()
    if not all_drops:
        raise CliError(_no_drops_message(settings), EXIT_NOTHING)
    end = end or all_drops[-1]
    if start > end:
        raise CliError(f"--start {start} is after --end {end}.", EXIT_USAGE)
    if end < settings.partitions_start:
        raise CliError(f"{start} .. {end} is before partitions.start_date {settings.partitions_start} "
                       f"(config/pipeline.yaml): no drop there is built.", EXIT_USAGE)
    drops = [d for d in all_drops if start <= d <= end and d >= settings.partitions_start]
    if not drops:
        raise CliError(f"No complete drop between {start} and {end} (complete drops: {all_drops[0]} .. "
                       f"{all_drops[-1]}, {len(all_drops)} of them).", EXIT_USAGE)
    return drops


def run_build(drops: list[str], instance, *, verbose: bool = False, header: list[str] = ()) -> int:
    """Run the asset job over the complete drops `drops` (consecutive, in chunks), printing one
    line per stage; the full log goes to <data dir>/logs/."""
    from orchestration.cli.console import elapsed, full_log, new_log_path
    from orchestration.lib.settings import get_settings

    settings = get_settings()
    start, end = drops[0], drops[-1]
    from orchestration.lib.drop_planning import drop_chunks

    chunks = drop_chunks(drops, settings.landing_dir, settings.max_landing_mb_per_run)
    log_path = None if verbose else new_log_path(settings.data_dir / "logs")
    for line in header:
        _say(line)
    if len(chunks) == 1:
        _say(f"Building drops {start} .. {end} in one run ({len(drops)} complete drop{'s' if len(drops) != 1 else ''}).")
    else:
        _say(f"Building drops {start} .. {end} ({len(drops)} complete drops) in {len(chunks)} runs of at most "
             f"{settings.max_landing_mb_per_run:g} MB of landing data (backfill.max_landing_mb_per_run); "
             f"only the last one publishes.")
    if log_path:
        _say(f"Full log: {_rel(log_path)}")
    os.environ.setdefault(PLANNED_EVENTS_ENV, "true")
    t_all = time.time()
    with full_log(log_path) as console:
        try:
            code, run_id = _run_chunks(chunks, instance, console, verbose=verbose, log_path=log_path)
        except Exception as e:  # noqa: BLE001 - the traceback goes to the log, one line here
            import traceback

            traceback.print_exc()
            first = (str(e).strip().splitlines() or [""])[0][:400]
            console.line(f"FAILED before the run could finish: {type(e).__name__}: {first}")
            if log_path:
                console.line(f"Full log (with the traceback): {_rel(log_path)}")
            return EXIT_FAILED
        if code != EXIT_OK:
            return code
        from orchestration.runs.pipeline_state import published

        pub = published()
        if pub.run_id != run_id:
            # Dagster skips a step whose inputs were never produced without failing the run
            # (e.g. a dbt result lost from its log stream): a run that did not publish is no success
            console.line(f"FAILED: run {run_id[:8]} ended without publishing: the step serving_marts did not "
                         f"run. The serving database keeps the publication of run {(pub.run_id or 'none')[:8]}"
                         f" (as of {pub.as_of or '-'}). See the log.")
            if log_path:
                console.line(f"Full log: {_rel(log_path)}")
            return EXIT_FAILED
        console.line(f"Succeeded in {elapsed(t_all)}.")
    _say(f"Published as of {pub.as_of}: {pub.tables} tables, {pub.rows:,} rows, for BI tools (read-only) at "
         f"{pub.where}",
         f"  raw layer (Parquet): {_rel(settings.raw_dir)}",
         f"  warehouse (pipeline only): {_rel(settings.warehouse_path)}")
    if log_path:
        _say(f"Full log: {_rel(log_path)}")
    return EXIT_OK


def _run_chunks(chunks: list[list[str]], instance, console, *, verbose: bool, log_path) -> tuple[int, str]:
    """Run each chunk; (exit code, id of the last run)."""
    from dagster import AssetKey
    from dagster._core.utils import make_new_run_id

    from orchestration.cli.console import RunWatcher, elapsed
    from orchestration.definitions import defs
    from orchestration.runs.pipeline_state import failure_reasons
    from orchestration.runs.recovery import claim_process

    owner_tags = claim_process()   # this process and its children own the runs below
    job = defs.resolve_implicit_global_asset_job_def()
    all_keys = list(job.asset_layer.executable_asset_keys)
    serving_key = AssetKey("serving_marts")   # orchestration/defs/assets/serving.py
    progress = not verbose and console.out.isatty()
    for i, chunk in enumerate(chunks, 1):
        last = i == len(chunks)
        run_id = make_new_run_id()
        console.line(f"Run {f'{i}/{len(chunks)} ' if len(chunks) > 1 else ''}{run_id}: "
                     f"drops {chunk[0]} .. {chunk[-1]}")
        t0 = time.time()
        with RunWatcher(instance, run_id, console, progress=progress, publishes=last,
                        log_path=log_path):
            result = job.execute_in_process(
                instance=instance, run_id=run_id, raise_on_error=False,
                tags={RANGE_START_TAG: chunk[0], RANGE_END_TAG: chunk[-1], **owner_tags},
                # runs before the last stop short of publication: the serving database goes
                # from the previous publication straight to the final one
                asset_selection=None if last else [k for k in all_keys if k != serving_key])
        if not result.success:
            problems = failure_reasons(result.all_events) or ["the run failed (see the log)"]
            console.line(f"FAILED: run {run_id[:8]} (drops {chunk[0]} .. {chunk[-1]}) after {elapsed(t0)}. "
                         "Nothing new is published: the serving database keeps the last good publication."
                         + (" The drops of the runs before it are loaded; the next build goes on from there."
                            if i > 1 else ""))
            for line in problems[:10]:
                console.line(f"  {line}")
            if len(problems) > 10:
                console.line(f"  ... and {len(problems) - 10} more")
            console.line("Fix the cause (the log and `csp status` show the details), then run `csp build` again.")
            if log_path:
                console.line(f"Full log: {_rel(log_path)}")
            return EXIT_FAILED, run_id
        if len(chunks) > 1:
            console.line(f"  run {i}/{len(chunks)} done in {elapsed(t0)}")
    return EXIT_OK, run_id


def build(force: bool = False, verbose: bool = False) -> int:
    from orchestration.lib.settings import get_settings
    from orchestration.runs.recovery import recover

    settings = get_settings()
    _require_landing(settings)
    instance = _instance()
    # a build killed earlier left its run "started", its pool slot taken, maybe a child
    # running: end all that first, or this build would wait on the slot forever
    header = [f"Recovery: {item.summary()}." for item in recover(instance)]
    drops, reasons = plan_build(force, instance)
    if not drops:
        _say(*header, *reasons)
        return EXIT_NOTHING
    return run_build(drops, instance, verbose=verbose, header=header + reasons)


def backfill(start: str, end: str | None = None, verbose: bool = False) -> int:
    from orchestration.lib.settings import get_settings
    from orchestration.runs.pipeline_state import redeliveries
    from orchestration.runs.recovery import recover

    settings = get_settings()
    _require_landing(settings)
    drops = validate_range(start, end)   # before anything is created
    instance = _instance()
    header = [f"Recovery: {item.summary()}." for item in recover(instance)]
    header.append(f"Backfill: loading the {len(drops)} complete drops {drops[0]} .. {drops[-1]} again.")
    changed = redeliveries()
    if changed:
        header.append("Re-delivered drops are read again too: " + "; ".join(
            f"{obj} {d}" for obj, ds in changed.items() for d in ds))
    return run_build(drops, instance, verbose=verbose, header=header)


# ---------------------------------------------------------------------------------------------
# status, validate-config, docs
# ---------------------------------------------------------------------------------------------
def status() -> int:
    from orchestration.lib.ingestion.load_state import pending_refresh, reject_blocks
    from orchestration.lib.settings import get_settings
    from orchestration.runs.pipeline_state import incomplete_drops, last_run, pending_drops, published, redeliveries

    settings = get_settings()
    code = EXIT_OK
    if not Path(settings.landing_dir).is_dir():
        _say(f"landing      {settings.landing_dir} does not exist")
        all_drops, missing = [], []
    else:
        all_drops, missing = pending_drops()
        waiting = incomplete_drops()
        line = (f"landing      {_rel(settings.landing_dir)}: {len(all_drops)} complete drops"
                + (f" ({all_drops[0]} .. {all_drops[-1]})" if all_drops else ""))
        if waiting:
            line += f"; {len(waiting)} incomplete, not read: " + "; ".join(
                f"{k} ({why})" for k, why in list(waiting.items())[:5]) + (" ..." if len(waiting) > 5 else "")
        _say(line)
    _say(f"raw layer    {_rel(settings.raw_dir)}: {len(all_drops) - len(missing)} drops loaded, "
         f"{len(missing)} not yet loaded" + (f" ({missing[0]} .. {missing[-1]})" if missing else ""))
    for obj, drops in redeliveries().items():
        _say(f"re-delivered {obj} {', '.join(drops)}: read again by the next build")
    owed, _ = pending_refresh(settings.raw_dir)
    if owed:
        _say(f"warehouse    owes a refresh from {owed} (the last build did not finish)")
    blocks = reject_blocks(settings.raw_dir)
    for b in blocks:
        _say(f"BLOCKED      publication: {b}")
    run = last_run(_instance())
    if run is None:
        _say("last run     none")
    else:
        _say(f"last run     {run.run_id[:8]} ({run.job}, drops {run.drops}) started {run.started}: {run.status}"
             + (f", ended {run.ended}" if run.ended else ""))
        for p in run.problems[:5]:
            _say(f"               {p}")
    pub = published()
    if pub.error:
        _say(f"published    UNREADABLE: {pub.where}: {pub.error}")
        code = EXIT_FAILED
    elif pub.as_of is None:
        _say(f"published    nothing yet ({pub.where})")
    else:
        _say(f"published    as of {pub.as_of}, at {pub.published_at} UTC by run {(pub.run_id or '?')[:8]}: "
             f"{pub.tables} tables, {pub.rows:,} rows ({_rel(pub.where)})")
    newest = all_drops[-1] if all_drops else None
    if newest and pub.as_of != newest:
        failed = run is not None and run.status == "FAILURE"
        _say(f"STALE        the newest complete drop {newest} is not published"
             + (": the last build failed" if failed else "")
             + (". Publication stays blocked until the drops above are loaded again and pass "
                "(re-deliver them, or raise ingestion.max_reject_rate and `csp backfill` them)"
                if blocks else ". `csp build` builds it") + ".")
        code = EXIT_FAILED if failed or blocks else EXIT_NOTHING
    elif blocks or (run is not None and run.status == "FAILURE"):
        code = EXIT_FAILED
    if code == EXIT_OK and newest:
        _say(f"OK           the newest complete drop ({newest}) is published")
    return code


def validate_config_cmd() -> int:
    from orchestration.lib.health_config import validate_health_config
    from orchestration.lib.settings import CONFIG_PATH, DBT_PROJECT_DIR, get_settings

    settings = get_settings()   # raises ConfigError (handled in main)
    path = os.environ.get("CSP_CONFIG", str(CONFIG_PATH))
    _say(f"{_rel(path)}: valid ({len(type(settings.config).model_fields)} sections; landing {settings.landing_dir}, "
         f"engine {settings.config.engine}, publication target {settings.publication_target})")
    try:
        validate_health_config(DBT_PROJECT_DIR / "seeds")
    except ValueError as e:
        _say(f"{_rel(DBT_PROJECT_DIR / 'seeds')}: health configuration invalid:", *[f"  {line}" for line in str(e).splitlines()],
             err=True)
        return EXIT_CONFIG
    _say(f"{_rel(DBT_PROJECT_DIR / 'seeds')}: health configuration valid")
    return EXIT_OK


def docs_cmd(out: str | None = None) -> int:
    from orchestration.cli.docs import generate_docs

    return generate_docs(Path(out) if out else None, say=_say)


# ---------------------------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {value!r}") from None


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="csp", description="Operate the customer-success data platform.",
                epilog=__doc__.split("Exit codes", 1)[1].join(["Exit codes", ""]) if "Exit codes" in __doc__ else None,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    b = sub.add_parser("build", help="ingest new complete drops, rebuild the models, publish the marts")
    b.add_argument("--force", action="store_true", help="rebuild and publish the newest drop even when up to date")
    b.add_argument("--verbose", "-v", action="store_true", help="print Dagster's and dbt's whole output")
    # the range options of earlier releases: the same as `backfill`
    b.add_argument("--start", type=_date, help=argparse.SUPPRESS)
    b.add_argument("--end", type=_date, help=argparse.SUPPRESS)
    f = sub.add_parser("backfill", help="load a range of drops again, rebuild, publish")
    f.add_argument("--start", type=_date, required=True, help="first drop date, YYYY-MM-DD")
    f.add_argument("--end", type=_date, help="last drop date, YYYY-MM-DD (default: the newest complete drop)")
    f.add_argument("--verbose", "-v", action="store_true", help="print Dagster's and dbt's whole output")
    sub.add_parser("status", help="drops, the last run, what is published, what is stale or blocked")
    sub.add_parser("validate-config", help="check config/pipeline.yaml and the health seeds; run nothing")
    d = sub.add_parser("docs", help="generate the dbt docs (offline HTML) and list the GX Data Docs")
    d.add_argument("--out", help="folder for the dbt docs (default: <data dir>/docs/dbt)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    warnings.simplefilter("ignore")   # library warnings belong in the log, not the console
    from orchestration.lib.config_schema import ConfigError
    from orchestration.lib.settings import get_settings

    try:
        get_settings()   # the configuration is valid before anything runs
        if args.cmd == "build":
            if args.start or args.end:
                if not args.start:
                    raise CliError("--end needs --start (or use `csp backfill --start ...`).", EXIT_USAGE)
                return backfill(args.start, args.end, args.verbose)
            return build(args.force, args.verbose)
        if args.cmd == "backfill":
            return backfill(args.start, args.end, args.verbose)
        if args.cmd == "status":
            return status()
        if args.cmd == "validate-config":
            return validate_config_cmd()
        if args.cmd == "docs":
            return docs_cmd(args.out)
    except ConfigError as e:
        _say(*[str(p) for p in e.problems], err=True)
        _say("Nothing was run: fix the configuration (`csp validate-config` checks it).", err=True)
        return EXIT_CONFIG
    except CliError as e:
        _say(str(e), err=e.code not in (EXIT_NOTHING,))
        return e.code
    return EXIT_USAGE


def console_main() -> None:
    """The `csp` console script."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # exit without interpreter teardown: DuckDB 2.0's bindings print spurious "leaked"
    # warnings at shutdown when GX / SQLAlchemy still hold connections' type objects
    os._exit(code)


if __name__ == "__main__":
    console_main()
