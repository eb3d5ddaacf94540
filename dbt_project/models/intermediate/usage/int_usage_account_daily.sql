{{ config(
    materialized='incremental',
    unique_key=['event_date'],
    **incremental_by_date('event_date'),
) }}
-- Product usage per account and day: events, distinct active users, distinct features used
-- (and which core features, per seeds/core_features.csv). Same incremental window as
-- int_usage_user_daily.
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
    count(*) as events,
    count(distinct user_id) as active_users,
    count(distinct feature) as features_used
from events
group by event_date, account_id
