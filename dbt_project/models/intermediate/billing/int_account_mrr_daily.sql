{{ config(
    materialized='incremental',
    unique_key=['date_day'],
    **incremental_by_date('date_day'),
) }}
-- Account MRR on every day from the account's first subscription event to the as-of date:
-- the sum over the account's subscriptions (of all its billing customers) of the day-end
-- state's MRR, rounded to the cent. Every total and movement downstream sums these values.
-- Incremental: a refresh recomputes the days from lookback_start() on (subscription events
-- land in the drop of the day they were created); a full refresh gives the same result.
with

states as (

    select * from {{ ref('int_subscription_states') }}
    where is_day_end_state and account_id is not null

),

bounds as (

    {% if is_incremental() -%}
    select {{ lookback_start() }} as first_date, {{ as_of_date() }} as as_of_date
    {%- else -%}
        select min(state_date) as first_date, {{ as_of_date() }} as as_of_date from states
    {%- endif %}

),

days as (

    {{ date_spine("(select first_date from bounds)", "(select as_of_date from bounds)") }}

),

accounts as (

    select account_id, min(state_date) as first_state_date
    from states
    group by account_id

),

account_days as (

    select accounts.account_id, days.date_day
    from accounts
    inner join days on days.date_day >= accounts.first_state_date

),

subscription_days as (

    select
        account_days.account_id,
        account_days.date_day,
        states.subscription_id,
        states.mrr_usd,
        states.is_paying,
        states.is_annual,
        states.seats
    from account_days
    inner join states
        on states.account_id = account_days.account_id
        and states.valid_from_date <= account_days.date_day
        and (states.valid_to_date is null or account_days.date_day < states.valid_to_date)

),

daily as (

    select
        account_days.account_id,
        account_days.date_day,
        cast(round(coalesce(sum(subscription_days.mrr_usd), 0), 2) as decimal(18, 2)) as mrr,
        count(subscription_days.subscription_id) as subscriptions,
        sum(case when subscription_days.is_paying then 1 else 0 end) as paying_subscriptions,
        max(case when subscription_days.is_paying and subscription_days.is_annual then 1 else 0 end) = 1
            as has_paying_annual,
        -- licensed seats: the largest item quantity among the paying subscriptions
        coalesce(max(case when subscription_days.is_paying then subscription_days.seats end), 0) as seats
    from account_days
    left join subscription_days
        on subscription_days.account_id = account_days.account_id
        and subscription_days.date_day = account_days.date_day
    group by account_days.account_id, account_days.date_day

)

select
    account_id,
    date_day,
    mrr,
    cast(12 * mrr as decimal(18, 2)) as arr,
    subscriptions,
    paying_subscriptions,
    has_paying_annual,
    seats
from daily
