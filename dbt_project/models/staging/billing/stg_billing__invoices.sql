-- One row per Stripe invoice: its latest version (latest updated_at wins; ties go to the
-- later drop, then the later line). Amounts in minor and major units.
with

source as (

    select * from {{ source('raw', 'billing__invoices') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

renamed as (

    select
        -- ids
        invoice_id,
        customer_id,
        subscription_id,

        -- attributes
        status,
        lower(currency) as currency,
        amount_due as amount_due_minor,
        amount_paid as amount_paid_minor,

        -- timestamps (UTC)
        created_at,
        due_at,
        paid_at,
        updated_at,

        -- load metadata
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

latest as (

    {{ deduplicate('renamed', 'invoice_id',
                   'updated_at desc, _drop_date desc, _source_file desc, _source_line desc') }}

),

final as (

    select
        latest.invoice_id,
        latest.customer_id,
        latest.subscription_id,
        latest.status,
        latest.currency,
        latest.amount_due_minor,
        latest.amount_paid_minor,
        {{ minor_to_major('latest.amount_due_minor', 'currencies.minor_unit_exponent') }} as amount_due,
        {{ minor_to_major('latest.amount_paid_minor', 'currencies.minor_unit_exponent') }} as amount_paid,
        latest.created_at,
        latest.due_at,
        latest.paid_at,
        latest.updated_at,
        latest._drop_date,
        latest._source_file,
        latest._source_line,
        latest._loaded_at

    from latest
    left join currencies
        on latest.currency = currencies.currency

)

select * from final
