{#- health_missing_parts(components): for dbt.concat, one piece per component giving
    '<name>,' when the component is enabled but has no data (its measure is null). -#}
{% macro health_missing_parts(components) -%}
    {%- set parts = [] -%}
    {%- for c in components -%}
        {%- do parts.append("case when " ~ c.name ~ "_enabled and " ~ c.name ~ "_measure is null then '" ~ c.name ~ ",' else '' end") -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}
