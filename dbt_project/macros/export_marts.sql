{#- export_marts(results): on-run-end hook exporting the marts a run built for publication.
    DuckDB: publication reads the warehouse file directly, nothing to do (the default).
    Spark: below. -#}
{% macro export_marts(results) -%}
    {{ return(adapter.dispatch('export_marts', 'cs_platform')(results)) }}
{%- endmacro %}

{% macro default__export_marts(results) -%}
{%- endmacro %}

{#- Spark: with CSP_SPARK_EXPORT_DIR set, every model of schema `marts` (and
    int_as_of_date, which the expectation suites read) that this run built is written to
    <export dir>/<schema>/<table>/ as Parquet by the engine itself (a local directory here,
    cloud storage on a cluster). orchestration/engines/spark.py loads those files into a
    DuckDB file shaped like the DuckDB warehouse, which the GX gate validates and
    publication copies into the serving file. -#}
{% macro spark__export_marts(results) -%}
    {%- set export_dir = env_var('CSP_SPARK_EXPORT_DIR', '') -%}
    {%- if execute and export_dir -%}
        {%- for res in results -%}
            {%- set node = res.node -%}
            {%- if node.resource_type == 'model' and res.status == 'success'
                  and (node.schema == 'marts' or node.name == 'int_as_of_date') -%}
                {%- set target_dir = export_dir.rstrip('/') ~ '/' ~ node.schema ~ '/' ~ node.alias -%}
                {%- do run_query("insert overwrite directory '" ~ (target_dir | replace("'", "\\'"))
                    ~ "' using parquet select * from " ~ node.schema ~ '.' ~ node.alias) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
