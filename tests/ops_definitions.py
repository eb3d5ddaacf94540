"""The project's Definitions plus everything the operations issue adds (jobs, schedules,
sensors, freshness checks) and, until orchestration/definitions.py wires them, the GX checks
and the `serving_marts` publication asset. Used by the operations tests (in-process runs,
`dagster dev` in the browser test); once definitions.py holds all of it this module is just
a re-export."""
from dagster import Definitions

from orchestration import definitions as _base
from orchestration.defs.assets.dbt import dbt_models, dbt_resource, mart_key
from orchestration.defs.checks.freshness import freshness_checks
from orchestration.defs.jobs import jobs
from orchestration.defs.schedules import schedules
from orchestration.defs.sensors import sensors

_graph = _base.defs.resolve_asset_graph()
_keys = {k.to_user_string() for k in _graph.get_all_asset_keys()}
_job_names = {j.name for j in (_base.defs.jobs or [])}

if "serving_marts" in _keys and "daily_refresh_job" in _job_names:
    defs = _base.defs
else:
    from orchestration.defs.assets.ingestion import ingestion_assets
    from orchestration.defs.assets.serving import build_publication_asset
    from orchestration.defs.checks.gx import build_gx_checks
    from orchestration.defs.checks.unmatched import unmatched_checks
    from orchestration.lib.validation import validated_marts

    marts = {m: mart_key(m) for m in validated_marts()}
    # also publish dim_accounts / fct_account_daily (not validated, but part of the serving DB)
    for extra in ("dim_accounts", "fct_account_daily"):
        if mart_key(extra) in _graph.get_all_asset_keys():
            marts.setdefault(extra, mart_key(extra))
    defs = Definitions(
        assets=[*ingestion_assets, dbt_models, build_publication_asset(marts)],
        asset_checks=[*unmatched_checks, *build_gx_checks(mart_key), *freshness_checks],
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources={"dbt": dbt_resource},
    )
