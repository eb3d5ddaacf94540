"""Freshness of the daily drops, per source, as blocking asset checks on the ingestion assets.

Each source has an expected arrival time (config/pipeline.yaml freshness.<source>.expected_by,
in schedule.timezone). At time `now` the drop dated today is due once `expected_by` has passed,
otherwise yesterday's is the newest one due. A source is fresh when its newest complete drop
(folder with `_SUCCESS`) at or before the reference date IS the reference date, where the
reference date is:

- in a run over drop-date partitions (daily run, sensor run, backfill): the last partition of
  the run, capped at the drop due now. So a backfill of past dates checks those dates, and
  the daily run checks that the drop it is about to publish has arrived;
- otherwise (the hourly freshness-check run, a check launched alone from the UI): the drop
  due now.

Stale or missing => the check fails with severity ERROR. The checks are `blocking`, so in a run
that contains them Dagster does not execute the assets downstream of the ingestion assets
(dbt, GX checks, `serving_marts`): nothing stale is published as fresh. Days with no complete
drop between the first drop and the reference date (within freshness.gap_window_days) fail the
check with severity WARN (not blocking). `assert_fresh` applies the same rule to every source
and raises `dagster.Failure`: the publication asset calls it as a second gate for runs that
publish without ingesting (a materialization of the marts or of `serving_marts` alone).
The rule itself is in orchestration/lib/freshness.py.
"""

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    Failure,
    MetadataValue,
    multi_asset_check,
)

from orchestration.defs.assets.ingestion import raw_asset_key
from orchestration.lib.freshness import SourceFreshness, evaluate_all, evaluate_source
from orchestration.lib.ingestion.contracts import OBJECTS, SOURCES
from orchestration.lib.run_tags import last_drop
from orchestration.lib.settings import get_settings

CHECK_NAME = "drop_freshness"


def assert_fresh(context=None, *, now: dt.datetime | None = None, as_of: str | None = None,
                 landing: Path | None = None, sources: Iterable[str] = SOURCES) -> dict[str, SourceFreshness]:
    """Raise dagster.Failure unless every source is fresh (gaps only warn).

    `context`: an asset/op execution context; its run's partition tags give the reference date
    (so a backfill of past dates is judged on those dates). Call it at the top of the
    publication asset: `assert_fresh(context)`. Returns the evaluation when fresh."""
    if as_of is None and context is not None:
        run = getattr(context, "run", None) or getattr(context, "dagster_run", None)
        as_of = last_drop(run.tags if run is not None else None)
    results = evaluate_all(now, as_of=as_of, landing=landing, sources=sources)
    stale = [r for r in results.values() if not r.fresh]
    log = getattr(context, "log", None)
    for r in results.values():
        if log is not None and r.fresh and r.has_gaps:
            log.warning(r.summary())
    if stale:
        raise Failure(
            description="stale data, not publishing: " + "; ".join(r.summary() for r in stale),
            metadata={"freshness": MetadataValue.json({r.source: r.to_dict() for r in results.values()})},
        )
    return results


def freshness_metadata(r: SourceFreshness) -> dict:
    return {
        "source": r.source,
        "reference_date": r.reference_date,
        "reference": r.reference,
        "expected_by": r.expected_by,
        "latest_complete_drop": r.latest_complete_drop or "",
        "lag_days": r.lag_days if r.lag_days is not None else -1,
        "missing_days": MetadataValue.json(r.missing_days),
        "incomplete_drops": MetadataValue.json(r.incomplete_reasons),
    }


def check_result_for(r: SourceFreshness, asset_key) -> AssetCheckResult:
    if not r.fresh:
        passed, severity = False, AssetCheckSeverity.ERROR
    elif r.has_gaps:
        passed, severity = False, AssetCheckSeverity.WARN
    else:
        passed, severity = True, AssetCheckSeverity.ERROR
    return AssetCheckResult(
        asset_key=asset_key, check_name=CHECK_NAME, passed=passed, severity=severity,
        description=r.summary()[:1000], metadata=freshness_metadata(r),
    )


def build_freshness_checks(source: str):
    """One multi-asset check per source: a `drop_freshness` check on each of its ingestion assets."""
    keys = [raw_asset_key(o) for o in OBJECTS if o.source == source]
    expected = get_settings().freshness.expected_by[source].strftime("%H:%M")

    @multi_asset_check(
        name=f"{source}_drop_freshness",
        specs=[AssetCheckSpec(
            CHECK_NAME, asset=k, blocking=True,
            description=(f"The day's `{source}` drop is complete (`_SUCCESS`) once it is due "
                         f"(expected by {expected} {get_settings().freshness.timezone}); fails (ERROR, "
                         "blocks dbt and publication in the same run) when missing or late, warns "
                         "on missing days between drops."),
        ) for k in keys],
        can_subset=True,
        compute_kind="python",
        description=f"Freshness of the `{source}` drops in the landing zone.",
    )
    def _check(context: AssetCheckExecutionContext):
        as_of = last_drop(context.run.tags)
        r = evaluate_source(get_settings().landing_dir, source, dt.datetime.now(dt.UTC), as_of=as_of)
        (context.log.info if r.fresh and not r.has_gaps else context.log.warning)(r.summary())
        for ck in context.selected_asset_check_keys:
            yield check_result_for(r, ck.asset_key)

    return _check


freshness_checks = [build_freshness_checks(s) for s in SOURCES]
