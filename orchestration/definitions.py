"""Dagster entry point: assets, checks, jobs, schedules and sensors (wired in orchestration/)."""
from dagster import Definitions

from .assets.ingestion import ingestion_assets
from .checks.ingestion_checks import unmatched_checks

defs = Definitions(
    assets=[*ingestion_assets],
    asset_checks=[*unmatched_checks],
)
