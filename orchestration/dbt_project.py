"""The dbt project as Dagster sees it: one cached DbtProject, and the manifest prepared
explicitly (prepare_if_dev only parses under `dagster dev`; tests, CI and `make run` need a
manifest too), re-parsed only when a dbt file changed since the last parse."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from dagster_dbt import DbtProject

from .engines import configured_engine
from .settings import DBT_PROJECT_DIR, get_settings

# The dbt target: CSP_DBT_TARGET, else the engine's (config/pipeline.yaml `engine`:
# duckdb -> dev, spark -> spark; docs/scaling_out.md).
ENGINE_TARGETS = {"duckdb": "dev", "spark": "spark"}
DBT_TARGET = os.environ.get("CSP_DBT_TARGET") or ENGINE_TARGETS[configured_engine()]


def on_spark() -> bool:
    return DBT_TARGET == "spark"


def dbt_env() -> dict[str, str]:
    """Environment variables the dbt profile and sources read (absolute paths)."""
    s = get_settings()
    env = {"CSP_RAW_DIR": str(s.raw_dir), "CSP_WAREHOUSE_PATH": str(s.warehouse_path),
           "CSP_LOOKBACK_DAYS": str(s.lookback_days)}
    duck = s.raw.get("duckdb") or {}
    env["CSP_DUCKDB_MEMORY_LIMIT"] = str(duck.get("memory_limit") or "4GB")
    env["CSP_DUCKDB_THREADS"] = str(duck.get("threads") or os.cpu_count() or 1)
    if on_spark():
        from .engines import spark

        env.update(spark.dbt_env())
    return env


def publication_source_path() -> Path:
    """The DuckDB file the GX gate validates and publication copies the marts from: the
    warehouse on DuckDB, the exported Spark marts on Spark."""
    if on_spark():
        from .engines import spark

        return spark.default_paths().marts_db
    return get_settings().warehouse_path


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for sub in ("models", "macros", "seeds", "tests", "snapshots", "analyses"):
        for p in (project_dir / sub).rglob("*"):
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        p = project_dir / name
        if p.exists():
            newest = max(newest, p.stat().st_mtime)
    return newest


def _manifest_adapter(manifest: Path) -> str | None:
    """The adapter a manifest was parsed for (configs such as the incremental strategy are
    resolved per engine at parse time)."""
    import json

    try:
        with open(manifest) as f:
            return json.load(f).get("metadata", {}).get("adapter_type")
    except (OSError, ValueError):
        return None


def prepare_manifest(project: DbtProject) -> Path:
    """Run `dbt parse` when the manifest is missing or older than any dbt file."""
    manifest = project.manifest_path
    if (manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(project.project_dir)
            and _manifest_adapter(manifest) == ("spark" if on_spark() else "duckdb")):
        return manifest
    from dbt.cli.main import dbtRunner

    os.environ.update({k: os.environ.get(k, v) for k, v in dbt_env().items()})
    res = dbtRunner().invoke([
        "parse", "--quiet", "--project-dir", str(project.project_dir),
        "--profiles-dir", str(project.profiles_dir), "--target", DBT_TARGET,
        "--target-path", str(project.project_dir / project.target_path),
    ])
    if not res.success:
        raise RuntimeError(f"dbt parse failed: {res.exception}")
    return manifest


@lru_cache(maxsize=1)
def get_dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=DBT_TARGET)
    prepare_manifest(project)
    return project
