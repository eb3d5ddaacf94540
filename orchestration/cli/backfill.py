"""`python -m orchestration.cli.backfill --start ... --end ...` is `csp backfill` (orchestration/cli/main.py),
kept as an alias for scripts written against earlier releases.

`backfill()` / `run_partition()` launch ONE run of a job over a partition range through
Dagster's `execute_job` (the run the UI's backfill dialog launches for single-run backfill
policies), against any module's Definitions: the tests use them on their own definitions.
Operators use the command line.
"""
from __future__ import annotations

import datetime as dt
import sys

from orchestration.defs.jobs import DAILY_JOB_NAME
from orchestration.lib.run_tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG, TRIGGER_TAG
from orchestration.lib.settings import PROJECT_ROOT


def _date(value) -> str:
    return dt.date.fromisoformat(str(value)[:10]).isoformat()


def backfill(start, end, instance=None, *, job_name: str = DAILY_JOB_NAME,
             module: str = "orchestration.definitions", attribute: str = "defs",
             tags: dict | None = None, raise_on_error: bool = False):
    """Run `job_name` over the partition range start..end (inclusive) as a single run.
    Returns (run_id, success)."""
    from dagster import DagsterInstance, execute_job
    from dagster._core.definitions.reconstruct import ReconstructableRepository

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
    if start == end and (tags or {}).get(TRIGGER_TAG) == "daily":
        run_tags = {PARTITION_TAG: start}
    else:
        run_tags = {RANGE_START_TAG: start, RANGE_END_TAG: end, TRIGGER_TAG: "backfill"}
    run_tags.update(tags or {})
    own = instance is None
    instance = instance or DagsterInstance.get()
    try:
        from orchestration.runs.recovery import claim_process, recover

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
    return backfill(d, d, instance, tags={TRIGGER_TAG: "daily", **kwargs.pop("tags", {})}, **kwargs)


def main(argv=None) -> None:
    from orchestration.cli.main import console_main

    sys.argv = ["csp", "backfill", *(sys.argv[1:] if argv is None else argv)]
    console_main()


if __name__ == "__main__":
    main()
