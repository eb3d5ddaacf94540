"""What the Dagster UI shows of the dbt assets beyond the manifest: row counts and column
schemas (with the warehouse's types) on every model materialization, and a description on
every asset check of a dbt test.

Row counts and column types are read from the DuckDB warehouse once, after `dbt build` has
exited: DuckDB allows one writer or many readers per file across processes and dbt holds the
file read-write for the whole build, so the dbt events are buffered until dbt exits (as
dagster-dbt's own `fetch_row_counts()` does on DuckDB), then the file is opened read-only for
one `information_schema.columns` query and one `count(*)` per table. Views get no row count
(counting one runs its query). On Spark the warehouse is not DuckDB: the events go through
unchanged (orchestration/defs/assets/dbt.py)."""
from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetMaterialization, MetadataValue, Output, TableColumn, TableSchema

ROW_COUNT = "dagster/row_count"
COLUMN_SCHEMA = "dagster/column_schema"


# ---------------------------------------------------------------------------------------------
# Row counts and column schemas
# ---------------------------------------------------------------------------------------------
def _unique_id(event) -> str | None:
    value = (event.metadata or {}).get("unique_id")
    return getattr(value, "text", value) if value is not None else None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def warehouse_metadata(nodes: Mapping[str, Mapping[str, Any]], warehouse_path: Path) -> dict[str, dict]:
    """{unique_id: {dagster/row_count, dagster/column_schema}} of the given dbt nodes (models,
    seeds, snapshots) as they are in the DuckDB file now. A relation missing from the file
    gets nothing; a view gets its columns but no row count."""
    import duckdb

    wanted = {}
    for uid, node in nodes.items():
        name = node.get("alias") or node.get("identifier") or node.get("name")
        if node.get("schema") and name:
            wanted[(node["schema"].lower(), name.lower())] = uid
    if not wanted:
        return {}
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, data_type in con.execute(
                "select table_schema, table_name, column_name, data_type from information_schema.columns "
                "where table_catalog = current_database() order by table_schema, table_name, ordinal_position").fetchall():
            key = (schema.lower(), table.lower())
            if key in wanted:
                columns.setdefault(key, []).append((column, data_type))
        kinds = {(s.lower(), t.lower()): (s, t, kind) for s, t, kind in con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database()").fetchall()}
        tables = [kinds[k] for k in wanted if k in kinds and kinds[k][2] != "VIEW"]
        counts = {}
        if tables:
            # one statement, one count(*) per table (no column data is read)
            sql = " union all ".join(f"select {i} as i, count(*) as n from {_quote(s)}.{_quote(t)}"
                                     for i, (s, t, _) in enumerate(tables))
            counts = {(tables[i][0].lower(), tables[i][1].lower()): n for i, n in con.execute(sql).fetchall()}
    finally:
        con.close()

    out: dict[str, dict] = {}
    for key, uid in wanted.items():
        if key not in columns:
            continue
        documented = {c.lower(): (props or {}).get("description") or None
                      for c, props in (nodes[uid].get("columns") or {}).items()}
        schema = TableSchema(columns=[TableColumn(name=c, type=t, description=documented.get(c.lower()))
                                      for c, t in columns[key]])
        md: dict[str, Any] = {COLUMN_SCHEMA: MetadataValue.table_schema(schema)}
        if key in counts:
            md[ROW_COUNT] = MetadataValue.int(int(counts[key]))
        out[uid] = md
    return out


def with_warehouse_metadata(events: Iterable, manifest: Mapping[str, Any], warehouse_path: Path,
                            log=None) -> Iterator:
    """`events` (a dbt invocation's Dagster events), each model / seed / snapshot Output or
    AssetMaterialization with its row count and column schema. The events are held until the
    iterator ends (dbt has exited and released the file); when it raised (a failed model or
    test), the events before are still yielded, with the metadata of what was built, and the
    same exception is raised after them. Reading the metadata never fails the step: on an
    error the events go out without it (a warning in the run's log)."""
    buffered, error = [], None
    try:
        for event in events:
            buffered.append(event)
    except Exception as exc:   # noqa: BLE001 - re-raised below, after the events before it
        error = exc

    nodes = {}
    for event in buffered:
        if isinstance(event, (Output, AssetMaterialization)):
            uid = _unique_id(event)
            node = (manifest.get("nodes") or {}).get(uid) if uid else None
            if node is not None:
                nodes[uid] = node
    extra: dict[str, dict] = {}
    if nodes:
        started = time.monotonic()
        try:
            extra = warehouse_metadata(nodes, warehouse_path)
            if log is not None:
                log.info(f"row counts / column schemas of {len(extra)} of {len(nodes)} built relations "
                         f"read from the warehouse in {time.monotonic() - started:.2f}s")
        except Exception as exc:   # noqa: BLE001 - metadata is a courtesy, never a failure
            if log is not None:
                log.warning(f"row counts / column schemas not attached (reading {warehouse_path}): {exc}")

    for event in buffered:
        md = extra.get(_unique_id(event)) if isinstance(event, (Output, AssetMaterialization)) else None
        yield event.with_metadata({**event.metadata, **md}) if md else event
    if error is not None:
        raise error


# ---------------------------------------------------------------------------------------------
# Asset check descriptions
# ---------------------------------------------------------------------------------------------
def _ref_name(expr: Any) -> str:
    """ref('dim_accounts') / source('billing', 'x') -> dim_accounts / billing.x"""
    names = re.findall(r"['\"]([^'\"]+)['\"]", str(expr))
    return ".".join(names) if names else str(expr)


def _values(values: Any) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, (list, tuple)) else str(values)


def check_description(test: Mapping[str, Any]) -> str:
    """The test's YAML `description:` (dbt 1.9+; also `meta.description`), else one generated
    from the generic test and its arguments, else (a singular test) the leading SQL comment."""
    for text in (test.get("description"), (test.get("meta") or {}).get("description"),
                 ((test.get("config") or {}).get("meta") or {}).get("description")):
        if text and str(text).strip():
            return str(text).strip()
    meta = test.get("test_metadata")
    if meta:
        name, kwargs = meta.get("name") or "test", dict(meta.get("kwargs") or {})
        column = kwargs.get("column_name") or test.get("column_name")
        if name == "accepted_values":
            text = f"accepted_values {column} in ({_values(kwargs.get('values'))})"
        elif name == "relationships":
            text = f"relationships {column} → {_ref_name(kwargs.get('to'))}.{kwargs.get('field')}"
        elif name in ("unique_combination_of_columns",) or kwargs.get("combination"):
            cols = kwargs.get("combination") or kwargs.get("combination_of_columns")
            text = f"{name} ({_values(cols)})"
        elif name in ("between", "accepted_range"):
            lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
            bounds = (f"{lo} to {hi}" if lo is not None and hi is not None
                      else f">= {lo}" if lo is not None else f"<= {hi}")
            text = f"{name} on {column}: {bounds}"
        elif column:
            text = f"{name} on {column}"
        else:
            text = name
        where = (test.get("config") or {}).get("where")
        return f"{text} (where {where})" if where else text
    comment = []
    for line in (test.get("raw_code") or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            comment.append(stripped.lstrip("-").strip())
        elif stripped or comment:
            break
    path = test.get("original_file_path") or test.get("name")
    return " ".join(comment) if comment else f"singular test {path}: fails when its query returns rows"
