"""The code location of the operations tests (in-process runs through helpers/ops_runner.py,
`dagster dev` in the browser test): the project's Definitions, which hold everything they
need (jobs, schedules, sensors, freshness and GX checks, the `serving_marts` publication)."""
from orchestration.definitions import defs

__all__ = ["defs"]
