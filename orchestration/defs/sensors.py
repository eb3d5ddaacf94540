"""Sensors: new complete drops start the daily job; failures post alerts; crashed runs are
cleaned up.

- `new_drop_sensor`: one run of `daily_refresh_job` per drop date once every source's drop of
  that date is complete (`_SUCCESS`). run_key = the drop date (Dagster never launches a run key
  twice for a sensor) and the cursor remembers the dates already requested. On its very first
  tick it requests at most the `sensor.catch_up_days` most recent dates (history is a backfill).
- `run_failure_alert_sensor`: a failed run posts the failed step's assets, the error and a link
  to the run to the webhook (orchestration/lib/alerts.py).
- `check_failure_alert_sensor`: a failed asset check (ERROR or WARN) posts the same way.
- `orphaned_run_sensor`: a run whose worker process was killed (SIGKILL, OOM) stays "STARTED"
  forever and keeps its `warehouse` pool slot, so the next run would wait forever. This sensor
  marks such runs failed and frees their slots: the next run completes without manual repair.
"""
from __future__ import annotations

import datetime as dt
import json

from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    EventRecordsFilter,
    RunFailureSensorContext,
    RunRequest,
    RunShardedEventsCursor,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from orchestration.defs.jobs import daily_refresh_job
from orchestration.lib.alerts import build_message, post_alert
from orchestration.lib.drop_planning import load_cursor, plan_new_drop_runs
from orchestration.lib.run_tags import TRIGGER_TAG, drop_label
from orchestration.lib.settings import get_settings
from orchestration.runs.pipeline_state import _root_error
from orchestration.runs.recovery import reap_orphaned_runs


# ---------------------------------------------------------------------------------------------
# New complete drops (the dates: orchestration/lib/drop_planning.py)
# ---------------------------------------------------------------------------------------------
@sensor(
    name="new_drop_sensor",
    job=daily_refresh_job,
    minimum_interval_seconds=get_settings().sensor.minimum_interval_seconds,
    default_status=DefaultSensorStatus[get_settings().sensor.default_status],
    description=("Starts daily_refresh_job for a drop date once every source's drop of that date is "
                 "complete (_SUCCESS), once per drop date (run_key = date)."),
)
def new_drop_sensor(context: SensorEvaluationContext):
    dates, cursor, skip = plan_new_drop_runs(get_settings().landing_dir, context.cursor)
    if not dates:
        return SensorResult(skip_reason=SkipReason(skip), cursor=cursor)
    return SensorResult(
        run_requests=[RunRequest(run_key=d, partition_key=d, tags={TRIGGER_TAG: "new_drop"}) for d in dates],
        cursor=cursor,
    )


# ---------------------------------------------------------------------------------------------
# Alerts
# ---------------------------------------------------------------------------------------------
def _assets_by_step(instance, run_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    try:
        conn = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
        for rec in conn.records:
            ev = rec.event_log_entry.dagster_event
            if ev is not None and ev.asset_key is not None:
                out.setdefault(ev.step_key or "", []).append(ev.asset_key.to_user_string())
    except Exception:  # alerting must not fail on a storage quirk
        pass
    return out


def run_failure_payload(context: RunFailureSensorContext) -> dict:
    run = context.dagster_run
    failures = context.get_step_failure_events()
    by_step = _assets_by_step(context.instance, run.run_id)
    assets: list[str] = []
    errors: list[str] = []
    for ev in failures:
        step_assets = by_step.get(ev.step_key or "", [])
        assets.extend(a for a in step_assets if a not in assets)
        if not step_assets and ev.step_key:
            assets.append(ev.step_key)
        msg = _root_error(ev.step_failure_data.error if ev.step_failure_data else None) or ev.message or "step failed"
        errors.append(f"[{ev.step_key}] {msg}")
    if not errors:
        errors.append(context.failure_event.message or "run failed")
    if not assets and run.asset_selection:
        assets = sorted(k.to_user_string() for k in run.asset_selection)[:20]
    return build_message(title=f"Dagster run failed: {run.job_name}", assets=assets,
                         error="\n".join(errors), run_id=run.run_id, job_name=run.job_name,
                         partition=drop_label(run.tags))


@run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=DefaultSensorStatus.RUNNING,
    description="Posts failed runs (assets, error, run link) to the webhook in $CSP_ALERT_WEBHOOK_URL.",
)
def run_failure_alert_sensor(context: RunFailureSensorContext):
    post_alert(run_failure_payload(context))


def check_failure_payloads(instance, cursor: str | None, *, limit: int = 500,
                           first_lookback_seconds: float = 3600) -> tuple[list[dict], str | None]:
    """Alerts for failed asset-check evaluations stored since `cursor` (JSON {"id", "ts"}).
    Without a cursor, only failures of the last `first_lookback_seconds` are reported."""
    state = load_cursor(cursor) or {}
    last_id, last_ts = state.get("id"), state.get("ts")
    if last_ts is None:
        last_ts = dt.datetime.now(dt.UTC).timestamp() - first_lookback_seconds
    storage = instance.event_log_storage
    if storage.is_run_sharded:  # the default SQLite storage: one database per run
        after = RunShardedEventsCursor(
            id=last_id or 0,
            run_updated_after=dt.datetime.fromtimestamp(last_ts - 60, dt.UTC).replace(tzinfo=None))
    else:
        after = last_id
    records = storage.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=after),
        limit=limit, ascending=True,
    )
    payloads, new_id, new_ts = [], last_id, last_ts
    for rec in sorted(records, key=lambda r: (r.event_log_entry.timestamp, r.storage_id)):
        ts = rec.event_log_entry.timestamp
        if ts <= last_ts:
            continue
        new_id, new_ts = rec.storage_id, max(new_ts, ts)
        ev = rec.event_log_entry.dagster_event
        data = ev.event_specific_data if ev is not None else None
        if data is None or data.passed:
            continue
        run_id = rec.event_log_entry.run_id
        run = instance.get_run_by_id(run_id)
        severity = getattr(data.severity, "value", str(data.severity))
        payloads.append(build_message(
            title=f"Asset check failed ({severity})",
            assets=[data.asset_key.to_user_string()],
            error=data.description or f"check {data.check_name} failed",
            run_id=run_id, job_name=run.job_name if run else None, check=data.check_name,
            partition=data.partition or drop_label(run.tags if run else None),
        ))
    return payloads, json.dumps({"id": new_id, "ts": new_ts})


@sensor(
    name="check_failure_alert_sensor",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Posts failed asset checks (asset, check, description, run link) to the webhook in "
                "$CSP_ALERT_WEBHOOK_URL.",
)
def check_failure_alert_sensor(context: SensorEvaluationContext):
    payloads, cursor = check_failure_payloads(context.instance, context.cursor)
    for p in payloads:
        post_alert(p)
    if cursor != context.cursor:
        context.update_cursor(cursor)
    if not payloads:
        return SkipReason("no failed asset check since the last tick")


# ---------------------------------------------------------------------------------------------
# Crashed runs
# ---------------------------------------------------------------------------------------------
@sensor(
    name="orphaned_run_sensor",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Marks runs whose worker process was killed as failed and frees their warehouse "
                "pool slot, so queued and later runs proceed without manual repair.",
)
def orphaned_run_sensor(context: SensorEvaluationContext):
    reaped = reap_orphaned_runs(context.instance, context.log)
    if not reaped:
        return SkipReason("no orphaned run")
    return SkipReason(f"marked {len(reaped)} orphaned run(s) failed: {', '.join(reaped)}")


sensors = [new_drop_sensor, run_failure_alert_sensor, check_failure_alert_sensor, orphaned_run_sensor]
