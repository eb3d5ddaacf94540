{{ config(
    materialized='incremental',
    unique_key=['date_day'],
    **incremental_by_date('date_day'),
) }}
-- The latest NPS answer of each account within its satisfaction window, per account and
-- day (the days of int_account_mrr_daily, accounts with a health configuration): the mean
-- score of the account's latest day with a response, if that day is in the window.
-- Incremental: only the days from lookback_start() are rebuilt, reading the responses from
-- 2 x the longest window before them; a full refresh gives the same result.
with

cfg as (

    select * from {{ ref('int_account_health_config') }}

),

mrr_daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

nps_responses as (

    select * from {{ ref('stg_ticketing__nps_responses') }}

),

-- read only on an incremental run (sqlfluff compiles the full refresh)
bounds as (  -- noqa: ST03

    {{ health_window_bounds() }}

),

spine as (

    select mrr_daily.account_id, mrr_daily.date_day
    from mrr_daily
    inner join cfg on cfg.account_id = mrr_daily.account_id
    {% if is_incremental() -%}
    where mrr_daily.date_day >= (select start_date from bounds)
    {%- endif %}

),

nps_daily as (

    -- the day's mean NPS score per account, encoded so that a running max finds the latest:
    -- days since 1970-01-01 x 1000 + round(score x 10)
    select
        account_id,
        response_date as date_day,
        cast({{ dbt.datediff("cast('1970-01-01' as date)", 'response_date', 'day') }} as {{ dbt.type_bigint() }}) * 1000
        + cast(round(avg(score) * 10) as {{ dbt.type_bigint() }}) as nps_key
    from nps_responses
    where account_id is not null
    {% if is_incremental() -%}
      and response_date >= (select input_start from bounds)
    {%- endif %}
    group by account_id, response_date

),

latest as (

    select
        account_id,
        date_day,
        max(nps_key) over (partition by account_id order by date_day rows between unbounded preceding and current row) as nps_key
    from (
        select account_id, date_day, max(nps_key) as nps_key
        from (
            select account_id, date_day, cast(null as {{ dbt.type_bigint() }}) as nps_key from spine
            union all
            select account_id, date_day, nps_key from nps_daily
        ) as _combined
        group by account_id, date_day
    ) as _daily

)

select
    spine.account_id,
    spine.date_day,
    case
        when latest.nps_key is not null
            and floor(latest.nps_key / 1000)
            > {{ dbt.datediff("cast('1970-01-01' as date)", 'spine.date_day', 'day') }} - cfg.satisfaction_window_days
            then (latest.nps_key - 1000 * floor(latest.nps_key / 1000)) / 10.0
    end as latest_nps_score
from spine
inner join cfg on cfg.account_id = spine.account_id
inner join latest on latest.account_id = spine.account_id and latest.date_day = spine.date_day
