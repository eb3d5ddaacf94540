"""Daily drop-date partitions shared by ingestion and the dbt models."""
from dagster import DailyPartitionsDefinition

from orchestration.lib.settings import get_settings

daily_drops = DailyPartitionsDefinition(start_date=get_settings().partitions_start, end_offset=1)
