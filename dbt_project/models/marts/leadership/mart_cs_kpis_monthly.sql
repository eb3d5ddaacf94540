-- noqa: disable=LT02
-- (the Jinja loops over severities and tiers below lay out their own indentation)
-- The monthly customer-success KPIs (北极星指标) per complete month and segment (the
-- account's current segment, as in mart_revenue_retention, plus 'all'). Every figure is read
-- from the mart that defines it, never recomputed another way:
--   paying accounts, MRR, ARR       fct_account_daily on the month's last day  (int_cs_kpis__month_end)
--   health mix                      mart_account_health that day, paying accounts  (int_cs_kpis__month_end)
--   MRR movements                   fct_mrr_movements (sums of movement_mrr by type)
--   NRR, GRR, logo retention        mart_revenue_retention (null where it has no row)
--   renewals and the three rates    mart_renewal_rates, grain month (by due date)
--   alerts opened / closed          mart_cs_alerts  (int_cs_kpis__alerts)
--   service efficiency              mart_service_efficiency  (int_cs_kpis__service)
-- A month is complete when its last day is on or before the as-of date.
{%- set severities = ['high', 'medium', 'low'] %}
with

accounts as (

    select account_id, segment from {{ ref('dim_accounts') }}

),

state as (

    select * from {{ ref('int_cs_kpis__month_end') }}

),

complete_months as (

    -- every complete month has an 'all' row
    select month, month_end_date from state
    where segment = 'all'

),

movement_rows as (

    select
        movements.month,
        coalesce(accounts.segment, 'unknown') as segment,
        movements.movement_type,
        movements.movement_mrr
    from {{ ref('fct_mrr_movements') }} as movements
    inner join complete_months on complete_months.month = movements.month
    left join accounts on accounts.account_id = movements.account_id

),

movement_segments as (

    select month, segment, movement_type, movement_mrr from movement_rows
    union all
    select month, 'all' as segment, movement_type, movement_mrr from movement_rows

),

movements as (

    select
        month,
        segment,
        {{ mrr_movement_sums('movement_type', 'movement_mrr') }},
        sum(case when movement_type = 'new' then 1 else 0 end) as new_accounts,
        sum(case when movement_type = 'churn' then 1 else 0 end) as churned_accounts
    from movement_segments
    group by month, segment

),

retention as (

    select month, segment, logo_retention, grr, nrr from {{ ref('mart_revenue_retention') }}

),

renewals as (

    select
        period_start as month,
        segment,
        due_count,
        renewed_count,
        churned_count,
        pending_count,
        logo_renewal_rate,
        gross_amount_renewal_rate,
        net_amount_renewal_rate
    from {{ ref('mart_renewal_rates') }}
    where grain = 'month'

),

alert_counts as (

    select * from {{ ref('int_cs_kpis__alerts') }}

),

service as (

    select * from {{ ref('int_cs_kpis__service') }}

),

segments as (

    -- every segment any figure is counted in ('unknown' for an account without one), and 'all'
    select segment from accounts
    union
    select segment from state
    union
    select segment from movement_rows
    union
    select segment from alert_counts
    union
    select segment from service

),

grid as (

    select complete_months.month, complete_months.month_end_date, segments.segment
    from complete_months
    cross join segments

)

select
    {{ dbt.concat(["grid.segment", "'|'", dbt.safe_cast("grid.month", dbt.type_string())]) }} as kpi_month_id,
    grid.month,
    grid.segment,
    grid.month_end_date,
    -- the book at month end
    cast(coalesce(state.paying_accounts, 0) as {{ dbt.type_bigint() }}) as paying_accounts,
    cast(coalesce(state.mrr, 0) as decimal(18, 2)) as mrr,
    cast(coalesce(state.arr, 0) as decimal(18, 2)) as arr,
    -- MRR movements of the month (churn and contraction negative)
    {{ mrr_movement_columns('movements') }},
    cast(coalesce(movements.new_accounts, 0) as {{ dbt.type_bigint() }}) as new_accounts,
    cast(coalesce(movements.churned_accounts, 0) as {{ dbt.type_bigint() }}) as churned_accounts,
    -- trailing-12-month retention
    retention.nrr,
    retention.grr,
    retention.logo_retention,
    -- renewals due in the month
    cast(coalesce(renewals.due_count, 0) as {{ dbt.type_bigint() }}) as renewals_due,
    cast(coalesce(renewals.renewed_count, 0) as {{ dbt.type_bigint() }}) as renewals_renewed,
    cast(coalesce(renewals.churned_count, 0) as {{ dbt.type_bigint() }}) as renewals_churned,
    cast(coalesce(renewals.pending_count, 0) as {{ dbt.type_bigint() }}) as renewals_pending,
    renewals.logo_renewal_rate,
    renewals.gross_amount_renewal_rate,
    renewals.net_amount_renewal_rate,
    -- health mix of the paying accounts at month end
    {%- for tier in ['green', 'yellow', 'red', 'unscored'] %}
    cast(coalesce(state.{{ tier }}_accounts, 0) as {{ dbt.type_bigint() }}) as {{ tier }}_accounts,
    {%- endfor %}
    {%- for tier in ['green', 'yellow', 'red'] %}
    case when state.paying_accounts > 0
        then {{ round_half_up('cast(state.' ~ tier ~ '_accounts as double) / state.paying_accounts', 4) }}
    end as {{ tier }}_share,
    {%- endfor %}
    -- alerts opened and closed in the month
    {%- for event in ['opened', 'closed'] %}
    {%- for severity in severities %}
    cast(coalesce(alert_counts.alerts_{{ event }}_{{ severity }}, 0) as {{ dbt.type_bigint() }}) as alerts_{{ event }}_{{ severity }},
    {%- endfor %}
    {%- endfor %}
    -- service efficiency
    service.median_first_reply_hours,
    service.sla_attainment,
    service.csat,
    service.nps
from grid
left join state on state.month = grid.month and state.segment = grid.segment
left join movements on movements.month = grid.month and movements.segment = grid.segment
left join retention on retention.month = grid.month and retention.segment = grid.segment
left join renewals on renewals.month = grid.month and renewals.segment = grid.segment
left join alert_counts on alert_counts.month = grid.month and alert_counts.segment = grid.segment
left join service on service.month = grid.month and service.segment = grid.segment
