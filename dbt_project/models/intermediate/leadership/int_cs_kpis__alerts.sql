-- noqa: disable=LT02
-- (the Jinja loops over events and severities below lay out their own indentation)
-- Alerts opened and closed per month and segment (the account's current segment, plus
-- 'all') and severity, from mart_cs_alerts (opened_date / closed_date in the month), for
-- the monthly KPIs (mart_cs_kpis_monthly).
{%- set severities = ['high', 'medium', 'low'] %}
with

accounts as (

    select account_id, segment from {{ ref('dim_accounts') }}

),

events as (

    select 'opened' as event
    union all
    select 'closed' as event

),

alert_events as (

    -- each alert once as opened and, when it closed, once as closed
    select
        cast({{ dbt.date_trunc('month', "case when events.event = 'opened' then alerts.opened_date else alerts.closed_date end") }} as date)
            as month,
        events.event,
        coalesce(accounts.segment, 'unknown') as segment,
        alerts.severity
    from {{ ref('mart_cs_alerts') }} as alerts
    cross join events
    left join accounts on accounts.account_id = alerts.account_id
    where events.event = 'opened' or alerts.closed_date is not null

),

alert_segments as (

    select month, segment, event, severity from alert_events
    union all
    select month, 'all' as segment, event, severity from alert_events

)

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
