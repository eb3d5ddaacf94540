"""The serving file as BI clients see it: readable by DuckDB 1.x clients (storage format set by
publication.storage_compatibility_version), and a long-running reader following the README
picks up a new publication.

The warehouse is the publication tests' small hand-built one (helpers/publication_warehouse.py).
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from helpers.publication_warehouse import PUBLISHED, build_warehouse
from orchestration.lib.serving.duckdb_file import publish
from orchestration.lib.settings import get_settings

README = Path(__file__).resolve().parent.parent / "README.md"
README_SERVING = "data/serving/analytics.duckdb"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


def _bi_section() -> str:
    text = README.read_text()
    start = text.index("## For BI tools")
    return text[start:text.index("\n## ", start + 1)]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", _bi_section(), flags=re.S)


def _cli_binary() -> str | None:
    """The DuckDB CLI of the duckdb-cli wheel (dev extra): the venv's bin/duckdb, else PATH."""
    beside = Path(sys.executable).parent / "duckdb"
    return str(beside) if beside.exists() else shutil.which("duckdb")


def _storage_version(path: Path) -> str:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{path}' AS s (READ_ONLY)")
        return con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 's'"
        ).fetchone()[0]
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# Storage format
# ---------------------------------------------------------------------------------------------
def test_setting_defaults_to_duckdb_1_0_format():
    assert get_settings().storage_compatibility_version == "v1.0.0"


def test_serving_file_in_1_0_format_keeps_types_and_rows(warehouse, tmp_path):
    serving = tmp_path / "serving" / "analytics.duckdb"
    publish(warehouse, serving, PUBLISHED, run_id="compat")
    assert _storage_version(serving) == "v1.0.0+"
    assert list(serving.parent.iterdir()) == [serving]

    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
    con.execute(f"ATTACH '{serving}' AS s (READ_ONLY)")
    for t in PUBLISHED:
        cols = ("select column_name, data_type from information_schema.columns "
                "where table_catalog = ? and table_schema = ? and table_name = ? "
                "order by ordinal_position")
        wh_cols = con.execute(cols, ["wh", "marts", t]).fetchall()
        assert wh_cols and con.execute(cols, ["s", "main", t]).fetchall() == wh_cols, t
        diff = con.execute(f"select count(*) from ((from wh.marts.{t} except all from s.main.{t}) "
                           f"union all (from s.main.{t} except all from wh.marts.{t}))").fetchone()[0]
        assert diff == 0, t
    con.close()


def test_storage_version_is_configurable(warehouse, tmp_path):
    serving = tmp_path / "analytics.duckdb"
    publish(warehouse, serving, PUBLISHED, storage_compatibility_version="v1.3.0")
    assert _storage_version(serving) == "v1.3.0+"
    with pytest.raises(duckdb.Error, match="not a known DuckDB version"):
        publish(warehouse, serving, PUBLISHED, storage_compatibility_version="1.0")
    assert _storage_version(serving) == "v1.3.0+", "a refused publication leaves the file alone"
    assert list(serving.parent.glob(".*tmp*")) == []


# ---------------------------------------------------------------------------------------------
# A DuckDB 1.x client: the CLI of the duckdb-cli wheel, with the README's command
# ---------------------------------------------------------------------------------------------
def test_duckdb_1x_cli_runs_the_readme_command(warehouse, tmp_path):
    cli = _cli_binary()
    if cli is None:
        pytest.skip("no DuckDB CLI binary: pip install 'duckdb-cli>=1.4,<2' (dev extra)")
    serving = tmp_path / "serving" / "analytics.duckdb"
    info = publish(warehouse, serving, PUBLISHED, run_id="cli")

    version = subprocess.run([cli, "-readonly", str(serving), "-csv", "-noheader",
                              "select version()"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert re.fullmatch(r"v1\.\d+\.\d+\S*", version.stdout.strip()), (
        f"{cli} is not a DuckDB 1.x CLI: {version.stdout!r}")

    [command] = [line for block in _blocks("bash") for line in block.splitlines()
                 if line.startswith("duckdb -readonly ")]
    argv = shlex.split(command)
    assert argv[2] == README_SERVING
    argv[0], argv[2] = cli, str(serving)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Error" not in out.stdout + out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("│")]
    header, data = lines[:2], lines[2:]  # column names, column types, then one line per row
    assert "grr" in header[0] and "nrr" in header[0]
    con = duckdb.connect(str(serving), read_only=True)
    expected = con.execute("select count(*) from (from mart_revenue_retention "
                           "where segment = 'all' limit 12)").fetchone()[0]
    con.close()
    assert expected > 0 and len(data) == expected, out.stdout
    assert all("│ all " in ln for ln in data)

    # every published table (lists, decimals, dates included) reads back in the 1.x client
    sql = "; ".join(f"select '{t}', count(*) from {t}" for t in PUBLISHED)
    sql += "; select subscription_ids, prior_arr, due_date from mart_renewals order by due_date limit 1"
    out = subprocess.run([cli, "-readonly", str(serving), "-csv", "-noheader", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.strip().splitlines()
    assert {r.split(",")[0]: int(r.split(",")[1]) for r in rows[:-1]} == info["row_counts"]
    assert rows[-1] == '[s3],1800.00,2024-09-20', rows[-1]


# ---------------------------------------------------------------------------------------------
# Fresh readers: the README's Python and SQLAlchemy snippets in a long-lived process
# ---------------------------------------------------------------------------------------------
def _run_id(con) -> str:
    [(run_id,)] = con.execute("select distinct run_id from _publication").fetchall()
    return run_id


def test_long_lived_reader_sees_new_publication(warehouse, tmp_path):
    serving = tmp_path / "serving" / "analytics.duckdb"
    publish(warehouse, serving, PUBLISHED, run_id="pub-1")
    python_snippet, sqlalchemy_snippet = _blocks("python")[:2]
    assert README_SERVING in python_snippet and "NullPool" in sqlalchemy_snippet
    ns: dict = {}
    exec(python_snippet.replace(README_SERVING, str(serving)), ns)  # defines serving_connection
    serving_connection = ns["serving_connection"]

    kept = serving_connection()                              # a notebook's open connection
    plain = duckdb.connect(str(serving), read_only=True)     # the old README way, still open
    assert _run_id(kept) == _run_id(plain) == "pub-1"

    publish(warehouse, serving, PUBLISHED, run_id="pub-2")
    assert _run_id(kept) == "pub-1", "an open connection keeps its snapshot"
    with serving_connection() as fresh:                      # the README pattern: a new one
        assert _run_id(fresh) == "pub-2"
        assert fresh.execute("select count(*) from mart_renewals").fetchone()[0] == 5
    # why the README does not say duckdb.connect(path): with a connection to the path open in
    # the process, DuckDB returns its cached database, the old publication (README says so)
    again = duckdb.connect(str(serving), read_only=True)
    assert _run_id(again) == "pub-1", "duckdb no longer caches: simplify the README snippet"
    again.close()
    plain.close()
    kept.close()

    # SQLAlchemy with NullPool: each connect() opens the current file
    ns = {}
    exec(sqlalchemy_snippet.replace(README_SERVING, str(serving)), ns)
    engine = ns["engine"]
    from sqlalchemy import text

    for run_id in ("pub-3", "pub-4"):
        publish(warehouse, serving, PUBLISHED, run_id=run_id)
        with engine.connect() as c:
            assert c.execute(text("select distinct run_id from _publication")).scalar() == run_id
    engine.dispose()
    assert list(serving.parent.iterdir()) == [serving]
