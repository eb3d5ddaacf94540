{#- require_stored_columns(columns, why): in an incremental run, stop with a clear message when
    the stored table (this) lacks a column the model reads back from it (a table built by an
    earlier version of the model). Rebuilding it once with --full-refresh adds the column. -#}
{% macro require_stored_columns(columns, why) -%}
    {%- if execute and is_incremental() -%}
        {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- set missing = columns | reject('in', stored) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                this.identifier ~ ' was built before it carried ' ~ (missing | join(', ')) ~ ' (' ~ why ~ '): rebuild it '
                ~ 'and what depends on it once with `dbt build --full-refresh --select ' ~ this.identifier ~ '+`') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
