"""What the warehouse still owes the raw layer, kept on disk beside it (<raw>/_state/), so that
it survives a killed or failed run and does not depend on which process ran what:

- `refresh_from.json`: the earliest day the incremental models must reprocess. Every load
  lowers it to the loaded drop's date minus the late-event lookback, or to the earliest day
  its records are about when that is earlier (a re-delivered old drop, an event far later than
  the lookback). The dbt build starts its window there and, once it has succeeded, clears
  what it covered. A build killed or failed half-way clears nothing: the next one reprocesses
  the whole window again, so a daily run and a fresh build publish the same marts.
- `reject_blocks.json`: drops whose reject-rate check failed. While any is listed the gated
  marts are not published (the serving database keeps the last good publication). A drop
  leaves the list when it is loaded again and passes (re-delivered corrected, or judged with
  a raised `ingestion.max_reject_rate`).

Updates take a file lock: ingestion of one run and the dbt build of another may overlap.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import uuid
from collections.abc import Iterable
from pathlib import Path

STATE_DIR = "_state"
REFRESH_FILE = "refresh_from.json"
BLOCKS_FILE = "reject_blocks.json"


def _dir(raw_dir: Path) -> Path:
    return Path(raw_dir) / STATE_DIR


@contextlib.contextmanager
def _locked(raw_dir: Path):
    d = _dir(raw_dir)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield d
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _write(path: Path, value: dict) -> None:
    if not value:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True))
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------
# The refresh window the warehouse owes
# ---------------------------------------------------------------------------------------------
def window_start(drop_date: str, first_day: str | None, lookback_days: int) -> str:
    """The first day a load of `drop_date` can change: the drop minus the lookback, or the
    earliest day its records are about when that is earlier."""
    start = (dt.date.fromisoformat(drop_date) - dt.timedelta(days=lookback_days)).isoformat()
    return min(start, first_day) if first_day else start


def note_loaded(raw_dir: Path, loads: Iterable[tuple[str, str | None]], lookback_days: int) -> str | None:
    """Record loads [(drop date, earliest day of its records)]; returns the pending start."""
    starts = [window_start(d, first, lookback_days) for d, first in loads]
    with _locked(raw_dir) as d:
        state = _read(d / REFRESH_FILE)
        if starts:
            state["refresh_from"] = min(starts + ([state["refresh_from"]] if state.get("refresh_from") else []))
            state["generation"] = int(state.get("generation", 0)) + 1
            _write(d / REFRESH_FILE, state)
        return state.get("refresh_from")


def pending_refresh(raw_dir: Path) -> tuple[str | None, int]:
    """(earliest day the warehouse must reprocess or None, generation token for clearing)."""
    state = _read(_dir(raw_dir) / REFRESH_FILE)
    return state.get("refresh_from"), int(state.get("generation", 0))


def clear_refresh(raw_dir: Path, generation: int) -> bool:
    """After a successful build that started at or before the pending day: forget it, unless
    something was loaded since the build read it (then the next build covers that too)."""
    with _locked(raw_dir) as d:
        state = _read(d / REFRESH_FILE)
        if int(state.get("generation", 0)) != generation:
            return False
        _write(d / REFRESH_FILE, {})
        return True


# ---------------------------------------------------------------------------------------------
# Drops whose reject rate blocks publication
# ---------------------------------------------------------------------------------------------
def record_reject_verdict(raw_dir: Path, source: str, name: str, drops: Iterable[tuple[str, int, int]],
                          passed: bool, rate: float, max_rate: float) -> None:
    """The reject-rate verdict of one load over `drops` [(date, records, rejected)]: a failed
    verdict lists the drops that had rejects; a passed one lifts their entries."""
    key = f"{source}.{name}"
    with _locked(raw_dir) as d:
        blocks = _read(d / BLOCKS_FILE)
        entry = blocks.get(key, {})
        for date, records, rejected in drops:
            if passed or not rejected:
                entry.pop(date, None)
            else:
                entry[date] = {"records": records, "rejected": rejected, "run_rate": round(rate, 6),
                               "max_reject_rate": max_rate}
        if entry:
            blocks[key] = entry
        else:
            blocks.pop(key, None)
        _write(d / BLOCKS_FILE, blocks)


def reject_blocks(raw_dir: Path) -> list[str]:
    """One line per object whose rejects block publication (empty = nothing blocks)."""
    blocks = _read(_dir(raw_dir) / BLOCKS_FILE)
    out = []
    for key, entry in sorted(blocks.items()):
        drops = sorted(entry)
        rejected = sum(e["rejected"] for e in entry.values())
        records = sum(e["records"] for e in entry.values())
        limit = max(e["max_reject_rate"] for e in entry.values())
        out.append(f"{key}: {rejected} of {records} records rejected in drop(s) {', '.join(drops[:5])}"
                   f"{' ...' if len(drops) > 5 else ''} (above ingestion.max_reject_rate {limit:.2%})")
    return out
