"""Every published mart and every column it outputs is described in the dbt YAML beside the
model; the descriptions reach the warehouse (persist_docs) and the serving file (COMMENT ON,
from the warehouse or, when it has none, from the dbt manifest); README lists the published
marts. One warehouse is built with dbt from the health landing zone (tests/helpers/fixtures_health.py)."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.lib.serving import PUBLISHED_MARTS
from orchestration.lib.serving.duckdb_file import publish
from orchestration.lib.serving.mart_docs import mart_descriptions
from orchestration.lib.settings import DBT_PROJECT_DIR

REPO = DBT_PROJECT_DIR.parent


def yaml_models() -> dict[str, dict]:
    models = {}
    for path in sorted((DBT_PROJECT_DIR / "models" / "marts").rglob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            models[model["name"]] = model
    return models


def output_columns(con, database: str, schema: str, table: str) -> list[tuple[str, str | None]]:
    return con.execute(
        "select column_name, comment from duckdb_columns() where database_name = ? "
        "and schema_name = ? and table_name = ? order by column_index", [database, schema, table]
    ).fetchall()


@pytest.fixture(scope="module")
def built(health_built):
    return health_built   # the health landing zone, built once per session (tests/conftest.py)


def test_readme_lists_the_published_marts():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("Published marts (")
    table = text[start:text.index("\n\n", text.index("| mart |", start))]
    listed = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M)
    assert listed == PUBLISHED_MARTS


def test_every_published_column_is_described_and_every_described_column_exists(built):
    models = yaml_models()
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        problems = []
        for mart in PUBLISHED_MARTS:
            model = models.get(mart)
            if model is None or not (model.get("description") or "").strip():
                problems.append(f"{mart}: no model description")
                continue
            actual = [c for c, _ in output_columns(con, built.warehouse.stem, "marts", mart)]
            assert actual, f"{mart} not built"
            documented = {c["name"]: (c.get("description") or "").strip()
                          for c in model.get("columns") or []}
            problems += [f"{mart}.{c}: no description" for c in actual if not documented.get(c)]
            problems += [f"{mart}.{c}: in the YAML, not in the model" for c in documented
                         if c not in actual]
    finally:
        con.close()
    assert not problems, "\n".join(problems)


def test_persist_docs_comments_the_warehouse_marts(built):
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        for mart in PUBLISHED_MARTS:
            (comment,) = con.execute(
                "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ?",
                [mart]).fetchone()
            assert (comment or "").strip(), mart
            missing = [c for c, cm in output_columns(con, built.warehouse.stem, "marts", mart)
                       if not (cm or "").strip()]
            assert not missing, (mart, missing)
    finally:
        con.close()


def assert_serving_fully_commented(serving: Path) -> dict[str, tuple[str, dict[str, str]]]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        tables = dict(con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'main'").fetchall())
        assert set(PUBLISHED_MARTS) <= set(tables)
        found = {}
        for mart in PUBLISHED_MARTS:
            assert (tables[mart] or "").strip(), f"{mart}: no table comment"
            cols = output_columns(con, serving.stem, "main", mart)
            missing = [c for c, cm in cols if not (cm or "").strip()]
            assert not missing, (mart, missing)
            found[mart] = (tables[mart], dict(cols))
        return found
    finally:
        con.close()


def test_publish_carries_the_warehouse_comments(built):
    serving = built.tmp / "serving" / "analytics.duckdb"
    # no manifest: the comments can only come from the warehouse
    publish(built.warehouse, serving, PUBLISHED_MARTS, run_id="docs",
            manifest_path=built.tmp / "no_manifest.json")
    found = assert_serving_fully_commented(serving)
    assert found["mart_renewals"][1]["renewed_arr"].startswith("Account ARR on due date + 30")


def test_publish_falls_back_to_the_manifest_when_the_warehouse_has_no_comments(built):
    # a warehouse like the Spark engine's export: same tables, no comments (CTAS drops them)
    bare = built.tmp / "bare.duckdb"
    con = duckdb.connect(str(bare))
    try:
        con.execute(f"ATTACH '{built.warehouse}' AS src (READ_ONLY)")
        con.execute("create schema marts; create schema intermediate")
        con.execute("create table intermediate.int_as_of_date as "
                    "select * from src.intermediate.int_as_of_date")
        for mart in PUBLISHED_MARTS:
            con.execute(f"create table marts.{mart} as select * from src.marts.{mart}")
        assert con.execute("select count(comment) from duckdb_columns() "
                           "where database_name = 'bare'").fetchone() == (0,)
    finally:
        con.close()
    manifest = built.target / "manifest.json"
    docs = mart_descriptions(manifest)
    serving = built.tmp / "serving_bare" / "analytics.duckdb"
    publish(bare, serving, PUBLISHED_MARTS, run_id="docs-bare", manifest_path=manifest)
    found = assert_serving_fully_commented(serving)
    for mart in PUBLISHED_MARTS:
        assert found[mart][0] == docs[mart][0]
        assert found[mart][1] == {c: docs[mart][1][c] for c in found[mart][1]}


def test_mart_descriptions_without_a_manifest_is_empty(tmp_path):
    assert mart_descriptions(tmp_path / "missing.json") == {}
