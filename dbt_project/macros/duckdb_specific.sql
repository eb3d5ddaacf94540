{#- ======================================================================================
    Everything DuckDB-specific in this project's macros lives in this file (the sources'
    `external_location` in models/staging/_sources.yml is the only other DuckDB-specific
    piece). Each macro here is the duckdb__ implementation of a dispatched macro declared in
    cross_database.sql; on another engine the default__ (or that engine's) version is used.
    ====================================================================================== -#}


{#- One row per day via DuckDB's generate_series (accepts scalar subqueries, unlike the
    range() table function). -#}
{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast({{ start_date }} as date),
        cast({{ end_date }} as date),
        interval 1 day
    )) as date) as date_day
{%- endmacro %}


{#- The glob of Parquet files behind a raw source table, from its meta (see _sources.yml):
    <raw_dir>/<raw_path>/drop_date=*/ *.parquet -#}
{% macro duckdb__raw_source_glob(source_name, table_name) -%}
    {%- set node = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name) | first -%}
    {{- node.meta.raw_dir ~ '/' ~ node.meta.raw_path ~ '/*/*.parquet' -}}
{%- endmacro %}


{#- read_parquet fails on a glob that matches no file, so check first. Decided when the
    view is (re)built: a missing source that appears later shows up on the next build. -#}
{% macro duckdb__source_or_empty(source_name, table_name, columns) -%}
    {%- set exists = true -%}
    {%- if execute -%}
        {%- set pattern = duckdb__raw_source_glob(source_name, table_name) -%}
        {%- set n_files = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
        {%- set exists = n_files > 0 -%}
    {%- endif -%}
    {%- if exists -%}
        select * from {{ source(source_name, table_name) }}
    {%- else -%}
        {#- keep the dependency on the source visible to dbt -#}
        {%- do source(source_name, table_name) -%}
        {{ empty_relation(columns) }}
    {%- endif -%}
{%- endmacro %}


{#- incremental_by_date on DuckDB: the custom strategy `replace_days` below. dbt-duckdb's
    delete+insert deletes with a join of the whole target against the new rows, whose cost
    grows with history; deleting the window's days with a range predicate reads only the
    recent row groups (zone maps), so a daily refresh stays flat as history grows. -#}
{% macro duckdb__incremental_by_date(date_column) -%}
    {{ return({'incremental_strategy': 'replace_days', 'window_column': date_column}) }}
{%- endmacro %}

{#- replace_days: delete the target's rows from the first day the run rebuilt onwards (the
    model recomputes every day of its window), then insert the new rows. -#}
{% macro get_incremental_replace_days_sql(arg_dict) -%}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set column = config.get('window_column') -%}
    {%- set cols = arg_dict["dest_columns"] | map(attribute="quoted") | join(", ") -%}
    {%- set first_day = run_query("select min(" ~ column ~ ") from " ~ source).columns[0].values()[0] -%}
    {%- if first_day is not none %}
    delete from {{ target }} where {{ column }} >= cast('{{ first_day }}' as date);
    {%- endif %}
    insert into {{ target }} ({{ cols }}) select {{ cols }} from {{ source }}
{%- endmacro %}


{#- deduplicate_rare on DuckDB: a window partitioned by the key over every row sorts the
    whole relation (hundreds of millions of wide rows for the usage events, spilled to disk);
    instead, the 64-bit hashes of keys seen more than once are found by one narrow
    aggregation, rows of the other keys pass through untouched (an anti join), and only the
    candidate rows are ranked. A hash collision only makes a unique row a candidate, ranked
    alone: the result is the same. Same columns as deduplicate() (plus _dedupe_rank = 1). -#}
{% macro duckdb__deduplicate_rare(relation, key, order_by) -%}
    select * from (
        with _repeated as materialized (
            select hash({{ key }}) as _key_hash
            from {{ relation }}
            group by 1
            having count(*) > 1
        )
        select _single.*, cast(1 as bigint) as _dedupe_rank
        from {{ relation }} as _single
        anti join _repeated on _repeated._key_hash = hash(_single.{{ key }})
        union all
        select * from (
            select
                _ranked.*,
                row_number() over (partition by _ranked.{{ key }} order by {{ order_by }}) as _dedupe_rank
            from {{ relation }} as _ranked
            semi join _repeated on _repeated._key_hash = hash(_ranked.{{ key }})
        ) as _candidates
        where _dedupe_rank = 1
    ) as _deduped
{%- endmacro %}
