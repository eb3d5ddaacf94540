{{ config(
    materialized='incremental',
    unique_key=['date'],
    **incremental_by_date('date'),
) }}
-- One row per account and day (from the account's first subscription event to the as-of
-- date): MRR / ARR in USD, licensed seats, product usage and tickets. Incremental over the
-- lookback window like the usage models; a full refresh gives the same result.
with

mrr as (

    select * from {{ ref('int_account_mrr_daily') }}
    {% if is_incremental() %}
    where date_day >= {{ lookback_start() }}
    {% endif %}

),

usage as (

    select * from {{ ref('int_usage_account_daily') }}

),

tickets as (

    select * from {{ ref('int_ticket_facts') }}
    where account_id is not null

),

opened as (

    select account_id, created_date, count(*) as tickets_opened
    from tickets
    group by account_id, created_date

),

solved as (

    select account_id, solved_date, count(*) as tickets_solved
    from tickets
    where solved_date is not null
    group by account_id, solved_date

),

open_backlog as (

    select mrr.account_id, mrr.date_day, count(*) as tickets_open
    from mrr
    inner join tickets
        on tickets.account_id = mrr.account_id
        and tickets.created_date <= mrr.date_day
        and (tickets.solved_date is null or tickets.solved_date > mrr.date_day)
    group by mrr.account_id, mrr.date_day

)

select
    {{ dbt.concat(["mrr.account_id", "'|'", dbt.safe_cast("mrr.date_day", dbt.type_string())]) }}
        as account_day_id,
    mrr.account_id,
    mrr.date_day as date,
    mrr.mrr,
    mrr.arr,
    mrr.seats,
    mrr.subscriptions,
    mrr.paying_subscriptions,
    coalesce(usage.active_users, 0) as active_users,
    coalesce(usage.events, 0) as events,
    coalesce(usage.features_used, 0) as features_used,
    coalesce(opened.tickets_opened, 0) as tickets_opened,
    coalesce(solved.tickets_solved, 0) as tickets_solved,
    coalesce(open_backlog.tickets_open, 0) as tickets_open
from mrr
left join usage on usage.account_id = mrr.account_id and usage.event_date = mrr.date_day
left join opened on opened.account_id = mrr.account_id and opened.created_date = mrr.date_day
left join solved on solved.account_id = mrr.account_id and solved.solved_date = mrr.date_day
left join open_backlog on open_backlog.account_id = mrr.account_id and open_backlog.date_day = mrr.date_day
