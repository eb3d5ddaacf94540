-- Customer-success risk alerts (主动服务触发): one row per alert. Each rule
-- (seeds/alert_rules.csv, per segment) is evaluated per account and day; an alert opens on
-- the first day its condition holds, carries the evidence of that day, and closes on the
-- first day the condition no longer holds (closed_date; null while still open on the as-of
-- date). A condition that holds again later opens a new alert.
--   usage_drop              paying; events in the usage-trend window down by >= threshold
--                           (fraction) vs the window before
--   champion_gone           paying; an admin was active before, none in the last threshold days
--   urgent_ticket_unsolved  an urgent ticket unsolved for more than threshold hours
--   health_red              paying; health tier red
--   renewal_not_green       paying; an annual renewal due within threshold days, tier not green
--   invoice_overdue         an invoice overdue for more than threshold days
--   health_declined         paying; health score down by >= threshold points in 7 days
--                           (mart_account_health.declined_7d)
{%- set s = dbt.type_string() %}
{#- the evidence's "; main drivers: <component> <score>, <component> <score>" (health rules) #}
{%- set main_drivers = ["'; main drivers: '", "coalesce(h.driver_1, '-')", "' '", "coalesce(" ~ dbt.safe_cast('h.driver_1_score', s) ~ ", '')",
                        "', '", "coalesce(h.driver_2, '-')", "' '", "coalesce(" ~ dbt.safe_cast('h.driver_2_score', s) ~ ", '')"] %}
with

health as (

    select * from {{ ref('mart_account_health') }}

),

cfg as (

    select * from {{ ref('int_account_health_config') }}

),

renewals as (

    select * from {{ ref('int_account_renewal_windows') }}

),

as_of as (

    select max(date) as as_of_date from health

),

-- the branches of the union below take their column names from the first one
-- noqa: disable=AL03,AL08
conditions as (

    select
        h.account_id, h.date, 'usage_drop' as rule, c.alert_usage_drop_severity as severity,
        c.alert_usage_drop_threshold as threshold,
        {{ round_half_up('1 - cast(h.events_trend_window as double) / h.events_prior_trend_window', 4) }} as evidence_value,
        {{ dbt.concat([
            "'events in the last '", dbt.safe_cast('c.usage_trend_window_days', s), "' days: '",
            dbt.safe_cast('h.events_trend_window', s), "' vs '", dbt.safe_cast('h.events_prior_trend_window', s),
            "' the '", dbt.safe_cast('c.usage_trend_window_days', s), "' days before (-'",
            dbt.safe_cast('cast(' ~ round_half_up('100 * (1 - cast(h.events_trend_window as double) / h.events_prior_trend_window)', 0) ~ ' as integer)', s),
            "'%)'"]) }} as evidence,
        h.health_score, h.health_tier
    from health as h
    inner join cfg as c on c.account_id = h.account_id
    where c.alert_usage_drop_enabled
        and h.is_paying
        and h.events_prior_trend_window > 0
        and h.events_trend_window <= (1 - c.alert_usage_drop_threshold) * h.events_prior_trend_window

    union all

    select
        h.account_id, h.date, 'champion_gone', c.alert_champion_gone_severity,
        c.alert_champion_gone_threshold,
        cast(h.admins_active_alert_window as double),
        {{ dbt.concat([
            "'no admin user active in the last '", dbt.safe_cast('cast(c.alert_champion_gone_threshold as integer)', s),
            "' days (an admin was first active on '", dbt.safe_cast('h.first_admin_active_date', s), "')'"]) }},
        h.health_score, h.health_tier
    from health as h
    inner join cfg as c on c.account_id = h.account_id
    where c.alert_champion_gone_enabled
        and h.is_paying
        and h.first_admin_active_date <= {{ health_add_days('h.date', '-1 * cast(c.alert_champion_gone_threshold as integer)') }}
        and h.admins_active_alert_window = 0

    union all

    select
        h.account_id, h.date, 'urgent_ticket_unsolved', c.alert_urgent_ticket_unsolved_severity,
        c.alert_urgent_ticket_unsolved_threshold,
        cast(h.urgent_tickets_breached as double),
        {{ dbt.concat([
            dbt.safe_cast('h.urgent_tickets_breached', s), "' urgent ticket(s) unsolved for more than '",
            dbt.safe_cast('cast(c.alert_urgent_ticket_unsolved_threshold as integer)', s), "' hours, e.g. ticket '",
            'h.urgent_breached_ticket_id']) }},
        h.health_score, h.health_tier
    from health as h
    inner join cfg as c on c.account_id = h.account_id
    where c.alert_urgent_ticket_unsolved_enabled
        and h.urgent_tickets_breached > 0

    union all

    select
        h.account_id, h.date, 'health_red', c.alert_health_red_severity,
        c.alert_health_red_threshold,
        h.health_score,
        {{ dbt.concat([
            "'health score '", dbt.safe_cast('h.health_score', s), "' (red below '", dbt.safe_cast('c.tier_yellow_min', s),
            "')'"] + main_drivers) }},
        h.health_score, h.health_tier
    from health as h
    inner join cfg as c on c.account_id = h.account_id
    where c.alert_health_red_enabled
        and h.is_paying
        and h.health_tier = 'red'

    union all

    select
        h.account_id, h.date, 'renewal_not_green', c.alert_renewal_not_green_severity,
        c.alert_renewal_not_green_threshold,
        cast(r.days_to_due as double),
        {{ dbt.concat([
            "'annual renewal due '", dbt.safe_cast('r.next_due_date', s), "' (in '", dbt.safe_cast('r.days_to_due', s),
            "' days), health '", "h.health_tier", "' '", dbt.safe_cast('h.health_score', s)]) }},
        h.health_score, h.health_tier
    from health as h
    inner join cfg as c on c.account_id = h.account_id
    inner join renewals as r on r.account_id = h.account_id and r.date_day = h.date
    where c.alert_renewal_not_green_enabled
        and h.is_paying
        and r.days_to_due <= c.alert_renewal_not_green_threshold
        and h.health_tier in ('yellow', 'red')

    union all

    select
        h.account_id, h.date, 'invoice_overdue', c.alert_invoice_overdue_severity,
        c.alert_invoice_overdue_threshold,
        cast(h.max_days_overdue as double),
        {{ dbt.concat([
            "'invoice '", 'h.oldest_overdue_invoice_id', "' overdue for '", dbt.safe_cast('h.max_days_overdue', s),
            "' days ('", dbt.safe_cast('h.overdue_invoices', s), "' invoice(s) overdue)'"]) }},
        h.health_score, h.health_tier
    from health as h
    inner join cfg as c on c.account_id = h.account_id
    where c.alert_invoice_overdue_enabled
        and h.max_days_overdue > c.alert_invoice_overdue_threshold

    union all

    select
        h.account_id, h.date, 'health_declined', c.alert_health_declined_severity,
        c.alert_health_declined_threshold,
        -1 * h.health_score_change_7d,
        {{ dbt.concat([
            "'health score '", dbt.safe_cast('h.health_score', s), "' ('", "h.health_tier",
            "'), down '", dbt.safe_cast('-1 * h.health_score_change_7d', s), "' points in 7 days (from '",
            dbt.safe_cast('h.health_score_7d_before', s), "' on '", dbt.safe_cast(health_add_days('h.date', '-7'), s),
            "')'"] + main_drivers) }},
        h.health_score, h.health_tier
    from health as h
    inner join cfg as c on c.account_id = h.account_id
    where c.alert_health_declined_enabled
        and h.is_paying
        and h.declined_7d

),
-- noqa: enable=AL03,AL08

islands as (

    -- consecutive days of a condition share island_key (date minus its position)
    select
        conditions.*,
        {{ health_add_days('conditions.date',
            '-1 * row_number() over (partition by conditions.account_id, conditions.rule order by conditions.date)') }}
            as island_key
    from conditions

),

alerts as (

    select
        account_id,
        rule,
        island_key,
        min(date) as opened_date,
        max(date) as last_active_date,
        count(*) as days_active
    from islands
    group by account_id, rule, island_key

)

select
    {{ dbt.concat(["alerts.account_id", "'|'", "alerts.rule", "'|'", dbt.safe_cast("alerts.opened_date", s)]) }} as alert_id,
    alerts.account_id,
    cfg.segment,
    alerts.rule,
    opening.severity,
    case when alerts.last_active_date >= as_of.as_of_date then 'open' else 'closed' end as status,
    alerts.opened_date,
    case when alerts.last_active_date < as_of.as_of_date
            then {{ health_add_days('alerts.last_active_date', '1') }}
    end as closed_date,
    alerts.last_active_date,
    alerts.days_active,
    opening.threshold,
    opening.evidence_value,
    opening.evidence,
    opening.health_score as health_score_at_open,
    opening.health_tier as health_tier_at_open
from alerts
cross join as_of
inner join islands as opening
    on opening.account_id = alerts.account_id
    and opening.rule = alerts.rule
    and opening.date = alerts.opened_date
left join cfg on cfg.account_id = alerts.account_id
