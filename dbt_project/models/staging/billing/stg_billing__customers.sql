-- One row per Stripe customer: its latest version (latest updated_at wins; ties go to the
-- later drop, then the later line). Exact re-deliveries collapse.
with

source as (

    select * from {{ source('raw', 'billing__customers') }}

),

renamed as (

    select
        -- ids
        customer_id,
        account_id,

        -- attributes
        name as customer_name,
        email as customer_email,
        lower(currency) as currency,
        segment,
        industry,
        region,
        csm_owner,
        coalesce(is_deleted, false) as is_deleted,

        -- timestamps (UTC)
        created_at,
        updated_at,

        -- load metadata
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

latest as (

    {{ deduplicate('renamed', 'customer_id',
                   'updated_at desc, _drop_date desc, _source_file desc, _source_line desc') }}

)

select
    customer_id,
    account_id,
    customer_name,
    customer_email,
    currency,
    segment,
    industry,
    region,
    csm_owner,
    is_deleted,
    created_at,
    updated_at,
    _drop_date,
    _source_file,
    _source_line,
    _loaded_at
from latest
