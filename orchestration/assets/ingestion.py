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
    Backoff,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from ..ingestion.contracts import OBJECTS, RawObject
from ..ingestion.landing import is_complete
from ..ingestion.raw_store import LoadResult, load_drop
from ..partitions import daily_drops
from ..settings import get_settings

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
    loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    totals = {"records": 0, "loaded": 0, "rejected": 0}
    reasons: dict[str, int] = {}
    done, skipped = [], []
    todo = []
    for key in keys:
        if is_complete(settings.landing_dir, obj.source, key):
            todo.append(key)
        else:
            skipped.append(key)
    for key, res in zip(todo, load_drops(obj, settings, todo, loaded_at)):
        totals["records"] += res.records
        totals["loaded"] += res.loaded
        totals["rejected"] += res.rejected
        for k, v in res.reject_reasons.items():
            reasons[k] = reasons.get(k, 0) + v
        done.append(key)
    if not done:
        raise Failure(
            description=f"No complete drop of {obj.source} for {keys[0] if len(keys) == 1 else f'{keys[0]}..{keys[-1]}'}"
                        f" in {settings.landing_dir}: a drop is read only once its _SUCCESS marker exists.",
            metadata={"landing_dir": str(settings.landing_dir), "incomplete_or_missing": skipped[:50]},
        )
    if skipped:
        context.log.warning(f"{obj.source}.{obj.name}: {len(skipped)} drop(s) missing or incomplete, not read: {skipped[:20]}")
    rate = totals["rejected"] / totals["records"] if totals["records"] else 0.0
    passed = rate <= settings.max_reject_rate
    return MaterializeResult(
        metadata={
            "drops_loaded": len(done),
            "first_drop": done[0],
            "last_drop": done[-1],
            "records": totals["records"],
            "rows_loaded": totals["loaded"],
            "rows_rejected": totals["rejected"],
            "reject_reasons": MetadataValue.json(reasons),
            "drops_not_read": MetadataValue.json(skipped),
            "raw_path": MetadataValue.path(str(settings.raw_dir / obj.source / obj.table)),
        },
        check_results=[AssetCheckResult(
            check_name="reject_rate",
            passed=passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"reject_rate": rate, "max_reject_rate": settings.max_reject_rate,
                      "rows_rejected": totals["rejected"], "records": totals["records"],
                      "reject_reasons": MetadataValue.json(reasons)},
            description=None if passed else
            f"{rate:.2%} of records rejected (threshold {settings.max_reject_rate:.2%}); "
            f"see the rejects table (staging.stg_ingestion__rejects).",
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
