{#- Trailing-window helpers of the int_account_health__* models (portable SQL).

    A trailing window without self-joins: every input contributes +value on the day it
    starts to count and -value on the day it stops (start + window), and a running sum over
    the account's days gives the window total. A distinct count (active users, core
    features, admins) uses the same trick on each member's active days: a member active on
    day e, next active on day n (next_date), counts from e until min(n, e + window). -#}


{#- health_window_bounds(): the select behind the `bounds` CTE of those models (which also
    define the CTEs `mrr_daily` and `cfg`): as_of_date, start_date (the first day rebuilt)
    and, on an incremental run, input_start / user_input_start (the oldest input day that
    can still count in a window of a rebuilt day). -#}
{% macro health_window_bounds() -%}
    select
        max(date_day) as as_of_date,
        {% if is_incremental() -%}
        {{ lookback_start() }} as start_date,
        {{ health_add_days(lookback_start(), '-2 * (select max(max_window_days) from cfg) - 2') }} as input_start,
        -- user- and feature-level inputs (the big ones) only count within their own windows:
        -- a day older than the longest of them has left every window by the first rebuilt day
        {{ health_add_days(lookback_start(), '-(select max(max_user_window_days) from cfg) - 2') }} as user_input_start
        {%- else -%}
        min(date_day) as start_date,
        cast(null as date) as input_start,
        cast(null as date) as user_input_start
        {%- endif %}
    from mrr_daily
{%- endmacro %}


{#- health_window_deltas(columns, column, relation, alias, start_date, window_days,
                         value='1', next_date=none, where=none, end_where=none)
    The delta rows of one trailing window, as two selects joined by union all (columns
    account_id, date_day, then `columns`: `value` in `column`, 0 in the others):
    +value on day start_date, -value on day start_date + window_days (or on next_date when
    that comes first, for a distinct count). `relation` is read as `alias`, joined to the
    `cfg` CTE as `c` (start_date, window_days and value may use both); `where` filters both
    selects, `end_where` the -value select only. -#}
{% macro health_window_deltas(columns, column, relation, alias, start_date, window_days,
                              value='1', next_date=none, where=none, end_where=none) -%}
    {%- set window_end = health_add_days(start_date, window_days) -%}
    {%- if next_date is not none -%}
        {%- set window_end = 'least(coalesce(' ~ next_date ~ ', ' ~ window_end ~ '), ' ~ window_end ~ ')' -%}
    {%- endif -%}
    {%- set end_filters = [where, end_where] | reject('none') | list -%}
    {{ health_delta(columns, column, value, start_date, relation, alias, [where] | reject('none') | list) }}
    union all
    {{ health_delta(columns, column, '-(' ~ value ~ ')', window_end, relation, alias, end_filters) }}
{%- endmacro %}


{#- health_delta(columns, column, value, date_expr, relation, alias, filters): one select of
    delta rows: `value` in `column` on day `date_expr`, 0 in the other columns, from
    `relation` as `alias` joined to cfg as c, rows meeting every condition of `filters`. -#}
{% macro health_delta(columns, column, value, date_expr, relation, alias, filters=[]) -%}
    select
        {{ alias }}.account_id,
        cast({{ date_expr }} as date) as date_day
        {%- for c in columns %},
        {{ value if c == column else '0' }} as {{ c }}
        {%- endfor %}
    from {{ relation }} as {{ alias }}
    inner join cfg as c on c.account_id = {{ alias }}.account_id
    {%- for f in filters %}
    {{ 'where' if loop.first else 'and' }} {{ f }}
    {%- endfor %}
{%- endmacro %}


{#- health_window_totals(columns): the window totals per account and day, a select over the
    CTEs `spine` (account_id, date_day: the days to report), `deltas` (the rows of
    health_window_deltas) and `bounds`: each column's running sum of its deltas up to the
    day (deltas after the as-of date left out). One row per day of the spine or a delta. -#}
{% macro health_window_totals(columns) -%}
    select
        account_id,
        date_day
        {%- for c in columns %},
        sum({{ c }}) over (partition by account_id order by date_day rows between unbounded preceding and current row) as {{ c }}
        {%- endfor %}
    from (
        select
            account_id,
            date_day
            {%- for c in columns %},
            sum({{ c }}) as {{ c }}
            {%- endfor %}
        from (
            select account_id, date_day{% for c in columns %}, 0 as {{ c }}{% endfor %}
            from spine
            union all
            select * from deltas
            where date_day <= (select as_of_date from bounds)
        ) as _combined
        group by account_id, date_day
    ) as _daily
{%- endmacro %}
