"""What the pipeline holds and owes, read from the files and the Dagster instance (never from
memory of a process): the landing zone's complete drops, the raw layer's loads, re-deliveries,
an owed warehouse refresh, publication blocks, what the serving database publishes, and the
last run. `cli status` prints it; `cli build` decides from it what to run."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from orchestration.lib.ingestion.contracts import OBJECTS, SOURCES
from orchestration.lib.ingestion.landing import complete_drops, drop_problems
from orchestration.lib.ingestion.raw_store import loaded_drops, redelivered_drops
from orchestration.lib.run_tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from orchestration.lib.settings import get_settings

# jobs whose runs build and publish (the CLI's implicit asset job, the daily job of the
# schedule and sensor); other runs (freshness checks on their own) are not "the last build"
BUILD_JOBS = ("__ASSET_JOB", "daily_refresh_job")


def pending_drops() -> tuple[list[str], list[str]]:
    """(complete drop dates in the landing zone, those the raw layer holds no complete load of
    for some object: no manifest, as after a load killed half-way). The raw layer, not the run
    history, says what is loaded."""
    settings = get_settings()
    by_source = complete_drops(settings.landing_dir, SOURCES)
    all_drops = sorted(set().union(*by_source.values()))
    missing: set[str] = set()
    for obj in OBJECTS:
        done = set(loaded_drops(settings.raw_dir, obj))
        missing.update(d for d in by_source.get(obj.source, []) if d not in done)
    return all_drops, sorted(missing)


def incomplete_drops() -> dict[str, str]:
    """{"source drop": why} for drop folders that are not complete (not read yet)."""
    landing = get_settings().landing_dir
    out = {}
    for source in SOURCES:
        folder = landing / source
        if not folder.is_dir():
            continue
        for d in sorted(p.name for p in folder.iterdir() if p.is_dir()):
            problems = drop_problems(landing, source, d)
            if problems:
                out[f"{source} {d}"] = ", ".join(problems)
    return out


def redeliveries() -> dict[str, dict[str, str]]:
    """{"source.object": {drop: what changed}} for loaded drops whose landing files changed."""
    settings = get_settings()
    out = {}
    for obj in OBJECTS:
        changed = redelivered_drops(settings.landing_dir, settings.raw_dir, obj)
        if changed:
            out[f"{obj.source}.{obj.name}"] = changed
    return out


@dataclass(frozen=True)
class Publication:
    where: str
    as_of: str | None = None
    published_at: str | None = None
    run_id: str | None = None
    tables: int = 0
    rows: int = 0
    error: str | None = None   # the serving database could not be read


def published() -> Publication:
    """What the serving database (DuckDB file or PostgreSQL schema) publishes now."""
    settings = get_settings()
    query = ("select max(as_of_date), max(published_at), max(run_id), count(*), sum(row_count) "
             "from {table} where published_at = (select max(published_at) from {table})")
    if settings.publication_target == "postgres":
        where = f"PostgreSQL schema {settings.postgres_schema}"
        try:
            from orchestration.lib.serving.postgres import _connect

            with _connect(None) as con:
                row = con.execute(query.format(table=f'"{settings.postgres_schema}"._publication')).fetchone()
        except Exception as e:  # noqa: BLE001 - any failure to read is reported, not raised
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if "does not exist" in msg:
                return Publication(where)
            return Publication(where, error=msg)
    else:
        import duckdb

        path = settings.serving_path
        where = str(path)
        if not path.exists():
            return Publication(where)
        try:
            con = duckdb.connect(str(path), read_only=True)
            try:
                row = con.execute(query.format(table="_publication")).fetchone()
            finally:
                con.close()
        except duckdb.CatalogException:
            return Publication(where)
        except duckdb.Error as e:
            return Publication(where, error=str(e).splitlines()[0])
    as_of, at, run_id, tables, rows = row
    if as_of is None:
        return Publication(where)
    return Publication(where, as_of=str(as_of)[:10], published_at=str(at)[:19] if at else None,
                       run_id=run_id, tables=int(tables or 0), rows=int(rows or 0))


@dataclass
class LastRun:
    run_id: str
    status: str
    job: str
    started: str | None
    ended: str | None
    drops: str
    problems: list[str] = field(default_factory=list)   # failed steps and ERROR checks


def _ts(value) -> str | None:
    if not value:
        return None
    return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def last_run(instance) -> LastRun | None:
    """The newest build run in the instance, with its failing steps and checks if it failed."""
    from dagster import RunsFilter

    records = instance.get_run_records(RunsFilter(job_name=None), limit=20)
    for rec in records:
        run = rec.dagster_run
        if run.job_name not in BUILD_JOBS:
            continue
        tags = run.tags
        drops = tags.get(PARTITION_TAG) or (
            f"{tags.get(RANGE_START_TAG, '?')} .. {tags.get(RANGE_END_TAG, '?')}")
        out = LastRun(run.run_id, run.status.value, run.job_name, _ts(rec.start_time),
                      _ts(rec.end_time), drops)
        if run.status.value == "FAILURE":
            events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event]
            out.problems = failure_reasons(events)
        return out
    return None


def _root_error(err) -> str:
    """The user's exception (innermost cause) rather than Dagster's wrapper."""
    seen = 0
    while getattr(err, "cause", None) is not None and seen < 10:
        err, seen = err.cause, seen + 1
    return ((err.message if err is not None else "") or "").strip()


def failure_reasons(events) -> list[str]:
    """One line per failed ERROR check and per failed step of a run's DagsterEvents: where,
    and the reason (checks first: a failed check is usually why a step downstream refused)."""
    checks, steps = [], []
    for ev in events:
        if ev.is_step_failure:
            data = ev.step_failure_data
            reason = _root_error(data.error if data else None) or ev.message or "failed"
            for prefix in ("dagster._core.definitions.events.Failure: ", "Failure: "):
                reason = reason.removeprefix(prefix)
            steps.append(f"step {ev.step_key} failed: {reason}")
        elif ev.event_type_value == "ASSET_CHECK_EVALUATION":
            ce = ev.event_specific_data
            if not ce.passed and getattr(ce.severity, "value", "") == "ERROR":
                checks.append(f"check {ce.check_name} on {ce.asset_key.to_user_string()} failed: "
                              f"{ce.description or 'see its metadata in the Dagster UI'}")
        elif ev.event_type_value == "RUN_FAILURE" and not steps and not checks:
            steps.append(f"run failed: {ev.message}")
    if checks:   # the step that ran the checks failed because of them: said already
        steps = [s for s in steps if "DagsterAssetCheckFailedError" not in s]
    return [" ".join(line.split())[:500] for line in checks + steps]

