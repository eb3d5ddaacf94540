"""What the Dagster UI shows of the dbt assets: metadata that serializes (no
"[DbtProject] (unserializable)"), a description on every dbt test's asset check, the code
location's name, and row counts / column schemas (the warehouse's types) on the dbt model
materializations of a real run."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import AssetCheckResult, AssetKey, MetadataValue, Output

from helpers.ops_site import RUNNER
from orchestration.defs.assets.dbt_metadata import COLUMN_SCHEMA, ROW_COUNT, check_description, with_warehouse_metadata

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
LOCATION = "cs_data_platform"
# dagster-dbt keeps the parsed manifest and the translator object on every dbt asset for its own
# use at run time; the UI hides both keys (its list of dagster-dbt internals) and dagster-dbt
# needs them. Anything else that does not serialize is shown to the user as "(unserializable)".
UI_HIDDEN_INTERNALS = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


@pytest.fixture(scope="module")
def repo_snap(defs):
    from dagster._core.remote_representation.external_data import RepositorySnap

    return RepositorySnap.from_def(defs.get_repository_def())


def _dbt_check_specs(defs) -> list:
    return [spec for ad in defs.resolve_asset_graph().assets_defs for spec in ad.check_specs
            if "dagster_dbt/unique_id" in spec.metadata]


def test_asset_and_check_metadata_serializes(defs, repo_snap):
    """The snapshot the UI receives: every metadata value is a real MetadataValue, none is the
    "[Class] (unserializable)" placeholder (bar dagster-dbt's two internals the UI hides), and
    the whole snapshot goes through dagster's serdes. Check metadata (not in the snapshot)
    normalizes without the placeholder."""
    from dagster._core.definitions.metadata import normalize_metadata
    from dagster._serdes import deserialize_value, serialize_value

    dbt_assets, bad = 0, {}
    for node in repo_snap.asset_nodes:
        dbt_assets += "dagster_dbt/unique_id" in node.metadata
        for key, value in node.metadata.items():
            if not isinstance(value, MetadataValue):
                bad[(node.asset_key.to_user_string(), key)] = repr(value)
            elif "(unserializable)" in str(value.value) and key not in UI_HIDDEN_INTERNALS:
                bad[(node.asset_key.to_user_string(), key)] = value.value
    assert dbt_assets > 30, "the dbt models are in the snapshot"
    assert not bad, bad
    assert not any(k == "dagster_dbt/project" for n in repo_snap.asset_nodes for k in n.metadata)
    restored = deserialize_value(serialize_value(repo_snap))
    assert len(restored.asset_nodes) == len(repo_snap.asset_nodes)

    checks = [spec for ad in defs.resolve_asset_graph().assets_defs for spec in ad.check_specs]
    assert len(checks) > 200
    for spec in checks:
        normalize_metadata(spec.metadata)   # raises DagsterInvalidMetadata on an unserializable value


def test_every_dbt_test_check_has_a_description(defs, repo_snap):
    checks = _dbt_check_specs(defs)
    manifest_tests = sum(1 for uid in _manifest()["nodes"] if uid.startswith("test."))
    assert len(checks) == manifest_tests, "every dbt test is an asset check"
    missing = [c.name for c in checks if not (c.description or "").strip()]
    assert not missing, missing
    # and the UI gets them
    in_snap = {(c.asset_key, c.name): c.description for c in repo_snap.asset_check_nodes}
    assert all(in_snap[(c.asset_key, c.name)] == c.description for c in checks)
    by_name = {c.name: c.description for c in checks}
    # the YAML's `description:` where the test has one (models/marts/retention/_retention__models.yml)
    assert by_name["relationships_mart_renewals_account_id__account_id__ref_dim_accounts_"] == \
        "Every renewal belongs to an account of dim_accounts."
    # generated from the generic test's arguments otherwise
    assert by_name["relationships_fct_account_daily_account_id__account_id__ref_dim_accounts_"] == \
        "relationships account_id → dim_accounts.account_id"
    assert by_name["not_null_mart_renewals_outcome"] == "not_null on outcome"
    assert by_name["accepted_values_mart_renewals_outcome__renewed__churned__pending"] == \
        "accepted_values outcome in (renewed, churned, pending)"
    # a singular test: its leading SQL comment
    assert by_name["assert_mrr_movements_reconcile"].startswith("For every month the movement amounts sum")


def _manifest() -> dict:
    import json

    from orchestration.defs.dbt_project import get_dbt_project

    return json.loads(get_dbt_project().manifest_path.read_text())


def test_check_description_fallbacks():
    assert check_description({"description": "  Said in YAML.  ", "test_metadata": {"name": "unique"}}) == "Said in YAML."
    assert check_description({"meta": {"description": "From meta."}}) == "From meta."
    assert check_description({"test_metadata": {"name": "between", "kwargs": {
        "column_name": "nrr", "min_value": 0}}}) == "between on nrr: >= 0"
    assert check_description({"test_metadata": {"name": "unique_combination_of_columns", "kwargs": {
        "combination": ["account_id", "month"]}}}) == "unique_combination_of_columns (account_id, month)"
    assert check_description({"test_metadata": {"name": "not_null", "kwargs": {"column_name": "x"}},
                              "config": {"where": "x > 1"}}) == "not_null on x (where x > 1)"
    assert check_description({"name": "assert_x", "original_file_path": "tests/assert_x.sql",
                              "raw_code": "select 1"}) == "singular test tests/assert_x.sql: fails when its query returns rows"


# ---------------------------------------------------------------------------------------------
# The code location
# ---------------------------------------------------------------------------------------------
def test_workspace_names_the_location():
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    config = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    assert config["load_from"][0]["python_module"]["location_name"] == LOCATION
    origins = location_origins_from_yaml_paths([str(ROOT / "workspace.yaml")])
    assert [o.location_name for o in origins] == [LOCATION]


def test_dagster_loads_the_workspace_under_that_name(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert f"Validation successful for code location {LOCATION}" in out, out[-4000:]


# ---------------------------------------------------------------------------------------------
# with_warehouse_metadata on a small DuckDB file
# ---------------------------------------------------------------------------------------------
def _warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.orders (order_id varchar, amount decimal(18,2), placed date)")
    con.execute("insert into marts.orders select 'o' || i, i, date '2024-01-01' from range(1234) t(i)")
    con.execute("create view marts.orders_v as select * from marts.orders")
    con.close()
    return path


NODES = {"nodes": {
    "model.p.orders": {"schema": "marts", "alias": "orders", "name": "orders",
                       "columns": {"order_id": {"description": "The order."}}},
    "model.p.orders_v": {"schema": "marts", "alias": "orders_v", "name": "orders_v", "columns": {}},
    "model.p.never_built": {"schema": "marts", "alias": "never_built", "name": "never_built", "columns": {}},
}}


def _output(uid: str) -> Output:
    return Output(None, output_name=uid.split(".")[-1], metadata={"unique_id": uid})


def test_metadata_attached_after_the_events_and_failure_reraised(tmp_path):
    wh = _warehouse(tmp_path / "w.duckdb")
    check = AssetCheckResult(asset_key=AssetKey("orders"), check_name="c", passed=False)
    boom = RuntimeError("dbt test failed")

    def events():
        yield _output("model.p.orders")
        yield check
        yield _output("model.p.orders_v")
        yield _output("model.p.never_built")
        raise boom

    got, it = [], with_warehouse_metadata(events(), NODES, wh)
    with pytest.raises(RuntimeError) as raised:
        for e in it:
            got.append(e)
    assert raised.value is boom, "the build's own exception, after its events"
    assert len(got) == 4 and got[1] is check
    orders, view, never = got[0].metadata, got[2].metadata, got[3].metadata
    assert orders[ROW_COUNT].value == 1234
    cols = orders[COLUMN_SCHEMA].value.columns
    assert [(c.name, c.type, c.description) for c in cols] == [
        ("order_id", "VARCHAR", "The order."), ("amount", "DECIMAL(18,2)", None), ("placed", "DATE", None)]
    assert ROW_COUNT not in view and [c.name for c in view[COLUMN_SCHEMA].value.columns] == ["order_id", "amount", "placed"]
    assert ROW_COUNT not in never and COLUMN_SCHEMA not in never
    assert orders["unique_id"].value == "model.p.orders", "dbt's own metadata is kept"


def test_unreadable_warehouse_leaves_the_events_as_they_were(tmp_path):
    class Log:
        warnings: list = []

        def warning(self, msg):
            self.warnings.append(msg)

        def info(self, msg):
            pass

    log = Log()
    events = [_output("model.p.orders")]
    got = list(with_warehouse_metadata(iter(events), NODES, tmp_path / "missing" / "w.duckdb", log))
    assert got == events and ROW_COUNT not in got[0].metadata
    assert log.warnings and "not attached" in log.warnings[0]


# ---------------------------------------------------------------------------------------------
# A real run: the daily job over a tiny landing zone, dbt through Dagster
# ---------------------------------------------------------------------------------------------
DATES = ["2024-01-01", "2024-01-02", "2024-01-03"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One backfill run of daily_refresh_job (ingestion -> dbt -> GX -> publication) on a sample
    landing zone of 20 accounts and 3 days, as tests/test_ui_browser.py materializes its site."""
    base = tmp_path_factory.mktemp("metadata_site")
    landing, home, data = base / "landing", base / "dagster_home", base / "data"
    home.mkdir()
    shutil.copy(ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "CSP_LANDING_DIR": str(landing), "CSP_DATA_DIR": str(data),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "GX_ANALYTICS_ENABLED": "false"}
    subprocess.run([sys.executable, "-m", "orchestration.lib.sample_data", "--accounts", "20", "--days", str(len(DATES)),
                    "--seed", "5", "--dirt-rate", "0", "--out", str(landing), "--quiet"], cwd=ROOT, env=env, check=True)
    run = subprocess.run([sys.executable, RUNNER, "backfill", DATES[0], DATES[-1]], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    return {"home": home, "warehouse": data / "warehouse" / "warehouse.duckdb", "log": run.stdout + run.stderr}


def _latest_materializations(home: Path) -> dict[str, dict]:
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as inst:
        latest = inst.get_latest_materialization_events(inst.get_asset_keys())
    return {k.to_user_string(): e.asset_materialization.metadata for k, e in latest.items() if e is not None}


@pytest.mark.slow
def test_materializations_carry_the_warehouse_row_counts_and_column_types(site):
    mats = _latest_materializations(site["home"])
    con = duckdb.connect(str(site["warehouse"]), read_only=True)
    try:
        def columns(schema, table):
            return con.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                               "and table_name = ? order by ordinal_position", [schema, table]).fetchall()

        for mart in ("mart_renewals", "fct_mrr_movements", "dim_accounts"):
            md = mats[f"marts/{mart}"]
            (rows,), = con.execute(f"select count(*) from marts.{mart}").fetchall()
            assert rows > 0, f"{mart} has rows on the sample"
            assert md[ROW_COUNT].value == rows, mart
            schema = md[COLUMN_SCHEMA].value
            got = [(c.name, c.type) for c in schema.columns]
            assert got == columns("marts", mart), mart
            assert all(t for _, t in got)
        renewals = {c.name: c.description for c in mats["marts/mart_renewals"][COLUMN_SCHEMA].value.columns}
        assert renewals["renewal_id"] == "Row key, account_id|due_date."   # the dbt YAML's description
        # every dbt model materialized in the run has a column schema; tables also a row count
        views = {t for (t,) in con.execute("select table_name from information_schema.tables where table_type = 'VIEW'").fetchall()}
    finally:
        con.close()
    dbt_models = {k: md for k, md in mats.items() if "unique_id" in md and str(md["unique_id"].value).startswith("model.")}
    assert len(dbt_models) > 30
    assert all(COLUMN_SCHEMA in md for md in dbt_models.values()), [k for k, md in dbt_models.items() if COLUMN_SCHEMA not in md]
    no_count = {k.split("/")[-1] for k, md in dbt_models.items() if ROW_COUNT not in md}
    assert no_count == {k.split("/")[-1] for k in dbt_models} & views, "row counts for every table, none for views"
    assert "read from the warehouse in" in site["log"]
