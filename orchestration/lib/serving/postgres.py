"""Publish the marts to a PostgreSQL schema (publication.target: postgres), for BI servers on
another host. Plain library, no Dagster.

`publish_postgres` reads each mart from the DuckDB warehouse (ATTACHed READ_ONLY, as
`orchestration.lib.serving.duckdb_file.publish` does) and, in ONE PostgreSQL transaction:

1. creates a staging schema `<schema>__staging_<runid8>` with one table per mart (DuckDB types
   mapped to PostgreSQL ones, `duckdb_to_postgres_type`), filled with `COPY ... FROM STDIN`,
   plus `_publication` (published_at, run_id, as_of_date, table_name, row_count), the
   optional `COMMENT ON TABLE/COLUMN`s and `GRANT USAGE/SELECT` to the reader role (NOLOGIN,
   created if missing);
2. takes ACCESS EXCLUSIVE locks on every relation of the published schema, NOWAIT, retried
   (inside a savepoint) until `swap_timeout` seconds: the publisher never waits while holding
   a lock, so it cannot deadlock with a reader, and it never queues in front of new readers;
3. `ALTER SCHEMA <schema> RENAME TO <schema>__old_<runid8>`, `ALTER SCHEMA <staging> RENAME
   TO <schema>`, `DROP SCHEMA <old> CASCADE`; COMMIT.

A reader's statement resolves `marts.x` either before the commit (old tables, which it locks:
the swap then waits for it) or after (new tables), so it sees the whole old publication or the
whole new one, never a mix. A statement blocked behind the swap re-resolves the names once the
swap commits (PostgreSQL retries a name lookup when the relation changed while it waited) and
reads the new tables; a long-lived connection sees the new marts on its next query.

On any error the transaction is rolled back (nothing of the staging schema was ever committed,
and a killed publisher leaves nothing behind either), a leftover staging schema is dropped,
the published schema is untouched, and the error is re-raised.

Readers: use READ COMMITTED (the default) and autocommit or short transactions. A session
idle in a transaction that read the marts holds its locks and delays the swap (up to
`swap_timeout`, then the publication fails and the old marts stay). Views created in other
schemas on top of the published tables are dropped by the swap's CASCADE.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from orchestration.lib.serving import PUBLICATION_TABLE, WAREHOUSE_SCHEMA
from orchestration.lib.serving.duckdb_file import attach_warehouse

log = logging.getLogger(__name__)

DSN_ENV_VAR = "CSP_POSTGRES_DSN"
FETCH_ROWS = 20_000
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_IDENT = 63  # PostgreSQL NAMEDATALEN - 1

# DuckDB type name (information_schema.columns.data_type) -> PostgreSQL type
_SCALAR_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(39,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "UHUGEINT": "numeric(39,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BLOB": "bytea",
    "JSON": "jsonb",
}
# read as their DuckDB text form (PostgreSQL parses it): no Python conversion pitfalls
# (time zones, months in intervals, ...)
_READ_AS_TEXT = {"TIMESTAMP WITH TIME ZONE", "INTERVAL", "UUID", "JSON", "TIME"}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


def duckdb_to_postgres_type(duckdb_type: str) -> tuple[str, str]:
    """(PostgreSQL type, how to read the column: "value" | "text" | "json").

    Scalars map one to one (VARCHAR -> text, DECIMAL(p,s) -> numeric(p,s), HUGEINT ->
    numeric(39,0), DOUBLE -> double precision, ...); a list of scalars -> an array of the
    element type (VARCHAR[] -> text[]); nested lists, STRUCT, MAP, UNION -> jsonb; anything
    else (ENUM, BIT, ...) -> text."""
    t = duckdb_type.strip().upper()
    m = _DECIMAL.match(t)
    if m:
        return f"numeric({m.group(1)},{m.group(2)})", "value"
    if t in _SCALAR_TYPES:
        return _SCALAR_TYPES[t], "text" if t in _READ_AS_TEXT else "value"
    if t.endswith("[]"):
        element = t[:-2]
        if element.endswith("]") or element.startswith(("STRUCT", "MAP", "UNION")):
            return "jsonb", "json"
        if element in _SCALAR_TYPES and element not in _READ_AS_TEXT or _DECIMAL.match(element):
            return f"{duckdb_to_postgres_type(element)[0]}[]", "value"
        return "jsonb", "json"
    if t.startswith(("STRUCT", "MAP", "UNION")) or re.search(r"\[\d*\]$", t):
        return "jsonb", "json"
    return "text", "text"


def _check_ident(name: str, what: str) -> str:
    if not _IDENT.match(name or "") or len(name) > _MAX_IDENT:
        raise ValueError(f"{what} is not a plain identifier of at most {_MAX_IDENT} chars: {name!r}")
    return name


def _run_tag(run_id: str) -> str:
    tag = re.sub(r"[^a-z0-9]", "", str(run_id).lower())[:8]
    return tag or uuid.uuid4().hex[:8]


def staging_schema_name(schema: str, run_id: str) -> str:
    return _check_ident(f"{schema}__staging_{_run_tag(run_id)}", "staging schema")


def old_schema_name(schema: str, run_id: str) -> str:
    return _check_ident(f"{schema}__old_{_run_tag(run_id)}", "old schema")


def redacted_target(conn, schema: str) -> str:
    """`postgresql://user@host:port/dbname#schema`, no password (for logs and metadata)."""
    info = conn.info
    host = info.host or ""
    hostpart = f"[{host}]" if host.startswith("/") else host  # unix socket directory
    return f"postgresql://{info.user}@{hostpart}:{info.port}/{info.dbname}#{schema}"


def _connect(dsn: str | None):
    import psycopg

    if dsn is None:
        dsn = os.environ.get(DSN_ENV_VAR, "")  # "" = libpq's PGHOST, PGPORT, PGUSER, ... env
    return psycopg.connect(dsn, autocommit=True, application_name="csp-publication")


def _warehouse_columns(con, table: str) -> list[tuple[str, str]]:
    cols = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'wh' and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [WAREHOUSE_SCHEMA, table],
    ).fetchall()
    if not cols:
        raise LookupError(f"{WAREHOUSE_SCHEMA}.{table} not found in the warehouse")
    return cols


def _ensure_reader_role(cur, role: str) -> None:
    from psycopg import errors, sql

    cur.execute("select 1 from pg_roles where rolname = %s", [role])
    if cur.fetchone():
        return
    try:
        with cur.connection.transaction():  # savepoint: a concurrent creation is fine
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        log.info("created PostgreSQL role %s (NOLOGIN): GRANT %s TO <login>", role, role)
    except errors.DuplicateObject:
        pass


def _relations(cur, schema: str) -> list[tuple[str, str]]:
    cur.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f') order by c.relname",
        [schema],
    )
    return cur.fetchall()


def _schema_exists(cur, schema: str) -> bool:
    cur.execute("select 1 from pg_namespace where nspname = %s", [schema])
    return cur.fetchone() is not None


def _lock_published(conn, cur, schema: str, timeout: float) -> None:
    """ACCESS EXCLUSIVE on every relation of `schema`, NOWAIT, retried until `timeout`."""
    from psycopg import errors, sql

    deadline = time.monotonic() + timeout
    pause = 0.01
    attempts = 0
    while True:
        attempts += 1
        try:
            with conn.transaction():  # savepoint: a failed attempt keeps the staging work
                rels = [name for name, _ in _relations(cur, schema)]
                if rels:
                    cur.execute(
                        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT").format(
                            sql.SQL(", ").join(sql.Identifier(schema, r) for r in rels)
                        )
                    )
            if attempts > 1:
                log.info("locked %s after %d attempts", schema, attempts)
            return
        except errors.LockNotAvailable:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"readers kept {schema} locked for {timeout:.0f}s (a session idle in a "
                    f"transaction?): not swapping; the published marts are unchanged"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def publish_postgres(
    warehouse_path: str | os.PathLike,
    tables: Iterable[str],
    run_id: str | None = None,
    dsn: str | None = None,
    schema: str | None = None,
    comments: Mapping[str, tuple[str | None, Mapping[str, str]]] | None = None,
    reader_role: str | None = None,
    swap_timeout: float | None = None,
) -> dict:
    """Copy `marts.<table>` for each table from the warehouse into PostgreSQL `<schema>`,
    replacing the previous publication atomically (module docstring).

    `dsn`: a libpq connection string or URI; default env CSP_POSTGRES_DSN, else libpq's
    PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE. `comments`: {table: (table comment,
    {column: comment})}, applied with COMMENT ON (unknown tables / columns are skipped).
    `schema` (default publication.postgres_schema) is replaced; `reader_role` (default
    publication.postgres_reader_role) gets USAGE + SELECT.

    Returns {"serving_path" (redacted target), "run_id", "published_at", "as_of_date",
    "row_counts"}, like `orchestration.lib.serving.duckdb_file.publish`."""
    from psycopg import sql

    from orchestration.lib.settings import get_settings

    warehouse_path = Path(warehouse_path)
    tables = list(dict.fromkeys(tables))
    if not tables:
        raise ValueError("nothing to publish")
    settings = get_settings()
    schema = schema or settings.postgres_schema
    for t in tables:
        _check_ident(t, "table")
    _check_ident(schema, "schema")
    if not warehouse_path.exists():
        raise FileNotFoundError(warehouse_path)
    if reader_role is None or swap_timeout is None:
        reader_role = reader_role or settings.postgres_reader_role
        swap_timeout = settings.postgres_swap_timeout_seconds if swap_timeout is None else swap_timeout
    _check_ident(reader_role, "reader role")
    run_id = run_id or uuid.uuid4().hex
    staging = staging_schema_name(schema, run_id)
    old = old_schema_name(schema, run_id)
    comments = dict(comments or {})
    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    row_counts: dict[str, int] = {}
    ident = sql.Identifier

    duck = duckdb.connect()
    conn = None
    try:
        as_of_date = attach_warehouse(duck, warehouse_path)
        columns = {t: _warehouse_columns(duck, t) for t in tables}  # fail before touching PG

        conn = _connect(dsn)
        target = redacted_target(conn, schema)
        with conn.transaction(), conn.cursor() as cur:
            # one publisher per schema at a time (released at commit / rollback)
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))", [f"csp_publication:{schema}"])
            if _schema_exists(cur, schema):
                rels = _relations(cur, schema)
                if rels and PUBLICATION_TABLE not in {r for r, _ in rels}:
                    raise RuntimeError(
                        f"schema {schema} exists and holds no {PUBLICATION_TABLE} table: it is "
                        "not a publication, refusing to replace it"
                    )
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(staging)))
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(ident(staging)))

            for t in tables:
                pg_cols, select = [], []
                for name, dtype in columns[t]:
                    pg_type, how = duckdb_to_postgres_type(dtype)
                    pg_cols.append(sql.SQL("{} {}").format(ident(name), sql.SQL(pg_type)))
                    q = '"' + name.replace('"', '""') + '"'
                    select.append(
                        f"{q}::VARCHAR" if how == "text" else f"to_json({q})::VARCHAR" if how == "json" else q
                    )
                cur.execute(
                    sql.SQL("CREATE TABLE {} ({})").format(ident(staging, t), sql.SQL(", ").join(pg_cols))
                )
                result = duck.execute(f'select {", ".join(select)} from wh.{WAREHOUSE_SCHEMA}."{t}"')
                n = 0
                copy_sql = sql.SQL("COPY {} FROM STDIN").format(ident(staging, t))
                with cur.copy(copy_sql) as copy:
                    while True:
                        batch = result.fetchmany(FETCH_ROWS)
                        if not batch:
                            break
                        for row in batch:
                            copy.write_row(row)
                        n += len(batch)
                row_counts[t] = n

            cur.execute(
                sql.SQL(
                    "CREATE TABLE {} (published_at timestamp, run_id text, as_of_date date, "
                    "table_name text, row_count bigint)"
                ).format(ident(staging, PUBLICATION_TABLE))
            )
            cur.executemany(
                sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s)").format(
                    ident(staging, PUBLICATION_TABLE)
                ),
                [(published_at, run_id, as_of_date, t, n) for t, n in row_counts.items()],
            )
            _apply_comments(cur, staging, tables, columns, comments)

            _ensure_reader_role(cur, reader_role)
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(staging), ident(reader_role)))
            cur.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                    ident(staging), ident(reader_role)
                )
            )

            # the swap: old marts or new marts, never a mix
            had_old = _schema_exists(cur, schema)
            if had_old:
                _lock_published(conn, cur, schema, swap_timeout)
                cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(old)))
                cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(schema), ident(old)))
            cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(staging), ident(schema)))
            if had_old:
                cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(ident(old)))
    except BaseException:
        _cleanup(conn, dsn, staging)
        raise
    finally:
        duck.close()
        if conn is not None:
            conn.close()
    log.info("published %d tables to %s: %s", len(row_counts), target, row_counts)
    return {
        "serving_path": target,
        "run_id": run_id,
        "published_at": published_at.isoformat(),
        "as_of_date": as_of_date.isoformat() if as_of_date else None,
        "row_counts": row_counts,
    }


def _apply_comments(cur, staging, tables, columns, comments) -> None:
    from psycopg import sql

    cur.execute(
        sql.SQL("COMMENT ON TABLE {} IS {}").format(
            sql.Identifier(staging, PUBLICATION_TABLE),
            sql.Literal("One row per published table: when, by which run, as of which date, how many rows."),
        )
    )
    for table, spec in comments.items():
        if table not in tables:
            log.warning("comments for %s, which is not published: skipped", table)
            continue
        table_comment, column_comments = (spec or (None, {}))
        if table_comment:
            cur.execute(
                sql.SQL("COMMENT ON TABLE {} IS {}").format(
                    sql.Identifier(staging, table), sql.Literal(str(table_comment))
                )
            )
        known = {name for name, _ in columns[table]}
        for column, comment in (column_comments or {}).items():
            if column not in known:
                log.warning("comment for %s.%s, which has no such column: skipped", table, column)
                continue
            if comment:
                cur.execute(
                    sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                        sql.Identifier(staging, table, column), sql.Literal(str(comment))
                    )
                )


def _cleanup(conn, dsn, staging: str) -> None:
    """After a failure: the transaction is rolled back (the `with` block did it), so the
    staging schema was never committed; drop one anyway in case it exists (best effort)."""
    from psycopg import sql

    if conn is None:  # failed before connecting: nothing was written
        return
    fresh = None
    try:
        if conn.closed or conn.broken:
            conn = fresh = _connect(dsn)
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(staging)))
    except Exception:  # never hide the original error
        log.warning("could not drop staging schema %s", staging, exc_info=True)
    finally:
        if fresh is not None:
            fresh.close()
