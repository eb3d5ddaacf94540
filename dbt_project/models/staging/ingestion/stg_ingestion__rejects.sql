-- One row per quarantined record (source, object, file, line): what ingestion rejected and
-- why (ingestion writes each rejected line once), plus every delivery of a conflicting FX
-- rate (two or more different usd_per_unit for one currency and day, in one drop or across
-- drops), which stg_billing__fx_rates leaves out. Empty until the first reject.
{%- set reject_columns = {
    'source': dbt.type_string(),
    'object': dbt.type_string(),
    '_drop_date': 'date',
    '_source_file': dbt.type_string(),
    '_source_line': dbt.type_bigint(),
    'reason': dbt.type_string(),
    'record': dbt.type_string(),
    '_loaded_at': dbt.type_timestamp(),
} %}
with

source as (

    {{ source_or_empty('raw', 'rejects', reject_columns) }}

),

ingestion_rejects as (

    select
        source as source_name,
        object as object_name,
        reason,
        record as raw_record,
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from source

),

fx_source as (

    select
        rate_date,
        lower(currency) as currency,
        usd_per_unit,
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at
    from {{ source('raw', 'billing__fx_rates') }}

),

fx_values as (

    select distinct rate_date, currency, usd_per_unit
    from fx_source

),

-- keep in step with the conflicts CTE of stg_billing__fx_rates
fx_conflicts as (

    select
        rate_date,
        currency,
        {{ dbt.listagg(dbt.safe_cast('usd_per_unit', dbt.type_string()), "', '",
                       'order by usd_per_unit') }} as rates
    from fx_values
    group by rate_date, currency
    having count(*) > 1

),

fx_conflict_rejects as (

    select
        'billing' as source_name,
        'fx_rates' as object_name,
        {{ dbt.concat(["'conflicting FX rates for '", "fx_conflicts.currency", "' on '",
                       dbt.safe_cast("fx_conflicts.rate_date", dbt.type_string()), "': '",
                       "fx_conflicts.rates"]) }} as reason,
        -- the delivered values (ingestion keeps no raw text of a line it loaded)
        {{ dbt.concat(["'{\"date\": \"'", dbt.safe_cast("fx_source.rate_date", dbt.type_string()),
                       "'\", \"currency\": \"'", "fx_source.currency",
                       "'\", \"usd_per_unit\": '", dbt.safe_cast("fx_source.usd_per_unit", dbt.type_string()),
                       "'}'"]) }} as raw_record,
        fx_source._drop_date,
        fx_source._source_file,
        fx_source._source_line,
        fx_source._loaded_at
    from fx_source
    inner join fx_conflicts
        on fx_conflicts.rate_date = fx_source.rate_date
        and fx_conflicts.currency = fx_source.currency

),

renamed as (

    select * from ingestion_rejects
    union all
    select * from fx_conflict_rejects

),

final as (

    select
        {{ dbt.concat(["source_name", "'__'", "object_name",
                       "':'", "coalesce(" ~ dbt.safe_cast("_drop_date", dbt.type_string()) ~ ", '')",
                       "':'", "coalesce(_source_file, '')",
                       "':'", "coalesce(" ~ dbt.safe_cast("_source_line", dbt.type_string()) ~ ", '')"]) }}
            as reject_id,
        source_name,
        object_name,
        reason,
        raw_record,
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at

    from renamed

)

select * from final
