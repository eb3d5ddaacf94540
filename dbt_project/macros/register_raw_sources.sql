{#- register_raw_sources(): on-run-start hook making the raw layer readable by the engine.
    DuckDB reads the Parquet files in place (`external_location` in _sources.yml): nothing
    to do (the default). Spark: below. -#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources', 'cs_platform')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
{%- endmacro %}

{#- Spark: the Parquet files written by ingestion, registered as external tables in the
    Spark catalog (schema `raw`, the source's schema) by the on-run-start hook, so Spark
    reads the same files DuckDB reads, with no second ingestion path. Re-registered on every
    run: new drops and new columns are picked up, nothing is copied. -#}
{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {%- set registered = [] -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
            {%- set raw_path = node.meta.raw_path -%}
            {#- wildcard paths (the rejects) have a fixed schema and may not exist yet: they
                are registered by spark__source_or_empty with their columns -#}
            {%- if '*' not in raw_path -%}
                {%- if node.schema not in registered -%}
                    {%- do run_query('create schema if not exists ' ~ node.schema) -%}
                    {%- do registered.append(node.schema) -%}
                {%- endif -%}
                {%- set relation = node.schema ~ '.' ~ node.identifier -%}
                {%- do run_query('drop table if exists ' ~ relation) -%}
                {%- do run_query(
                    "create table " ~ relation ~ " using parquet location '"
                    ~ spark_raw_location(node) ~ "' options (recursiveFileLookup 'true', "
                    ~ "pathGlobFilter '*.parquet', mergeSchema 'true')") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The directory holding a raw table's Parquet files: <raw_dir>/<raw_path> up to the first
    wildcard (files are found recursively below it). Spark; also used by
    spark__source_or_empty. -#}
{% macro spark_raw_location(node) -%}
    {%- set path = node.meta.raw_path.split('*')[0].rstrip('/') -%}
    {{- (node.meta.raw_dir ~ '/' ~ path) | replace("'", "\\'") -}}
{%- endmacro %}
