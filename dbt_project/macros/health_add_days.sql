{#- health_add_days(date_expr, days_expr): date_expr + days_expr days, as a date (days_expr
    may be a column). -#}
{% macro health_add_days(date_expr, days_expr) -%}
    cast({{ dbt.dateadd('day', days_expr, date_expr) }} as date)
{%- endmacro %}
