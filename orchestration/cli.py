"""Command line for operators: `python -m orchestration.cli build` ingests every complete drop
that is not loaded yet (one run over the partition range: a single-run backfill; a long range,
such as a first load, in consecutive runs of at most backfill.max_landing_mb_per_run of landing
data, so that memory and spill stay bounded and a failure loses one run's work), rebuilds the
models and publishes the gated marts; with nothing new it says so and stops.

    python -m orchestration.cli build [--start YYYY-MM-DD --end YYYY-MM-DD] [--force]
    python -m orchestration.cli status
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
import time
import warnings

from dagster import DagsterInstance

from .ingestion.contracts import OBJECTS, SOURCES
from .ingestion.landing import complete_drops
from .ingestion.load_state import pending_refresh, reject_blocks
from .ingestion.raw_store import loaded_drops, redelivered_drops
from .recovery import claim_process, recover
from .settings import PROJECT_ROOT, get_settings

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
# One "materialization planned" event per asset for the whole partition range instead of one
# per asset and partition: with SQLite run storage each event is a separate commit, and a full
# build of N drops otherwise writes ~48*N of them before its first step starts (5 minutes for
# 365 drops; see BENCHMARKS.md). Trade-off (Dagster's): if such a run fails, its partitions
# show as missing rather than failed in the UI; `build` retries missing drops either way.
# Set the variable to false to get the per-partition events back.
PLANNED_EVENTS_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


def _instance() -> DagsterInstance:
    """The persistent Dagster instance in $DAGSTER_HOME (default .dagster_home/), created with
    config/dagster.yaml when new, so the UI shows what the command line ran."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    return DagsterInstance.get()


def pending_drops(instance: DagsterInstance | None = None) -> tuple[list[str], list[str]]:
    """(complete drop dates in the landing zone, those the raw layer holds no complete load of
    for some object: no manifest, as after a load killed half-way). `instance` is unused: the
    raw layer, not the run history, says what is loaded."""
    settings = get_settings()
    by_source = complete_drops(settings.landing_dir, SOURCES)
    all_drops = sorted(set().union(*by_source.values()))
    missing: set[str] = set()
    for obj in OBJECTS:
        done = set(loaded_drops(settings.raw_dir, obj))
        missing.update(d for d in by_source.get(obj.source, []) if d not in done)
    return all_drops, sorted(missing)


def redeliveries() -> dict[str, dict[str, str]]:
    """{"source.object": {drop: what changed}} for loaded drops whose landing files changed."""
    settings = get_settings()
    out = {}
    for obj in OBJECTS:
        changed = redelivered_drops(settings.landing_dir, settings.raw_dir, obj)
        if changed:
            out[f"{obj.source}.{obj.name}"] = changed
    return out


def published_as_of(serving_path) -> str | None:
    """The as-of date of the marts in the serving database, or None if nothing is published."""
    import duckdb

    if not serving_path.exists():
        return None
    try:
        con = duckdb.connect(str(serving_path), read_only=True)
        try:
            row = con.execute("select max(as_of_date) from _publication").fetchall()[0][0]
        finally:
            con.close()
    except duckdb.Error:
        return None
    return row.isoformat() if row else None


def build(start: str | None = None, end: str | None = None, force: bool = False) -> int:
    warnings.filterwarnings("ignore", category=Warning, module="dagster")
    from .definitions import defs

    from dagster import AssetKey

    serving_key = AssetKey("serving_marts")   # orchestration/assets/publication.py
    settings = get_settings()
    instance = _instance()
    # a build killed earlier left its run "started", its pool slot taken, maybe a child
    # running: end all that first, or this build would wait on the slot forever
    for item in recover(instance):
        print(f"Recovery: {item.summary()}.", flush=True)
    all_drops, missing = pending_drops()
    if not all_drops:
        print(f"No complete drop in {settings.landing_dir}: nothing to build "
              f"(a drop is complete when it holds _SUCCESS and a file for every object).", file=sys.stderr)
        return 1
    changed = redeliveries()
    owed, _ = pending_refresh(settings.raw_dir)
    if changed:
        print("Re-delivered drops (landing files changed since they were loaded), to be read again: "
              + "; ".join(f"{obj} {d} ({why})" for obj, drops in changed.items() for d, why in drops.items()),
              flush=True)
    if start or end:
        start, end = start or all_drops[0], end or all_drops[-1]
    elif missing:
        start, end = missing[0], missing[-1]
    elif force or changed or owed or published_as_of(settings.serving_path) != all_drops[-1]:
        # re-deliveries are read by the ingestion of any run; a pending refresh means the
        # last build did not finish; or the newest drop is loaded but not published yet
        start = end = all_drops[-1]
        blocks = reject_blocks(settings.raw_dir)
        if blocks and not (force or changed):
            print("Not published: " + "; ".join(blocks) + ". The serving database keeps the last good "
                  "publication. Re-deliver the drop(s) with fewer rejects (a plain build then reads them "
                  "again), or raise ingestion.max_reject_rate in config/pipeline.yaml and reload them "
                  "with `build --start <drop> --end <drop>`.", file=sys.stderr)
            return 3
    else:
        print(f"Up to date: all {len(all_drops)} complete drops ({all_drops[0]} .. {all_drops[-1]}) "
              f"are loaded and published at {settings.serving_path}.")
        return 0
    drops = [d for d in all_drops if start <= d <= end]
    chunks = drop_chunks(drops, settings.landing_dir, settings.max_landing_mb_per_run) or [[start, end]]
    if len(chunks) == 1:
        print(f"Building drops {start} .. {end} in one run ({len(drops)} complete drops)...", flush=True)
    else:
        print(f"Building drops {start} .. {end} ({len(drops)} complete drops) in {len(chunks)} runs of "
              f"at most {settings.max_landing_mb_per_run:g} MB of landing data "
              f"(backfill.max_landing_mb_per_run); only the last one publishes...", flush=True)
    os.environ.setdefault(PLANNED_EVENTS_ENV, "true")
    owner_tags = claim_process()   # this process and its children own the runs below
    job = defs.resolve_implicit_global_asset_job_def()
    all_keys = list(job.asset_layer.executable_asset_keys)
    t_all = time.time()
    for i, chunk in enumerate(chunks, 1):
        last = i == len(chunks)
        t0 = time.time()
        result = job.execute_in_process(
            instance=instance, tags={RANGE_START: chunk[0], RANGE_END: chunk[-1], **owner_tags},
            raise_on_error=False,
            # runs before the last stop short of publication: the serving database goes from
            # the previous publication straight to the final one
            asset_selection=None if last else [k for k in all_keys if k != serving_key])
        took = time.time() - t0
        if not result.success:
            print(f"Run {result.run_id} (drops {chunk[0]} .. {chunk[-1]}) FAILED after {took:.0f}s; see "
                  f"the Dagster UI (make dev) or `dagster run list`. The drops of the runs before it "
                  f"are loaded: the next build starts where this one stopped.", file=sys.stderr)
            for line in failure_reasons(result):
                print(f"  {line}", file=sys.stderr)
            return 2
        if len(chunks) > 1:
            print(f"  run {i}/{len(chunks)}: drops {chunk[0]} .. {chunk[-1]} done in {took:.0f}s "
                  f"({result.run_id})", flush=True)
    took = time.time() - t_all
    print(f"Run {result.run_id} succeeded in {took:.0f}s.")
    print(f"  raw layer (Parquet): {settings.raw_dir}")
    print(f"  warehouse (pipeline only): {settings.warehouse_path}")
    print(f"  serving database for BI tools (read-only): {settings.serving_path}")
    return 0


def failure_reasons(result) -> list[str]:
    """One line per failed step and failed ERROR check of a run: where, and the reason."""
    from .sensors import _root_error

    lines = []
    for ev in result.all_events:
        if ev.is_step_failure:
            data = ev.step_failure_data
            lines.append(f"{ev.step_key}: {_root_error(data.error if data else None) or ev.message}")
        elif ev.event_type_value == "ASSET_CHECK_EVALUATION":
            ce = ev.event_specific_data
            if not ce.passed and getattr(ce.severity, "value", "") == "ERROR":
                lines.append(f"check {ce.asset_key.to_user_string()} {ce.check_name}: "
                             f"{ce.description or 'failed'}")
    return [line.replace("\n", " ")[:600] for line in lines]


def drop_chunks(drops: list[str], landing: Path, max_mb: float) -> list[list[str]]:
    """Consecutive runs of drops holding at most `max_mb` of landing data each (a drop bigger
    than that runs alone; 0 or less: one run)."""
    if not drops:
        return []
    if max_mb <= 0:
        return [drops]
    limit = max_mb * 2**20
    chunks, current, size = [], [], 0
    for d in drops:
        drop_size = sum(f.stat().st_size for source in SOURCES
                        for f in (Path(landing) / source / d).glob("*") if f.is_file())
        if current and size + drop_size > limit:
            chunks.append(current)
            current, size = [], 0
        current.append(d)
        size += drop_size
    chunks.append(current)
    return chunks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="ingest new drops, build the models, publish the marts")
    b.add_argument("--start", help="first drop date (default: the first drop not yet loaded)")
    b.add_argument("--end", help="last drop date (default: the last complete drop)")
    b.add_argument("--force", action="store_true", help="rebuild even when nothing is new")
    sub.add_parser("status", help="which drops are complete and which are not loaded yet")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        return build(args.start, args.end, args.force)
    all_drops, missing = pending_drops()
    print(f"complete drops: {len(all_drops)} ({all_drops[0] if all_drops else '-'} .. "
          f"{all_drops[-1] if all_drops else '-'}); not yet loaded: {len(missing)}")
    settings = get_settings()
    for obj, drops in redeliveries().items():
        print(f"re-delivered, to be read again: {obj} {', '.join(drops)}")
    owed, _ = pending_refresh(settings.raw_dir)
    if owed:
        print(f"warehouse refresh owed from {owed} (the last build did not finish)")
    for b in reject_blocks(settings.raw_dir):
        print(f"publication blocked: {b}")
    print(f"published as of: {published_as_of(settings.serving_path) or 'nothing published'}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # exit without interpreter teardown: DuckDB 2.0's bindings print spurious "leaked"
    # warnings at shutdown when GX / SQLAlchemy still hold connections' type objects
    os._exit(code)
