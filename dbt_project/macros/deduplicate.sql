{#- deduplicate(relation, partition_by, order_by)
    One row per `partition_by` (comma-separated column list): the first row in `order_by`
    order (put "desc" on the columns where the latest wins). `relation` may be a CTE name. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('deduplicate', 'cs_platform')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__deduplicate(relation, partition_by, order_by) -%}
    select * from (
        select
            _ranked.*,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _dedupe_rank
        from {{ relation }} as _ranked
    ) as _deduped
    where _dedupe_rank = 1
{%- endmacro %}
