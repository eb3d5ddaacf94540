"""Raw ingestion: one partitioned asset per source object (see ingestion/contracts.py)."""

import datetime as dt
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Backoff,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from orchestration.defs.partitions import daily_drops
from orchestration.lib.ingestion.contracts import OBJECTS, RawObject
from orchestration.lib.ingestion.landing import drop_problems
from orchestration.lib.ingestion.load_state import note_loaded, record_reject_verdict
from orchestration.lib.ingestion.raw_store import LoadResult, load_drop, redelivered_drops
from orchestration.lib.settings import get_settings

OWNER = "team:data-engineering"


def raw_asset_key(obj: RawObject) -> AssetKey:
    return AssetKey(["raw", obj.source, obj.name])


def load_drops(obj: RawObject, settings, drops: list[str], loaded_at: dt.datetime) -> Iterator[LoadResult]:
    """Load the drops one after the other, or, for a backfill of many drops, in
    `ingestion.workers` processes (each drop is independent and written atomically)."""
    workers = min(settings.ingestion_workers, len(drops))
    if workers <= 1 or len(drops) < 4:
        for key in drops:
            yield load_drop(obj, settings.landing_dir, settings.raw_dir, key, loaded_at)
        return
    # spawn: the run process holds DuckDB and Dagster threads, which fork does not copy safely
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(load_drop, repeat(obj), repeat(settings.landing_dir), repeat(settings.raw_dir),
                            drops, repeat(loaded_at), chunksize=4)


def _ingest(context: AssetExecutionContext, obj: RawObject):
    settings = get_settings()
    keys = context.partition_keys if context.has_partition_key_range or context.has_partition_key else []
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    totals = {"records": 0, "loaded": 0, "rejected": 0}
    reasons: dict[str, int] = {}
    done, skipped = [], {}
    todo = []
    for key in keys:
        problems = drop_problems(settings.landing_dir, obj.source, key)
        if problems:
            skipped[key] = ", ".join(problems)
        else:
            todo.append(key)
    # drops loaded before whose landing files changed since (a source re-exported the day):
    # read again in whatever run comes next, so a correction is never left behind
    redelivered = {d: why for d, why in redelivered_drops(settings.landing_dir, settings.raw_dir, obj).items()
                   if d not in todo}
    if redelivered:
        context.log.warning(f"{obj.source}.{obj.name}: re-reading {len(redelivered)} re-delivered drop(s): "
                            + "; ".join(f"{d} ({why})" for d, why in list(redelivered.items())[:10]))
    todo = sorted(set(todo) | set(redelivered))
    results = []
    for key, res in zip(todo, load_drops(obj, settings, todo, loaded_at)):
        totals["records"] += res.records
        totals["loaded"] += res.loaded
        totals["rejected"] += res.rejected
        for k, v in res.reject_reasons.items():
            reasons[k] = reasons.get(k, 0) + v
        done.append(key)
        results.append(res)
    # the warehouse owes a reprocessing from the earliest day these loads can change
    refresh_from = note_loaded(settings.raw_dir, [(r.drop_date, r.first_day) for r in results],
                               settings.lookback_days)
    if not done:
        raise Failure(
            description=f"{obj.source}.{obj.name}: "
                        + "; ".join(f"drop {d} incomplete ({why}), not read" for d, why in list(skipped.items())[:3])
                        + f" (in {settings.landing_dir}: a drop is read once it holds its _SUCCESS marker and "
                          "every object's file).",
            metadata={"landing_dir": str(settings.landing_dir),
                      "incomplete_or_missing": MetadataValue.json(dict(list(skipped.items())[:50]))},
        )
    if skipped:
        context.log.warning(f"{obj.source}.{obj.name}: {len(skipped)} drop(s) missing or incomplete, not read: "
                            + "; ".join(f"{d} ({why})" for d, why in list(skipped.items())[:20]))
    rate = totals["rejected"] / totals["records"] if totals["records"] else 0.0
    # a handful of quarantined records in a small daily drop are counted and reported, not a
    # reason to stop publication: the load fails when its rejects exceed both the share and
    # the count (ingestion.max_reject_rate, ingestion.min_rejects_to_fail)
    min_rejects = settings.min_rejects_to_fail
    passed = rate <= settings.max_reject_rate or totals["rejected"] < min_rejects
    # the verdict sticks to the drops it judged: a failed one blocks publication until they
    # are loaded again and pass (orchestration/lib/ingestion/load_state.py)
    record_reject_verdict(settings.raw_dir, obj.source, obj.name,
                          [(r.drop_date, r.records, r.rejected) for r in results],
                          passed, rate, settings.max_reject_rate)
    return MaterializeResult(
        metadata={
            "drops_loaded": len(done),
            "first_drop": done[0],
            "last_drop": done[-1],
            "records": totals["records"],
            "rows_loaded": totals["loaded"],
            "rows_rejected": totals["rejected"],
            "reject_reasons": MetadataValue.json(reasons),
            "drops_not_read": MetadataValue.json(list(skipped)),
            "drops_not_read_why": MetadataValue.json(skipped),
            "redelivered_drops": MetadataValue.json(redelivered),
            "refresh_from": refresh_from or "",
            "raw_path": MetadataValue.path(str(settings.raw_dir / obj.source / obj.table)),
        },
        check_results=[AssetCheckResult(
            check_name="reject_rate",
            passed=passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"reject_rate": rate, "max_reject_rate": settings.max_reject_rate,
                      "min_rejects_to_fail": min_rejects,
                      "rows_rejected": totals["rejected"], "records": totals["records"],
                      "reject_reasons": MetadataValue.json(reasons)},
            description=None if passed else
            f"{obj.source}.{obj.name}: {rate:.2%} of records rejected (threshold {settings.max_reject_rate:.2%}) "
            f"in drops {done[0]}..{done[-1]}; publication is blocked until these drops are loaded again "
            f"and pass; see the rejects table (staging.stg_ingestion__rejects).",
        )],
    )


def build_ingestion_asset(obj: RawObject):
    key = raw_asset_key(obj)
    tables = ", ".join([obj.table] + [c.name for c in obj.children])

    @asset(
        key=key,
        group_name="ingestion",
        description=(f"Raw `{obj.source}.{obj.name}` drops ({obj.file_format}) validated against the "
                     f"landing-zone contract and written to the Parquet raw layer ({tables}); "
                     f"invalid records are quarantined in `_rejects/{obj.source}__{obj.name}`."),
        partitions_def=daily_drops,
        backfill_policy=BackfillPolicy.single_run(),
        retry_policy=RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL),
        owners=[OWNER],
        kinds={"python", "parquet"},
        tags={"layer": "raw"},
        check_specs=[AssetCheckSpec(
            "reject_rate", asset=key,
            description="Share of records quarantined in this load stays under ingestion.max_reject_rate")],
    )
    def _asset(context: AssetExecutionContext):
        return _ingest(context, obj)

    return _asset


ingestion_assets = [build_ingestion_asset(o) for o in OBJECTS]


# The quarantine written by every ingestion asset: declared so the asset graph documents it.
rejects_spec = AssetSpec(
    key=AssetKey(["raw", "rejects"]),
    group_name="ingestion",
    description=("Quarantined records of every ingestion asset: source, object, drop date, file, "
                 "line, reason and the raw record (data/raw/_rejects/<source>__<object>/). Read "
                 "through staging.stg_ingestion__rejects."),
    owners=[OWNER],
    kinds={"parquet"},
    tags={"layer": "raw"},
)
