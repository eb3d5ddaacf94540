-- Month-end MRR per account and month, from the account's first month to the as-of month:
-- MRR on the month's last day (on the as-of date for the current month). Also whether the
-- account had MRR on any day before the month began (for new vs reactivation).
with

daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

as_of as (

    select max(date_day) as as_of_date from daily

),

month_ends as (

    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        date_day as month_end_date
    from daily
    cross join as_of
    where date_day = cast({{ last_day('date_day') }} as date)
       or date_day = as_of.as_of_date
    group by 1, 2

),

account_months as (

    select
        daily.account_id,
        month_ends.month_start as month,
        month_ends.month_end_date,
        daily.mrr
    from month_ends
    inner join daily on daily.date_day = month_ends.month_end_date

),

first_mrr as (

    select account_id, min(date_day) as first_mrr_date
    from daily
    where mrr > 0
    group by account_id

)

select
    account_months.account_id,
    account_months.month,
    account_months.month_end_date,
    account_months.mrr,
    first_mrr.first_mrr_date,
    coalesce(first_mrr.first_mrr_date < account_months.month, false) as had_mrr_before_month
from account_months
left join first_mrr on first_mrr.account_id = account_months.account_id
