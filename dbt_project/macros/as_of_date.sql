{#- as_of_date(): SQL expression (type date) for the date the marts are computed as of.
    The var `as_of_date` when set (--vars '{as_of_date: 2024-03-31}'), else the latest
    drop loaded into the raw layer: max(_drop_date) over every raw source table. Note that
    the rejects table is not included. Portable SQL. -#}
{% macro as_of_date() -%}
    {%- set pinned = var('as_of_date', none) -%}
    {%- if pinned -%}
        cast('{{ pinned }}' as date)
    {%- else -%}
        {%- set tables = [
            'billing__customers', 'billing__subscription_events', 'billing__invoices',
            'billing__fx_rates', 'usage__events', 'usage__users',
            'ticketing__organizations', 'ticketing__tickets', 'ticketing__nps_responses'] -%}
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
