-- One row per CRM account (the account ids carried by billing customers): current
-- attributes from the most recently updated billing customer, and current MRR / ARR.
with

customers as (

    select * from {{ ref('stg_billing__customers') }}
    where account_id is not null

),

latest_customer as (

    {{ deduplicate('customers', 'account_id', 'updated_at desc, customer_id desc') }}

),

customer_counts as (

    select
        account_id,
        count(*) as billing_customers,
        min(created_at) as first_customer_created_at
    from customers
    group by account_id

),

mrr_daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

current_mrr as (

    select account_id, mrr, arr, seats
    from mrr_daily
    where date_day = (select max(m.date_day) from mrr_daily as m)

),

first_mrr as (

    select account_id, min(date_day) as first_mrr_date, max(date_day) as last_mrr_date
    from mrr_daily
    where mrr > 0
    group by account_id

),

current_lifecycle as (

    -- lifecycle stage and health on the as-of date
    select account_id, lifecycle_stage, health_score, health_tier
    from {{ ref('fct_account_lifecycle_daily') }}
    where date = (select max(m.date_day) from mrr_daily as m)

)

select
    latest_customer.account_id,
    latest_customer.customer_name as account_name,
    coalesce(latest_customer.segment, 'unknown') as segment,
    latest_customer.industry,
    latest_customer.region,
    latest_customer.csm_owner,
    latest_customer.currency as billing_currency,
    customer_counts.billing_customers,
    customer_counts.first_customer_created_at,
    first_mrr.first_mrr_date,
    first_mrr.last_mrr_date,
    cast(coalesce(current_mrr.mrr, 0) as decimal(18, 2)) as current_mrr,
    cast(coalesce(current_mrr.arr, 0) as decimal(18, 2)) as current_arr,
    coalesce(current_mrr.seats, 0) as current_seats,
    coalesce(current_mrr.mrr, 0) > 0 as is_paying,
    current_lifecycle.lifecycle_stage,
    current_lifecycle.health_score,
    current_lifecycle.health_tier
from latest_customer
inner join customer_counts on customer_counts.account_id = latest_customer.account_id
left join current_mrr on current_mrr.account_id = latest_customer.account_id
left join first_mrr on first_mrr.account_id = latest_customer.account_id
left join current_lifecycle on current_lifecycle.account_id = latest_customer.account_id
