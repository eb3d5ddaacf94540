-- Trailing-12-month cohort retention per complete month M and segment (the account's
-- current segment, plus 'all'). The cohort is the accounts with month-end MRR(M-12) > 0;
-- new accounts never enter; an account that churned and came back counts at its MRR(M).
-- Months are complete when their last day is on or before the as-of date, and M-12 must
-- lie within the data (on or after the month of the first subscription event).
with

month_end as (

    select * from {{ ref('int_account_month_end_mrr') }}

),

accounts as (

    select account_id, segment from {{ ref('dim_accounts') }}

),

data_start as (

    select min(month) as first_month from month_end

),

complete_months as (

    select distinct month
    from month_end
    where month_end_date = cast({{ last_day('month') }} as date)

),

eligible_months as (

    select
        complete_months.month,
        cast({{ dbt.dateadd('month', -12, 'complete_months.month') }} as date) as base_month
    from complete_months
    cross join data_start
    where cast({{ dbt.dateadd('month', -12, 'complete_months.month') }} as date) >= data_start.first_month

),

cohort as (

    select
        eligible_months.month,
        base.account_id,
        coalesce(accounts.segment, 'unknown') as segment,
        base.mrr as starting_mrr,
        coalesce(current_month.mrr, 0) as ending_mrr
    from eligible_months
    inner join month_end as base
        on base.month = eligible_months.base_month
        and base.mrr > 0
    left join month_end as current_month
        on current_month.account_id = base.account_id
        and current_month.month = eligible_months.month
    left join accounts on accounts.account_id = base.account_id

),

by_segment as (

    select month, segment, account_id, starting_mrr, ending_mrr from cohort
    union all
    select month, 'all' as segment, account_id, starting_mrr, ending_mrr from cohort

),

aggregated as (

    select
        month,
        segment,
        cast(count(*) as {{ dbt.type_bigint() }}) as cohort_accounts,
        cast(sum(case when ending_mrr > 0 then 1 else 0 end) as {{ dbt.type_bigint() }}) as retained_accounts,
        cast(sum(starting_mrr) as decimal(18, 2)) as starting_mrr,
        cast(sum(ending_mrr) as decimal(18, 2)) as ending_mrr,
        cast(
            sum(case when ending_mrr < starting_mrr then ending_mrr else starting_mrr end)
            as decimal(18, 2)
        ) as retained_mrr
    from by_segment
    group by month, segment

),

all_months as (

    -- an 'all' row for every eligible month, even when its cohort is empty
    select month, 'all' as segment from eligible_months

)

select
    all_months.month,
    all_months.segment,
    coalesce(aggregated.cohort_accounts, 0) as cohort_accounts,
    coalesce(aggregated.retained_accounts, 0) as retained_accounts,
    cast(coalesce(aggregated.starting_mrr, 0) as decimal(18, 2)) as starting_mrr,
    cast(coalesce(aggregated.ending_mrr, 0) as decimal(18, 2)) as ending_mrr,
    cast(coalesce(aggregated.retained_mrr, 0) as decimal(18, 2)) as retained_mrr,
    case when aggregated.cohort_accounts > 0
            then cast(aggregated.retained_accounts as double) / aggregated.cohort_accounts
    end as logo_retention,
    case when aggregated.starting_mrr > 0
            then cast(aggregated.retained_mrr as double) / cast(aggregated.starting_mrr as double)
    end as grr,
    case when aggregated.starting_mrr > 0
            then cast(aggregated.ending_mrr as double) / cast(aggregated.starting_mrr as double)
    end as nrr
from all_months
left join aggregated
    on aggregated.month = all_months.month and aggregated.segment = all_months.segment

union all

select
    month, segment, cohort_accounts, retained_accounts, starting_mrr, ending_mrr, retained_mrr,
    cast(retained_accounts as double) / cohort_accounts as logo_retention,
    cast(retained_mrr as double) / cast(starting_mrr as double) as grr,
    cast(ending_mrr as double) / cast(starting_mrr as double) as nrr
from aggregated
where segment <> 'all'
