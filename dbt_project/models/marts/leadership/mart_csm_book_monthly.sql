-- noqa: disable=LT02
-- (the Jinja loops over tiers below lay out their own indentation)
-- The CSMs' books month by month: per CSM (the account's current csm_owner, 'unassigned'
-- without one) and complete month, the accounts paying on the month's last day, their MRR and
-- ARR, the ARR by health tier that day (int_account_month_end_state) and the month's MRR
-- movements (fct_mrr_movements). Books are today's assignment applied to every month (the
-- billing data keeps no history of owners), so a month's books add up to that month's 'all'
-- row of mart_cs_kpis_monthly.
{%- set tiers = ['green', 'yellow', 'red'] %}
with

state as (

    select * from {{ ref('int_account_month_end_state') }}

),

books as (

    select
        month,
        csm_owner,
        max(month_end_date) as month_end_date,
        count(*) as accounts,
        sum(case when mrr > 0 then 1 else 0 end) as paying_accounts,
        sum(mrr) as mrr,
        sum(arr) as arr
        {%- for tier in tiers %},
        sum(case when health_tier = '{{ tier }}' then arr else 0 end) as arr_{{ tier }}
        {%- endfor %},
        sum(case when health_tier is null then arr else 0 end) as arr_unscored
    from state
    group by month, csm_owner

),

movements as (

    select
        movements.month,
        state.csm_owner,
        {{ mrr_movement_sums('movements.movement_type', 'movements.movement_mrr') }}
    from {{ ref('fct_mrr_movements') }} as movements
    inner join state on state.account_id = movements.account_id and state.month = movements.month
    group by movements.month, state.csm_owner

)

select
    {{ dbt.concat(["books.csm_owner", "'|'", dbt.safe_cast("books.month", dbt.type_string())]) }} as csm_month_id,
    books.csm_owner,
    books.month,
    books.month_end_date,
    cast(books.accounts as {{ dbt.type_bigint() }}) as accounts,
    cast(books.paying_accounts as {{ dbt.type_bigint() }}) as paying_accounts,
    cast(books.mrr as decimal(18, 2)) as mrr,
    cast(books.arr as decimal(18, 2)) as arr,
    {%- for tier in tiers + ['unscored'] %}
    cast(books.arr_{{ tier }} as decimal(18, 2)) as arr_{{ tier }},
    {%- endfor %}
    {{ mrr_movement_columns('movements') }}
from books
left join movements on movements.month = books.month and movements.csm_owner = books.csm_owner
