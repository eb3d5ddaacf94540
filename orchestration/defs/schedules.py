"""Schedules.

- `daily_refresh_schedule` (config schedule.cron / schedule.timezone, default 06:30 UTC): a run
  of `daily_refresh_job` for the drop dated on the tick's day (minus schedule.drop_date_offset_days):
  ingestion, dbt, checks, publication. If the drop is late the run fails visibly (freshness
  check + alert) and the new-drop sensor starts the same work when the drop completes. A tick
  is skipped when a run for that drop date already succeeded (e.g. started by the sensor).
- `freshness_checks_schedule` (schedule.freshness_cron, hourly by default): evaluates the
  freshness checks alone, so a drop that never arrives still shows as a failed check.
"""
import datetime as dt

from dagster import (
    DagsterRunStatus,
    DefaultScheduleStatus,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from orchestration.defs.jobs import DAILY_JOB_NAME, daily_refresh_job, freshness_checks_job
from orchestration.lib.run_tags import PARTITION_TAG, TRIGGER_TAG
from orchestration.lib.settings import get_settings

_S = get_settings().schedule


def scheduled_drop_date(scheduled_time: dt.datetime | None, settings=None) -> str:
    settings = settings or get_settings().schedule
    t = scheduled_time or dt.datetime.now(dt.UTC)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return (t.astimezone(settings.tz).date() - dt.timedelta(days=settings.drop_date_offset_days)).isoformat()


def _already_succeeded(instance, partition: str) -> str | None:
    if instance is None:
        return None
    records = instance.get_run_records(
        RunsFilter(job_name=DAILY_JOB_NAME, tags={PARTITION_TAG: partition}, statuses=[DagsterRunStatus.SUCCESS]),
        limit=1,
    )
    return records[0].dagster_run.run_id if records else None


@schedule(
    name="daily_refresh_schedule",
    job=daily_refresh_job,
    cron_schedule=_S.cron,
    execution_timezone=_S.timezone,
    default_status=DefaultScheduleStatus[_S.default_status],
    description="Ingest the day's drops and rebuild everything downstream, ending in the gated publication.",
)
def daily_refresh_schedule(context: ScheduleEvaluationContext):
    key = scheduled_drop_date(context.scheduled_execution_time)
    if key < get_settings().partitions_start:
        return SkipReason(f"{key} is before the first partition {get_settings().partitions_start}")
    try:
        instance = context.instance
    except Exception:  # evaluated without an instance (unit tests)
        instance = None
    done = _already_succeeded(instance, key)
    if done:
        return SkipReason(f"drop {key} already processed by run {done}")
    return RunRequest(run_key=f"scheduled:{key}", partition_key=key, tags={TRIGGER_TAG: "schedule"})


freshness_checks_schedule = ScheduleDefinition(
    name="freshness_checks_schedule",
    job=freshness_checks_job,
    cron_schedule=_S.freshness_cron,
    execution_timezone=_S.timezone,
    default_status=DefaultScheduleStatus[_S.default_status],
    description="Evaluate the per-source drop freshness checks against the drops due now.",
)

schedules = [daily_refresh_schedule, freshness_checks_schedule]
