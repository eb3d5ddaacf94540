{{ config(
    materialized='incremental',
    unique_key=['date_day'],
    **incremental_by_date('date_day'),
) }}
-- The support measures of the health components, per account and day (the days of
-- int_account_mrr_daily, accounts with a health configuration), over each component's
-- trailing window (macros/health_windows.sql): tickets opened (support burden), SLA
-- outcomes of the tickets opened (responsiveness; int_ticket_facts.sla_outcome) and CSAT
-- ratings, dated when solved (satisfaction).
-- Incremental: only the days from lookback_start() are rebuilt, reading the tickets rated
-- or opened from 2 x the longest window before them (older tickets have left every window
-- by then); a full refresh gives the same result.
{%- set cols = ['support_tickets', 'sla_met', 'sla_missed', 'csat_good', 'csat_bad'] %}
with

cfg as (

    select * from {{ ref('int_account_health_config') }}

),

mrr_daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

ticket_facts as (

    select * from {{ ref('int_ticket_facts') }}

),

bounds as (

    {{ health_window_bounds() }}

),

spine as (

    select mrr_daily.account_id, mrr_daily.date_day
    from mrr_daily
    inner join cfg on cfg.account_id = mrr_daily.account_id
    {% if is_incremental() -%}
    where mrr_daily.date_day >= (select start_date from bounds)
    {%- endif %}

),

tickets as (

    select
        ticket_facts.*,
        coalesce(ticket_facts.solved_date, ticket_facts.created_date) as rating_date
    from ticket_facts
    where ticket_facts.account_id is not null
    {% if is_incremental() -%}
      and coalesce(ticket_facts.solved_date, ticket_facts.created_date) >= (select input_start from bounds)
    {%- endif %}

),

deltas as (

    -- tickets opened, support-burden window
    {{ health_window_deltas(cols, 'support_tickets', 'tickets', 't', 't.created_date',
                            'c.support_burden_window_days') }}
    union all
    -- SLA outcomes of the tickets opened in the responsiveness window
    {{ health_window_deltas(cols, 'sla_met', 'tickets', 't', 't.created_date',
                            'c.responsiveness_window_days', where="t.sla_outcome = 'met'") }}
    union all
    {{ health_window_deltas(cols, 'sla_missed', 'tickets', 't', 't.created_date',
                            'c.responsiveness_window_days', where="t.sla_outcome = 'missed'") }}
    union all
    -- CSAT ratings in the satisfaction window (dated when solved)
    {{ health_window_deltas(cols, 'csat_good', 'tickets', 't', 't.rating_date',
                            'c.satisfaction_window_days', where="t.satisfaction_rating = 'good'") }}
    union all
    {{ health_window_deltas(cols, 'csat_bad', 'tickets', 't', 't.rating_date',
                            'c.satisfaction_window_days', where="t.satisfaction_rating = 'bad'") }}

),

running as (

    {{ health_window_totals(cols) }}

)

select
    spine.account_id,
    spine.date_day,
    running.support_tickets as tickets_support_window,
    running.sla_met as tickets_sla_met,
    running.sla_missed as tickets_sla_missed,
    running.csat_good,
    running.csat_bad
from spine
inner join running on running.account_id = spine.account_id and running.date_day = spine.date_day
