"""Every dbt model as a Dagster asset (dbt tests become asset checks). Raw sources map onto
the ingestion assets; models are keyed by layer (staging / intermediate / marts)."""
import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dagster import AssetCheckSpec, AssetExecutionContext, AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.assets.dbt_metadata import check_description, with_warehouse_metadata
from orchestration.defs.dbt_project import get_dbt_project
from orchestration.lib.engines import DBT_TARGET, dbt_env, on_spark
from orchestration.lib.health_config import validate_health_config
from orchestration.lib.ingestion.load_state import clear_refresh, pending_refresh
from orchestration.lib.ingestion.raw_store import latest_loaded_drop
from orchestration.lib.run_tags import first_drop
from orchestration.lib.settings import DBT_PROJECT_DIR, get_settings

OWNER = "team:analytics-engineering"
LAYERS = ("staging", "intermediate", "marts")


def _layer(props: Mapping[str, Any]) -> str:
    fqn = props.get("fqn") or []
    for part in fqn:
        if part in LAYERS:
            return part
    return "seeds" if props.get("resource_type") == "seed" else "marts"


class PlatformTranslator(DagsterDbtTranslator):
    def get_asset_key(self, props: Mapping[str, Any]) -> AssetKey:
        if props["resource_type"] == "source":
            # raw.<source>__<table> -> the ingestion asset that writes it
            source, _, table = props["name"].partition("__")
            if table == "subscription_event_items":
                table = "subscription_events"
            if source == "ingestion" or props["name"] == "rejects":
                return AssetKey(["raw", "rejects"])
            return AssetKey(["raw", source, table])
        if props["resource_type"] == "seed":
            return AssetKey(["config", props["name"]])
        return AssetKey([_layer(props), props["name"]])

    def get_group_name(self, props: Mapping[str, Any]) -> str | None:
        if props["resource_type"] == "seed":
            return "configuration"
        if props["resource_type"] == "source":
            return "ingestion"
        return _layer(props)

    def get_description(self, props: Mapping[str, Any]) -> str:
        if props["resource_type"] == "source" and props["name"] == "rejects":
            return ("Quarantined records of every ingestion asset (file, line, reason, raw record), "
                    "written beside the raw layer in data/raw/_rejects/.")
        return super().get_description(props)

    def get_owners(self, props: Mapping[str, Any]):
        return [OWNER]

    def get_asset_check_spec(self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project) -> AssetCheckSpec | None:
        """dagster-dbt reads a check's description from the test's `meta` only: here the YAML
        `description:`, else one made from the test and its arguments (dbt_metadata.py)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        test = manifest["nodes"].get(unique_id) or {}
        return spec._replace(description=check_description(test))


translator = PlatformTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True))


def mart_key(model_name: str) -> AssetKey:
    return AssetKey(["marts", model_name])


def run_first_drop(context: AssetExecutionContext) -> str | None:
    """The first drop date of the run (a partition range, or a single partition), from the
    run's tags: the models are not partitioned themselves (one dbt build per run, whatever the
    number of drops), the ingestion assets are."""
    return first_drop(context.run.tags)


def dbt_vars(context: AssetExecutionContext, pending_from: str | None = None) -> dict:
    """The incremental window starts at the earliest of: the run's first drop date minus the
    late-event lookback, and the day the raw layer says the warehouse still owes
    (`pending_from`: loads since the last successful build, including a killed or failed
    run's, re-delivered drops and events later than the lookback; ingestion/load_state.py).
    The as-of date is always the latest loaded drop: found here once, from the raw layer's
    folders, rather than by every model that needs it scanning every raw file."""
    settings = get_settings()
    out = {"lookback_days": settings.lookback_days}
    as_of = latest_loaded_drop(settings.raw_dir)
    if as_of:
        out["as_of_date"] = as_of
    starts = [pending_from] if pending_from else []
    first = run_first_drop(context)
    if first:
        start = datetime.fromisoformat(first[:10])
        starts.append((start - timedelta(days=settings.lookback_days)).date().isoformat())
    if starts:
        out["refresh_start"] = min(starts)
    return out


@dbt_assets(
    manifest=get_dbt_project().manifest_path,
    # no `project=`: dagster-dbt would attach the DbtProject object to every asset's metadata,
    # which the UI shows as "[DbtProject] (unserializable)". The resource has the project dir;
    # without it a subset of more than 200 dbt resources is selected with --select arguments
    # rather than a generated selectors.yml in a temporary copy of the project.
    dagster_dbt_translator=translator,
    # Not partitioned: one dbt build per run covers however many drops the run ingested, and
    # Dagster does not write an event per model per partition (tens of thousands of SQLite
    # commits on a first load).
    pool="warehouse",
    name="dbt_models",
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    validate_health_config(DBT_PROJECT_DIR / "seeds")   # a clear error before anything is built
    os.environ.update(dbt_env())
    settings = get_settings()
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    pending_from, generation = pending_refresh(settings.raw_dir)
    dbt_vars_ = dbt_vars(context, pending_from)
    if pending_from:
        context.log.info(f"refresh window from {dbt_vars_['refresh_start']} "
                         f"(the warehouse owes the days from {pending_from} on)")
    invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars_)], context=context)
    events = invocation.stream()
    if not on_spark():
        # row counts and column types from the warehouse, read once dbt has exited (it holds
        # the DuckDB file until then): the events of the build come out when dbt ends, those
        # before a failure too, and the failure is raised after them (dbt_metadata.py)
        events = with_warehouse_metadata(events, invocation.manifest, settings.warehouse_path, context.log)
    yield from events
    if on_spark():
        # the marts this build exported (on-run-end hook) -> the DuckDB file the GX gate
        # validates and publication copies (orchestration/lib/engines/spark.py)
        from orchestration.lib.engines.spark import refresh_marts_db

        counts = refresh_marts_db(manifest_path=get_dbt_project().manifest_path)
        context.log.info(f"loaded the exported Spark marts for validation: {counts}")
    # reached only when every model and test passed: what this build covered is no longer owed
    clear_refresh(settings.raw_dir, generation)


# dbt from this interpreter's environment, whether or not the venv is on PATH, through the
# `csp-dbt` wrapper (pyproject.toml): a dbt child dies with the run that started it
_BIN = Path(sys.executable).parent
DBT_EXECUTABLE = str(_BIN / "csp-dbt") if (_BIN / "csp-dbt").exists() else str(_BIN / "dbt")
dbt_resource = DbtCliResource(project_dir=get_dbt_project(), profiles_dir=str(get_dbt_project().profiles_dir),
                              dbt_executable=DBT_EXECUTABLE, target=DBT_TARGET)
