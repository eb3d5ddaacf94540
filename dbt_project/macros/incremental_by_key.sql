{#- incremental_by_key(): the engine's config for a small model kept up to date by key (one
    row per key, merged with the window's rows). Use as
    {{ config(unique_key=[...], **incremental_by_key()) }}
    Default (DuckDB): incremental delete+insert on the key; Spark: below. -#}
{% macro incremental_by_key() -%}
    {{ return(adapter.dispatch('incremental_by_key', 'cs_platform')()) }}
{%- endmacro %}

{% macro default__incremental_by_key() -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert'}) }}
{%- endmacro %}

{#- Spark (plain Parquet tables, no MERGE): the model is rebuilt whole from its inputs; it
    is small (one row per key) and gives the same rows. -#}
{% macro spark__incremental_by_key() -%}
    {{ return({'materialized': 'table', 'file_format': 'parquet'}) }}
{%- endmacro %}
