{#- incremental_by_date(date_column): the engine's incremental config for a model that
    reprocesses whole days of `date_column` (the late-event window). Use as
    {{ config(materialized='incremental', unique_key=['<date_column>'], **incremental_by_date('<date_column>')) }}
    DuckDB: the custom strategy replace_days (below); Spark: insert_overwrite of the days'
    partitions. An implementation per engine (no default). -#}
{% macro incremental_by_date(date_column) -%}
    {{ return(adapter.dispatch('incremental_by_date', 'cs_platform')(date_column)) }}
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

{#- incremental_by_date on Spark: without Delta Lake there is no row-level delete, so the
    models overwrite the reprocessed days' partitions (insert_overwrite, dynamic partition
    overwrite, plain Parquet). Same result as DuckDB's replace_days: every day in the
    refreshed window is replaced, older days kept. -#}
{% macro spark__incremental_by_date(date_column) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [date_column],
               'file_format': 'parquet'}) }}
{%- endmacro %}
