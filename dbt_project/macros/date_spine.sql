{#- date_spine(start_date, end_date)
    A select statement yielding one row per day, column `date_day` (date), from start_date
    to end_date inclusive. Both arguments are SQL expressions of type date (literals such
    as "cast('2024-01-01' as date)", column-free subqueries, or as_of_date()).
    Use as: with days as ({{ date_spine("...", as_of_date()) }}) select ...
    An implementation per engine (no portable default: neither engine would use it). -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'cs_platform')(start_date, end_date)) }}
{%- endmacro %}

{#- One row per day via DuckDB's generate_series (accepts scalar subqueries, unlike the
    range() table function). -#}
{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast({{ start_date }} as date),
        cast({{ end_date }} as date),
        interval 1 day
    )) as date) as date_day
{%- endmacro %}

{#- One row per day (sequence() accepts scalar subqueries). -#}
{% macro spark__date_spine(start_date, end_date) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date_day
{%- endmacro %}
