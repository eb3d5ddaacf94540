-- One row per Stripe subscription event (an event delivered twice collapses to its first
-- delivery). Each row is the subscription's state after the change, from `created_at` on.
with

source as (

    select * from {{ source('raw', 'billing__subscription_events') }}

),

renamed as (

    select
        -- ids
        event_id,
        subscription_id,
        customer_id,

        -- event
        event_type,
        created_at,
        cast(created_at as date) as event_date,

        -- subscription state after the change
        status,
        lower(currency) as currency,
        coalesce(cancel_at_period_end, false) as cancel_at_period_end,
        start_date as started_at,
        current_period_start as current_period_start_at,
        current_period_end as current_period_end_at,
        canceled_at,
        ended_at,

        -- load metadata
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

first_delivery as (

    {{ deduplicate('renamed', 'event_id', '_drop_date, _source_file, _source_line') }}

)

select
    event_id,
    subscription_id,
    customer_id,
    event_type,
    created_at,
    event_date,
    status,
    currency,
    cancel_at_period_end,
    started_at,
    current_period_start_at,
    current_period_end_at,
    canceled_at,
    ended_at,
    _drop_date,
    _source_file,
    _source_line,
    _loaded_at
from first_delivery
