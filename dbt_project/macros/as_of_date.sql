{#- as_of_date(): SQL expression (type date) for the date the marts are computed as of.
    The var `as_of_date` when set (--vars '{as_of_date: 2024-03-31}'), else the latest
    drop loaded into the raw layer: max(_drop_date) over every raw source table (the
    rejects and billing__subscription_event_items, written with the subscription events,
    left out). Portable SQL.
    The tables are listed here, not taken from graph.sources: dbt records the source()
    dependencies while parsing, when `graph` is not filled in yet. At run time the list is
    checked against the sources of _sources.yml, so a new raw table cannot be forgotten. -#}
{% macro as_of_date() -%}
    {%- set pinned = var('as_of_date', none) -%}
    {%- if pinned -%}
        cast('{{ pinned }}' as date)
    {%- else -%}
        {%- set tables = [
            'billing__customers', 'billing__subscription_events', 'billing__invoices',
            'billing__fx_rates', 'usage__events', 'usage__users',
            'ticketing__organizations', 'ticketing__tickets', 'ticketing__nps_responses'] -%}
        {%- if execute -%}
            {%- set declared = graph.sources.values() | selectattr('source_name', 'equalto', 'raw')
                | map(attribute='name') | reject('in', ['rejects', 'billing__subscription_event_items'])
                | sort | list -%}
            {%- if declared != (tables | sort | list) -%}
                {{ exceptions.raise_compiler_error('as_of_date(): its raw tables (' ~ (tables | sort | join(', '))
                    ~ ') differ from the raw sources in _sources.yml (' ~ (declared | join(', ')) ~ ')') }}
            {%- endif -%}
        {%- endif -%}
        (select max(_max_drop_date) from (
            {%- for t in tables %}
            select max(_drop_date) as _max_drop_date from {{ source('raw', t) }}{{ ' union all' if not loop.last }}
            {%- endfor %}
        ) as _loaded_drops)
    {%- endif -%}
{%- endmacro %}


{#- lookback_start(): first date incremental models reprocess: as_of_date() minus the var
    `lookback_days` (late events), or the var `refresh_start` when set. -#}
{% macro lookback_start() -%}
    {%- if var('refresh_start', none) -%}
        cast('{{ var("refresh_start") }}' as date)
    {%- else -%}
        cast({{ dbt.dateadd('day', -1 * (var('lookback_days', 7) | int), as_of_date()) }} as date)
    {%- endif -%}
{%- endmacro %}
