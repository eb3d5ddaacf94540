{#- Use the configured custom schema name as-is (staging, intermediate, marts, config),
    without the target schema prefix dbt adds by default. Nodes without one use the
    target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
