-- For every month the movement amounts sum to total MRR(M) - total MRR(M-1), to the cent.
with totals as (
    select month, sum(ending_mrr) as total_mrr, sum(movement_mrr) as total_movement
    from {{ ref('fct_mrr_movements') }}
    group by month
),
compared as (
    select
        month,
        total_mrr,
        total_movement,
        total_mrr - coalesce(lag(total_mrr) over (order by month), 0) as total_change
    from totals
)
select * from compared where total_movement <> total_change
