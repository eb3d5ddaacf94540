-- One row per product user: the latest version (latest updated_at wins; ties go to the
-- later drop, then the later line).
with

source as (

    select * from {{ source('raw', 'usage__users') }}

),

renamed as (

    select
        -- ids
        user_id,
        account_id,

        -- attributes
        email as user_email,
        role as user_role,

        -- timestamps (UTC)
        created_at,
        deactivated_at,
        updated_at,

        -- load metadata
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

latest as (

    {{ deduplicate('renamed', 'user_id',
                   'updated_at desc, _drop_date desc, _source_file desc, _source_line desc') }}

)

select
    user_id,
    account_id,
    user_email,
    user_role,
    user_role = 'admin' as is_admin,
    created_at,
    deactivated_at,
    deactivated_at is not null as is_deactivated,
    updated_at,
    _drop_date,
    _source_file,
    _source_line,
    _loaded_at
from latest
