"""Warehouse engines the dbt project builds on (config/pipeline.yaml `engine`):

- ``duckdb`` (default): dbt-duckdb writes the warehouse DuckDB file; validation and publication
  read it directly.
- ``spark``: dbt-spark (the `spark` target of dbt_project/profiles.yml) builds the same models on
  Spark; the marts are exported as Parquet and loaded into a DuckDB file shaped like the DuckDB
  warehouse, which validation and publication read (orchestration/lib/engines/spark.py).
"""
from __future__ import annotations

import os
from pathlib import Path

from orchestration.lib.settings import get_settings

# The dbt target: CSP_DBT_TARGET, else the engine's (config/pipeline.yaml `engine`:
# duckdb -> dev, spark -> spark; docs/scaling_out.md).
ENGINE_TARGETS = {"duckdb": "dev", "spark": "spark"}
DBT_TARGET = os.environ.get("CSP_DBT_TARGET") or ENGINE_TARGETS[get_settings().engine]


def on_spark() -> bool:
    return DBT_TARGET == "spark"


def dbt_env() -> dict[str, str]:
    """Environment variables the dbt profile and sources read (absolute paths)."""
    s = get_settings()
    env = {"CSP_RAW_DIR": str(s.raw_dir), "CSP_WAREHOUSE_PATH": str(s.warehouse_path),
           "CSP_LOOKBACK_DAYS": str(s.lookback_days)}
    duck = s.config.duckdb
    env["CSP_DUCKDB_MEMORY_LIMIT"] = duck.memory_limit
    env["CSP_DUCKDB_THREADS"] = str(duck.threads or os.cpu_count() or 1)   # 0 = one per core
    if on_spark():
        from orchestration.lib.engines import spark

        env.update(spark.dbt_env())
    return env


def publication_source_path() -> Path:
    """The DuckDB file the GX gate validates and publication copies the marts from: the
    warehouse on DuckDB, the exported Spark marts on Spark."""
    if on_spark():
        from orchestration.lib.engines import spark

        return spark.default_paths().marts_db
    return get_settings().warehouse_path
