"""The PostgreSQL serving target (publication.target: postgres) against a real PostgreSQL
server: a throwaway cluster (initdb + pg_ctl, unix socket only) started once per session.

The warehouse is the publication tests' small hand-built one (helpers/publication_warehouse.py),
plus a table of every DuckDB type the real marts use (and lists) with awkward values (quotes, tabs, newlines, backslashes, NULLs).
"""
from __future__ import annotations

import datetime as dt
import decimal
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pytest

from helpers.publication_warehouse import PUBLISHED, build_warehouse
from orchestration.lib.serving.duckdb_file import publish
from orchestration.lib.settings import get_settings

psycopg = pytest.importorskip("psycopg", reason="psycopg not installed (pip install -e '.[dev]')")

TYPES_TABLE = "mart_types"
TABLES = [*PUBLISHED, TYPES_TABLE]


# ---------------------------------------------------------------------------------------------
# A throwaway PostgreSQL server
# ---------------------------------------------------------------------------------------------
def _pg_bindir() -> Path | None:
    def version(d: str) -> float:
        try:
            return float(Path(d).parent.name)
        except ValueError:
            return 0.0

    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all((Path(d) / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(d)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl", path=str(Path(initdb).parent)):
        return Path(initdb).parent
    return None


@pytest.fixture(scope="session")
def pg_server():
    """DSN of a fresh database on a private PostgreSQL cluster (unix socket in a tmp dir)."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        if shutil.which("runuser"):
            as_user = ["runuser", "-u", "postgres", "--"]
        else:
            pytest.skip("running as root without runuser to run the server as 'postgres'")
    base = Path(tempfile.mkdtemp(prefix="csp-pg-"))  # short path: unix socket name limit
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data = base / "data"

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
            "-t", "60", "-o", f"-k {base} -c listen_addresses='' -p 5432 -c fsync=off "
            "-c shared_buffers=32MB -c max_connections=30", "start")
    except subprocess.CalledProcessError as exc:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr}\n{log}") from exc
    admin = f"host={base} port=5432 user=postgres dbname=postgres"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE csp")
        yield f"host={base} port=5432 user=postgres dbname=csp"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dsn(pg_server):
    """The session's database, emptied of the publication schemas and roles tests create."""
    yield pg_server
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for (schema,) in conn.execute(
            "select nspname from pg_namespace where nspname like 'marts%' or nspname = 'other'"
        ).fetchall():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def add_types_table(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute(f"""
    create table marts.{TYPES_TABLE} (
        id integer, label varchar, flag boolean, big bigint, huge hugeint, ratio double,
        amount decimal(18,2), day date, happened_at timestamp, ids varchar[], counts integer[]);
    insert into marts.{TYPES_TABLE} values
      (1, 'plain', true, 9007199254740993, 170141183460469231731687303715884105727,
       0.1, 12345678901234.56, '2024-02-29', '2024-02-29 23:59:59.123456', ['s1', 's2'], [1, 2]),
      (2, E'tab\\there, "quoted", back\\\\slash\\nnew line', false, -1, -5,
       -1.5e-300, -0.01, '1970-01-01', '1970-01-01 00:00:00', ['a,b', 'c"d', NULL, '{{x}}', ''], []),
      (3, NULL, NULL, NULL, NULL, 'NaN'::double, NULL, NULL, NULL, NULL, [NULL]),
      (4, '', true, 0, 0, 'inf'::double, 0, '9999-12-31', '2262-04-11 23:47:16', [], NULL);
    """)
    con.close()


@pytest.fixture(scope="module")
def base_warehouse(tmp_path_factory) -> Path:
    path = build_warehouse(tmp_path_factory.mktemp("pg_wh") / "warehouse.duckdb")
    add_types_table(path)
    return path


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory) -> Path:
    """A second publication with other row counts (a month less of history)."""
    path = build_warehouse(tmp_path_factory.mktemp("pg_wh_small") / "warehouse.duckdb",
                           as_of="2025-02-10")
    add_types_table(path)
    return path


def _canon(value):
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return tuple(_canon(v) for v in value)
    return str(value)


def _sorted_rows(rows) -> list[tuple]:
    canon = [tuple(_canon(v) for v in r) for r in rows]
    return sorted(canon, key=repr)


def _publications(conn, schema: str = "marts") -> set[str]:
    return {r[0] for r in conn.execute(f'select distinct run_id from "{schema}"._publication')}


def _leftover_schemas(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select nspname from pg_namespace where nspname like 'marts\\_\\_%' order by 1")]


# ---------------------------------------------------------------------------------------------
# Settings (no server needed)
# ---------------------------------------------------------------------------------------------
def test_target_setting_defaults_to_duckdb_and_env_overrides(monkeypatch):
    monkeypatch.delenv("CSP_PUBLICATION_TARGET", raising=False)
    s = get_settings()
    assert s.publication_target == "duckdb"
    assert s.postgres_reader_role == "bi_reader" and s.postgres_schema == "marts"
    monkeypatch.setenv("CSP_PUBLICATION_TARGET", "postgres")
    assert get_settings().publication_target == "postgres"
    monkeypatch.setenv("CSP_PUBLICATION_TARGET", "oracle")
    with pytest.raises(ValueError, match="publication.target"):
        get_settings().publication_target  # noqa: B018


# ---------------------------------------------------------------------------------------------
# Against the server
# ---------------------------------------------------------------------------------------------
@pytest.mark.postgres
def test_publish_equals_the_duckdb_serving_file(dsn, base_warehouse, tmp_path):
    from orchestration.lib.serving.postgres import publish_postgres

    t0 = time.perf_counter()
    info = publish_postgres(base_warehouse, TABLES, run_id="run-pg-1", dsn=dsn)
    pg_seconds = time.perf_counter() - t0
    serving = tmp_path / "serving" / "analytics.duckdb"
    t0 = time.perf_counter()
    ref = publish(base_warehouse, serving, TABLES, run_id="run-pg-1")
    duck_seconds = time.perf_counter() - t0
    print(f"publish time: postgres {pg_seconds:.2f}s, duckdb {duck_seconds:.2f}s")

    assert info["row_counts"] == ref["row_counts"]
    assert info["as_of_date"] == ref["as_of_date"] == "2025-03-10"
    assert info["run_id"] == "run-pg-1"
    assert "password" not in info["serving_path"] and info["serving_path"].endswith("#marts")
    duck = duckdb.connect(str(serving), read_only=True)
    with psycopg.connect(dsn) as conn:
        for t in TABLES:
            want = duck.execute(f"select * from main.{t}").fetchall()
            cur = conn.execute(f"select * from marts.{t}")
            got = cur.fetchall()
            assert [c.name for c in cur.description] == [
                d[0] for d in duck.execute(f"select * from main.{t} limit 0").description]
            assert len(got) == len(want) == info["row_counts"][t] > 0, t
            assert _sorted_rows(got) == _sorted_rows(want), t
        types = dict(conn.execute(
            "select column_name, format_type(a.atttypid, a.atttypmod) from information_schema.columns c "
            "join pg_attribute a on a.attrelid = 'marts.mart_types'::regclass and a.attname = c.column_name "
            "where c.table_schema = 'marts' and c.table_name = 'mart_types'").fetchall())
        assert types == {
            "id": "integer", "label": "text", "flag": "boolean", "big": "bigint",
            "huge": "numeric(39,0)", "ratio": "double precision", "amount": "numeric(18,2)",
            "day": "date", "happened_at": "timestamp without time zone", "ids": "text[]",
            "counts": "integer[]"}
        pub = conn.execute("select run_id, as_of_date, table_name, row_count from marts._publication"
                           ).fetchall()
        assert {r[0] for r in pub} == {"run-pg-1"} and {r[1] for r in pub} == {dt.date(2025, 3, 10)}
        assert {r[2]: r[3] for r in pub} == info["row_counts"]
        assert _leftover_schemas(conn) == []
    duck.close()


@pytest.mark.postgres
def test_failed_publish_leaves_published_schema_untouched(dsn, base_warehouse, small_warehouse,
                                                          tmp_path, monkeypatch):
    from orchestration.lib.serving import postgres as serving_postgres
    from orchestration.lib.serving.postgres import publish_postgres

    publish_postgres(base_warehouse, TABLES, run_id="good-run", dsn=dsn)

    def snapshot():
        with psycopg.connect(dsn) as conn:
            return {t: _sorted_rows(conn.execute(f"select * from marts.{t}").fetchall())
                    for t in [*TABLES, "_publication"]}, _leftover_schemas(conn)

    before, leftovers = snapshot()
    assert leftovers == []

    # 1. a mart missing from the warehouse
    with pytest.raises(LookupError, match="no_such_mart"):
        publish_postgres(small_warehouse, [*TABLES, "no_such_mart"], run_id="bad-run-1", dsn=dsn)
    assert snapshot() == (before, [])

    # 2. PostgreSQL rejects a row mid-way (after some tables were copied): a NUL in a string
    broken = tmp_path / "broken.duckdb"
    shutil.copy(small_warehouse, broken)
    con = duckdb.connect(str(broken))
    con.execute(f"update marts.{TYPES_TABLE} set label = 'bad' || chr(0) || 'value' where id = 1")
    con.close()
    with pytest.raises(psycopg.Error, match="NUL"):  # the last table: the others were copied
        publish_postgres(broken, TABLES, run_id="bad-run-2", dsn=dsn)
    assert snapshot() == (before, [])

    # 3. a failure at the swap itself, every staging table written
    def boom(*a, **k):
        raise RuntimeError("injected failure at the swap")

    monkeypatch.setattr(serving_postgres, "_lock_published", boom)
    with pytest.raises(RuntimeError, match="injected"):
        publish_postgres(small_warehouse, TABLES, run_id="bad-run-3", dsn=dsn)
    assert snapshot() == (before, [])

    # 4. the connection dies mid-publication (server side): same outcome
    monkeypatch.undo()
    real_relations = serving_postgres._relations

    def kill_own_backend(cur, schema):
        if schema == "marts" and "killed" not in state:
            state.add("killed")
            with psycopg.connect(dsn, autocommit=True) as other:
                other.execute("select pg_terminate_backend(%s)", [cur.connection.info.backend_pid])
        return real_relations(cur, schema)

    state: set = set()
    monkeypatch.setattr(serving_postgres, "_relations", kill_own_backend)
    with pytest.raises(psycopg.Error):
        publish_postgres(small_warehouse, TABLES, run_id="bad-run-4", dsn=dsn)
    assert state == {"killed"}
    assert snapshot() == (before, [])


@pytest.mark.postgres
def test_readers_see_whole_publications_and_follow_swaps(dsn, base_warehouse, small_warehouse):
    from orchestration.lib.serving.postgres import publish_postgres

    publish_postgres(base_warehouse, TABLES, run_id="pub-0", dsn=dsn)
    long_lived = psycopg.connect(dsn, autocommit=True)
    assert _publications(long_lived) == {"pub-0"}

    query = """
      select (select count(*) from marts.fct_account_daily),
             (select count(*) from marts.fct_mrr_movements),
             (select count(*) from marts.mart_renewal_rates),
             (select array_agg(distinct run_id) from marts._publication),
             (select row_count from marts._publication where table_name = 'fct_account_daily'),
             (select row_count from marts._publication where table_name = 'fct_mrr_movements'),
             (select row_count from marts._publication where table_name = 'mart_renewal_rates')
    """
    stop = threading.Event()
    answers, errors = [], []

    def reader():
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    answers.append(conn.execute(query).fetchone())
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for th in threads:
        th.start()
    try:
        time.sleep(0.3)
        for i in range(1, 5):
            publish_postgres(small_warehouse if i % 2 else base_warehouse, TABLES,
                             run_id=f"pub-{i}", dsn=dsn, swap_timeout=60)
            assert _publications(long_lived) == {f"pub-{i}"}  # the next query sees the swap
            time.sleep(0.2)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=60)
        long_lived.close()
    assert errors == []
    assert len(answers) > 20
    for a in answers:
        n_daily, n_moves, n_rates, run_ids, p_daily, p_moves, p_rates = a
        assert len(run_ids) == 1, a
        assert (n_daily, n_moves, n_rates) == (p_daily, p_moves, p_rates), a
    seen = {a[3][0] for a in answers}
    assert len(seen) >= 3, seen  # the readers did see the publications change under them
    # the two warehouses differ, so a mix would have shown
    assert len({a[0] for a in answers}) == 2


@pytest.mark.postgres
def test_comments_grants_and_reader_role(dsn, base_warehouse):
    from orchestration.lib.serving.postgres import publish_postgres

    comments = {
        "dim_accounts": ("One row per account.", {"segment": "smb or enterprise",
                                                   "no_such_column": "skipped"}),
        "fct_account_daily": (None, {"mrr": "Monthly recurring revenue, that day's"}),
        "not_published": ("skipped", {}),
    }
    publish_postgres(base_warehouse, TABLES, run_id="doc-run", dsn=dsn, comments=comments,
                     reader_role="bi_reader_test")
    with psycopg.connect(dsn, autocommit=True) as conn:
        def table_comment(t):
            return conn.execute("select obj_description(%s::regclass, 'pg_class')",
                                [f"marts.{t}"]).fetchone()[0]

        def column_comment(t, c):
            return conn.execute(
                "select col_description(%s::regclass, attnum) from pg_attribute "
                "where attrelid = %s::regclass and attname = %s", [f"marts.{t}"] * 2 + [c]
            ).fetchone()[0]

        assert table_comment("dim_accounts") == "One row per account."
        assert column_comment("dim_accounts", "segment") == "smb or enterprise"
        assert column_comment("dim_accounts", "account_id") is None
        assert table_comment("fct_account_daily") is None
        assert column_comment("fct_account_daily", "mrr") == "Monthly recurring revenue, that day's"
        assert "published table" in table_comment("_publication")

        # the reader role: NOLOGIN, granted to a BI login as the README says
        assert conn.execute("select rolcanlogin from pg_roles where rolname = 'bi_reader_test'"
                            ).fetchone() == (False,)
        conn.execute("DROP ROLE IF EXISTS superset_test")
        conn.execute("CREATE ROLE superset_test LOGIN")
        conn.execute("GRANT bi_reader_test TO superset_test")
    # grants survive the next publication (they are made on each new schema)
    publish_postgres(base_warehouse, TABLES, run_id="doc-run-2", dsn=dsn,
                     reader_role="bi_reader_test")
    reader_dsn = dsn.replace("user=postgres", "user=superset_test")
    with psycopg.connect(reader_dsn, autocommit=True) as bi:
        assert _publications(bi) == {"doc-run-2"}
        assert bi.execute("select count(*) from marts.mart_renewals").fetchone() == (5,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("create table marts.scratch (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("delete from marts.mart_renewals")


@pytest.mark.postgres
def test_connection_from_environment_and_foreign_schema_refused(dsn, base_warehouse,
                                                                 monkeypatch):
    from psycopg.conninfo import conninfo_to_dict

    from orchestration.lib.serving.postgres import publish_postgres

    for var in ("CSP_POSTGRES_DSN", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CSP_POSTGRES_DSN", dsn)
    info = publish_postgres(base_warehouse, PUBLISHED, run_id="env-dsn")
    assert info["row_counts"]["mart_renewals"] == 5
    monkeypatch.delenv("CSP_POSTGRES_DSN")
    parts = conninfo_to_dict(dsn)
    for var, key in (("PGHOST", "host"), ("PGPORT", "port"), ("PGUSER", "user"),
                     ("PGDATABASE", "dbname")):
        monkeypatch.setenv(var, parts[key])
    monkeypatch.setenv("PGPASSWORD", "not-needed-but-never-shown")
    info = publish_postgres(base_warehouse, PUBLISHED, run_id="libpq-env")
    assert "not-needed" not in repr(info)
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert _publications(conn) == {"libpq-env"}
        # a schema that is not a publication is never replaced
        conn.execute("CREATE SCHEMA other; CREATE TABLE other.keep (x int); "
                     "INSERT INTO other.keep VALUES (1)")
        with pytest.raises(RuntimeError, match="not a publication"):
            publish_postgres(base_warehouse, PUBLISHED, run_id="clobber", schema="other")
        assert conn.execute("select x from other.keep").fetchall() == [(1,)]
        assert conn.execute("select count(*) from pg_namespace where nspname like 'other\\_\\_%'"
                            ).fetchone() == (0,)


@pytest.mark.postgres
def test_dagster_serving_marts_publishes_to_postgres(dsn, base_warehouse, tmp_path, monkeypatch):
    from dagster import AssetKey, DagsterInstance, materialize

    from orchestration.defs.dbt_project import get_dbt_project

    get_dbt_project()   # the manifest whose descriptions become comments

    from helpers.publication_warehouse import dagster_assets

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(base_warehouse, warehouse)
    monkeypatch.setenv("CSP_PUBLICATION_TARGET", "postgres")
    monkeypatch.setenv("CSP_POSTGRES_DSN", dsn)
    monkeypatch.setenv("CSP_RAW_DIR", str(tmp_path / "raw"))   # reject blocks: its own raw layer
    serving = tmp_path / "serving" / "analytics.duckdb"
    result = materialize(dagster_assets(warehouse, serving, tmp_path / "docs"),
                         instance=DagsterInstance.ephemeral())
    assert result.success
    assert not serving.exists(), "published to PostgreSQL, not to the DuckDB file"
    md = next(m for m in result.get_asset_materialization_events()
              if m.asset_key == AssetKey("serving_marts")).materialization.metadata
    assert md["row_counts"].value["mart_renewals"] == 5
    with psycopg.connect(dsn) as conn:
        assert _publications(conn) == {result.run_id}
        # the dbt descriptions reach the BI server as comments
        assert conn.execute("select obj_description('marts.mart_renewals'::regclass)").fetchone()[0]
        assert conn.execute("select col_description('marts.mart_renewals'::regclass, 1)").fetchone()[0]


@pytest.mark.postgres
def test_readme_setup_publisher_without_superuser(dsn, base_warehouse):
    """The README's one-time SQL, as written (role names suffixed: roles are cluster-wide),
    then a publication by the unprivileged publisher and a read by the BI login."""
    import re

    from orchestration.lib.serving.postgres import publish_postgres

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("## Serving to PostgreSQL")
    section = readme[start:readme.index("\n## ", start + 1)]
    setup = re.findall(r"```sql\n(.*?)```", section, flags=re.S)[0]
    assert "GRANT bi_reader TO superset;" in setup
    for name in ("csp_publisher", "bi_reader", "superset"):
        setup = re.sub(rf"\b{name}\b", f"{name}_readme", setup)
    setup = setup.replace("DATABASE analytics", "DATABASE csp")
    with psycopg.connect(dsn, autocommit=True) as admin:
        for role in ("superset_readme", "csp_publisher_readme", "bi_reader_readme"):
            admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(setup)
    try:
        publisher = dsn.replace("user=postgres", "user=csp_publisher_readme")
        for run_id in ("readme-1", "readme-2"):  # the second one swaps the first out
            publish_postgres(base_warehouse, TABLES, run_id=run_id, dsn=publisher,
                             reader_role="bi_reader_readme")
        with psycopg.connect(dsn.replace("user=postgres", "user=superset_readme"),
                             autocommit=True) as bi:
            assert bi.execute("select count(*) from mart_renewals").fetchone() == (5,)  # search_path
            assert _publications(bi) == {"readme-2"}
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("DROP SCHEMA IF EXISTS marts CASCADE")
            admin.execute("REVOKE CREATE ON DATABASE csp FROM csp_publisher_readme")
            for role in ("superset_readme", "csp_publisher_readme", "bi_reader_readme"):
                admin.execute(f"DROP ROLE IF EXISTS {role}")
