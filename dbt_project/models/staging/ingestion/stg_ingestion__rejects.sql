-- One row per quarantined record (source, object, file, line): what ingestion rejected and
-- why (ingestion writes each rejected line once). Empty until the first reject is written.
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

renamed as (

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
