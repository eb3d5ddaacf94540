{{ config(
    materialized='incremental',
    unique_key=['date_day'],
    **incremental_by_date('date_day'),
) }}
-- The payment measure's evidence, per account and day (the days of int_account_mrr_daily,
-- accounts with a health configuration): the account's first invoice, and its invoices
-- overdue on the day (from the day after the due date until the day before payment; void
-- and draft invoices, and paid ones without a payment date, never are).
-- Incremental: only the days from lookback_start() are rebuilt (from every invoice); a full
-- refresh gives the same result.
with

cfg as (

    select * from {{ ref('int_account_health_config') }}

),

mrr_daily as (

    select * from {{ ref('int_account_mrr_daily') }}

),

stg_invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

customers as (

    select * from {{ ref('stg_billing__customers') }}

),

bounds as (

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

days as (

    {{ date_spine("(select start_date from bounds)", "(select as_of_date from bounds)") }}

),

invoices as (

    select
        stg_invoices.invoice_id,
        customers.account_id,
        stg_invoices.status,
        cast(stg_invoices.created_at as date) as created_date,
        cast(stg_invoices.due_at as date) as due_date,
        cast(stg_invoices.paid_at as date) as paid_date
    from stg_invoices
    inner join customers on customers.customer_id = stg_invoices.customer_id
    where customers.account_id is not null

),

first_invoice as (

    select account_id, min(created_date) as first_invoice_date
    from invoices
    group by account_id

),

overdue_days as (

    select
        invoices.account_id,
        days.date_day,
        invoices.invoice_id,
        {{ dbt.datediff('invoices.due_date', 'days.date_day', 'day') }} as days_overdue,
        row_number() over (
            partition by invoices.account_id, days.date_day
            order by invoices.due_date, invoices.invoice_id
        ) as overdue_rank,
        count(*) over (partition by invoices.account_id, days.date_day) as overdue_invoices
    from invoices
    inner join days
        on days.date_day > invoices.due_date
        and (invoices.paid_date is null or days.date_day < invoices.paid_date)
    where invoices.due_date is not null
        and invoices.status not in ('void', 'draft')
        and not (invoices.status = 'paid' and invoices.paid_date is null)

),

oldest_overdue as (

    select account_id, date_day, invoice_id, days_overdue, overdue_invoices
    from overdue_days
    where overdue_rank = 1

)

select
    spine.account_id,
    spine.date_day,
    first_invoice.first_invoice_date,
    coalesce(oldest_overdue.days_overdue, 0) as max_days_overdue,
    coalesce(oldest_overdue.overdue_invoices, 0) as overdue_invoices,
    oldest_overdue.invoice_id as oldest_overdue_invoice_id
from spine
left join first_invoice on first_invoice.account_id = spine.account_id
left join oldest_overdue on oldest_overdue.account_id = spine.account_id and oldest_overdue.date_day = spine.date_day
