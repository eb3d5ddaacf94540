-- One row per NPS response (a response delivered more than once: the latest delivery
-- wins). nps_category: promoter 9-10, passive 7-8, detractor 0-6.
with

source as (

    select * from {{ source('raw', 'ticketing__nps_responses') }}

),

renamed as (

    select
        -- ids
        response_id,
        account_id,
        user_id,

        -- answer
        score,
        comment as response_comment,

        -- timestamps (UTC)
        responded_at,

        -- load metadata
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

latest as (

    {{ deduplicate('renamed', 'response_id',
                   '_drop_date desc, _source_file desc, _source_line desc') }}

)

select
    response_id,
    account_id,
    user_id,
    score,
    case
        when score >= 9 then 'promoter'
        when score >= 7 then 'passive'
        else 'detractor'
    end as nps_category,
    response_comment,
    responded_at,
    cast(responded_at as date) as response_date,
    _drop_date,
    _source_file,
    _source_line,
    _loaded_at
from latest
