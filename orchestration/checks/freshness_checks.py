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
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
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

from ..assets.ingestion import raw_asset_key
from ..ingestion.contracts import OBJECTS
from ..ingestion.landing import drop_problems, list_drops
from ..ops_settings import SOURCES, freshness_settings
from ..settings import get_settings

CHECK_NAME = "drop_freshness"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def expected_drop_date(now: dt.datetime, expected_by: dt.time, tz) -> dt.date:
    """The newest drop date that should have arrived at `now`."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    local = now.astimezone(tz)
    return local.date() if local.time() >= expected_by else local.date() - dt.timedelta(days=1)


@dataclass
class SourceFreshness:
    source: str
    reference_date: str  # the drop date that must be present
    reference: str  # "now" or "partition"
    expected_by: str
    latest_complete_drop: str | None
    fresh: bool
    lag_days: int | None
    missing_days: list[str] = field(default_factory=list)  # gaps before the reference date
    incomplete_drops: list[str] = field(default_factory=list)  # folders not complete (no _SUCCESS, or an object missing)
    incomplete_reasons: dict[str, list[str]] = field(default_factory=dict)  # {drop: why it is not complete}

    @property
    def has_gaps(self) -> bool:
        return bool(self.missing_days)

    def summary(self) -> str:
        if not self.fresh:
            latest = self.latest_complete_drop or "none"
            why = [w for w in self.incomplete_reasons.get(self.reference_date, []) if "_SUCCESS" not in w]
            if why:   # marked complete, but an object's file is missing
                return (f"{self.source}: drop {self.reference_date} incomplete ({', '.join(why)}), not read; "
                        f"newest complete drop {latest}")
            return (f"{self.source}: drop {self.reference_date} missing or late (expected by "
                    f"{self.expected_by}); newest complete drop {latest}"
                    + (f", {self.lag_days} day(s) behind" if self.lag_days is not None else ""))
        if self.missing_days:
            return (f"{self.source}: fresh up to {self.reference_date}, but {len(self.missing_days)} day(s) "
                    f"without a complete drop: {', '.join(self.missing_days[:10])}")
        return f"{self.source}: fresh, newest complete drop {self.latest_complete_drop}"

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate_source(
    landing: Path,
    source: str,
    now: dt.datetime,
    *,
    as_of: str | dt.date | None = None,
    expected_by: dt.time | None = None,
    tz=None,
    gap_window_days: int | None = None,
) -> SourceFreshness:
    """Freshness of one source at `now` (see the module docstring). `as_of`: the last drop
    date a run covers (partition), capped at the drop due now."""
    fs = freshness_settings()
    expected_by = expected_by or fs.expected_by.get(source, dt.time(6, 0))
    tz = tz or fs.tz
    window = fs.gap_window_days if gap_window_days is None else gap_window_days
    due = expected_drop_date(now, expected_by, tz)
    reference, ref_date = "now", due
    if as_of is not None:
        as_of_date = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of)[:10])
        if as_of_date <= due:
            reference, ref_date = "partition", as_of_date
    complete, incomplete = list_drops(landing, source)
    upto = [d for d in complete if d <= ref_date.isoformat()]
    latest = upto[-1] if upto else None
    fresh = latest == ref_date.isoformat()
    lag = (ref_date - dt.date.fromisoformat(latest)).days if latest else None
    missing: list[str] = []
    if upto:
        start = max(dt.date.fromisoformat(upto[0]), ref_date - dt.timedelta(days=window - 1))
        have = set(upto)
        # gaps strictly before the newest complete drop (after it, the source is simply late)
        d, last = start, dt.date.fromisoformat(latest)
        while d < last:
            if d.isoformat() not in have:
                missing.append(d.isoformat())
            d += dt.timedelta(days=1)
    shown = [d for d in incomplete if d <= ref_date.isoformat()][-10:]
    return SourceFreshness(
        source=source,
        reference_date=ref_date.isoformat(),
        reference=reference,
        expected_by=expected_by.strftime("%H:%M") + f" {getattr(tz, 'key', tz)}",
        latest_complete_drop=latest,
        fresh=fresh,
        lag_days=lag,
        missing_days=missing,
        incomplete_drops=shown,
        incomplete_reasons={d: drop_problems(landing, source, d) for d in shown},
    )


def run_partition_end(tags: Mapping[str, str] | None) -> str | None:
    """The last drop date covered by a run, from its partition tags (None if unpartitioned)."""
    tags = tags or {}
    return tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG) or None


def evaluate_all(
    now: dt.datetime | None = None,
    *,
    as_of: str | dt.date | None = None,
    landing: Path | None = None,
    sources: Iterable[str] = SOURCES,
) -> dict[str, SourceFreshness]:
    now = now or dt.datetime.now(dt.timezone.utc)
    landing = Path(landing or get_settings().landing_dir)
    return {s: evaluate_source(landing, s, now, as_of=as_of) for s in sources}


def assert_fresh(context=None, *, now: dt.datetime | None = None, as_of: str | None = None,
                 landing: Path | None = None, sources: Iterable[str] = SOURCES) -> dict[str, SourceFreshness]:
    """Raise dagster.Failure unless every source is fresh (gaps only warn).

    `context`: an asset/op execution context; its run's partition tags give the reference date
    (so a backfill of past dates is judged on those dates). Call it at the top of the
    publication asset: `assert_fresh(context)`. Returns the evaluation when fresh."""
    if as_of is None and context is not None:
        run = getattr(context, "run", None) or getattr(context, "dagster_run", None)
        as_of = run_partition_end(run.tags if run is not None else None)
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
    expected = freshness_settings().expected_by[source].strftime("%H:%M")

    @multi_asset_check(
        name=f"{source}_drop_freshness",
        specs=[AssetCheckSpec(
            CHECK_NAME, asset=k, blocking=True,
            description=(f"The day's `{source}` drop is complete (`_SUCCESS`) once it is due "
                         f"(expected by {expected} {freshness_settings().timezone}); fails (ERROR, "
                         "blocks dbt and publication in the same run) when missing or late, warns "
                         "on missing days between drops."),
        ) for k in keys],
        can_subset=True,
        compute_kind="python",
        description=f"Freshness of the `{source}` drops in the landing zone.",
    )
    def _check(context: AssetCheckExecutionContext):
        as_of = run_partition_end(context.run.tags)
        r = evaluate_source(get_settings().landing_dir, source, dt.datetime.now(dt.timezone.utc), as_of=as_of)
        (context.log.info if r.fresh and not r.has_gaps else context.log.warning)(r.summary())
        for ck in context.selected_asset_check_keys:
            yield check_result_for(r, ck.asset_key)

    return _check


freshness_checks = [build_freshness_checks(s) for s in SOURCES]
