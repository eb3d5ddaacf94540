{{ config(
    materialized='incremental',
    unique_key=['event_date'],
    on_schema_change='sync_all_columns',
    **incremental_by_date('event_date'),
) }}
-- The one model that reads the usage events: events per account, user, feature and UTC day
-- the events happened (late events count on their own day). Every other usage model
-- aggregates this one. Incremental: a refresh reads only the drops of the window from
-- lookback_start() (as-of date minus var lookback_days, or var refresh_start) and recomputes
-- those days; a full refresh gives the same result.
with

events as (

    {{ usage_events(lookback_start() if is_incremental() else none) | indent(4) }}

)

select
    event_date,
    account_id,
    user_id,
    feature,
    count(*) as events
from events
-- (the usage_events() macro groups by position: AM06 sees both styles in one file)
group by event_date, account_id, user_id, feature  -- noqa: AM06
