{#- csm_book(column): the CSM book an account belongs to: its csm_owner, or 'unassigned' when
    it has none (null or blank). The leadership marts group by it. -#}
{% macro csm_book(column) -%}
    coalesce(nullif(trim({{ column }}), ''), 'unassigned')
{%- endmacro %}
