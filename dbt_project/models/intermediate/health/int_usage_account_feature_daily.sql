{{ config(
    materialized='incremental',
    unique_key=['event_date'],
    **incremental_by_date('event_date'),
) }}
-- Product usage per account, feature and day (events with a feature only), for the breadth
-- health component; from int_usage_activity_daily over the same incremental window.
with

activity as (

    select * from {{ ref('int_usage_activity_daily') }}
    where feature is not null
    {% if is_incremental() %}
      and event_date >= {{ lookback_start() }}
    {% endif %}

)

select
    event_date,
    account_id,
    feature,
    cast(sum(events) as {{ dbt.type_bigint() }}) as events,
    count(distinct user_id) as active_users
from activity
group by event_date, account_id, feature
