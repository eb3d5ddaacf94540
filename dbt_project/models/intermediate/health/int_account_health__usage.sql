{{ config(
    materialized='incremental',
    unique_key=['date_day'],
    **incremental_by_date('date_day'),
) }}
-- The usage measures of the health components, per account and day (the days of
-- int_account_mrr_daily, accounts with a health configuration): distinct active users,
-- user-days, distinct core features, events and active admins over each component's
-- trailing window (macros/health_windows.sql), and the account's first usage "as of the day".
-- Incremental: only the days from lookback_start() are rebuilt, reading account-level inputs
-- from 2 x the longest window before them and user- and feature-level inputs from the
-- longest user window before them (older inputs have left every window by then); a full
-- refresh gives the same result.
{%- set cols = ['util_users', 'eng_users', 'eng_user_days', 'core_features', 'trend_events',
                'trend_prior_events', 'champion_admins', 'alert_admins'] %}
with

cfg as (

    select * from {{ ref('int_account_health_config') }}

),

mrr_daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

users as (

    select user_id, is_admin from {{ ref('stg_usage__users') }}

),

user_daily as (

    select * from {{ ref('int_usage_user_daily') }}

),

user_firsts as (

    select * from {{ ref('int_usage_user_firsts') }}

),

account_daily as (

    select * from {{ ref('int_usage_account_daily') }}

),

feature_daily as (

    select * from {{ ref('int_usage_account_feature_daily') }}

),

core_features as (

    select feature from {{ ref('core_features') }}

),

bounds as (

    {{ health_window_bounds() }}

),

spine as (

    select mrr_daily.account_id, mrr_daily.date_day
    from mrr_daily
    inner join cfg on cfg.account_id = mrr_daily.account_id
    {% if is_incremental() -%}
    where mrr_daily.date_day >= (select start_date from bounds)
    {%- endif %}

),

user_days as (

    -- each identified user's active days, with the user's next active day
    select
        user_daily.account_id,
        user_daily.user_id,
        user_daily.event_date,
        coalesce(users.is_admin, false) as is_admin,
        lead(user_daily.event_date) over (
            partition by user_daily.account_id, user_daily.user_id order by user_daily.event_date
        ) as next_event_date
    from user_daily
    left join users on users.user_id = user_daily.user_id
    where user_daily.user_id <> '(anonymous)'
    {% if is_incremental() -%}
      and user_daily.event_date >= (select user_input_start from bounds)
    {%- endif %}

),

admin_days as (

    select
        account_id, user_id, event_date,
        lead(event_date) over (partition by account_id, user_id order by event_date) as next_event_date
    from user_days
    where is_admin

),

account_days as (

    select account_id, event_date, events, active_users
    from account_daily
    {% if is_incremental() -%}
    where event_date >= (select input_start from bounds)
    {%- endif %}

),

feature_days as (

    select
        feature_daily.account_id,
        feature_daily.feature,
        feature_daily.event_date,
        lead(feature_daily.event_date) over (
            partition by feature_daily.account_id, feature_daily.feature order by feature_daily.event_date
        ) as next_event_date
    from feature_daily
    inner join core_features on core_features.feature = feature_daily.feature
    {% if is_incremental() -%}
    where feature_daily.event_date >= (select user_input_start from bounds)
    {%- endif %}

),

usage_firsts as (

    -- each account's first usage, and first activity of a user who is an admin now
    select
        user_firsts.account_id,
        min(user_firsts.first_active_date) as first_event_date,
        min(case when coalesce(users.is_admin, false) then user_firsts.first_active_date end) as first_admin_active_date
    from user_firsts
    left join users on users.user_id = user_firsts.user_id
    group by user_firsts.account_id

),

deltas as (

    -- distinct active users: license-utilization and engagement windows
    {{ health_window_deltas(cols, 'util_users', 'user_days', 'u', 'u.event_date',
                            'c.license_utilization_window_days', next_date='u.next_event_date') }}
    union all
    {{ health_window_deltas(cols, 'eng_users', 'user_days', 'u', 'u.event_date',
                            'c.engagement_window_days', next_date='u.next_event_date') }}
    union all
    -- user-days: the account's identified active users of each day, engagement window
    {{ health_window_deltas(cols, 'eng_user_days', 'account_days', 'a', 'a.event_date',
                            'c.engagement_window_days', value='a.active_users') }}
    union all
    -- distinct core features, breadth window
    {{ health_window_deltas(cols, 'core_features', 'feature_days', 'f', 'f.event_date',
                            'c.breadth_window_days', next_date='f.next_event_date') }}
    union all
    -- events in the trend window, and in the window before it (counted one window later)
    {{ health_window_deltas(cols, 'trend_events', 'account_days', 'a', 'a.event_date',
                            'c.usage_trend_window_days', value='a.events') }}
    union all
    {{ health_window_deltas(cols, 'trend_prior_events', 'account_days', 'a',
                            health_add_days('a.event_date', 'c.usage_trend_window_days'),
                            'c.usage_trend_window_days', value='a.events') }}
    union all
    -- distinct admin users active: champion window, and champion_gone alert window
    {{ health_window_deltas(cols, 'champion_admins', 'admin_days', 'u', 'u.event_date',
                            'c.champion_window_days', next_date='u.next_event_date') }}
    union all
    {{ health_window_deltas(cols, 'alert_admins', 'admin_days', 'u', 'u.event_date',
                            'cast(c.alert_champion_gone_threshold as integer)', next_date='u.next_event_date',
                            end_where='c.alert_champion_gone_threshold is not null') }}

),

running as (

    {{ health_window_totals(cols) }}

)

select
    spine.account_id,
    spine.date_day,
    -- "as of the day": a late event never rewrites rows before its own day, so an
    -- incremental refresh equals a full refresh
    case when usage_firsts.first_event_date <= spine.date_day
            then usage_firsts.first_event_date
    end as first_event_date,
    coalesce(usage_firsts.first_event_date <= spine.date_day, false) as has_usage_data,
    case when usage_firsts.first_admin_active_date <= spine.date_day
            then usage_firsts.first_admin_active_date
    end as first_admin_active_date,
    running.util_users as active_users_utilization_window,
    running.eng_users as active_users_engagement_window,
    running.eng_user_days as user_days_engagement_window,
    running.core_features as core_features_used,
    (select count(*) from core_features) as core_features_total,
    running.trend_events as events_trend_window,
    running.trend_prior_events as events_prior_trend_window,
    running.champion_admins as admins_active_champion_window,
    running.alert_admins as admins_active_alert_window
from spine
inner join running on running.account_id = spine.account_id and running.date_day = spine.date_day
left join usage_firsts on usage_firsts.account_id = spine.account_id
