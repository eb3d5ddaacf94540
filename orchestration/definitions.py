"""Dagster entry point: assets, checks, jobs, schedules and sensors (wired in orchestration/)."""
from dagster import Definitions

from .assets.dbt import dbt_models, dbt_resource
from .assets.ingestion import ingestion_assets
from .checks.ingestion_checks import unmatched_checks

defs = Definitions(
    assets=[*ingestion_assets, dbt_models],
    asset_checks=[*unmatched_checks],
    resources={"dbt": dbt_resource},
)
