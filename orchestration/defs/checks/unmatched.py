"""Checks on the raw layer that span objects: records whose CRM account id matches no billing
customer are kept (never dropped) and counted here, per drop.

`account_ids_match` judges each drop of the run on its own (a drop where a source sent many
records under a wrong or mangled account id stands out instead of being diluted by a long
backfill): the run's drops come from its tags (`dagster/asset_partition_range_start` /
`_end`, or `dagster/partition`); a run without them (the check run alone) judges the
latest loaded drop. It warns when any drop's unmatched share exceeds
`ingestion.max_unmatched_rate`. Ids are already trimmed at ingestion (reader.py), so a
stray space never makes an account unmatched."""

from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from orchestration.defs.assets.ingestion import raw_asset_key
from orchestration.lib.ingestion.contracts import OBJECTS
from orchestration.lib.ingestion.unmatched import CUSTOMERS, SAMPLE_IDS, count_unmatched_by_drop, drop_files, run_drops
from orchestration.lib.settings import get_settings


def judge_unmatched(per_drop: list[dict], max_rate: float) -> tuple[bool, str, dict]:
    """(passed, one-line description naming the worst drop, metadata) for per-drop counts."""
    failing = [p for p in per_drop if p["share"] > max_rate]
    worst = max(per_drop, key=lambda p: (p["share"], p["unmatched"]), default=None)
    if worst is None:
        desc = "no loaded drop in this run: nothing to match"
    else:
        sample = ", ".join(worst["unmatched_ids"][:3])
        desc = (f"{len(failing)} of {len(per_drop)} drop(s) above {max_rate:.1%} unmatched; " if failing
                else f"all {len(per_drop)} drop(s) within {max_rate:.1%} unmatched; ")
        desc += (f"worst {worst['drop_date']}: {worst['unmatched']} of {worst['records']} records "
                 f"({worst['share']:.1%})" + (f", e.g. {sample}" if sample else ""))
    records = sum(p["records"] for p in per_drop)
    unmatched = sum(p["unmatched"] for p in per_drop)
    metadata = {
        "records": records, "unmatched_records": unmatched,
        "records_without_account_id": sum(p["without_account"] for p in per_drop),
        "unmatched_share": unmatched / records if records else 0.0,
        "worst_drop": worst["drop_date"] if worst else "",
        "worst_drop_share": worst["share"] if worst else 0.0,
        "drops_above_threshold": [p["drop_date"] for p in failing],
        "per_drop": MetadataValue.json({p["drop_date"]: {
            "records": p["records"], "unmatched": p["unmatched"], "share": round(p["share"], 6),
            "without_account": p["without_account"], "sample_unmatched_account_ids": p["unmatched_ids"]}
            for p in per_drop}),
        "sample_unmatched_account_ids": MetadataValue.json(
            sorted({i for p in per_drop for i in p["unmatched_ids"]})[:SAMPLE_IDS]),
    }
    return not failing, desc, metadata


def build_unmatched_check(obj):
    @asset_check(
        asset=raw_asset_key(obj),
        name="account_ids_match",
        additional_deps=[raw_asset_key(CUSTOMERS)],
        description=(f"Counts, per drop of the run, `{obj.source}.{obj.name}` records whose "
                     f"`{obj.account_column}` matches no billing customer's metadata.account_id. They "
                     "stay in the raw and staging layers; warns when any drop's share is above "
                     "ingestion.max_unmatched_rate."),
    )
    def _check(context: AssetCheckExecutionContext):
        settings = get_settings()
        loaded = list(drop_files(settings.raw_dir, obj.source, obj.table))
        drops = run_drops(context.run.tags, loaded)
        per = count_unmatched_by_drop(settings.raw_dir, obj.source, obj.table, obj.account_column, drops)
        passed, desc, metadata = judge_unmatched(per, settings.max_unmatched_rate)
        return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.WARN,
                                description=desc, metadata=metadata)

    return _check


unmatched_checks = [build_unmatched_check(o) for o in OBJECTS
                    if o.account_column and o.source != "billing"]
