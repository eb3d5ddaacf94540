{{ config(
    materialized='incremental',
    unique_key=['event_date'],
    **incremental_by_date('event_date'),
) }}
-- Product usage per account, feature and day (events with a feature only), for the breadth
-- health component. Same incremental window as int_usage_account_daily.
with

events as (

    select * from {{ ref('stg_usage__events') }}
    where feature is not null
    {% if is_incremental() %}
      and event_date >= {{ lookback_start() }}
    {% endif %}

)

select
    event_date,
    account_id,
    feature,
    count(*) as events,
    count(distinct user_id) as active_users
from events
group by event_date, account_id, feature
