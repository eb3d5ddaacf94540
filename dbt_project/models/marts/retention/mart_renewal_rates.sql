-- Renewal rates per period (month and quarter of the due date) and segment (plus 'all').
-- Pending renewals are counted in due_count and pending_count but left out of the rates;
-- rates are null where nothing closed.
with

renewals as (

    select * from {{ ref('mart_renewals') }}

),

periods as (

    select
        'month' as grain, cast({{ dbt.date_trunc('month', 'due_date') }} as date) as period_start,
        segment, outcome, prior_arr, renewed_arr
    from renewals
    union all
    select
        'quarter' as grain, cast({{ dbt.date_trunc('quarter', 'due_date') }} as date) as period_start,
        segment, outcome, prior_arr, renewed_arr
    from renewals

),

by_segment as (

    select grain, period_start, segment, outcome, prior_arr, renewed_arr from periods
    union all
    select grain, period_start, 'all' as segment, outcome, prior_arr, renewed_arr from periods

),

aggregated as (

    select
        grain,
        period_start,
        segment,
        cast(count(*) as {{ dbt.type_bigint() }}) as due_count,
        cast(sum(case when outcome = 'renewed' then 1 else 0 end) as {{ dbt.type_bigint() }}) as renewed_count,
        cast(sum(case when outcome = 'churned' then 1 else 0 end) as {{ dbt.type_bigint() }}) as churned_count,
        cast(sum(case when outcome = 'pending' then 1 else 0 end) as {{ dbt.type_bigint() }}) as pending_count,
        cast(sum(case when outcome <> 'pending' then prior_arr else 0 end) as decimal(18, 2))
            as closed_prior_arr,
        cast(sum(case when outcome <> 'pending' then renewed_arr else 0 end) as decimal(18, 2))
            as closed_renewed_arr,
        cast(sum(case when outcome = 'pending' then 0
            when renewed_arr < prior_arr then renewed_arr else prior_arr
        end) as decimal(18, 2))
            as closed_retained_arr,
        cast(sum(case when outcome = 'pending' then prior_arr else 0 end) as decimal(18, 2))
            as pending_prior_arr
    from by_segment
    group by grain, period_start, segment

)

select
    grain,
    period_start,
    segment,
    due_count,
    renewed_count,
    churned_count,
    pending_count,
    closed_prior_arr,
    closed_renewed_arr,
    closed_retained_arr,
    pending_prior_arr,
    case when renewed_count + churned_count > 0
            then cast(renewed_count as double) / (renewed_count + churned_count)
    end as logo_renewal_rate,
    case when renewed_count + churned_count > 0 and closed_prior_arr > 0
            then cast(closed_retained_arr as double) / cast(closed_prior_arr as double)
    end
        as gross_amount_renewal_rate,
    case when renewed_count + churned_count > 0 and closed_prior_arr > 0
            then cast(closed_renewed_arr as double) / cast(closed_prior_arr as double)
    end
        as net_amount_renewal_rate
from aggregated
