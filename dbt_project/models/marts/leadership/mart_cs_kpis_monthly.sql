-- noqa: disable=LT02
-- (the Jinja loops over severities and movement types below lay out their own indentation)
-- The monthly customer-success KPIs (北极星指标) per complete month and segment (the
-- account's current segment, as in mart_revenue_retention, plus 'all'). Every figure is read
-- from the mart that defines it, never recomputed another way:
--   paying accounts, MRR, ARR       fct_account_daily on the month's last day
--   MRR movements                   fct_mrr_movements (sums of movement_mrr by type)
--   NRR, GRR, logo retention        mart_revenue_retention (null where it has no row)
--   renewals and the three rates    mart_renewal_rates, grain month (by due date)
--   health mix                      mart_account_health on the month's last day, paying accounts
--   alerts opened / closed          mart_cs_alerts (opened_date / closed_date in the month)
--   service efficiency              mart_service_efficiency: the overall row for 'all'; for a
--                                   segment, its accounts' rows added up (the median first reply
--                                   from the same tickets, int_ticket_facts)
-- A month is complete when its last day is on or before the as-of date.
{%- set severities = ['high', 'medium', 'low'] %}
{%- set movements = [('new', 'new'), ('expansion', 'expansion'), ('contraction', 'contraction'),
                     ('churn', 'churned'), ('reactivation', 'reactivation')] %}
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

segments as (

    select distinct segment from accounts
    union all
    select 'all' as segment

),

grid as (

    select complete_months.month, complete_months.month_end_date, segments.segment
    from complete_months
    cross join segments

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

    select month, segment, account_id, mrr, arr, health_tier from health_at_month_end
    union all
    select month, 'all' as segment, account_id, mrr, arr, health_tier from health_at_month_end

),

state as (

    select
        month,
        segment,
        sum(case when mrr > 0 then 1 else 0 end) as paying_accounts,
        sum(mrr) as mrr,
        sum(arr) as arr,
        sum(case when mrr > 0 and health_tier = 'green' then 1 else 0 end) as green_accounts,
        sum(case when mrr > 0 and health_tier = 'yellow' then 1 else 0 end) as yellow_accounts,
        sum(case when mrr > 0 and health_tier = 'red' then 1 else 0 end) as red_accounts,
        sum(case when mrr > 0 and health_tier is null then 1 else 0 end) as unscored_accounts
    from state_rows
    group by month, segment

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
        segment
        {%- for type, name in movements %},
        sum(case when movement_type = '{{ type }}' then movement_mrr else 0 end) as {{ name }}_mrr
        {%- endfor %},
        sum(movement_mrr) as net_new_mrr,
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

alert_events as (

    select
        cast({{ dbt.date_trunc('month', 'alerts.opened_date') }} as date) as month,
        'opened' as event,
        coalesce(accounts.segment, 'unknown') as segment,
        alerts.severity
    from {{ ref('mart_cs_alerts') }} as alerts
    left join accounts on accounts.account_id = alerts.account_id
    union all
    select
        cast({{ dbt.date_trunc('month', 'alerts.closed_date') }} as date) as month,
        'closed' as event,
        coalesce(accounts.segment, 'unknown') as segment,
        alerts.severity
    from {{ ref('mart_cs_alerts') }} as alerts
    left join accounts on accounts.account_id = alerts.account_id
    where alerts.closed_date is not null

),

alert_segments as (

    select month, segment, event, severity from alert_events
    union all
    select month, 'all' as segment, event, severity from alert_events

),

alert_counts as (

    select
        month,
        segment
        {%- for event in ['opened', 'closed'] %}
        {%- for severity in severities %},
        sum(case when event = '{{ event }}' and severity = '{{ severity }}' then 1 else 0 end)
            as alerts_{{ event }}_{{ severity }}
        {%- endfor %}
        {%- endfor %}
    from alert_segments
    group by month, segment

),

service_overall as (

    select
        month,
        'all' as segment,
        median_first_reply_hours,
        sla_attainment,
        csat,
        nps
    from {{ ref('mart_service_efficiency') }}
    where scope = 'overall'

),

service_accounts as (

    select
        service.month,
        coalesce(accounts.segment, 'unknown') as segment,
        sum(service.sla_evaluated_tickets) as sla_evaluated_tickets,
        sum(service.sla_met_tickets) as sla_met_tickets,
        sum(service.csat_good) as csat_good,
        sum(service.csat_bad) as csat_bad,
        sum(service.nps_responses) as nps_responses,
        sum(service.nps_promoters) as nps_promoters,
        sum(service.nps_detractors) as nps_detractors
    from {{ ref('mart_service_efficiency') }} as service
    inner join accounts on accounts.account_id = service.account_id
    where service.scope = 'account'
    group by service.month, coalesce(accounts.segment, 'unknown')

),

first_replies as (

    select
        cast({{ dbt.date_trunc('month', 'tickets.created_date') }} as date) as month,
        accounts.segment,
        {{ cs_median('tickets.first_reply_hours') }} as median_first_reply_hours
    from {{ ref('int_ticket_facts') }} as tickets
    inner join accounts on accounts.account_id = tickets.account_id
    group by cast({{ dbt.date_trunc('month', 'tickets.created_date') }} as date), accounts.segment

),

service_segments as (

    select
        service_accounts.month,
        service_accounts.segment,
        {{ round_half_up('first_replies.median_first_reply_hours', 2) }} as median_first_reply_hours,
        case when service_accounts.sla_evaluated_tickets > 0
            then {{ round_half_up('cast(service_accounts.sla_met_tickets as double) / service_accounts.sla_evaluated_tickets', 4) }}
        end as sla_attainment,
        case when service_accounts.csat_good + service_accounts.csat_bad > 0
            then {{ round_half_up('cast(service_accounts.csat_good as double) / (service_accounts.csat_good + service_accounts.csat_bad)', 4) }}
        end as csat,
        case when service_accounts.nps_responses > 0
            then {{ round_half_up('cast(service_accounts.nps_promoters - service_accounts.nps_detractors as double) / service_accounts.nps_responses', 4) }}
        end as nps
    from service_accounts
    left join first_replies
        on first_replies.month = service_accounts.month and first_replies.segment = service_accounts.segment

),

service as (

    select month, segment, median_first_reply_hours, sla_attainment, csat, nps from service_overall
    union all
    select month, segment, median_first_reply_hours, sla_attainment, csat, nps from service_segments

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
    {%- for type, name in movements %}
    cast(coalesce(movements.{{ name }}_mrr, 0) as decimal(18, 2)) as {{ name }}_mrr,
    {%- endfor %}
    cast(coalesce(movements.net_new_mrr, 0) as decimal(18, 2)) as net_new_mrr,
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
