-- The month-end book of the monthly KPIs (mart_cs_kpis_monthly) per complete month and
-- segment (the account's current segment, plus 'all'): paying accounts, MRR and ARR on the
-- month's last day and the health tier counts of the paying accounts that day
-- (int_account_month_end_state; unscored = no tier).
with

state as (

    select * from {{ ref('int_account_month_end_state') }}

),

state_rows as (

    select month, month_end_date, segment, account_id, mrr, arr, health_tier from state
    union all
    select month, month_end_date, 'all' as segment, account_id, mrr, arr, health_tier from state

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
