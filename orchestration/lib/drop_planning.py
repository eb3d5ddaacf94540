"""Which drop dates a run covers (no Dagster): the dates the new-drop sensor starts a daily run
for (orchestration/defs/sensors.py turns them into run requests), and how `csp build` cuts a
long range of drops into runs of bounded landing size (`drop_chunks`).

A date is ready once every source's drop of that date is complete (`_SUCCESS`). The sensor's
cursor remembers the dates already requested; on its very first tick at most the
`sensor.catch_up_days` most recent dates are requested (history is a backfill).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from orchestration.lib.ingestion.contracts import SOURCES
from orchestration.lib.ingestion.landing import list_drops
from orchestration.lib.settings import get_settings

CURSOR_KEEP_DAYS = 90


def ready_drop_dates(landing, sources: Sequence[str] = SOURCES) -> tuple[list[str], dict[str, list[str]]]:
    """(dates complete in every source, {date: sources still missing} for partial dates)."""
    complete = {s: set(list_drops(landing, s)[0]) for s in sources}
    all_dates = set().union(*complete.values()) if complete else set()
    ready = sorted(d for d in all_dates if all(d in c for c in complete.values()))
    waiting = {d: sorted(s for s in sources if d not in complete[s]) for d in sorted(all_dates) if d not in ready}
    return ready, waiting


def load_cursor(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
        return value if isinstance(value, dict) else None
    except ValueError:
        return None


def plan_new_drop_runs(landing, cursor: str | None, *, catch_up_days: int | None = None,
                       partitions_start: str | None = None):
    """Pure logic of the sensor: (dates to request, new cursor, skip message or None)."""
    catch_up = get_settings().sensor.catch_up_days if catch_up_days is None else catch_up_days
    start = partitions_start or get_settings().partitions_start
    ready, waiting = ready_drop_dates(landing)
    ready = [d for d in ready if d >= start]
    state = load_cursor(cursor)
    if state is None:
        # first tick: the `catch_up` newest ready dates (0 = none: only drops from now on)
        floor = ready[max(0, len(ready) - catch_up)] if ready and catch_up > 0 else ""
        done: set[str] = set(ready) if catch_up <= 0 else set()
    else:
        done = set(state.get("done", []))
        floor = state.get("floor", "")
    new = [d for d in ready if d >= floor and d not in done]
    done |= set(new)
    if done:
        newest = max(done)
        keep_from = (dt.date.fromisoformat(newest) - dt.timedelta(days=CURSOR_KEEP_DAYS)).isoformat()
        floor = max(floor, keep_from)
        done = {d for d in done if d >= floor}
    new_cursor = json.dumps({"floor": floor, "done": sorted(done)})
    skip = None
    if not new:
        if waiting:
            last = max(waiting)
            skip = f"no new complete drop; {last} still waiting for {', '.join(waiting[last])} (_SUCCESS)"
        else:
            skip = "no new complete drop" + (f" (newest {ready[-1]} already requested)" if ready else " in the landing zone")
    return new, new_cursor, skip


def drop_chunks(drops: list[str], landing: Path, max_mb: float) -> list[list[str]]:
    """Consecutive runs of drops holding at most `max_mb` of landing data each (a drop bigger
    than that runs alone; 0 or less: one run)."""
    if not drops:
        return []
    if max_mb <= 0:
        return [drops]
    limit = max_mb * 2**20
    chunks, current, size = [], [], 0
    for d in drops:
        drop_size = sum(f.stat().st_size for source in SOURCES
                        for f in (Path(landing) / source / d).glob("*") if f.is_file())
        if current and size + drop_size > limit:
            chunks.append(current)
            current, size = [], 0
        current.append(d)
        size += drop_size
    chunks.append(current)
    return chunks
