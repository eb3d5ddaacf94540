-- One row per subscription state: the subscription object as it was after each event.
-- The state of a subscription on day d is its last event created on or before d, so each
-- state row says whether it is the day's last (is_day_end_state) and, for day-end states,
-- the days it is valid: [valid_from_date, valid_to_date). MRR of the state is in USD at the
-- FX rate of the day the state began (the event date), so an unchanged subscription does not
-- move with exchange rates.
with

events as (

    select * from {{ ref('stg_billing__subscription_events') }}

),

items as (

    select * from {{ ref('stg_billing__subscription_items') }}

),

customers as (

    select customer_id, account_id from {{ ref('stg_billing__customers') }}

),

fx as (

    select rate_date, currency, usd_per_unit from {{ ref('stg_billing__fx_rates') }}

),

item_mrr as (

    select
        items.event_id,
        count(*) as item_count,
        sum(
            items.quantity * cast(items.unit_amount as double) / items.interval_months
            * case when items.currency = 'usd' then 1.0 else fx.usd_per_unit end
        ) as mrr_usd_if_paying,
        -- a missing rate must surface as an error (tests), never as a zero
        sum(case when items.currency <> 'usd' and fx.usd_per_unit is null then 1 else 0 end)
            as items_missing_fx_rate,
        max(case when items.recurring_interval = 'year' then 1 else 0 end) as has_annual_item,
        max(items.quantity) as max_item_quantity
    from items
    left join fx
        on fx.rate_date = items.event_date
        and fx.currency = items.currency
    group by items.event_id

),

states as (

    select
        events.event_id,
        events.subscription_id,
        events.customer_id,
        customers.account_id,
        events.event_type,
        events.created_at as valid_from,
        events.event_date as state_date,
        events.status,
        events.status in ('active', 'past_due') as is_paying,
        events.currency,
        events.cancel_at_period_end,
        events.current_period_start_at,
        events.current_period_end_at,
        cast(events.current_period_end_at as date) as current_period_end_date,
        events.canceled_at,
        events.ended_at,
        coalesce(item_mrr.item_count, 0) as item_count,
        coalesce(item_mrr.has_annual_item, 0) = 1 as is_annual,
        coalesce(item_mrr.max_item_quantity, 0) as seats,
        coalesce(item_mrr.items_missing_fx_rate, 0) as items_missing_fx_rate,
        case
            when events.status in ('active', 'past_due') then coalesce(item_mrr.mrr_usd_if_paying, 0)
            else 0
        end as mrr_usd,
        row_number() over (
            partition by events.subscription_id, events.event_date
            order by events.created_at desc, events.event_id desc
        ) = 1 as is_day_end_state
    from events
    left join item_mrr on item_mrr.event_id = events.event_id
    left join customers on customers.customer_id = events.customer_id

),

day_end as (

    select
        event_id,
        lead(state_date) over (partition by subscription_id order by state_date) as valid_to_date
    from states
    where is_day_end_state

)

select
    states.*,
    states.state_date as valid_from_date,
    day_end.valid_to_date,
    coalesce(states.is_paying and states.items_missing_fx_rate > 0, false) as is_missing_fx_rate
from states
left join day_end on day_end.event_id = states.event_id
