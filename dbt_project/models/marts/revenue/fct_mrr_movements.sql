-- MRR movements per account and month, comparing month-end MRR of M-1 and M (the as-of
-- date stands in for the current month's end). First match wins:
--   new          MRR(M) > 0 and no earlier month-end MRR > 0             amount MRR(M)
--   reactivation MRR(M) > 0, MRR(M-1) = 0, some earlier month-end MRR > 0 amount MRR(M)
--   churn        MRR(M) = 0 and MRR(M-1) > 0                              amount -MRR(M-1)
--   expansion    MRR(M) > MRR(M-1) > 0                                     amount the difference
--   contraction  0 < MRR(M) < MRR(M-1)                                     amount the difference
--   unchanged    anything else                                             amount 0
-- "Had MRR" is read on month-end MRR (int_account_month_end_mrr.had_mrr_before_month): days
-- paid inside a month that ended at 0 leave no movement, and a later return is new, so
-- there is no reactivation without an earlier churn row.
-- For every month the amounts sum to total MRR(M) - total MRR(M-1), to the cent.
with

month_end as (

    select * from {{ ref('int_account_month_end_mrr') }}

),

with_previous as (

    select
        account_id,
        month,
        month_end_date,
        coalesce(lag(mrr) over (partition by account_id order by month), 0) as starting_mrr,
        mrr as ending_mrr,
        had_mrr_before_month
    from month_end

),

classified as (

    select
        *,
        case
            when ending_mrr > 0 and not had_mrr_before_month then 'new'
            when ending_mrr > 0 and starting_mrr = 0 then 'reactivation'
            when ending_mrr = 0 and starting_mrr > 0 then 'churn'
            when ending_mrr > starting_mrr and starting_mrr > 0 then 'expansion'
            when ending_mrr > 0 and ending_mrr < starting_mrr then 'contraction'
            else 'unchanged'
        end as movement_type
    from with_previous

)

select
    {{ dbt.concat(["account_id", "'|'", dbt.safe_cast("month", dbt.type_string())]) }} as account_month_id,
    account_id,
    month,
    month_end_date,
    starting_mrr,
    ending_mrr,
    movement_type,
    cast(case
        when movement_type in ('new', 'reactivation') then ending_mrr
        when movement_type = 'churn' then -starting_mrr
        when movement_type in ('expansion', 'contraction') then ending_mrr - starting_mrr
        else 0
    end as decimal(18, 2)) as movement_mrr
from classified
