"""`serving_marts`: publish the validated marts to the serving database BI tools read
(data/serving/analytics.duckdb), the "publish" of write-audit-publish. With
`publication.target: postgres` it publishes to a PostgreSQL schema instead
(orchestration/serving_postgres.py).

It depends on every published mart; the GX checks on the marts are blocking
(orchestration/checks/gx_checks.py), so in a run that includes them Dagster does not execute
this asset when one fails. As a second gate, the asset itself refuses to publish unless the
latest GX check execution of every validated mart succeeded and evaluated the mart's latest
materialization (so publishing alone, after a failed or skipped validation, does not leak
unvalidated data). Checks merely planned by other runs (queued behind this one) do not count.
"""

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus,
)

from ..checks.gx_checks import gx_check_key
from ..publication import publish, validated_marts
from ..checks.freshness_checks import assert_fresh
from ..ingestion.load_state import reject_blocks
from ..settings import get_settings

PathSource = str | os.PathLike | Callable[[], str | os.PathLike] | None


def _resolve(value: PathSource, default: Callable[[], Path]) -> Path:
    if value is None:
        return Path(default())
    return Path(value() if callable(value) else value)


def _latest_validation(storage, check_key, run_id: str, scan: int = 50):
    """The latest check execution record that says something about the mart: PLANNED records
    of other runs are skipped. A run creates them when it is created, so every run waiting in
    the run queue (a sensor's catch-up, the schedule and the sensor both asking) would otherwise
    shadow the validation the publishing run has just done. A PLANNED record of this run (its
    check did not execute) still counts, as do results of other runs."""
    for rec in storage.get_asset_check_execution_history(check_key, limit=scan):
        if rec.status == AssetCheckExecutionRecordStatus.PLANNED and rec.run_id != run_id:
            continue
        return rec
    return None


def _gate(context: AssetExecutionContext, mart_keys: Mapping[str, AssetKey]) -> list[str]:
    """Reasons not to publish (empty = all validated marts passed their latest check)."""
    gated = [m for m in validated_marts() if m in mart_keys]
    check_keys = {gx_check_key(mart_keys[m]): m for m in gated}
    storage = context.instance.event_log_storage
    problems = []
    for ck, mart in check_keys.items():
        rec = _latest_validation(storage, ck, context.run.run_id)
        if rec is None:
            problems.append(f"{mart}: never validated")
            continue
        if rec.status != AssetCheckExecutionRecordStatus.SUCCEEDED:
            problems.append(f"{mart}: latest validation {rec.status.value} (run {rec.run_id})")
            continue
        # the passing evaluation must be about the latest materialization of the mart
        latest = context.instance.get_latest_materialization_event(ck.asset_key)
        evaluation = None
        if rec.event is not None and rec.event.dagster_event is not None:
            evaluation = rec.event.dagster_event.event_specific_data
        target = getattr(evaluation, "target_materialization_data", None)
        if latest is not None and target is not None and latest.run_id != target.run_id:
            if latest.timestamp > target.timestamp:
                problems.append(
                    f"{mart}: materialized in run {latest.run_id} after its last validation"
                )
    return problems


def build_publication_asset(
    mart_keys: Mapping[str, AssetKey],
    *,
    warehouse_path: PathSource = None,
    serving_path: PathSource = None,
    pool: str | None = "warehouse",
    require_passed_checks: bool = True,
    require_fresh: bool = True,
    partitions_def=None,
    backfill_policy=None,
):
    """Asset `serving_marts` (group "publication") publishing `marts.<name>` for every
    name in `mart_keys` ({warehouse table name: its asset key}) to the serving database.
    Paths are paths or zero-argument callables resolved at execution time (defaults from
    orchestration.settings)."""
    mart_keys = dict(mart_keys)
    tables = list(mart_keys)

    @asset(
        name="serving_marts",
        group_name="publication",
        deps=list(mart_keys.values()),
        kinds={"duckdb", "python"},
        owners=["team:data-engineering"],
        pool=pool,
        partitions_def=partitions_def,
        backfill_policy=backfill_policy,
        description="The validated marts, published atomically to the serving DuckDB file that "
        "BI tools open read-only (tables in schema main, plus _publication).",
    )
    def serving_marts(context: AssetExecutionContext) -> MaterializeResult:
        if require_fresh:
            assert_fresh(context)   # never publish marts that would look fresh but are not
        if require_passed_checks:
            # drops whose reject rate failed stay blocking until loaded again and passing
            problems = [f"rejects above threshold: {b}" for b in reject_blocks(get_settings().raw_dir)]
            problems += _gate(context, mart_keys)
            if problems:
                raise Failure(
                    description="not publishing: " + "; ".join(problems),
                    metadata={"blocked_by": MetadataValue.json(problems)},
                )
        wh = _resolve(warehouse_path, lambda: get_settings().warehouse_path)
        settings = get_settings()
        if settings.publication_target == "postgres":  # connection from the environment only
            from ..mart_docs import mart_descriptions
            from ..serving_postgres import publish_postgres

            # the meaning of every table and column, as dbt documents it (COMMENT ON)
            info = publish_postgres(wh, tables, run_id=context.run.run_id,
                                    schema=settings.postgres_schema, comments=mart_descriptions())
        else:
            serving = _resolve(serving_path, lambda: settings.serving_path)
            info = publish(wh, serving, tables, run_id=context.run.run_id)
        counts = info["row_counts"]
        context.log.info(f"published {len(counts)} tables to {info['serving_path']}: {counts}")
        return MaterializeResult(
            metadata={
                "serving_path": MetadataValue.path(info["serving_path"]),
                "tables": MetadataValue.json(list(counts)),
                "row_counts": MetadataValue.json(counts),
                "as_of_date": MetadataValue.text(info["as_of_date"] or ""),
                "published_at": MetadataValue.text(info["published_at"]),
                "dagster/row_count": sum(counts.values()),
                "rows_table": MetadataValue.md(
                    "| table | rows |\n|---|---|\n"
                    + "\n".join(f"| {t} | {n} |" for t, n in counts.items())
                ),
            }
        )

    return serving_marts
