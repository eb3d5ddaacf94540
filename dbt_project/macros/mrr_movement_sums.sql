{#- The leadership marts' MRR movements (fct_mrr_movements) per group: mrr_movement_sums()
    sums them per type (<name>_mrr: new, expansion, contraction, churned, reactivation) and in
    all (net_new_mrr); mrr_movement_columns(relation) selects those columns from the grouped
    relation of a left join, as decimals and 0 where the group had no movement. -#}
{% macro mrr_movement_types() -%}
    {{ return([('new', 'new'), ('expansion', 'expansion'), ('contraction', 'contraction'),
               ('churn', 'churned'), ('reactivation', 'reactivation')]) }}
{%- endmacro %}

{% macro mrr_movement_sums(type_column, amount_column) -%}
    {%- for type, name in mrr_movement_types() %}
    sum(case when {{ type_column }} = '{{ type }}' then {{ amount_column }} else 0 end) as {{ name }}_mrr,
    {%- endfor %}
    sum({{ amount_column }}) as net_new_mrr
{%- endmacro %}

{% macro mrr_movement_columns(relation) -%}
    {%- for type, name in mrr_movement_types() %}
    cast(coalesce({{ relation }}.{{ name }}_mrr, 0) as decimal(18, 2)) as {{ name }}_mrr,
    {%- endfor %}
    cast(coalesce({{ relation }}.net_new_mrr, 0) as decimal(18, 2)) as net_new_mrr
{%- endmacro %}
