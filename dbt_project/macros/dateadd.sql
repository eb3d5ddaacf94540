{#- spark__dateadd: found before dbt-spark's own through the `dispatch` search order of
    dbt_project.yml (DuckDB keeps dbt's). A dateadd keeping the input's type family (a date
    or timestamp_ntz stays naive, like DuckDB's date/timestamp + interval) and accepting fractional hours / minutes / seconds
    (DuckDB multiplies the interval); dbt-spark's version goes through unix timestamps. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set part = datepart | lower -%}
    {%- if part in ['day', 'week', 'month', 'quarter', 'year'] -%}
        timestampadd({{ part | upper }}, cast({{ interval }} as int), {{ from_date_or_timestamp }})
    {%- elif part in ['hour', 'minute', 'second', 'millisecond', 'microsecond'] -%}
        {%- set micros = {'hour': 3600000000, 'minute': 60000000, 'second': 1000000,
                          'millisecond': 1000, 'microsecond': 1}[part] -%}
        timestampadd(MICROSECOND, cast(round(({{ interval }}) * {{ micros }}) as bigint), {{ from_date_or_timestamp }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("spark__dateadd: datepart '" ~ datepart ~ "' not supported") }}
    {%- endif -%}
{%- endmacro %}
