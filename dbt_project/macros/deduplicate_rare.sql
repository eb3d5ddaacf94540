{#- deduplicate_rare(relation, key, order_by): deduplicate(relation, key, order_by) for a big
    relation whose duplicates are rare (the usage events): only the rows of keys seen more
    than once go through the window on DuckDB (below); Spark uses the default. -#}
{% macro deduplicate_rare(relation, key, order_by) -%}
    {{ return(adapter.dispatch('deduplicate_rare', 'cs_platform')(relation, key, order_by)) }}
{%- endmacro %}

{% macro default__deduplicate_rare(relation, key, order_by) -%}
    {{ return(deduplicate(relation, key, order_by)) }}
{%- endmacro %}

{#- deduplicate_rare on DuckDB: a window partitioned by the key over every row sorts the
    whole relation (hundreds of millions of wide rows for the usage events, spilled to disk);
    instead, the 64-bit hashes of keys seen more than once are found by one narrow
    aggregation, rows of the other keys pass through untouched (an anti join), and only the
    candidate rows are ranked. A hash collision only makes a unique row a candidate, ranked
    alone: the result is the same. Same columns as deduplicate() (plus _dedupe_rank = 1). -#}
{% macro duckdb__deduplicate_rare(relation, key, order_by) -%}
    select * from (
        with _repeated as materialized (
            select hash({{ key }}) as _key_hash
            from {{ relation }}
            group by 1
            having count(*) > 1
        )
        select _single.*, cast(1 as bigint) as _dedupe_rank
        from {{ relation }} as _single
        anti join _repeated on _repeated._key_hash = hash(_single.{{ key }})
        union all
        select * from (
            select
                _ranked.*,
                row_number() over (partition by _ranked.{{ key }} order by {{ order_by }}) as _dedupe_rank
            from {{ relation }} as _ranked
            semi join _repeated on _repeated._key_hash = hash(_ranked.{{ key }})
        ) as _candidates
        where _dedupe_rank = 1
    ) as _deduped
{%- endmacro %}
