"""Asset jobs.

- `daily_refresh_job`: everything, partitioned by drop date: ingestion of the partition's drops
  (+ reject-rate and blocking freshness checks), the dbt build (staging, intermediate, marts and
  their tests), the GX checks on the marts, and the gated publication (`serving_marts`).
  All partitioned assets have a single-run backfill policy, so a range of drop dates runs as
  ONE run (tags dagster/asset_partition_range_start/end) from the UI's backfill dialog or from
  `csp backfill --start ... --end ...` (orchestration/cli/main.py).
- `freshness_checks_job`: only the freshness checks (no materialization), evaluated against the
  drops due now; scheduled on its own so a drop that never arrives is still a failed check.
"""
from dagster import AssetSelection, define_asset_job, in_process_executor

from orchestration.defs.checks.freshness import freshness_checks
from orchestration.defs.partitions import daily_drops

DAILY_JOB_NAME = "daily_refresh_job"

daily_refresh_job = define_asset_job(
    name=DAILY_JOB_NAME,
    selection=AssetSelection.all(),
    partitions_def=daily_drops,
    description=("Ingest the drops of the partition's date(s), rebuild every dbt model downstream, "
                 "validate the marts (blocking GX and freshness checks) and publish them to the "
                 "serving database. A partition range runs as a single run (backfill)."),
    tags={"team": "data-platform"},
    executor_def=in_process_executor,
)

freshness_checks_job = define_asset_job(
    name="freshness_checks_job",
    selection=AssetSelection.checks(*freshness_checks),
    description="Evaluate the per-source drop freshness checks against the drops due now.",
    executor_def=in_process_executor,
)

jobs = [daily_refresh_job, freshness_checks_job]
