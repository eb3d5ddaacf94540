-- One row per renewal: account x due date. Every distinct current_period_end (as a day) of
-- a state in which one of the account's annual subscriptions (price interval 'year') is
-- paying (active or past_due) is a due date; subscriptions sharing it make one renewal.
-- The outcome is decided 30 days after the due date (grace period): 'renewed' when the
-- account's MRR on due date + 30 is above 0, 'churned' otherwise, 'pending' while due date
-- + 30 is after the as-of date.
with

states as (

    select * from {{ ref('int_subscription_states') }}

),

mrr_daily as (

    select account_id, date_day, mrr, arr from {{ ref('int_account_mrr_daily') }}

),

as_of as (

    select max(date_day) as as_of_date from mrr_daily

),

accounts as (

    select account_id, segment from {{ ref('dim_accounts') }}

),

due_subscriptions as (

    select distinct
        account_id,
        current_period_end_date as due_date,
        subscription_id
    from states
    where is_annual
        and is_paying
        and account_id is not null
        and current_period_end_date is not null

),

due as (

    select
        account_id,
        due_date,
        {{ dbt.listagg('subscription_id', "','", "order by subscription_id") }} as subscription_ids,
        count(*) as subscriptions_due
    from due_subscriptions
    group by account_id, due_date

),

dated as (

    select
        due.*,
        as_of.as_of_date,
        cast({{ dbt.dateadd('day', 30, 'due.due_date') }} as date) as decision_date,
        case
            when due.due_date > as_of.as_of_date then as_of.as_of_date
            else cast({{ dbt.dateadd('day', -1, 'due.due_date') }} as date)
        end as prior_arr_date
    from due
    cross join as_of

),

evaluated as (

    select
        dated.*,
        coalesce(prior_term.arr, 0) as prior_arr_value,
        coalesce(decided.mrr, 0) as decision_mrr,
        coalesce(decided.arr, 0) as decision_arr,
        dated.decision_date > dated.as_of_date as is_pending
    from dated
    left join mrr_daily as prior_term
        on prior_term.account_id = dated.account_id and prior_term.date_day = dated.prior_arr_date
    left join mrr_daily as decided
        on decided.account_id = dated.account_id and decided.date_day = dated.decision_date

)

select
    {{ dbt.concat(["evaluated.account_id", "'|'", dbt.safe_cast("evaluated.due_date", dbt.type_string())]) }}
        as renewal_id,
    evaluated.account_id,
    evaluated.due_date,
    coalesce(accounts.segment, 'unknown') as segment,
    evaluated.subscription_ids,
    evaluated.subscriptions_due,
    evaluated.decision_date,
    cast(evaluated.prior_arr_value as decimal(18, 2)) as prior_arr,
    cast(case
        when evaluated.is_pending then null
        when evaluated.decision_mrr > 0 then evaluated.decision_arr
        else 0
    end as decimal(18, 2)) as renewed_arr,
    case
        when evaluated.is_pending then 'pending'
        when evaluated.decision_mrr > 0 then 'renewed'
        else 'churned'
    end as outcome,
    -- the health tier 90 days before the due date (null when no score that day)
    health.health_tier as health_tier_90d_before
from evaluated
left join accounts on accounts.account_id = evaluated.account_id
left join {{ ref('mart_account_health') }} as health
    on health.account_id = evaluated.account_id
    and health.date = cast({{ dbt.dateadd('day', -90, 'evaluated.due_date') }} as date)
