-- Month-end MRR per account and month, from the account's first month to the as-of month:
-- MRR on the month's last day (on the as-of date for the current month). Also whether the
-- account had month-end MRR > 0 in some earlier month (for new vs reactivation): "had MRR"
-- is read on month-end MRR like every movement, so days paid inside a month that ended
-- at 0 do not count (docs/metrics.md).
with

daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

as_of as (

    select max(date_day) as as_of_date from daily

),

month_ends as (

    select
        cast({{ dbt.date_trunc('month', 'daily.date_day') }} as date) as month_start,
        daily.date_day as month_end_date
    from daily
    cross join as_of
    where daily.date_day = cast({{ last_day('daily.date_day') }} as date)
        or daily.date_day = as_of.as_of_date
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

previous_month_ends as (

    select
        account_id,
        month,
        month_end_date,
        mrr,
        max(case when mrr > 0 then 1 else 0 end) over (
            partition by account_id
            order by month
            rows between unbounded preceding and 1 preceding
        ) as positive_month_end_before
    from account_months

)

select
    account_id,
    month,
    month_end_date,
    mrr,
    coalesce(positive_month_end_before, 0) = 1 as had_mrr_before_month
from previous_month_ends
