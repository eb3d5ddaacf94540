"""The dbt project as Dagster sees it: one cached DbtProject, and the manifest prepared
explicitly (prepare_if_dev only parses under `dagster dev`; tests, CI and `make run` need a
manifest too), re-parsed only when a dbt file changed since the last parse."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.lib.engines import DBT_TARGET, dbt_env, on_spark
from orchestration.lib.settings import DBT_PROJECT_DIR


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
