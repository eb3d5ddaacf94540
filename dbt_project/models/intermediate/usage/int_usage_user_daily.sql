{{ config(
    materialized='incremental',
    unique_key=['event_date'],
    on_schema_change='append_new_columns',
    **incremental_by_date('event_date'),
) }}
-- Product usage per account, user and day (the UTC day the event happened, so late events
-- count on their own day). Incremental: a refresh recomputes only the days from
-- lookback_start() (as-of date minus var lookback_days, or var refresh_start) onwards; a
-- full refresh gives the same result.
with

events as (

    select * from {{ ref('stg_usage__events') }}
    {% if is_incremental() %}
    where event_date >= {{ lookback_start() }}
    {% endif %}

)

select
    event_date,
    account_id,
    coalesce(user_id, '(anonymous)') as user_id,
    count(*) as events,
    count(distinct feature) as features_used,
    min(event_at) as first_event_at,
    max(event_at) as last_event_at
from events
group by event_date, account_id, coalesce(user_id, '(anonymous)')
