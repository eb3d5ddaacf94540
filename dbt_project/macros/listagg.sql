{#- spark__listagg: found before dbt-spark's own through the `dispatch` search order of
    dbt_project.yml (DuckDB keeps dbt's). dbt-spark's listagg ignores order_by_clause
    (collect_list order is not deterministic on Spark): sort (order key, value) pairs instead. Supports "order by <expr> [asc|desc]". -#}
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
