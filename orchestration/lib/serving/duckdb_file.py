"""Publish the validated marts to the serving DuckDB file that BI tools open read-only (no
Dagster).

`publish` builds a new DuckDB file next to the serving file, copies the marts into its `main`
schema (so `select * from mart_renewals` works), stamps `_publication`, checkpoints, closes,
fsyncs and `os.replace`s it over the serving file. A reader holding the old file open keeps
its snapshot; a new connection sees the new file; nobody sees a half-written one. The new
file is created in the storage format of `publication.storage_compatibility_version`
(default v1.0.0, so DuckDB 1.x clients open it, not only the DuckDB 2 that writes it); the
tables are written once, straight into that format (no conversion copy).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb

from orchestration.lib.serving import PUBLICATION_TABLE, SERVING_SCHEMA, WAREHOUSE_SCHEMA
from orchestration.lib.settings import get_settings

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _quote(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


def _fsync_path(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. directories on Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


_PUBLICATION_COMMENTS = {
    "": "One row per published table of this serving file: the publication that wrote it.",
    "published_at": "When the file was published (UTC).",
    "run_id": "The pipeline run that published it.",
    "as_of_date": "The as-of date of the marts (the latest complete drop loaded).",
    "table_name": "The published table.",
    "row_count": "Its number of rows.",
}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_comments(con, tables: list[str], manifest_path: str | os.PathLike | None) -> None:
    """COMMENT ON the serving tables and columns: the comments of the ATTACHed warehouse
    (`wh`), falling back to the dbt manifest's descriptions where the warehouse has none."""
    from orchestration.lib.serving.mart_docs import DEFAULT_MANIFEST, mart_descriptions

    fallback = None
    for t in tables:
        q = _quote(t)
        row = con.execute(
            "select comment from duckdb_tables() where database_name = 'wh' "
            "and schema_name = ? and table_name = ?", [WAREHOUSE_SCHEMA, t]
        ).fetchone()
        table_comment = (row[0] or "").strip() if row else ""
        columns = con.execute(
            "select column_name, comment from duckdb_columns() where database_name = 'wh' "
            "and schema_name = ? and table_name = ? order by column_index", [WAREHOUSE_SCHEMA, t]
        ).fetchall()
        if not table_comment or any(not (c or "").strip() for _, c in columns):
            if fallback is None:
                fallback = mart_descriptions(manifest_path or DEFAULT_MANIFEST)
            doc_table, doc_columns = fallback.get(t, ("", {}))
        else:
            doc_table, doc_columns = "", {}
        table_comment = table_comment or doc_table
        if table_comment:
            con.execute(f"COMMENT ON TABLE {SERVING_SCHEMA}.{q} IS {_sql_string(table_comment)}")
        for name, comment in columns:
            comment = (comment or "").strip() or doc_columns.get(name, "")
            if comment:
                con.execute(
                    f"COMMENT ON COLUMN {SERVING_SCHEMA}.{q}.{_quote(name)} IS {_sql_string(comment)}"
                )


def attach_warehouse(con, warehouse_path) -> dt.date | None:
    """ATTACH the warehouse read-only as `wh` on a DuckDB connection; returns the marts'
    as-of date (None when the warehouse has no int_as_of_date)."""
    wh = str(warehouse_path).replace("'", "''")
    con.execute(f"ATTACH '{wh}' AS wh (READ_ONLY)")
    try:
        return con.execute("select max(as_of_date)::date from wh.intermediate.int_as_of_date").fetchone()[0]
    except duckdb.Error:
        return None


def publish(
    warehouse_path: str | os.PathLike,
    serving_path: str | os.PathLike,
    tables: Iterable[str],
    run_id: str | None = None,
    storage_compatibility_version: str | None = None,
    manifest_path: str | os.PathLike | None = None,
) -> dict:
    """Copy `marts.<table>` for each table from the warehouse into a new serving database and
    atomically replace the serving file with it.

    The new file is written in the storage format of `storage_compatibility_version` (a DuckDB
    version string such as "v1.0.0"; default: the `publication.storage_compatibility_version`
    setting), so DuckDB clients from that release on can open it.

    Every table and column gets a COMMENT (metadata only, no data copy): the warehouse's own
    comments (dbt persist_docs), else the dbt descriptions in `manifest_path` (default
    dbt_project/target/manifest.json), e.g. for the Spark engine's exported marts.

    Returns {"serving_path", "run_id", "published_at", "as_of_date", "row_counts"}."""
    warehouse_path = Path(warehouse_path)
    serving_path = Path(serving_path)
    tables = list(dict.fromkeys(tables))
    if not tables:
        raise ValueError("nothing to publish")
    for t in tables:
        _quote(t)
    if not warehouse_path.exists():
        raise FileNotFoundError(warehouse_path)
    run_id = run_id or uuid.uuid4().hex
    storage_version = storage_compatibility_version or get_settings().storage_compatibility_version
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving_path.with_name(f".{serving_path.name}.{uuid.uuid4().hex}.tmp")
    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    row_counts: dict[str, int] = {}
    as_of_date = None
    try:
        # the format is fixed when the file is created: every table is written in it directly
        con = duckdb.connect(str(tmp), config={"storage_compatibility_version": storage_version})
        try:
            as_of_date = attach_warehouse(con, warehouse_path)
            for t in tables:
                q = _quote(t)
                con.execute(
                    f"CREATE TABLE {SERVING_SCHEMA}.{q} AS "
                    f"SELECT * FROM wh.{WAREHOUSE_SCHEMA}.{q}"
                )
                row_counts[t] = con.execute(
                    f"select count(*) from {SERVING_SCHEMA}.{q}"
                ).fetchone()[0]
            _copy_comments(con, tables, manifest_path)
            con.execute("DETACH wh")
            con.execute(
                f"CREATE TABLE {SERVING_SCHEMA}.{PUBLICATION_TABLE} ("
                "published_at TIMESTAMP, run_id VARCHAR, as_of_date DATE, "
                "table_name VARCHAR, row_count BIGINT)"
            )
            for target, comment in _PUBLICATION_COMMENTS.items():
                kind = "COLUMN" if target else "TABLE"
                con.execute(
                    f"COMMENT ON {kind} {SERVING_SCHEMA}.{PUBLICATION_TABLE}"
                    f"{'.' + target if target else ''} IS {_sql_string(comment)}"
                )
            con.executemany(
                f"INSERT INTO {SERVING_SCHEMA}.{PUBLICATION_TABLE} VALUES (?, ?, ?, ?, ?)",
                [(published_at, run_id, as_of_date, t, n) for t, n in row_counts.items()],
            )
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _fsync_path(tmp)
        os.replace(tmp, serving_path)
        _fsync_path(serving_path.parent, directory=True)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass
        raise
    finally:
        wal = Path(f"{tmp}.wal")
        if wal.exists():  # pragma: no cover - CHECKPOINT + close leave no WAL
            wal.unlink()
    return {
        "serving_path": str(serving_path),
        "run_id": run_id,
        "published_at": published_at.isoformat(),
        "as_of_date": as_of_date.isoformat() if as_of_date else None,
        "row_counts": row_counts,
    }
