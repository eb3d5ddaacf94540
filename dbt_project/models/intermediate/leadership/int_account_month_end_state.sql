-- Each account on the last day of every complete month (its last day on or before the
-- as-of date): MRR and ARR that day (fct_account_daily), the health tier that day
-- (mart_account_health), and the account's current segment and CSM book (dim_accounts;
-- 'unassigned' without a csm_owner). The month-end state the monthly KPIs
-- (int_cs_kpis__month_end) and the CSMs' monthly books (mart_csm_book_monthly) add up.
with

daily as (

    select * from {{ ref('fct_account_daily') }}

),

accounts as (

    select account_id, segment, csm_owner from {{ ref('dim_accounts') }}

),

complete_months as (

    select distinct
        cast({{ dbt.date_trunc('month', 'date') }} as date) as month,
        date as month_end_date
    from daily
    where date = cast({{ last_day('date') }} as date)

)

select
    complete_months.month,
    complete_months.month_end_date,
    daily.account_id,
    coalesce(accounts.segment, 'unknown') as segment,
    {{ csm_book('accounts.csm_owner') }} as csm_owner,
    daily.mrr,
    daily.arr,
    health.health_tier
from complete_months
inner join daily on daily.date = complete_months.month_end_date
left join accounts on accounts.account_id = daily.account_id
left join {{ ref('mart_account_health') }} as health
    on health.account_id = daily.account_id
    and health.date = complete_months.month_end_date
