{{ config(
    materialized='incremental',
    unique_key=['event_date'],
    **incremental_by_date('event_date'),
) }}
-- Product usage per account and day: events, distinct active users, distinct features used;
-- from int_usage_activity_daily over the same incremental window.
with

activity as (

    select * from {{ ref('int_usage_activity_daily') }}
    {% if is_incremental() %}
    where event_date >= {{ lookback_start() }}
    {% endif %}

)

select
    event_date,
    account_id,
    cast(sum(events) as {{ dbt.type_bigint() }}) as events,
    count(distinct user_id) as active_users,
    count(distinct feature) as features_used
from activity
group by event_date, account_id
