{#- ======================================================================================
    Everything Spark-specific in this project's macros lives in this file (docs/scaling_out.md).
    Each macro here is the spark__ implementation of a dispatched macro: this project's own
    (declared in cross_database.sql / health.sql) or one of dbt's cross-database macros whose
    dbt-spark version does not match DuckDB's results (found first in this project through
    the `dispatch` search order in dbt_project.yml). No model has a Spark copy.
    The local `spark` target (profiles.yml) runs with spark.sql.session.timeZone = UTC, so a
    timestamp cast to a date is the UTC day, as on DuckDB.
    ====================================================================================== -#}


{#- ---------------------------------------------------------------------------------------
    Raw layer: the Parquet files written by ingestion, registered as external tables in the
    Spark catalog (schema `raw`, the source's schema) by the on-run-start hook, so Spark
    reads the same files DuckDB reads, with no second ingestion path. Re-registered on every
    run: new drops and new columns are picked up, nothing is copied.
    --------------------------------------------------------------------------------------- -#}
{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {%- set registered = [] -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
            {%- set raw_path = node.meta.raw_path -%}
            {#- wildcard paths (the rejects) have a fixed schema and may not exist yet: they
                are registered by spark__source_or_empty with their columns -#}
            {%- if '*' not in raw_path -%}
                {%- if node.schema not in registered -%}
                    {%- do run_query('create schema if not exists ' ~ node.schema) -%}
                    {%- do registered.append(node.schema) -%}
                {%- endif -%}
                {%- set relation = node.schema ~ '.' ~ node.identifier -%}
                {%- do run_query('drop table if exists ' ~ relation) -%}
                {%- do run_query(
                    "create table " ~ relation ~ " using parquet location '"
                    ~ spark_raw_location(node) ~ "' options (recursiveFileLookup 'true', "
                    ~ "pathGlobFilter '*.parquet', mergeSchema 'true')") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#- The directory holding a raw table's Parquet files: <raw_dir>/<raw_path> up to the first
    wildcard (files are found recursively below it). -#}
{% macro spark_raw_location(node) -%}
    {%- set path = node.meta.raw_path.split('*')[0].rstrip('/') -%}
    {{- (node.meta.raw_dir ~ '/' ~ path) | replace("'", "\\'") -}}
{%- endmacro %}


{#- A source that may not exist yet (the rejects before the first reject): registered here
    with its declared columns, so a missing directory reads as an empty table. -#}
{% macro spark__source_or_empty(source_name, table_name, columns) -%}
    {%- set rel = source(source_name, table_name) -%}
    {%- if execute -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name) | first -%}
        {%- set column_ddl = [] -%}
        {%- for name, data_type in columns.items() -%}
            {%- do column_ddl.append('`' ~ name ~ '` ' ~ data_type) -%}
        {%- endfor -%}
        {%- do run_query('create schema if not exists ' ~ rel.schema) -%}
        {%- do run_query('drop table if exists ' ~ rel) -%}
        {%- do run_query(
            'create table ' ~ rel ~ ' (' ~ column_ddl | join(', ') ~ ") using parquet location '"
            ~ spark_raw_location(node) ~ "' options (recursiveFileLookup 'true', pathGlobFilter '*.parquet')") -%}
    {%- endif -%}
    select
    {%- for name in columns %}
        `{{ name }}`{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ rel }}
{%- endmacro %}


{#- ---------------------------------------------------------------------------------------
    Incremental models: DuckDB replaces the reprocessed days with delete+insert on the date
    column; Spark without Delta Lake has no row-level delete, so the same models overwrite
    the reprocessed days' partitions (insert_overwrite, dynamic partition overwrite, plain
    Parquet). Same result: every day in the refreshed window is replaced, older days kept.
    --------------------------------------------------------------------------------------- -#}
{% macro spark__incremental_by_date(date_column) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [date_column],
               'file_format': 'parquet'}) }}
{%- endmacro %}


{#- Spark (plain Parquet tables, no MERGE): the model is rebuilt whole from its inputs; it
    is small (one row per key) and gives the same rows. -#}
{% macro spark__incremental_by_key() -%}
    {{ return({'materialized': 'table', 'file_format': 'parquet'}) }}
{%- endmacro %}


{#- ---------------------------------------------------------------------------------------
    Project helpers
    --------------------------------------------------------------------------------------- -#}

{#- One row per day (sequence() accepts scalar subqueries). -#}
{% macro spark__date_spine(start_date, end_date) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date_day
{%- endmacro %}


{#- Minor -> major units in exact decimal arithmetic (power() is a double on Spark). -#}
{% macro spark__minor_to_major(amount_minor, exponent) -%}
    cast(cast({{ amount_minor }} as decimal(38, 6)) / cast(power(10, {{ exponent }}) as decimal(38, 0))
         as {{ dbt.type_numeric() }})
{%- endmacro %}


{% macro spark__cs_median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}


{#- ---------------------------------------------------------------------------------------
    dbt cross-database macros whose dbt-spark version differs from DuckDB's
    --------------------------------------------------------------------------------------- -#}

{#- dbt-spark's listagg ignores order_by_clause (collect_list order is not deterministic on
    Spark): sort (order key, value) pairs instead. Supports "order by <expr> [asc|desc]". -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set clause = order_by_clause | trim -%}
        {%- if clause.lower().startswith('order by') -%}{%- set clause = clause[8:] | trim -%}{%- endif -%}
        {%- set descending = clause.lower().endswith(' desc') -%}
        {%- if descending -%}{%- set clause = clause[:-5] | trim -%}
        {%- elif clause.lower().endswith(' asc') -%}{%- set clause = clause[:-4] | trim -%}{%- endif -%}
        {%- if ',' in clause -%}
            {{ exceptions.raise_compiler_error('spark__listagg: one order-by expression only, got: ' ~ order_by_clause) }}
        {%- endif -%}
        {%- set sorted -%}
            array_sort(collect_list(case when ({{ measure }}) is not null
                then named_struct('k', {{ clause }}, 'v', {{ measure }}) end))
        {%- endset -%}
        {%- set sorted = 'reverse(' ~ sorted ~ ')' if descending else sorted -%}
        {%- set values = 'transform(' ~ sorted ~ ', _s -> _s.v)' -%}
    {%- else -%}
        {%- set values = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}{%- set values = 'slice(' ~ values ~ ', 1, ' ~ limit_num ~ ')' -%}{%- endif -%}
    array_join({{ values }}, {{ delimiter_text }})
{%- endmacro %}


{#- dateadd keeping the input's type family (a date or timestamp_ntz stays naive, like
    DuckDB's date/timestamp + interval) and accepting fractional hours / minutes / seconds
    (DuckDB multiplies the interval); dbt-spark's version goes through unix timestamps. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set part = datepart | lower -%}
    {%- if part in ['day', 'week', 'month', 'quarter', 'year'] -%}
        timestampadd({{ part | upper }}, cast({{ interval }} as int), {{ from_date_or_timestamp }})
    {%- elif part in ['hour', 'minute', 'second', 'millisecond', 'microsecond'] -%}
        {%- set micros = {'hour': 3600000000, 'minute': 60000000, 'second': 1000000,
                          'millisecond': 1000, 'microsecond': 1}[part] -%}
        timestampadd(MICROSECOND, cast(round(({{ interval }}) * {{ micros }}) as bigint), {{ from_date_or_timestamp }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("spark__dateadd: datepart '" ~ datepart ~ "' not supported") }}
    {%- endif -%}
{%- endmacro %}


{#- ---------------------------------------------------------------------------------------
    Publication: with CSP_SPARK_EXPORT_DIR set, every model of schema `marts` (and
    int_as_of_date, which the expectation suites read) that this run built is written to
    <export dir>/<schema>/<table>/ as Parquet by the engine itself (a local directory here,
    cloud storage on a cluster). orchestration/engines/spark.py loads those files into a
    DuckDB file shaped like the DuckDB warehouse, which the GX gate validates and
    publication copies into the serving file.
    --------------------------------------------------------------------------------------- -#}
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
