-- One row per (rate_date, currency): USD per unit of the currency on that day. A rate
-- delivered more than once with the same value is loaded once (the latest delivery's
-- metadata). Conflicting deliveries (two or more different usd_per_unit for one currency and
-- day, in one drop or across drops) are quarantined: none of them is used, they are listed
-- in stg_ingestion__rejects, and a paying state that needs the rate fails the build
-- (assert_fx_rate_for_every_paying_state), as a missing rate does. USD itself is added at
-- 1.0 for every date that has rates but no delivered usd row (is_delivered = false).
with

source as (

    select * from {{ source('raw', 'billing__fx_rates') }}

),

renamed as (

    select
        rate_date,
        lower(currency) as currency,
        usd_per_unit,
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

-- keep in step with the fx_conflicts CTE of stg_ingestion__rejects
conflicts as (

    select
        rate_date,
        currency
    from renamed
    group by rate_date, currency
    having count(distinct usd_per_unit) > 1

),

agreed as (

    select renamed.*
    from renamed
    left join conflicts
        on conflicts.rate_date = renamed.rate_date
        and conflicts.currency = renamed.currency
    where conflicts.currency is null

),

latest as (

    {{ deduplicate('agreed', 'rate_date, currency',
                   '_drop_date desc, _source_file desc, _source_line desc') }}

),

delivered as (

    select
        rate_date,
        currency,
        usd_per_unit,
        true as is_delivered,
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at
    from latest

),

usd_fill as (

    select
        rate_date,
        'usd' as currency,
        cast(1.0 as double) as usd_per_unit,
        false as is_delivered,
        cast(null as date) as _drop_date,
        cast(null as {{ dbt.type_string() }}) as _source_file,
        cast(null as {{ dbt.type_bigint() }}) as _source_line,
        cast(null as {{ dbt.type_timestamp() }}) as _loaded_at
    from delivered
    group by rate_date
    having sum(case when currency = 'usd' then 1 else 0 end) = 0

),

final as (

    select * from delivered
    union all
    select * from usd_fill

)

select * from final
