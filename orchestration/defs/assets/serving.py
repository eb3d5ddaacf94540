"""`serving_marts`: publish the validated marts to the serving database BI tools read
(data/serving/analytics.duckdb), the "publish" of write-audit-publish. With
`publication.target: postgres` it publishes to a PostgreSQL schema instead
(orchestration/lib/serving/postgres.py).

It depends on every published mart; the GX checks on the marts are blocking
(orchestration/defs/checks/gx.py), so in a run that includes them Dagster does not execute
this asset when one fails. As a second gate, the asset itself refuses to publish unless the
latest GX check execution of every validated mart succeeded and evaluated the mart's latest
materialization (so publishing alone, after a failed or skipped validation, does not leak
unvalidated data). Checks merely planned by other runs (queued behind this one) do not count.
"""

from collections.abc import Mapping

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.defs.checks.freshness import assert_fresh
from orchestration.defs.checks.gx import gate_problems
from orchestration.lib.ingestion.load_state import reject_blocks
from orchestration.lib.serving.duckdb_file import publish
from orchestration.lib.settings import PathSource, get_settings, resolve_path


def build_publication_asset(
    mart_keys: Mapping[str, AssetKey],
    *,
    warehouse_path: PathSource = None,
    serving_path: PathSource = None,
    require_fresh: bool = True,
):
    """Asset `serving_marts` (group "publication") publishing `marts.<name>` for every
    name in `mart_keys` ({warehouse table name: its asset key}) to the serving database.
    Paths are paths or zero-argument callables resolved at execution time (defaults from
    orchestration.lib.settings)."""
    mart_keys = dict(mart_keys)
    tables = list(mart_keys)

    @asset(
        name="serving_marts",
        group_name="publication",
        deps=list(mart_keys.values()),
        kinds={"duckdb", "python"},
        owners=["team:data-engineering"],
        pool="warehouse",   # one warehouse writer at a time (config/dagster.yaml)
        description="The validated marts, published atomically to the serving DuckDB file that "
        "BI tools open read-only (tables in schema main, plus _publication).",
    )
    def serving_marts(context: AssetExecutionContext) -> MaterializeResult:
        if require_fresh:
            assert_fresh(context)   # never publish marts that would look fresh but are not
        # drops whose reject rate failed stay blocking until loaded again and passing
        problems = [f"rejects above threshold: {b}" for b in reject_blocks(get_settings().raw_dir)]
        problems += gate_problems(context, mart_keys)
        if problems:
            raise Failure(
                description="not publishing: " + "; ".join(problems),
                metadata={"blocked_by": MetadataValue.json(problems)},
            )
        wh = resolve_path(warehouse_path, lambda: get_settings().warehouse_path)
        settings = get_settings()
        if settings.publication_target == "postgres":  # connection from the environment only
            from orchestration.lib.serving.mart_docs import mart_descriptions
            from orchestration.lib.serving.postgres import publish_postgres

            # the meaning of every table and column, as dbt documents it (COMMENT ON)
            info = publish_postgres(wh, tables, run_id=context.run.run_id,
                                    schema=settings.postgres_schema, comments=mart_descriptions())
        else:
            serving = resolve_path(serving_path, lambda: settings.serving_path)
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
