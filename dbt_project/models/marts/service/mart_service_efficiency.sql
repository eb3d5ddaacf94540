-- noqa: disable=LT02
-- (the CTEs of the Jinja loop below stay at the left margin, like every CTE)
-- Service efficiency (服务效率) per account and month, plus an overall row per month
-- (scope = 'overall', account_id null; it also counts tickets of organizations without an
-- account). Tickets are counted in the month they were opened (opened, first reply, SLA) or
-- solved (solved, resolution, reopen, one-touch, CSAT); NPS in the month of the response.
-- SLA attainment: first reply within the target for the ticket's priority
-- (seeds/sla_targets.csv; no priority = normal); a ticket still without a reply counts as a
-- miss once its target has passed by the as-of date (int_ticket_facts.sla_outcome).
{%- set dims = [('account', 'account_id'), ('overall', 'cast(null as ' ~ dbt.type_string() ~ ')')] %}
with

tickets as (

    select * from {{ ref('int_ticket_facts') }}

),

nps as (

    select * from {{ ref('stg_ticketing__nps_responses') }}

),

ticket_facts as (

    select
        tickets.*,
        cast({{ dbt.date_trunc('month', 'tickets.created_date') }} as date) as opened_month,
        cast({{ dbt.date_trunc('month', 'tickets.solved_date') }} as date) as solved_month,
        case tickets.sla_outcome when 'met' then 1 when 'missed' then 0 end as sla_met
    from tickets

),

nps_facts as (

    select
        account_id,
        cast({{ dbt.date_trunc('month', 'response_date') }} as date) as month,
        nps_category
    from nps

),

{%- for scope, key in dims %}

opened_{{ scope }} as (

    select
        opened_month as month,
        {{ key }} as account_id,
        count(*) as tickets_opened,
        {{ cs_median('first_reply_hours') }} as median_first_reply_hours,
        count(sla_met) as sla_evaluated_tickets,
        sum(sla_met) as sla_met_tickets
    from ticket_facts
    {%- if scope == 'account' %}
    where account_id is not null
    {%- endif %}
    group by opened_month{{ ', account_id' if scope == 'account' }}

),

solved_{{ scope }} as (

    select
        solved_month as month,
        {{ key }} as account_id,
        count(*) as tickets_solved,
        {{ cs_median('resolution_hours') }} as median_resolution_hours,
        sum(case when reopens > 0 then 1 else 0 end) as reopened_tickets,
        sum(case when reopens = 0 and replies = 1 then 1 else 0 end) as one_touch_tickets,
        sum(case when satisfaction_rating = 'good' then 1 else 0 end) as csat_good,
        sum(case when satisfaction_rating = 'bad' then 1 else 0 end) as csat_bad
    from ticket_facts
    where solved_date is not null
    {%- if scope == 'account' %}
      and account_id is not null
    {%- endif %}
    group by solved_month{{ ', account_id' if scope == 'account' }}

),

nps_{{ scope }} as (

    select
        month,
        {{ key }} as account_id,
        count(*) as nps_responses,
        sum(case when nps_category = 'promoter' then 1 else 0 end) as nps_promoters,
        sum(case when nps_category = 'detractor' then 1 else 0 end) as nps_detractors
    from nps_facts
    {%- if scope == 'account' %}
    where account_id is not null
    {%- endif %}
    group by month{{ ', account_id' if scope == 'account' }}

),

keys_{{ scope }} as (

    select month, account_id from opened_{{ scope }}
    union
    select month, account_id from solved_{{ scope }}
    union
    select month, account_id from nps_{{ scope }}

),

rows_{{ scope }} as (

    select
        '{{ scope }}' as scope,
        keys.month,
        keys.account_id,
        coalesce(o.tickets_opened, 0) as tickets_opened,
        coalesce(s.tickets_solved, 0) as tickets_solved,
        o.median_first_reply_hours,
        s.median_resolution_hours,
        coalesce(o.sla_evaluated_tickets, 0) as sla_evaluated_tickets,
        coalesce(o.sla_met_tickets, 0) as sla_met_tickets,
        coalesce(s.reopened_tickets, 0) as reopened_tickets,
        coalesce(s.one_touch_tickets, 0) as one_touch_tickets,
        coalesce(s.csat_good, 0) as csat_good,
        coalesce(s.csat_bad, 0) as csat_bad,
        coalesce(n.nps_responses, 0) as nps_responses,
        coalesce(n.nps_promoters, 0) as nps_promoters,
        coalesce(n.nps_detractors, 0) as nps_detractors
    from keys_{{ scope }} as keys
    left join opened_{{ scope }} as o
        on o.month = keys.month {% if scope == 'account' %}and o.account_id = keys.account_id{% endif %}
    left join solved_{{ scope }} as s
        on s.month = keys.month {% if scope == 'account' %}and s.account_id = keys.account_id{% endif %}
    left join nps_{{ scope }} as n
        on n.month = keys.month {% if scope == 'account' %}and n.account_id = keys.account_id{% endif %}
    where keys.month is not null

),
{%- endfor %}

combined as (

    select * from rows_account
    union all
    select * from rows_overall

)

select
    {{ dbt.concat(["scope", "'|'", "coalesce(account_id, 'all')", "'|'", dbt.safe_cast("month", dbt.type_string())]) }}
        as service_month_id,
    scope,
    month,
    account_id,
    tickets_opened,
    tickets_solved,
    {{ round_half_up('median_first_reply_hours', 2) }} as median_first_reply_hours,
    {{ round_half_up('median_resolution_hours', 2) }} as median_resolution_hours,
    sla_evaluated_tickets,
    sla_met_tickets,
    case when sla_evaluated_tickets > 0 then {{ round_half_up('cast(sla_met_tickets as double) / sla_evaluated_tickets', 4) }} end
        as sla_attainment,
    case when tickets_solved > 0 then {{ round_half_up('cast(reopened_tickets as double) / tickets_solved', 4) }} end as reopen_rate,
    case when tickets_solved > 0 then {{ round_half_up('cast(one_touch_tickets as double) / tickets_solved', 4) }} end
        as one_touch_resolution_rate,
    csat_good,
    csat_bad,
    case when csat_good + csat_bad > 0 then {{ round_half_up('cast(csat_good as double) / (csat_good + csat_bad)', 4) }} end as csat,
    nps_responses,
    nps_promoters,
    nps_detractors,
    case when nps_responses > 0
        then {{ round_half_up('cast(nps_promoters - nps_detractors as double) / nps_responses', 4) }} end as nps
from combined
