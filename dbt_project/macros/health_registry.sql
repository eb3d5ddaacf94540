{#- The customer-health registry, from the vars health_components and health_alert_rules of
    dbt_project.yml (the one copy; orchestration/health_config.py reads the same vars). -#}

{#- health_components(): the known components, each {name, group, better}. -#}
{% macro health_components() -%}
    {{ return(var('health_components')) }}
{%- endmacro %}

{#- health_alert_rules(): the names of the known alert rules. -#}
{% macro health_alert_rules() -%}
    {{ return(var('health_alert_rules')) }}
{%- endmacro %}
