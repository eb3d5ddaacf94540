{#- source_or_empty(source_name, table_name, columns)
    Select from a source that may not exist yet (e.g. the rejects table before the first
    reject): when it is missing, an empty relation with `columns` (a dict name -> SQL type).
    An implementation per engine (no default). -#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {{ return(adapter.dispatch('source_or_empty', 'cs_platform')(source_name, table_name, columns)) }}
{%- endmacro %}

{#- The empty relation used when a source is missing (DuckDB). -#}
{% macro empty_relation(columns) -%}
    select
    {%- for name, data_type in columns.items() %}
        cast(null as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
    from (select 1 as _one) as _empty
    where 1 = 0
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

{#- A source that may not exist yet (the rejects before the first reject): registered here
    with its declared columns, so a missing directory reads as an empty table
    (spark_raw_location: register_raw_sources.sql). -#}
{% macro spark__source_or_empty(source_name, table_name, columns) -%}
    {%- set rel = source(source_name, table_name) -%}
    {%- if execute -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name) | first -%}
        {%- set column_ddl = [] -%}
        {%- for name, data_type in columns.items() -%}
            {%- do column_ddl.append('`' ~ name ~ '` ' ~ data_type) -%}
        {%- endfor -%}
        {%- do run_query('create schema if not exists ' ~ rel.schema) -%}
        {%- do run_query('drop table if exists ' ~ rel) -%}
        {%- do run_query(
            'create table ' ~ rel ~ ' (' ~ column_ddl | join(', ') ~ ") using parquet location '"
            ~ spark_raw_location(node) ~ "' options (recursiveFileLookup 'true', pathGlobFilter '*.parquet')") -%}
    {%- endif -%}
    select
    {%- for name in columns %}
        `{{ name }}`{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ rel }}
{%- endmacro %}
