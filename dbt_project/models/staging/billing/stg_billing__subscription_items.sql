-- One row per item of each subscription event, taken from the delivery chosen in
-- stg_billing__subscription_events (same event_id, _drop_date, _source_file, _source_line),
-- so a re-delivered event does not double its items. Amounts in minor and major units.
with

source as (

    select * from {{ source('raw', 'billing__subscription_event_items') }}

),

events as (

    select * from {{ ref('stg_billing__subscription_events') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

renamed as (

    select
        -- ids
        event_id,
        _item_index as item_index,
        item_id,
        subscription_id,
        price_id,
        product_id,

        -- price
        quantity,
        lower(price_currency) as currency,
        unit_amount as unit_amount_minor,
        {{ adapter.quote('interval') }} as recurring_interval,
        interval_count as recurring_interval_count,

        -- load metadata (of the parent event row)
        _drop_date,
        _source_file,
        _source_line

    from source

),

final as (

    select
        {{ dbt.concat(["renamed.event_id", "'-'", dbt.safe_cast("renamed.item_index", dbt.type_string())]) }}
            as event_item_id,
        renamed.event_id,
        renamed.item_index,
        renamed.item_id,
        renamed.subscription_id,
        events.customer_id,
        events.created_at as event_created_at,
        events.event_date,
        events.status as subscription_status,
        renamed.price_id,
        renamed.product_id,
        renamed.quantity,
        renamed.currency,
        renamed.unit_amount_minor,
        {{ minor_to_major('renamed.unit_amount_minor', 'currencies.minor_unit_exponent') }}
            as unit_amount,
        renamed.recurring_interval,
        renamed.recurring_interval_count,
        case renamed.recurring_interval
            when 'month' then renamed.recurring_interval_count
            when 'year' then 12 * renamed.recurring_interval_count
        end as interval_months,
        renamed._drop_date,
        renamed._source_file,
        renamed._source_line

    from renamed
    inner join events
        on renamed.event_id = events.event_id
        and renamed._drop_date = events._drop_date
        and renamed._source_file = events._source_file
        and renamed._source_line = events._source_line
    left join currencies
        on renamed.currency = currencies.currency

)

select * from final
