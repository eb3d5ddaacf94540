"""The Spark engine (docs/scaling_out.md): everything Spark-specific on the Python side.

dbt builds the project with the `spark` target of dbt_project/profiles.yml (dbt-spark; the
`session` method runs a local PySpark inside the dbt process). The Parquet raw layer written by
ingestion is registered as external tables before each run (macros/register_raw_sources.sql,
`spark__register_raw_sources`), so there is no second ingestion path. After the run, the
`on-run-end` hook writes the marts it built (and int_as_of_date) as Parquet to
``<spark dir>/export/<schema>/<table>/``; :func:`load_exported_marts` loads them into a DuckDB
file laid out like the DuckDB warehouse (schemas ``marts`` and ``intermediate``). The Great
Expectations gate validates that file and publication copies it into the same serving DuckDB
file BI tools already read, so nothing downstream of the build changes with the engine.

Local layout (``<data dir>/spark/`` unless CSP_SPARK_DIR is set):
    warehouse/      Spark managed tables (spark.sql.warehouse.dir)
    metastore/      embedded Derby metastore (one Spark process at a time)
    export/         Parquet export of the marts of the last build(s)
    marts_export.duckdb  the exported marts as a DuckDB file (validated, then published)
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

SPARK_TARGET = "spark"
EXPORTED_SCHEMAS = ("marts", "intermediate")


def missing_requirements() -> str | None:
    """Why a local Spark build cannot run here (None = it can)."""
    for module, hint in (("pyspark", "pip install -e '.[spark]'"),
                         ("dbt.adapters.spark", "pip install -e '.[spark]'")):
        try:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed ({hint})"
        except ModuleNotFoundError:
            return f"{module} is not installed ({hint})"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java runtime (Spark needs Java 17+ on PATH or JAVA_HOME)"
    return None


@dataclass(frozen=True)
class SparkPaths:
    root: Path

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def metastore_dir(self) -> Path:
        return self.root / "metastore"

    @property
    def export_dir(self) -> Path:
        return self.root / "export"

    @property
    def marts_db(self) -> Path:
        """The exported marts as a DuckDB file: what validation and publication read."""
        return self.root / "marts_export.duckdb"


def default_paths() -> SparkPaths:
    from orchestration.lib.settings import _path, get_settings

    root = os.environ.get("CSP_SPARK_DIR")
    return SparkPaths(_path(root) if root else get_settings().data_dir / "spark")


def dbt_env(paths: SparkPaths | None = None) -> dict[str, str]:
    """Environment variables the `spark` target of profiles.yml and the export hook read."""
    paths = paths or default_paths()
    for d in (paths.warehouse_dir, paths.metastore_dir, paths.export_dir):
        d.mkdir(parents=True, exist_ok=True)
    return {
        "CSP_SPARK_WAREHOUSE_DIR": str(paths.warehouse_dir.resolve()),
        "CSP_SPARK_METASTORE_DIR": str(paths.metastore_dir.resolve()),
        "CSP_SPARK_EXPORT_DIR": str(paths.export_dir.resolve()),
    }


def _documented_columns(manifest_path: Path | None) -> dict[tuple[str, str], list[str]]:
    """(schema, table) -> column names in the order the model's YAML documents them."""
    if manifest_path is None or not Path(manifest_path).exists():
        return {}
    with open(manifest_path) as f:
        manifest = json.load(f)
    out = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("columns"):
            out[(node["schema"], node.get("alias") or node["name"])] = list(node["columns"])
    return out


def _qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_exported_marts(export_dir: str | os.PathLike, duckdb_path: str | os.PathLike,
                        manifest_path: str | os.PathLike | None = None) -> dict[str, int]:
    """Load ``<export_dir>/<schema>/<table>/*.parquet`` into a new DuckDB file with the same
    schemas and tables, and atomically replace ``duckdb_path`` with it.

    Column order follows the model's documented columns (Spark moves the partition column of
    a partitioned table to the end), the other columns keep their order. Timestamps with a
    time zone (Spark's TIMESTAMP type) become naive UTC timestamps, as in the DuckDB
    warehouse. Returns {"<schema>.<table>": row count}."""
    export_dir = Path(export_dir)
    duckdb_path = Path(duckdb_path)
    documented = _documented_columns(Path(manifest_path) if manifest_path else None)
    tables: list[tuple[str, str, Path]] = []
    for schema in EXPORTED_SCHEMAS:
        for d in sorted((export_dir / schema).glob("*")):
            if d.is_dir() and any(d.glob("*.parquet")):
                tables.append((schema, d.name, d))
    if not tables:
        raise FileNotFoundError(f"no exported tables under {export_dir} (did the Spark build run "
                                "with CSP_SPARK_EXPORT_DIR set?)")
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = duckdb_path.with_name(f".{duckdb_path.name}.{uuid.uuid4().hex}.tmp")
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET TimeZone = 'UTC'")
            for schema in EXPORTED_SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {_qident(schema)}")
            for schema, table, d in tables:
                glob = str(d / "*.parquet").replace("'", "''")
                src = f"read_parquet('{glob}')"
                cols = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
                types = {c[0]: c[1] for c in cols}
                order = [c for c in documented.get((schema, table), []) if c in types]
                order += [c for c in types if c not in order]
                select = ", ".join(
                    f"cast({_qident(c)} as TIMESTAMP) as {_qident(c)}"
                    if types[c].upper().startswith("TIMESTAMP WITH TIME ZONE") else _qident(c)
                    for c in order)
                con.execute(f"CREATE TABLE {_qident(schema)}.{_qident(table)} AS SELECT {select} FROM {src}")
                counts[f"{schema}.{table}"] = con.execute(
                    f"SELECT count(*) FROM {_qident(schema)}.{_qident(table)}").fetchone()[0]
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, duckdb_path)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            if leftover.exists():
                leftover.unlink()
    return counts


def refresh_marts_db(paths: SparkPaths | None = None, manifest_path: str | os.PathLike | None = None
                     ) -> dict[str, int]:
    """After a Spark build: reload the exported marts into ``paths.marts_db``."""
    paths = paths or default_paths()
    return load_exported_marts(paths.export_dir, paths.marts_db, manifest_path)
