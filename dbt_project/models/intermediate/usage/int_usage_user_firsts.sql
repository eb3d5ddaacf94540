{{ config(
    unique_key=['account_id', 'user_id'],
    **incremental_by_key(),
) }}
-- The first and latest day each identified user of an account was active (one row per
-- account and user), from int_usage_user_daily. Incremental: a refresh merges the days of
-- its window into the rows already there, so the health measures find each account's
-- first usage (and first admin activity) without scanning the whole usage history; a full
-- refresh gives the same rows.
with

window_days as (

    select
        account_id,
        user_id,
        min(event_date) as first_active_date,
        max(event_date) as last_active_date
    from {{ ref('int_usage_user_daily') }}
    where user_id <> '(anonymous)'
    {% if is_incremental() %}
      and event_date >= {{ lookback_start() }}
    {% endif %}
    group by account_id, user_id

)

{% if is_incremental() %}
select
    window_days.account_id,
    window_days.user_id,
    least(window_days.first_active_date, coalesce(existing.first_active_date, window_days.first_active_date))
        as first_active_date,
    greatest(window_days.last_active_date, coalesce(existing.last_active_date, window_days.last_active_date))
        as last_active_date
from window_days
left join {{ this }} as existing
    on existing.account_id = window_days.account_id
    and existing.user_id = window_days.user_id
{% else %}
    select * from window_days
{% endif %}
