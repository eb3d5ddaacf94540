"""Dagster entry point: assets, checks, jobs, schedules and sensors (wired in orchestration/)."""
from dagster import BackfillPolicy, Definitions

from .assets.dbt import dbt_models, dbt_resource, mart_key
from .assets.ingestion import ingestion_assets
from .assets.publication import build_publication_asset
from .checks.gx_checks import build_gx_checks
from .checks.ingestion_checks import unmatched_checks
from .dbt_project import publication_source_path
from .partitions import daily_drops
from .publication_targets import PUBLISHED_MARTS

# the engine's marts: the warehouse file on DuckDB, the exported marts on Spark
gx_checks = build_gx_checks(mart_key, warehouse_path=publication_source_path)
serving_marts = build_publication_asset({m: mart_key(m) for m in PUBLISHED_MARTS}, partitions_def=daily_drops,
                                        backfill_policy=BackfillPolicy.single_run(),
                                        warehouse_path=publication_source_path)

defs = Definitions(
    assets=[*ingestion_assets, dbt_models, serving_marts],
    asset_checks=[*unmatched_checks, *gx_checks],
    resources={"dbt": dbt_resource},
)
