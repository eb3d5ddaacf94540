"""Warehouse engines the dbt project builds on (config/pipeline.yaml `engine`):

- ``duckdb`` (default): dbt-duckdb writes the warehouse DuckDB file; validation and publication
  read it directly.
- ``spark``: dbt-spark (the `spark` target of dbt_project/profiles.yml) builds the same models on
  Spark; the marts are exported as Parquet and loaded into a DuckDB file shaped like the DuckDB
  warehouse, which validation and publication read (orchestration/engines/spark.py).
"""
from __future__ import annotations

import os

ENGINES = ("duckdb", "spark")


def configured_engine(cfg: dict | None = None) -> str:
    """The engine from CSP_ENGINE, else config/pipeline.yaml `engine` (default duckdb)."""
    if cfg is None:
        from ..settings import get_settings

        cfg = get_settings().raw
    engine = str(os.environ.get("CSP_ENGINE") or cfg.get("engine") or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r} (config/pipeline.yaml)")
    return engine
