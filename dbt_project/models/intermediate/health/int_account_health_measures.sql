{{ config(
    materialized='incremental',
    unique_key=['date_day'],
    **incremental_by_date('date_day'),
) }}
-- The raw measures behind the health components and the risk alerts, per account and day
-- (the days of int_account_mrr_daily), over each component's trailing window as configured
-- for the account's segment (int_account_health_config).
--
-- Trailing windows without self-joins: every input contributes +x on the day it starts to
-- count and -x on the day it stops (day + window), and a running sum over the account's
-- days gives the window total. Distinct counts (active users, core features, admins) use
-- the same trick on each member's active days: a member active on day e, next active on
-- day n, counts from e until min(n, e + window). Incremental: only the days from
-- lookback_start() are rebuilt, reading inputs from 2 x the longest window before them
-- (older inputs have left every window by then); a full refresh gives the same result.
{%- set cols = ['util_users', 'eng_users', 'eng_user_days', 'core_features', 'trend_events',
                'trend_prior_events', 'champion_admins', 'alert_admins', 'support_tickets',
                'sla_met', 'sla_missed', 'csat_good', 'csat_bad'] %}
with

cfg as (

    select * from {{ ref('int_account_health_config') }}

),

mrr_daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

bounds as (

    select
        max(date_day) as as_of_date,
        {% if is_incremental() -%}
        {{ lookback_start() }} as start_date,
        {{ health_add_days(lookback_start(), '-2 * (select max(max_window_days) from cfg) - 2') }} as input_start,
        -- user- and feature-level inputs (the big ones) only count within their own windows:
        -- a day older than the longest of them has left every window by the first rebuilt day
        {{ health_add_days(lookback_start(), '-(select max(max_user_window_days) from cfg) - 2') }} as user_input_start
        {%- else -%}
        min(date_day) as start_date,
        cast(null as date) as input_start,
        cast(null as date) as user_input_start
        {%- endif %}
    from mrr_daily

),

spine as (

    select mrr_daily.account_id, mrr_daily.date_day, mrr_daily.mrr, mrr_daily.seats, mrr_daily.has_paying_annual
    from mrr_daily
    {% if is_incremental() -%}
    where mrr_daily.date_day >= (select start_date from bounds)
    {%- endif %}

),

users as (

    select user_id, is_admin from {{ ref('stg_usage__users') }}

),

user_days_base as (

    select
        user_daily.account_id,
        user_daily.user_id,
        user_daily.event_date,
        coalesce(users.is_admin, false) as is_admin
    from {{ ref('int_usage_user_daily') }} as user_daily
    left join users on users.user_id = user_daily.user_id
    where user_daily.user_id <> '(anonymous)'
    {% if is_incremental() -%}
      and user_daily.event_date >= (select user_input_start from bounds)
    {%- endif %}

),

usage_firsts as (

    -- each account's first usage, and first activity of a user who is an admin now
    select
        firsts.account_id,
        min(firsts.first_active_date) as first_event_date,
        min(case when coalesce(users.is_admin, false) then firsts.first_active_date end) as first_admin_active_date
    from {{ ref('int_usage_user_firsts') }} as firsts
    left join users on users.user_id = firsts.user_id
    group by firsts.account_id

),

user_days as (

    select
        user_days_base.*,
        lead(event_date) over (partition by account_id, user_id order by event_date) as next_event_date
    from user_days_base

),

admin_days as (

    select
        account_id, user_id, event_date,
        lead(event_date) over (partition by account_id, user_id order by event_date) as next_event_date
    from user_days
    where is_admin

),

account_days as (

    select account_id, event_date, events, active_users
    from {{ ref('int_usage_account_daily') }}
    {% if is_incremental() -%}
    where event_date >= (select input_start from bounds)
    {%- endif %}

),

core_features as (

    select feature from {{ ref('core_features') }}

),

feature_days as (

    select
        feature_daily.account_id,
        feature_daily.feature,
        feature_daily.event_date,
        lead(feature_daily.event_date) over (
            partition by feature_daily.account_id, feature_daily.feature order by feature_daily.event_date
        ) as next_event_date
    from {{ ref('int_usage_account_feature_daily') }} as feature_daily
    inner join core_features on core_features.feature = feature_daily.feature
    {% if is_incremental() -%}
    where feature_daily.event_date >= (select user_input_start from bounds)
    {%- endif %}

),

tickets as (

    select
        ticket_facts.*,
        case
            when ticket_facts.met_first_reply_sla then 'met'
            when not ticket_facts.met_first_reply_sla then 'missed'
            -- no reply yet and the target has passed by the as-of date: missed
            when ticket_facts.first_replied_at is null
                 and ticket_facts.sla_first_reply_hours is not null
                 and {{ dbt.dateadd('hour', 'ticket_facts.sla_first_reply_hours', 'ticket_facts.created_at') }}
                     < cast({{ health_add_days('(select as_of_date from bounds)', '1') }} as {{ dbt.type_timestamp() }})
                then 'missed'
        end as sla_outcome,
        coalesce(ticket_facts.solved_date, ticket_facts.created_date) as rating_date
    from {{ ref('int_ticket_facts') }} as ticket_facts
    where ticket_facts.account_id is not null
    {% if is_incremental() -%}
      and coalesce(ticket_facts.solved_date, ticket_facts.created_date) >= (select input_start from bounds)
    {%- endif %}

),

deltas as (

    -- distinct active users, license-utilization window
    {{ health_delta(cols, 'util_users', '1', 'u.event_date',
        'from user_days as u') }}
    union all
    {{ health_delta(cols, 'util_users', '-1',
        'least(coalesce(u.next_event_date, ' ~ health_add_days('u.event_date', 'c.license_utilization_window_days') ~ '), '
          ~ health_add_days('u.event_date', 'c.license_utilization_window_days') ~ ')',
        'from user_days as u inner join cfg as c on c.account_id = u.account_id') }}
    union all
    -- distinct active users and user-days, engagement window
    {{ health_delta(cols, 'eng_users', '1', 'u.event_date', 'from user_days as u') }}
    union all
    {{ health_delta(cols, 'eng_users', '-1',
        'least(coalesce(u.next_event_date, ' ~ health_add_days('u.event_date', 'c.engagement_window_days') ~ '), '
          ~ health_add_days('u.event_date', 'c.engagement_window_days') ~ ')',
        'from user_days as u inner join cfg as c on c.account_id = u.account_id') }}
    union all
    -- (user-days: the account's identified active users of each day, one row per account-day)
    {{ health_delta(cols, 'eng_user_days', 'a.active_users', 'a.event_date', 'from account_days as a') }}
    union all
    {{ health_delta(cols, 'eng_user_days', '-a.active_users', health_add_days('a.event_date', 'c.engagement_window_days'),
        'from account_days as a inner join cfg as c on c.account_id = a.account_id') }}
    union all
    -- distinct core features, breadth window
    {{ health_delta(cols, 'core_features', '1', 'f.event_date', 'from feature_days as f') }}
    union all
    {{ health_delta(cols, 'core_features', '-1',
        'least(coalesce(f.next_event_date, ' ~ health_add_days('f.event_date', 'c.breadth_window_days') ~ '), '
          ~ health_add_days('f.event_date', 'c.breadth_window_days') ~ ')',
        'from feature_days as f inner join cfg as c on c.account_id = f.account_id') }}
    union all
    -- events in the trend window and in the window before it
    {{ health_delta(cols, 'trend_events', 'a.events', 'a.event_date', 'from account_days as a') }}
    union all
    {{ health_delta(cols, 'trend_events', '-a.events', health_add_days('a.event_date', 'c.usage_trend_window_days'),
        'from account_days as a inner join cfg as c on c.account_id = a.account_id') }}
    union all
    {{ health_delta(cols, 'trend_prior_events', 'a.events', health_add_days('a.event_date', 'c.usage_trend_window_days'),
        'from account_days as a inner join cfg as c on c.account_id = a.account_id') }}
    union all
    {{ health_delta(cols, 'trend_prior_events', '-a.events', health_add_days('a.event_date', '2 * c.usage_trend_window_days'),
        'from account_days as a inner join cfg as c on c.account_id = a.account_id') }}
    union all
    -- distinct admin users active, champion window and champion_gone alert window
    {{ health_delta(cols, 'champion_admins', '1', 'u.event_date', 'from admin_days as u') }}
    union all
    {{ health_delta(cols, 'champion_admins', '-1',
        'least(coalesce(u.next_event_date, ' ~ health_add_days('u.event_date', 'c.champion_window_days') ~ '), '
          ~ health_add_days('u.event_date', 'c.champion_window_days') ~ ')',
        'from admin_days as u inner join cfg as c on c.account_id = u.account_id') }}
    union all
    {{ health_delta(cols, 'alert_admins', '1', 'u.event_date', 'from admin_days as u') }}
    union all
    {{ health_delta(cols, 'alert_admins', '-1',
        'least(coalesce(u.next_event_date, ' ~ health_add_days('u.event_date', 'cast(c.alert_champion_gone_threshold as integer)') ~ '), '
          ~ health_add_days('u.event_date', 'cast(c.alert_champion_gone_threshold as integer)') ~ ')',
        'from admin_days as u inner join cfg as c on c.account_id = u.account_id
         where c.alert_champion_gone_threshold is not null') }}
    union all
    -- tickets opened, support-burden window
    {{ health_delta(cols, 'support_tickets', '1', 't.created_date', 'from tickets as t') }}
    union all
    {{ health_delta(cols, 'support_tickets', '-1', health_add_days('t.created_date', 'c.support_burden_window_days'),
        'from tickets as t inner join cfg as c on c.account_id = t.account_id') }}
    union all
    -- SLA outcomes of the tickets opened in the responsiveness window
    {{ health_delta(cols, 'sla_met', '1', 't.created_date', "from tickets as t where t.sla_outcome = 'met'") }}
    union all
    {{ health_delta(cols, 'sla_met', '-1', health_add_days('t.created_date', 'c.responsiveness_window_days'),
        "from tickets as t inner join cfg as c on c.account_id = t.account_id where t.sla_outcome = 'met'") }}
    union all
    {{ health_delta(cols, 'sla_missed', '1', 't.created_date', "from tickets as t where t.sla_outcome = 'missed'") }}
    union all
    {{ health_delta(cols, 'sla_missed', '-1', health_add_days('t.created_date', 'c.responsiveness_window_days'),
        "from tickets as t inner join cfg as c on c.account_id = t.account_id where t.sla_outcome = 'missed'") }}
    union all
    -- CSAT ratings in the satisfaction window (dated when solved)
    {{ health_delta(cols, 'csat_good', '1', 't.rating_date', "from tickets as t where t.satisfaction_rating = 'good'") }}
    union all
    {{ health_delta(cols, 'csat_good', '-1', health_add_days('t.rating_date', 'c.satisfaction_window_days'),
        "from tickets as t inner join cfg as c on c.account_id = t.account_id where t.satisfaction_rating = 'good'") }}
    union all
    {{ health_delta(cols, 'csat_bad', '1', 't.rating_date', "from tickets as t where t.satisfaction_rating = 'bad'") }}
    union all
    {{ health_delta(cols, 'csat_bad', '-1', health_add_days('t.rating_date', 'c.satisfaction_window_days'),
        "from tickets as t inner join cfg as c on c.account_id = t.account_id where t.satisfaction_rating = 'bad'") }}

),

nps_daily as (

    -- the day's mean NPS score per account, encoded so that a running max finds the latest:
    -- days since 1970-01-01 x 1000 + round(score x 10)
    select
        account_id,
        response_date as date_day,
        cast({{ dbt.datediff("cast('1970-01-01' as date)", 'response_date', 'day') }} as {{ dbt.type_bigint() }}) * 1000
            + cast(round(avg(score) * 10) as {{ dbt.type_bigint() }}) as nps_key
    from {{ ref('stg_ticketing__nps_responses') }}
    where account_id is not null
    {% if is_incremental() -%}
      and response_date >= (select input_start from bounds)
    {%- endif %}
    group by account_id, response_date

),

combined as (

    select account_id, date_day{% for c in cols %}, 0 as {{ c }}{% endfor %}, cast(null as {{ dbt.type_bigint() }}) as nps_key
    from spine
    union all
    select deltas.*, cast(null as {{ dbt.type_bigint() }}) as nps_key
    from deltas
    where deltas.date_day <= (select as_of_date from bounds)
    union all
    select account_id, date_day{% for c in cols %}, 0 as {{ c }}{% endfor %}, nps_key
    from nps_daily

),

daily as (

    select
        account_id,
        date_day
        {%- for c in cols %},
        sum({{ c }}) as {{ c }}
        {%- endfor %},
        max(nps_key) as nps_key
    from combined
    group by account_id, date_day

),

running as (

    select
        account_id,
        date_day
        {%- for c in cols %},
        sum({{ c }}) over (partition by account_id order by date_day rows between unbounded preceding and current row) as {{ c }}
        {%- endfor %},
        max(nps_key) over (partition by account_id order by date_day rows between unbounded preceding and current row) as nps_key
    from daily

),

days as (

    {{ date_spine("(select start_date from bounds)", "(select as_of_date from bounds)") }}

),

invoices as (

    select
        invoices.invoice_id,
        customers.account_id,
        invoices.status,
        cast(invoices.created_at as date) as created_date,
        cast(invoices.due_at as date) as due_date,
        cast(invoices.paid_at as date) as paid_date
    from {{ ref('stg_billing__invoices') }} as invoices
    inner join {{ ref('stg_billing__customers') }} as customers
        on customers.customer_id = invoices.customer_id
    where customers.account_id is not null

),

first_invoice as (

    select account_id, min(created_date) as first_invoice_date
    from invoices
    group by account_id

),

overdue_days as (

    -- an invoice is overdue from the day after its due date until the day before it is paid
    select
        invoices.account_id,
        days.date_day,
        invoices.invoice_id,
        {{ dbt.datediff('invoices.due_date', 'days.date_day', 'day') }} as days_overdue,
        row_number() over (
            partition by invoices.account_id, days.date_day
            order by invoices.due_date, invoices.invoice_id
        ) as overdue_rank,
        count(*) over (partition by invoices.account_id, days.date_day) as overdue_invoices
    from invoices
    inner join days
        on days.date_day > invoices.due_date
        and (invoices.paid_date is null or days.date_day < invoices.paid_date)
    where invoices.due_date is not null
      and invoices.status not in ('void', 'draft')
      and not (invoices.status = 'paid' and invoices.paid_date is null)

),

overdue as (

    select account_id, date_day, invoice_id as oldest_overdue_invoice_id,
           days_overdue as max_days_overdue, overdue_invoices
    from overdue_days
    where overdue_rank = 1

),

urgent_breach_tickets as (

    -- urgent tickets unsolved past the alert threshold (hours): in breach from that moment
    -- until solved
    select
        t.account_id,
        t.ticket_id,
        cast({{ dbt.dateadd('hour', 'c.alert_urgent_ticket_unsolved_threshold', 't.created_at') }} as date) as breach_start_date,
        coalesce(t.solved_date, (select as_of_date from bounds)) as breach_end_date
    from {{ ref('int_ticket_facts') }} as t
    inner join cfg as c on c.account_id = t.account_id
    where t.priority = 'urgent'
      and c.alert_urgent_ticket_unsolved_threshold is not null
      and (
          (t.solved_at is null and not t.is_solved)
          or t.solved_at > {{ dbt.dateadd('hour', 'c.alert_urgent_ticket_unsolved_threshold', 't.created_at') }}
      )

),

urgent_breaches as (

    select
        urgent_breach_tickets.account_id,
        days.date_day,
        count(*) as urgent_tickets_breached,
        min(urgent_breach_tickets.ticket_id) as urgent_breached_ticket_id
    from urgent_breach_tickets
    inner join days
        on days.date_day >= urgent_breach_tickets.breach_start_date
        and days.date_day <= urgent_breach_tickets.breach_end_date
    group by urgent_breach_tickets.account_id, days.date_day

),

core_feature_count as (

    select count(*) as core_features_total from core_features

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
        -- "as of the day": a late event never rewrites rows before its own day, so an
        -- incremental refresh equals a full refresh
        case when usage_firsts.first_event_date <= spine.date_day
             then usage_firsts.first_event_date end as first_event_date,
        coalesce(usage_firsts.first_event_date <= spine.date_day, false) as has_usage_data,
        case when usage_firsts.first_admin_active_date <= spine.date_day
             then usage_firsts.first_admin_active_date end as first_admin_active_date,
        running.util_users as active_users_utilization_window,
        running.eng_users as active_users_engagement_window,
        running.eng_user_days as user_days_engagement_window,
        running.core_features as core_features_used,
        core_feature_count.core_features_total,
        running.trend_events as events_trend_window,
        running.trend_prior_events as events_prior_trend_window,
        running.champion_admins as admins_active_champion_window,
        running.alert_admins as admins_active_alert_window,
        running.support_tickets as tickets_support_window,
        running.sla_met as tickets_sla_met,
        running.sla_missed as tickets_sla_missed,
        running.csat_good,
        running.csat_bad,
        case
            when running.nps_key is not null
                 and floor(running.nps_key / 1000) >
                     {{ dbt.datediff("cast('1970-01-01' as date)", 'spine.date_day', 'day') }} - cfg.satisfaction_window_days
                then (running.nps_key - 1000 * floor(running.nps_key / 1000)) / 10.0
        end as latest_nps_score,
        first_invoice.first_invoice_date,
        coalesce(overdue.max_days_overdue, 0) as max_days_overdue,
        coalesce(overdue.overdue_invoices, 0) as overdue_invoices,
        overdue.oldest_overdue_invoice_id,
        coalesce(urgent_breaches.urgent_tickets_breached, 0) as urgent_tickets_breached,
        urgent_breaches.urgent_breached_ticket_id
    from spine
    inner join cfg on cfg.account_id = spine.account_id
    inner join running on running.account_id = spine.account_id and running.date_day = spine.date_day
    cross join core_feature_count
    left join usage_firsts on usage_firsts.account_id = spine.account_id
    left join first_invoice on first_invoice.account_id = spine.account_id
    left join overdue on overdue.account_id = spine.account_id and overdue.date_day = spine.date_day
    left join urgent_breaches on urgent_breaches.account_id = spine.account_id and urgent_breaches.date_day = spine.date_day

)

select
    joined.*,
    -- the raw measure of each component; null = no data (the component is left out)
    case when has_usage_data and seats > 0
        then cast(active_users_utilization_window as double) / seats end as license_utilization_measure,
    case when has_usage_data then
        case when active_users_engagement_window > 0
            then cast(user_days_engagement_window as double) / active_users_engagement_window else 0 end
    end as engagement_measure,
    case when has_usage_data and core_features_total > 0
        then cast(core_features_used as double) / core_features_total end as breadth_measure,
    case when events_prior_trend_window > 0
        then cast(events_trend_window as double) / events_prior_trend_window end as usage_trend_measure,
    case when has_usage_data then admins_active_champion_window end as champion_measure,
    case when seats > 0 then 10.0 * tickets_support_window / seats end as support_burden_measure,
    case when tickets_sla_met + tickets_sla_missed > 0
        then cast(tickets_sla_met as double) / (tickets_sla_met + tickets_sla_missed) end as responsiveness_measure,
    case
        when csat_good + csat_bad > 0 and latest_nps_score is not null
            then (cast(csat_good as double) / (csat_good + csat_bad) + latest_nps_score / 10.0) / 2
        when csat_good + csat_bad > 0 then cast(csat_good as double) / (csat_good + csat_bad)
        when latest_nps_score is not null then latest_nps_score / 10.0
    end as satisfaction_measure,
    case when first_invoice_date <= date_day then max_days_overdue end as payment_measure
from joined
