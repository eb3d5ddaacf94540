"""Sensors: new complete drops start the daily job; failures post alerts; crashed runs are
cleaned up.

- `new_drop_sensor`: one run of `daily_refresh_job` per drop date once every source's drop of
  that date is complete (`_SUCCESS`). run_key = the drop date (Dagster never launches a run key
  twice for a sensor) and the cursor remembers the dates already requested. On its very first
  tick it requests at most the `sensor.catch_up_days` most recent dates (history is a backfill).
- `run_failure_alert_sensor`: a failed run posts the failed step's assets, the error and a link
  to the run to the webhook (orchestration/alerts.py).
- `check_failure_alert_sensor`: a failed asset check (ERROR or WARN) posts the same way.
- `orphaned_run_sensor`: a run whose worker process was killed (SIGKILL, OOM) stays "STARTED"
  forever and keeps its `warehouse` pool slot, so the next run would wait forever. This sensor
  marks such runs failed and frees their slots: the next run completes without manual repair.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from dagster import (
    DagsterEventType,
    DagsterRunStatus,
    DefaultSensorStatus,
    EventRecordsFilter,
    RunFailureSensorContext,
    RunRequest,
    RunShardedEventsCursor,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from .alerts import build_message, post_alert
from .checks.freshness_checks import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from .ingestion.landing import list_drops
from .jobs import daily_refresh_job
from .ops_settings import SOURCES, sensor_settings
from .recovery import recover
from .pipeline_state import _root_error
from .settings import get_settings

CURSOR_KEEP_DAYS = 90
TRIGGER_TAG = "csp/trigger"


# ---------------------------------------------------------------------------------------------
# New complete drops
# ---------------------------------------------------------------------------------------------
def ready_drop_dates(landing, sources: Sequence[str] = SOURCES) -> tuple[list[str], dict[str, list[str]]]:
    """(dates complete in every source, {date: sources still missing} for partial dates)."""
    complete = {s: set(list_drops(landing, s)[0]) for s in sources}
    all_dates = set().union(*complete.values()) if complete else set()
    ready = sorted(d for d in all_dates if all(d in c for c in complete.values()))
    waiting = {d: sorted(s for s in sources if d not in complete[s]) for d in sorted(all_dates) if d not in ready}
    return ready, waiting


def _load_cursor(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
        return value if isinstance(value, dict) else None
    except ValueError:
        return None


def plan_new_drop_runs(landing, cursor: str | None, *, catch_up_days: int | None = None,
                       partitions_start: str | None = None):
    """Pure logic of the sensor: (dates to request, new cursor, skip message or None)."""
    catch_up = sensor_settings().catch_up_days if catch_up_days is None else catch_up_days
    start = partitions_start or get_settings().partitions_start
    ready, waiting = ready_drop_dates(landing)
    ready = [d for d in ready if d >= start]
    state = _load_cursor(cursor)
    if state is None:
        # first tick: the `catch_up` newest ready dates (0 = none: only drops from now on)
        floor = ready[max(0, len(ready) - catch_up)] if ready and catch_up > 0 else ""
        done: set[str] = set(ready) if catch_up <= 0 else set()
    else:
        done = set(state.get("done", []))
        floor = state.get("floor", "")
    new = [d for d in ready if d >= floor and d not in done]
    done |= set(new)
    if done:
        newest = max(done)
        keep_from = (dt.date.fromisoformat(newest) - dt.timedelta(days=CURSOR_KEEP_DAYS)).isoformat()
        floor = max(floor, keep_from)
        done = {d for d in done if d >= floor}
    new_cursor = json.dumps({"floor": floor, "done": sorted(done)})
    skip = None
    if not new:
        if waiting:
            last = max(waiting)
            skip = f"no new complete drop; {last} still waiting for {', '.join(waiting[last])} (_SUCCESS)"
        else:
            skip = "no new complete drop" + (f" (newest {ready[-1]} already requested)" if ready else " in the landing zone")
    return new, new_cursor, skip


@sensor(
    name="new_drop_sensor",
    job=daily_refresh_job,
    minimum_interval_seconds=sensor_settings().minimum_interval_seconds,
    default_status=DefaultSensorStatus[sensor_settings().default_status],
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
def _partition_label(tags) -> str | None:
    tags = tags or {}
    if tags.get(RANGE_START_TAG):
        return f"{tags[RANGE_START_TAG]}..{tags.get(RANGE_END_TAG, '')}"
    return tags.get(PARTITION_TAG)


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
                         partition=_partition_label(run.tags))


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
    state = _load_cursor(cursor) or {}
    last_id, last_ts = state.get("id"), state.get("ts")
    if last_ts is None:
        last_ts = dt.datetime.now(dt.timezone.utc).timestamp() - first_lookback_seconds
    storage = instance.event_log_storage
    if storage.is_run_sharded:  # the default SQLite storage: one database per run
        after = RunShardedEventsCursor(
            id=last_id or 0,
            run_updated_after=dt.datetime.fromtimestamp(last_ts - 60, dt.timezone.utc).replace(tzinfo=None))
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
            partition=data.partition or _partition_label(run.tags if run else None),
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
def reap_orphaned_runs(instance, log=None) -> list[str]:
    """Mark runs whose process (on this host) is gone as failed, end what they left running and
    free their pool slots (orchestration/recovery.py). Returns the run ids reaped."""
    return [r.run_id for r in recover(instance, log.warning if log is not None else None)]


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
