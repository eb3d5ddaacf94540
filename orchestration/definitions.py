"""Dagster entry point: assets, checks, jobs, schedules and sensors (wired in orchestration/)."""
from dagster import Definitions, in_process_executor

from .assets.dbt import dbt_models, dbt_resource, mart_key
from .assets.ingestion import ingestion_assets, rejects_spec
from .assets.publication import build_publication_asset
from .checks.freshness_checks import freshness_checks
from .checks.gx_checks import build_gx_checks
from .checks.ingestion_checks import unmatched_checks
from .dbt_project import publication_source_path
from .jobs import jobs
from .publication_targets import PUBLISHED_MARTS
from .schedules import schedules
from .sensors import sensors

# the engine's marts: the warehouse file on DuckDB, the exported marts on Spark (docs/scaling_out.md)
gx_checks = build_gx_checks(mart_key, warehouse_path=publication_source_path)
serving_marts = build_publication_asset(
    {m: mart_key(m) for m in PUBLISHED_MARTS},
    warehouse_path=publication_source_path,
)

defs = Definitions(
    assets=[*ingestion_assets, rejects_spec, dbt_models, serving_marts],
    asset_checks=[*unmatched_checks, *gx_checks, *freshness_checks],
    jobs=jobs,
    schedules=schedules,
    sensors=sensors,
    resources={"dbt": dbt_resource},
    # one process: warehouse writes are serial anyway (DuckDB allows one writer), and step
    # subprocesses gain nothing but start-up time
    executor=in_process_executor,
)
