-- One row per ticket (its latest version), attached to the CRM account through its
-- organization's external_id, with reply / resolution hours and the SLA target for its
-- priority (seeds/sla_targets.csv). No personal data: the requester appears only by id.
-- sla_outcome is the one definition of a ticket's first-reply SLA outcome as of the as-of
-- date (the health responsiveness component and mart_service_efficiency count it).
with

tickets as (

    select * from {{ ref('stg_ticketing__tickets') }}

),

organizations as (

    select organization_id, account_id from {{ ref('stg_ticketing__organizations') }}

),

sla as (

    select priority, first_reply_hours from {{ ref('sla_targets') }}

),

as_of as (

    select {{ as_of_date() }} as as_of_date

)

select
    tickets.ticket_id,
    organizations.account_id,
    tickets.organization_id,
    tickets.requester_id,
    tickets.priority,
    tickets.ticket_type,
    tickets.status,
    tickets.is_solved,
    tickets.channel,
    tickets.satisfaction_rating,
    tickets.reopens,
    tickets.replies,
    tickets.created_at,
    tickets.created_date,
    tickets.first_replied_at,
    tickets.solved_at,
    cast(tickets.solved_at as date) as solved_date,
    {{ dbt.datediff('tickets.created_at', 'tickets.first_replied_at', 'second') }} / 3600.0
        as first_reply_hours,
    {{ dbt.datediff('tickets.created_at', 'tickets.solved_at', 'second') }} / 3600.0
        as resolution_hours,
    sla.first_reply_hours as sla_first_reply_hours,
    case
        when tickets.first_replied_at is null or sla.first_reply_hours is null then null
        else {{ dbt.datediff('tickets.created_at', 'tickets.first_replied_at', 'second') }}
            <= sla.first_reply_hours * 3600
    end as met_first_reply_sla,
    -- met / missed by the first reply; a ticket still without a reply counts as missed once
    -- its target has passed by the as-of date; null = no target or not due yet
    case
        when {{ dbt.datediff('tickets.created_at', 'tickets.first_replied_at', 'second') }}
            <= sla.first_reply_hours * 3600 then 'met'
        when {{ dbt.datediff('tickets.created_at', 'tickets.first_replied_at', 'second') }}
            > sla.first_reply_hours * 3600 then 'missed'
        when tickets.first_replied_at is null
            and sla.first_reply_hours is not null
            and {{ dbt.dateadd('hour', 'sla.first_reply_hours', 'tickets.created_at') }}
            < cast({{ health_add_days('as_of.as_of_date', '1') }} as {{ dbt.type_timestamp() }})
            then 'missed'
    end as sla_outcome
from tickets
cross join as_of
left join organizations on organizations.organization_id = tickets.organization_id
left join sla on sla.priority = coalesce(tickets.priority, 'normal')
