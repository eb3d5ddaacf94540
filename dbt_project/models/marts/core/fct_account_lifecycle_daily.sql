{{ config(
    materialized='incremental',
    unique_key=['date'],
    **incremental_by_date('date'),
) }}
-- Lifecycle stage (客户生命周期) per account and day, first match wins:
--   churned     no MRR now, had MRR before
--   trial       no MRR now and never had any (not yet a paying customer; an addition to
--               the six stages of docs/metrics.md, which all assume a paying history)
--   handover    paying, no active user yet, within 30 days of first MRR
--   onboarding  within 90 days of first MRR
--   renewal     an annual renewal due within the next 90 days
--   at_risk     health tier red
--   active      otherwise
-- Incremental over lookback_start() like fct_account_daily.
with

mrr_daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

first_mrr as (

    select account_id, min(date_day) as first_mrr_date
    from mrr_daily
    where mrr > 0
    group by account_id

),

days as (

    select account_id, date_day, mrr
    from mrr_daily
    {% if is_incremental() -%}
    where date_day >= {{ lookback_start() }}
    {%- endif %}

),

health as (

    select account_id, date, health_score, health_tier, first_event_date
    from {{ ref('mart_account_health') }}
    {% if is_incremental() -%}
    where date >= {{ lookback_start() }}
    {%- endif %}

),

renewals as (

    select account_id, date_day, next_due_date, days_to_due
    from {{ ref('int_account_renewal_windows') }}
    where days_to_due <= 90

),

staged as (

    select
        days.account_id,
        days.date_day,
        days.mrr,
        -- as known on the day: a row never tells a first payment still in its future (so a
        -- daily refresh and a full rebuild give the same history)
        case when first_mrr.first_mrr_date <= days.date_day then first_mrr.first_mrr_date end as first_mrr_date,
        case
            when first_mrr.first_mrr_date <= days.date_day
                then {{ dbt.datediff('first_mrr.first_mrr_date', 'days.date_day', 'day') }}
        end as days_since_first_mrr,
        renewals.next_due_date as renewal_due_date,
        health.health_score,
        health.health_tier,
        case
            when days.mrr = 0 and first_mrr.first_mrr_date < days.date_day then 'churned'
            when days.mrr = 0 then 'trial'
            when (health.first_event_date is null or health.first_event_date > days.date_day)
                and days.date_day < {{ health_add_days('first_mrr.first_mrr_date', '30') }} then 'handover'
            when days.date_day < {{ health_add_days('first_mrr.first_mrr_date', '90') }} then 'onboarding'
            when renewals.next_due_date is not null then 'renewal'
            when health.health_tier = 'red' then 'at_risk'
            else 'active'
        end as lifecycle_stage
    from days
    left join first_mrr on first_mrr.account_id = days.account_id
    left join health on health.account_id = days.account_id and health.date = days.date_day
    left join renewals on renewals.account_id = days.account_id and renewals.date_day = days.date_day

)

select
    {{ dbt.concat(["account_id", "'|'", dbt.safe_cast("date_day", dbt.type_string())]) }} as account_day_id,
    account_id,
    date_day as date,
    lifecycle_stage,
    mrr,
    first_mrr_date,
    days_since_first_mrr,
    renewal_due_date,
    health_score,
    health_tier
from staged
