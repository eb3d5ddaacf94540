-- One row per Zendesk ticket: its latest version (latest updated_at wins; ties go to the
-- later drop, then the later line).
with

source as (

    select * from {{ source('raw', 'ticketing__tickets') }}

),

renamed as (

    select
        -- ids
        ticket_id,
        organization_id,
        requester_id,

        -- attributes
        priority,
        ticket_type,
        status,
        channel,
        satisfaction_rating,
        coalesce(reopens, 0) as reopens,
        coalesce(replies, 0) as replies,

        -- timestamps (UTC)
        created_at,
        updated_at,
        first_replied_at,
        solved_at,

        -- load metadata
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

latest as (

    {{ deduplicate('renamed', 'ticket_id',
                   'updated_at desc, _drop_date desc, _source_file desc, _source_line desc') }}

)

select
    ticket_id,
    organization_id,
    requester_id,
    priority,
    ticket_type,
    status,
    status in ('solved', 'closed') as is_solved,
    channel,
    satisfaction_rating,
    reopens,
    replies,
    created_at,
    cast(created_at as date) as created_date,
    updated_at,
    first_replied_at,
    solved_at,
    _drop_date,
    _source_file,
    _source_line,
    _loaded_at
from latest
