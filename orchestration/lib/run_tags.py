"""The run tags the pipeline writes and reads, in one place: Dagster's partition tags (which
drop dates a run covers) and the platform's own (what started the run, which process owns it)."""
from __future__ import annotations

from collections.abc import Mapping

PARTITION_TAG = "dagster/partition"                         # a run of one drop date
RANGE_START_TAG = "dagster/asset_partition_range_start"     # a run of a range of drop dates
RANGE_END_TAG = "dagster/asset_partition_range_end"
TRIGGER_TAG = "csp/trigger"    # schedule | new_drop | daily | backfill
OWNER_TAG = "csp/owner"        # the process that runs the build (orchestration/runs/recovery.py)
HOST_TAG = "csp/host"


def drop_range(tags: Mapping[str, str] | None) -> tuple[str, str] | None:
    """(first, last) drop date a run covers, from its partition tags; None when unpartitioned."""
    tags = tags or {}
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        return start, end
    one = tags.get(PARTITION_TAG)
    return (one, one) if one else None


def first_drop(tags: Mapping[str, str] | None) -> str | None:
    r = drop_range(tags)
    return r[0] if r else None


def last_drop(tags: Mapping[str, str] | None) -> str | None:
    r = drop_range(tags)
    return r[1] if r else None


def drop_label(tags: Mapping[str, str] | None) -> str | None:
    """"D" for a one-drop run, "D1..D2" for a range, None when unpartitioned."""
    tags = tags or {}
    if tags.get(RANGE_START_TAG):
        return f"{tags[RANGE_START_TAG]}..{tags.get(RANGE_END_TAG, '')}"
    return tags.get(PARTITION_TAG)
