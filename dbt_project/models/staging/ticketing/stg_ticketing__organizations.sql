-- One row per Zendesk organization: the latest version (latest updated_at wins; ties go to
-- the later drop, then the later line). account_id is the organization's external_id.
with

source as (

    select * from {{ source('raw', 'ticketing__organizations') }}

),

renamed as (

    select
        -- ids
        organization_id,
        external_id as account_id,

        -- attributes
        name as organization_name,

        -- timestamps (UTC)
        updated_at,

        -- load metadata
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

latest as (

    {{ deduplicate('renamed', 'organization_id',
                   'updated_at desc, _drop_date desc, _source_file desc, _source_line desc') }}

)

select
    organization_id,
    account_id,
    organization_name,
    updated_at,
    _drop_date,
    _source_file,
    _source_line,
    _loaded_at
from latest
