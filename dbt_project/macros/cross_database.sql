{#- Engine-neutral helpers. Each is adapter-dispatched: the default__ version is plain SQL
    that runs on DuckDB and Spark alike; engine-specific overrides live in
    duckdb_specific.sql and spark_specific.sql. -#}


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


{#- minor_to_major(amount_minor, exponent)
    An integer amount in the currency's minor unit -> major units as numeric(28,6),
    e.g. 1999 cents -> 19.99 (exponent from seeds/currencies.csv). -#}
{% macro minor_to_major(amount_minor, exponent) -%}
    {{ return(adapter.dispatch('minor_to_major', 'cs_platform')(amount_minor, exponent)) }}
{%- endmacro %}

{% macro default__minor_to_major(amount_minor, exponent) -%}
    cast({{ amount_minor }} / power(10, {{ exponent }}) as {{ dbt.type_numeric() }})
{%- endmacro %}


{#- date_spine(start_date, end_date)
    A select statement yielding one row per day, column `date_day` (date), from start_date
    to end_date inclusive. Both arguments are SQL expressions of type date (literals such
    as "cast('2024-01-01' as date)", column-free subqueries, or as_of_date()).
    Use as: with days as ({{ date_spine("...", as_of_date()) }}) select ... -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'cs_platform')(start_date, end_date)) }}
{%- endmacro %}

{#- Portable version: 100,000 generated day offsets (~270 years), filtered. -#}
{% macro default__date_spine(start_date, end_date) -%}
    select date_day from (
        select
            cast({{ dbt.dateadd('day', '_n.n', 'cast(' ~ start_date ~ ' as date)') }} as date) as date_day
        from (
            select d0.d + 10 * d1.d + 100 * d2.d + 1000 * d3.d + 10000 * d4.d as n
            {%- for i in range(5) %}
            {{ 'from' if loop.first else 'cross join' }} (
                select 0 as d union all select 1 union all select 2 union all select 3
                union all select 4 union all select 5 union all select 6 union all select 7
                union all select 8 union all select 9
            ) as d{{ i }}
            {%- endfor %}
        ) as _n
    ) as _spine
    where date_day <= cast({{ end_date }} as date)
{%- endmacro %}


{#- source_or_empty(source_name, table_name, columns)
    Select from a source that may not exist yet (e.g. the rejects table before the first
    reject): when it is missing, an empty relation with `columns` (a dict name -> SQL type).
    The default assumes the source exists. -#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {{ return(adapter.dispatch('source_or_empty', 'cs_platform')(source_name, table_name, columns)) }}
{%- endmacro %}

{% macro default__source_or_empty(source_name, table_name, columns) -%}
    select * from {{ source(source_name, table_name) }}
{%- endmacro %}

{#- The empty relation used when a source is missing. -#}
{% macro empty_relation(columns) -%}
    select
    {%- for name, data_type in columns.items() %}
        cast(null as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
    from (select 1 as _one) as _empty
    where 1 = 0
{%- endmacro %}


{#- incremental_by_date(date_column): the engine's incremental config for a model that
    reprocesses whole days of `date_column` (the late-event window). Use as
    {{ config(materialized='incremental', unique_key=['<date_column>'], **incremental_by_date('<date_column>')) }}
    Default (DuckDB): delete+insert on the date; Spark: see spark_specific.sql. -#}
{% macro incremental_by_date(date_column) -%}
    {{ return(adapter.dispatch('incremental_by_date', 'cs_platform')(date_column)) }}
{%- endmacro %}

{% macro default__incremental_by_date(date_column) -%}
    {{ return({'incremental_strategy': 'delete+insert'}) }}
{%- endmacro %}


{#- register_raw_sources(): on-run-start hook making the raw layer readable by the engine.
    DuckDB reads the Parquet files in place (`external_location` in _sources.yml): nothing
    to do. Spark: see spark_specific.sql. -#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources', 'cs_platform')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
{%- endmacro %}


{#- export_marts(results): on-run-end hook exporting the marts a run built for publication.
    DuckDB: publication reads the warehouse file directly, nothing to do. Spark: see
    spark_specific.sql. -#}
{% macro export_marts(results) -%}
    {{ return(adapter.dispatch('export_marts', 'cs_platform')(results)) }}
{%- endmacro %}

{% macro default__export_marts(results) -%}
{%- endmacro %}


{#- round_half_up(expr, digits): a floating-point expr rounded to `digits` decimals (halves
    away from zero), as a double, with the same result on every engine. A plain round() of a
    double is engine-dependent at halves: 65.975 is the binary 65.97499999...; DuckDB rounds
    the binary value (65.97), Spark its shortest decimal form (65.98). Going through
    decimal(38, 9) first makes both round 65.975 (-> 65.98). Use for published scores. -#}
{% macro round_half_up(expr, digits) -%}
    cast(round(cast({{ expr }} as decimal(38, 9)), {{ digits }}) as double)
{%- endmacro %}


{#- incremental_by_key(): the engine's config for a small model kept up to date by key (one
    row per key, merged with the window's rows). Use as
    {{ config(unique_key=[...], **incremental_by_key()) }}
    Default (DuckDB): incremental delete+insert on the key; Spark: see spark_specific.sql. -#}
{% macro incremental_by_key() -%}
    {{ return(adapter.dispatch('incremental_by_key', 'cs_platform')()) }}
{%- endmacro %}

{% macro default__incremental_by_key() -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert'}) }}
{%- endmacro %}


{#- deduplicate_rare(relation, key, order_by): deduplicate(relation, key, order_by) for a big
    relation whose duplicates are rare (the usage events): only the rows of keys seen more
    than once go through the window; DuckDB's version is in duckdb_specific.sql. -#}
{% macro deduplicate_rare(relation, key, order_by) -%}
    {{ return(adapter.dispatch('deduplicate_rare', 'cs_platform')(relation, key, order_by)) }}
{%- endmacro %}

{% macro default__deduplicate_rare(relation, key, order_by) -%}
    {{ return(deduplicate(relation, key, order_by)) }}
{%- endmacro %}
