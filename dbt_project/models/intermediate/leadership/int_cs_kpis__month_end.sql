-- The month-end book of the monthly KPIs (mart_cs_kpis_monthly) per complete month and
-- segment (the account's current segment, plus 'all'): paying accounts, MRR and ARR on the
-- month's last day (fct_account_daily) and the health tier of the paying accounts that day
-- (mart_account_health). A month is complete when its last day is on or before the as-of date.
with

daily as (

    select * from {{ ref('fct_account_daily') }}

),

accounts as (

    select account_id, segment from {{ ref('dim_accounts') }}

),

complete_months as (

    select distinct
        cast({{ dbt.date_trunc('month', 'date') }} as date) as month,
        date as month_end_date
    from daily
    where date = cast({{ last_day('date') }} as date)

),

month_end_accounts as (

    select
        complete_months.month,
        complete_months.month_end_date,
        daily.account_id,
        coalesce(accounts.segment, 'unknown') as segment,
        daily.mrr,
        daily.arr
    from complete_months
    inner join daily on daily.date = complete_months.month_end_date
    left join accounts on accounts.account_id = daily.account_id

),

health_at_month_end as (

    select
        month_end_accounts.month,
        month_end_accounts.month_end_date,
        month_end_accounts.segment,
        month_end_accounts.account_id,
        month_end_accounts.mrr,
        month_end_accounts.arr,
        health.health_tier
    from month_end_accounts
    left join {{ ref('mart_account_health') }} as health
        on health.account_id = month_end_accounts.account_id
        and health.date = month_end_accounts.month_end_date

),

state_rows as (

    select month, month_end_date, segment, account_id, mrr, arr, health_tier from health_at_month_end
    union all
    select month, month_end_date, 'all' as segment, account_id, mrr, arr, health_tier from health_at_month_end

)

select
    month,
    segment,
    max(month_end_date) as month_end_date,
    sum(case when mrr > 0 then 1 else 0 end) as paying_accounts,
    sum(mrr) as mrr,
    sum(arr) as arr,
    sum(case when mrr > 0 and health_tier = 'green' then 1 else 0 end) as green_accounts,
    sum(case when mrr > 0 and health_tier = 'yellow' then 1 else 0 end) as yellow_accounts,
    sum(case when mrr > 0 and health_tier = 'red' then 1 else 0 end) as red_accounts,
    sum(case when mrr > 0 and health_tier is null then 1 else 0 end) as unscored_accounts
from state_rows
group by month, segment
