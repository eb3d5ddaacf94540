"""Dagster entry point: assets, checks, jobs, schedules and sensors (wired in orchestration/)."""
from dagster import Definitions, in_process_executor

from orchestration.defs.assets.dbt import dbt_models, dbt_resource, mart_key
from orchestration.defs.assets.ingestion import ingestion_assets, rejects_spec
from orchestration.defs.assets.serving import build_publication_asset
from orchestration.defs.checks.freshness import freshness_checks
from orchestration.defs.checks.gx import build_gx_checks
from orchestration.defs.checks.unmatched import unmatched_checks
from orchestration.defs.jobs import jobs
from orchestration.defs.schedules import schedules
from orchestration.defs.sensors import sensors
from orchestration.lib.engines import publication_source_path
from orchestration.lib.serving import PUBLISHED_MARTS

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
