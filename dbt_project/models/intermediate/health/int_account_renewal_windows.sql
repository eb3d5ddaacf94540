-- The days on which an account has an annual renewal coming up: for every renewal due date
-- (as in mart_renewals: the current_period_end day of a paying annual subscription state),
-- the days from when the due date was known (the state's day) and at most
-- max(90, renewal_not_green alert threshold) days before it, up to the due date. One row per
-- account and day: the nearest due date and the days left.
with

states as (

    select * from {{ ref('int_subscription_states') }}
    where is_annual and is_paying and account_id is not null and current_period_end_date is not null

),

cfg as (

    select account_id, coalesce(alert_renewal_not_green_threshold, 0) as alert_days
    from {{ ref('int_account_health_config') }}

),

due as (

    select account_id, current_period_end_date as due_date, min(state_date) as known_from_date
    from states
    group by account_id, current_period_end_date

),

bounds as (

    select
        min(known_from_date) as first_date,
        (select max(m.date_day) from {{ ref('int_account_mrr_daily') }} as m) as as_of_date
    from due

),

days as (

    {{ date_spine("(select first_date from bounds)", "(select as_of_date from bounds)") }}

),

windows as (

    select
        due.account_id,
        due.due_date,
        greatest(
            due.known_from_date,
            {{ health_add_days('due.due_date', '-1 * greatest(90, cast(coalesce(cfg.alert_days, 0) as integer))') }}
        ) as window_start
    from due
    left join cfg on cfg.account_id = due.account_id

),

window_days as (

    select
        windows.account_id,
        days.date_day,
        min(windows.due_date) as next_due_date
    from windows
    inner join days
        on days.date_day >= windows.window_start
        and days.date_day <= windows.due_date
    group by windows.account_id, days.date_day

)

select
    account_id,
    date_day,
    next_due_date,
    {{ dbt.datediff('date_day', 'next_due_date', 'day') }} as days_to_due
from window_days
