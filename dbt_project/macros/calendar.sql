{#- last_day(date_expr): the last day of the month of date_expr, portable (dbt.last_day). -#}
{% macro last_day(date_expr) -%}
    {{ dbt.last_day(date_expr, 'month') }}
{%- endmacro %}
