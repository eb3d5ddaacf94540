{#- cs_median(expr): median, as an ordered-set aggregate (the same SQL on DuckDB and Spark 3.3+). -#}
{% macro cs_median(expr) -%}
    {{ return(adapter.dispatch('cs_median', 'cs_platform')(expr)) }}
{%- endmacro %}

{% macro default__cs_median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}
