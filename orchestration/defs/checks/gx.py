"""Blocking Dagster asset checks that run the Great Expectations suites (expectations/) on the
marts before publication. One check per validated mart (`<mart key>:gx_expectations`), all
executed by one multi-asset check op (one GX run, one read-only warehouse connection, one Data
Docs site per Dagster run under data/gx_docs/<run_id>/).

Blocking: a failed check (severity ERROR) fails its step, so Dagster does not execute the
assets downstream of the mart in the same run (`serving_marts`), and the run fails.
"""

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from orchestration.lib.settings import PathSource, get_settings, resolve_path
from orchestration.lib.validation import ValidationOutcome, validate_marts, validated_marts

GX_CHECK_NAME = "gx_expectations"

def default_docs_dir() -> Path:
    return get_settings().data_dir / "gx_docs"


def gx_check_key(mart_key: AssetKey) -> AssetCheckKey:
    return AssetCheckKey(asset_key=mart_key, name=GX_CHECK_NAME)


def outcome_metadata(outcome: ValidationOutcome) -> dict:
    """Check-result metadata: what failed, sample rows, and where the Data Docs are."""
    md: dict = {
        "expectations_evaluated": outcome.evaluated,
        "expectations_failed": len(outcome.failed),
        "failed_expectations": MetadataValue.json(
            [
                {
                    "expectation": f.expectation,
                    "description": f.description,
                    "observed_value": f.observed_value,
                    "unexpected_count": f.unexpected_count,
                    "sample_rows": f.sample_rows,
                    **({"exception": f.exception} if f.exception else {}),
                }
                for f in outcome.failed
            ]
        ),
        "summary": MetadataValue.text(outcome.summary()),
    }
    if outcome.failed:
        first = next((f for f in outcome.failed if f.sample_rows), None)
        if first is not None:
            md["sample_failing_rows"] = MetadataValue.json(
                {"expectation": first.description, "rows": first.sample_rows}
            )
    if outcome.error:
        md["error"] = MetadataValue.text(outcome.error)
    # the paths (as before) and clickable file:// URLs; the pages open offline (orchestration/
    # gx_docs.py vendors their JS/CSS/fonts)
    if outcome.data_docs_path:
        md["data_docs"] = MetadataValue.path(outcome.data_docs_path)
        md["data_docs_url"] = MetadataValue.url(file_url(outcome.data_docs_path))
    if outcome.data_docs_index:
        md["data_docs_index"] = MetadataValue.path(outcome.data_docs_index)
        md["data_docs_index_url"] = MetadataValue.url(file_url(outcome.data_docs_index))
    return md


def file_url(path: str | os.PathLike) -> str:
    """file:///abs/path/page.html (percent-encoded) for a Data Docs page."""
    return Path(path).resolve().as_uri()


def build_gx_checks(
    asset_key_for: Callable[[str], AssetKey],
    *,
    marts: Sequence[str] | None = None,
    warehouse_path: PathSource = None,
    docs_dir: PathSource = None,
) -> list[AssetChecksDefinition]:
    """Blocking GX asset checks, one per validated mart (default: every suite in
    expectations/suites.py), on the assets `asset_key_for(mart)` (e.g. the dbt mart keys).

    warehouse_path / docs_dir: paths or zero-argument callables, resolved at execution time
    (default: settings.warehouse_path and <data dir>/gx_docs)."""
    marts = list(marts or validated_marts())
    key_to_mart = {asset_key_for(m): m for m in marts}
    specs = [
        AssetCheckSpec(
            name=GX_CHECK_NAME,
            asset=key,
            blocking=True,
            description=f"Great Expectations suite `{mart}` (expectations/README.md); "
            "blocks publication when it fails",
        )
        for key, mart in key_to_mart.items()
    ]

    @multi_asset_check(
        name="gx_mart_expectations",
        specs=specs,
        can_subset=True,
        compute_kind="great_expectations",
        description="Validate the marts with their GX suites before publication (blocking).",
        pool="warehouse",   # one warehouse reader/writer at a time (config/dagster.yaml)
    )
    def gx_mart_expectations(context: AssetCheckExecutionContext):
        selected = [
            key_to_mart[ck.asset_key]
            for ck in context.selected_asset_check_keys
            if ck.name == GX_CHECK_NAME and ck.asset_key in key_to_mart
        ]
        wh = resolve_path(warehouse_path, lambda: get_settings().warehouse_path)
        docs = resolve_path(docs_dir, default_docs_dir)
        outcomes = validate_marts(wh, docs, context.run.run_id, marts=selected)
        for mart in selected:
            outcome = outcomes[mart]
            if outcome.success:
                context.log.info(outcome.summary())
            else:
                context.log.error(outcome.summary())
            yield AssetCheckResult(
                asset_key=asset_key_for(mart),
                check_name=GX_CHECK_NAME,
                passed=outcome.success,
                severity=AssetCheckSeverity.ERROR,
                description=outcome.summary()[:1000],
                metadata=outcome_metadata(outcome),
            )

    return [gx_mart_expectations]


# ---------------------------------------------------------------------------------------------
# The gate: has every validated mart passed its latest check? (serving_marts asks)
# ---------------------------------------------------------------------------------------------
def _latest_validation(storage, check_key, run_id: str, scan: int = 50):
    """The latest check execution record that says something about the mart: PLANNED records
    of other runs are skipped. A run creates them when it is created, so every run waiting in
    the run queue (a sensor's catch-up, the schedule and the sensor both asking) would otherwise
    shadow the validation the publishing run has just done. A PLANNED record of this run (its
    check did not execute) still counts, as do results of other runs."""
    for rec in storage.get_asset_check_execution_history(check_key, limit=scan):
        if rec.status == AssetCheckExecutionRecordStatus.PLANNED and rec.run_id != run_id:
            continue
        return rec
    return None


def gate_problems(context, mart_keys: Mapping[str, AssetKey]) -> list[str]:
    """Reasons not to publish (empty = every validated mart passed its latest GX check, and
    that check is about the mart's latest materialization). `context`: the publishing asset's."""
    gated = [m for m in validated_marts() if m in mart_keys]
    check_keys = {gx_check_key(mart_keys[m]): m for m in gated}
    storage = context.instance.event_log_storage
    problems = []
    for ck, mart in check_keys.items():
        rec = _latest_validation(storage, ck, context.run.run_id)
        if rec is None:
            problems.append(f"{mart}: never validated")
            continue
        if rec.status != AssetCheckExecutionRecordStatus.SUCCEEDED:
            problems.append(f"{mart}: latest validation {rec.status.value} (run {rec.run_id})")
            continue
        # the passing evaluation must be about the latest materialization of the mart
        latest = context.instance.get_latest_materialization_event(ck.asset_key)
        evaluation = None
        if rec.event is not None and rec.event.dagster_event is not None:
            evaluation = rec.event.dagster_event.event_specific_data
        target = getattr(evaluation, "target_materialization_data", None)
        if latest is not None and target is not None and latest.run_id != target.run_id:
            if latest.timestamp > target.timestamp:
                problems.append(
                    f"{mart}: materialized in run {latest.run_id} after its last validation"
                )
    return problems
