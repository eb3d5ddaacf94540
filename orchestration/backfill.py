"""Backfill a range of drop dates in ONE run of the daily job (the same run the UI's backfill
dialog launches for single-run backfill policies), from Python or the command line:

    python -m orchestration.backfill --start 2024-01-01 --end 2024-01-31
    python -m orchestration.backfill                 # first .. newest drop complete in every source

The run executes in this process against the Dagster instance of $DAGSTER_HOME (it shows in the
UI, and it waits for the `warehouse` pool like any other run). Runs left "started" by a killed
worker are cleaned up first (orchestration.sensors.reap_orphaned_runs).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys

from .jobs import DAILY_JOB_NAME
from .settings import PROJECT_ROOT, get_settings

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def complete_drop_range(landing=None) -> tuple[str, str] | None:
    """(first, last) drop date complete in every source, or None."""
    from .sensors import ready_drop_dates

    ready, _ = ready_drop_dates(landing or get_settings().landing_dir)
    ready = [d for d in ready if d >= get_settings().partitions_start]
    return (ready[0], ready[-1]) if ready else None


def _date(value) -> str:
    return dt.date.fromisoformat(str(value)[:10]).isoformat()


def backfill(start=None, end=None, instance=None, *, job_name: str = DAILY_JOB_NAME,
             module: str = "orchestration.definitions", attribute: str = "defs",
             tags: dict | None = None, raise_on_error: bool = False):
    """Run `job_name` over the partition range start..end (inclusive) as a single run.
    Returns the dagster ExecuteJobResult-like summary: (run_id, success)."""
    from dagster import DagsterInstance, execute_job
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    if start is None or end is None:
        rng = complete_drop_range()
        if rng is None:
            raise SystemExit(f"no drop complete in every source in {get_settings().landing_dir}")
        start, end = start or rng[0], end or rng[1]
    start, end = _date(start), _date(end)
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    recon_repo = ReconstructableRepository.for_module(module, attribute, working_directory=str(PROJECT_ROOT))
    job_def = recon_repo.get_definition().get_job(job_name)
    pdef = job_def.partitions_def
    if pdef is not None:
        keys = set(pdef.get_partition_keys())
        missing = [k for k in (start, end) if k not in keys]
        if missing:
            raise ValueError(f"not partitions of {job_name}: {missing}")
    if start == end and (tags or {}).get("csp/trigger") == "daily":
        run_tags = {"dagster/partition": start}
    else:
        run_tags = {RANGE_START_TAG: start, RANGE_END_TAG: end, "csp/trigger": "backfill"}
    run_tags.update(tags or {})
    own = instance is None
    instance = instance or DagsterInstance.get()
    try:
        from .recovery import claim_process, recover

        for item in recover(instance):
            print(f"Recovery: {item.summary()}.", flush=True)
        run_tags.update(claim_process())
        with execute_job(recon_repo.get_reconstructable_job(job_name), instance=instance,
                         tags=run_tags, raise_on_error=raise_on_error) as result:
            return result.run_id, result.success
    finally:
        if own:
            instance.dispose()


def run_partition(drop_date, instance=None, **kwargs):
    """One daily run for one drop date (tag dagster/partition), as the schedule and sensor do."""
    d = _date(drop_date)
    return backfill(d, d, instance, tags={"csp/trigger": "daily", **kwargs.pop("tags", {})}, **kwargs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m orchestration.backfill", description=__doc__.split("\n\n")[0])
    p.add_argument("--start", help="first drop date, YYYY-MM-DD (default: first complete drop)")
    p.add_argument("--end", help="last drop date, YYYY-MM-DD (default: newest drop complete in every source)")
    p.add_argument("--job", default=DAILY_JOB_NAME)
    p.add_argument("--module", default="orchestration.definitions", help="module holding the Definitions `defs`")
    a = p.parse_args(argv)
    run_id, ok = backfill(a.start, a.end, job_name=a.job, module=a.module)
    print(f"run {run_id}: {'SUCCESS' if ok else 'FAILURE'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
