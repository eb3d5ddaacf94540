-- Service efficiency per month and segment for the monthly KPIs (mart_cs_kpis_monthly),
-- from mart_service_efficiency: for 'all' its overall row (which also counts tickets of
-- organizations without an account); for a segment its accounts' rows added up (SLA, CSAT and
-- NPS counts) and the median first reply over their tickets (int_ticket_facts, the tickets
-- mart_service_efficiency counts). Rates rounded as in mart_service_efficiency.
with

accounts as (

    select account_id, segment from {{ ref('dim_accounts') }}

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
        accounts.segment,
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
    group by service.month, accounts.segment

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
        case when service_accounts.sla_evaluated_tickets > 0 then {{ round_half_up('cast(service_accounts.sla_met_tickets as double) / service_accounts.sla_evaluated_tickets', 4) }} end as sla_attainment,
        case when service_accounts.csat_good + service_accounts.csat_bad > 0 then {{ round_half_up('cast(service_accounts.csat_good as double) / (service_accounts.csat_good + service_accounts.csat_bad)', 4) }} end as csat,
        case when service_accounts.nps_responses > 0 then {{ round_half_up('cast(service_accounts.nps_promoters - service_accounts.nps_detractors as double) / service_accounts.nps_responses', 4) }} end as nps
    from service_accounts
    left join first_replies
        on first_replies.month = service_accounts.month and first_replies.segment = service_accounts.segment

)

select month, segment, median_first_reply_hours, sla_attainment, csat, nps from service_overall
union all
select month, segment, median_first_reply_hours, sla_attainment, csat, nps from service_segments
