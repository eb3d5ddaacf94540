{#- usage_events(since=none): the product events, one row per message_id (a message delivered
    more than once keeps its first delivery: earliest drop, then earliest received_at), with
    event_date the UTC day the event happened. This is the single definition behind
    stg_usage__events (since=none: all history) and the incremental usage models, which pass
    the start of their window: events of days >= since can only sit in drops >= since (a drop
    never holds an event from its future), so filtering the source on both before the
    de-duplication reads only the recent drops and still sees every copy of every message. -#}
{% macro usage_events(since=none) -%}
with

source as (

    select * from {{ source('raw', 'usage__events') }}
    {%- if since is not none %}
    where _drop_date >= {{ since }}
      and event_at >= cast({{ since }} as {{ dbt.type_timestamp() }})
    {%- endif %}

),

renamed as (

    select
        message_id,
        account_id,
        user_id,
        event as event_name,
        feature,
        event_at,
        cast(event_at as date) as event_date,
        received_at,
        _drop_date,
        _source_file,
        _source_line,
        _loaded_at
    from source

),

first_delivery as (

    {{ deduplicate_rare('renamed', 'message_id', '_drop_date, received_at, _source_file, _source_line') }}

)

select
    message_id,
    account_id,
    user_id,
    event_name,
    feature,
    event_at,
    event_date,
    received_at,
    {{ dbt.datediff('event_date', '_drop_date', 'day') }} as days_late,
    _drop_date,
    _source_file,
    _source_line,
    _loaded_at
from first_delivery
{%- endmacro %}
