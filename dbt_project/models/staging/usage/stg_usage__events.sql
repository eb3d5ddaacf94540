-- One row per product event (message_id): a message delivered more than once keeps its
-- first delivery (earliest drop, then earliest received_at). event_date is the UTC day the
-- event happened, which late events make earlier than their drop.
with

source as (

    select * from {{ source('raw', 'usage__events') }}

),

renamed as (

    select
        -- ids
        message_id,
        account_id,
        user_id,

        -- event
        event as event_name,
        feature,

        -- timestamps (UTC)
        event_at,
        cast(event_at as date) as event_date,
        received_at,

        -- load metadata
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

first_delivery as (

    {{ deduplicate('renamed', 'message_id',
                   '_drop_date, received_at, _source_file, _source_line') }}

)

select
    message_id,
    account_id,
    user_id,
    event_name,
    feature,
    event_at,
    event_date,
    received_at,
    {{ dbt.datediff('event_date', '_drop_date', 'day') }} as days_late,
    _drop_date,
    _source_file,
    _source_line,
    _loaded_at
from first_delivery
