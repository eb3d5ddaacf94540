{{ config(
    materialized='incremental',
    unique_key=['date_day'],
    **incremental_by_date('date_day'),
) }}
-- The raw measures behind the health components and the risk alerts, per account and day
-- (the days of int_account_mrr_daily), over each component's trailing window as configured
-- for the account's segment (int_account_health_config). The windows are counted by
-- int_account_health__usage, __tickets and __nps, the alert and payment evidence by
-- __urgent_tickets and __invoices (one row per account and day each); this model joins them
-- and derives each component's raw measure.
-- Incremental: only the days from lookback_start() are rebuilt (as in every model it
-- joins); a full refresh gives the same result.
with

cfg as (

    select * from {{ ref('int_account_health_config') }}

),

mrr_daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

{%- for part in ['usage', 'tickets', 'nps', 'urgent_tickets', 'invoices'] %}

    {{ part }} as (

        select * from {{ ref('int_account_health__' ~ part) }}
        {% if is_incremental() -%}
    where date_day >= {{ lookback_start() }}
    {%- endif %}

    ),
{%- endfor %}

spine as (

    select mrr_daily.account_id, mrr_daily.date_day, mrr_daily.mrr, mrr_daily.seats, mrr_daily.has_paying_annual
    from mrr_daily
    {% if is_incremental() -%}
    where mrr_daily.date_day >= {{ lookback_start() }}
    {%- endif %}

),

joined as (

    select
        spine.account_id,
        spine.date_day,
        cfg.segment,
        spine.mrr,
        spine.seats,
        spine.mrr > 0 as is_paying,
        spine.has_paying_annual,
        usage.first_event_date,
        usage.has_usage_data,
        usage.first_admin_active_date,
        usage.active_users_utilization_window,
        usage.active_users_engagement_window,
        usage.user_days_engagement_window,
        usage.core_features_used,
        usage.core_features_total,
        usage.events_trend_window,
        usage.events_prior_trend_window,
        usage.admins_active_champion_window,
        usage.admins_active_alert_window,
        tickets.tickets_support_window,
        tickets.tickets_sla_met,
        tickets.tickets_sla_missed,
        tickets.csat_good,
        tickets.csat_bad,
        nps.latest_nps_score,
        invoices.first_invoice_date,
        invoices.max_days_overdue,
        invoices.overdue_invoices,
        invoices.oldest_overdue_invoice_id,
        urgent_tickets.urgent_tickets_breached,
        urgent_tickets.urgent_breached_ticket_id
    from spine
    inner join cfg on cfg.account_id = spine.account_id
    {%- for part in ['usage', 'tickets', 'nps', 'urgent_tickets', 'invoices'] %}
        inner join {{ part }} on {{ part }}.account_id = spine.account_id and {{ part }}.date_day = spine.date_day
    {%- endfor %}

)

select
    joined.*,
    -- the raw measure of each component; null = no data (the component is left out)
    case when has_usage_data and seats > 0
            then cast(active_users_utilization_window as double) / seats
    end as license_utilization_measure,
    case when has_usage_data then
            case when active_users_engagement_window > 0
                    then cast(user_days_engagement_window as double) / active_users_engagement_window
                else 0
            end
    end as engagement_measure,
    case when has_usage_data and core_features_total > 0
            then cast(core_features_used as double) / core_features_total
    end as breadth_measure,
    case when events_prior_trend_window > 0
            then cast(events_trend_window as double) / events_prior_trend_window
    end as usage_trend_measure,
    case when has_usage_data then admins_active_champion_window end as champion_measure,
    case when seats > 0 then 10.0 * tickets_support_window / seats end as support_burden_measure,
    case when tickets_sla_met + tickets_sla_missed > 0
            then cast(tickets_sla_met as double) / (tickets_sla_met + tickets_sla_missed)
    end as responsiveness_measure,
    case
        when csat_good + csat_bad > 0 and latest_nps_score is not null
            then (cast(csat_good as double) / (csat_good + csat_bad) + latest_nps_score / 10.0) / 2
        when csat_good + csat_bad > 0 then cast(csat_good as double) / (csat_good + csat_bad)
        when latest_nps_score is not null then latest_nps_score / 10.0
    end as satisfaction_measure,
    case when first_invoice_date <= date_day then max_days_overdue end as payment_measure
from joined
