{{ config(
    materialized='incremental',
    unique_key=['date_day'],
    **incremental_by_date('date_day'),
) }}
-- Urgent tickets in breach, per account and day (the days of int_account_mrr_daily,
-- accounts with a health configuration), the evidence of the urgent_ticket_unsolved alert:
-- an urgent ticket unsolved past the alert threshold (hours) is in breach from that moment
-- until solved.
-- Incremental: only the days from lookback_start() are rebuilt (from every ticket); a full
-- refresh gives the same result.
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

days as (

    {{ date_spine("(select start_date from bounds)", "(select as_of_date from bounds)") }}

),

breach_tickets as (

    select
        t.account_id,
        t.ticket_id,
        cast({{ dbt.dateadd('hour', 'c.alert_urgent_ticket_unsolved_threshold', 't.created_at') }} as date) as breach_start_date,
        coalesce(t.solved_date, (select bounds.as_of_date from bounds)) as breach_end_date
    from ticket_facts as t
    inner join cfg as c on c.account_id = t.account_id
    where t.priority = 'urgent'
        and c.alert_urgent_ticket_unsolved_threshold is not null
        and (
            (t.solved_at is null and not t.is_solved)
            or t.solved_at > {{ dbt.dateadd('hour', 'c.alert_urgent_ticket_unsolved_threshold', 't.created_at') }}
        )

),

breaches as (

    select
        breach_tickets.account_id,
        days.date_day,
        count(*) as urgent_tickets_breached,
        min(breach_tickets.ticket_id) as urgent_breached_ticket_id
    from breach_tickets
    inner join days
        on days.date_day >= breach_tickets.breach_start_date
        and days.date_day <= breach_tickets.breach_end_date
    group by breach_tickets.account_id, days.date_day

)

select
    spine.account_id,
    spine.date_day,
    coalesce(breaches.urgent_tickets_breached, 0) as urgent_tickets_breached,
    breaches.urgent_breached_ticket_id
from spine
left join breaches on breaches.account_id = spine.account_id and breaches.date_day = spine.date_day
