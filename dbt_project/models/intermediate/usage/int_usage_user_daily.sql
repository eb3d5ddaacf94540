{{ config(
    materialized='incremental',
    unique_key=['event_date'],
    on_schema_change='sync_all_columns',
    **incremental_by_date('event_date'),
) }}
-- Product usage per account, user and day (events without a user id count as
-- '(anonymous)'), from int_usage_activity_daily over the same incremental window.
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
    coalesce(user_id, '(anonymous)') as user_id,
    cast(sum(events) as {{ dbt.type_bigint() }}) as events,
    count(distinct feature) as features_used
from activity
group by event_date, account_id, coalesce(user_id, '(anonymous)')
