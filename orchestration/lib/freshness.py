"""Freshness of the daily drops, per source (no Dagster; the asset checks and the publication
gate in orchestration/defs/ apply it).

Each source has an expected arrival time (config/pipeline.yaml freshness.<source>.expected_by,
in schedule.timezone). At time `now` the drop dated today is due once `expected_by` has passed,
otherwise yesterday's is the newest one due. A source is fresh when its newest complete drop
(folder with `_SUCCESS`) at or before the reference date IS the reference date, where the
reference date is the last drop date a run covers (capped at the drop due now), or the drop
due now for a run that covers no drop dates. Days with no complete drop between the first
drop and the reference date (within freshness.gap_window_days) are gaps.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from orchestration.lib.ingestion.contracts import SOURCES
from orchestration.lib.ingestion.landing import drop_problems, list_drops
from orchestration.lib.settings import get_settings


def expected_drop_date(now: dt.datetime, expected_by: dt.time, tz) -> dt.date:
    """The newest drop date that should have arrived at `now`."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
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
    fs = get_settings().freshness
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


def evaluate_all(
    now: dt.datetime | None = None,
    *,
    as_of: str | dt.date | None = None,
    landing: Path | None = None,
    sources: Iterable[str] = SOURCES,
) -> dict[str, SourceFreshness]:
    now = now or dt.datetime.now(dt.UTC)
    landing = Path(landing or get_settings().landing_dir)
    return {s: evaluate_source(landing, s, now, as_of=as_of) for s in sources}
