"""Blocking Dagster asset checks that run the Great Expectations suites (expectations/) on the
marts before publication. One check per validated mart (`<mart key>:gx_expectations`), all
executed by one multi-asset check op (one GX run, one read-only warehouse connection, one Data
Docs site per Dagster run under data/gx_docs/<run_id>/).

Blocking: a failed check (severity ERROR) fails its step, so Dagster does not execute the
assets downstream of the mart in the same run (`serving_marts`), and the run fails.
"""

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetChecksDefinition,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from ..publication import ValidationOutcome, validate_marts, validated_marts
from ..settings import get_settings

GX_CHECK_NAME = "gx_expectations"

PathSource = str | os.PathLike | Callable[[], str | os.PathLike] | None


def default_docs_dir() -> Path:
    return get_settings().data_dir / "gx_docs"


def _resolve(value: PathSource, default: Callable[[], Path]) -> Path:
    if value is None:
        return Path(default())
    if callable(value):
        return Path(value())
    return Path(value)


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
    pool: str | None = "warehouse",
    partitions_def=None,
) -> list[AssetChecksDefinition]:
    """Blocking GX asset checks, one per validated mart (default: every suite in
    expectations/suites.py), on the assets `asset_key_for(mart)` (e.g. the dbt mart keys).

    warehouse_path / docs_dir: paths or zero-argument callables, resolved at execution time
    (default: settings.warehouse_path and <data dir>/gx_docs). partitions_def: pass the marts'
    PartitionsDefinition only if the checks must be partitioned like them."""
    marts = list(marts or validated_marts())
    key_to_mart = {asset_key_for(m): m for m in marts}
    specs = [
        AssetCheckSpec(
            name=GX_CHECK_NAME,
            asset=key,
            blocking=True,
            description=f"Great Expectations suite `{mart}` (expectations/README.md); "
            "blocks publication when it fails",
            partitions_def=partitions_def,
        )
        for key, mart in key_to_mart.items()
    ]

    @multi_asset_check(
        name="gx_mart_expectations",
        specs=specs,
        can_subset=True,
        compute_kind="great_expectations",
        description="Validate the marts with their GX suites before publication (blocking).",
        pool=pool,
    )
    def gx_mart_expectations(context: AssetCheckExecutionContext):
        selected = [
            key_to_mart[ck.asset_key]
            for ck in context.selected_asset_check_keys
            if ck.name == GX_CHECK_NAME and ck.asset_key in key_to_mart
        ]
        wh = _resolve(warehouse_path, lambda: get_settings().warehouse_path)
        docs = _resolve(docs_dir, default_docs_dir)
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
