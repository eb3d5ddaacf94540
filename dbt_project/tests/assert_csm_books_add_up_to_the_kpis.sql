-- Every complete month, the CSMs' books (mart_csm_book_monthly) add up to the company: the
-- 'all' row of mart_cs_kpis_monthly (paying accounts, MRR, ARR, net new MRR, to the cent).
with

books as (

    select
        month,
        sum(paying_accounts) as paying_accounts,
        sum(mrr) as mrr,
        sum(arr) as arr,
        sum(net_new_mrr) as net_new_mrr
    from {{ ref('mart_csm_book_monthly') }}
    group by month

),

kpis as (

    select month, paying_accounts, mrr, arr, net_new_mrr
    from {{ ref('mart_cs_kpis_monthly') }}
    where segment = 'all'

)

select
    coalesce(kpis.month, books.month) as month,
    kpis.paying_accounts,
    books.paying_accounts as books_paying_accounts,
    kpis.arr,
    books.arr as books_arr,
    kpis.net_new_mrr,
    books.net_new_mrr as books_net_new_mrr
from kpis
full outer join books on books.month = kpis.month
where kpis.month is null
    or books.month is null
    or kpis.paying_accounts <> books.paying_accounts
    or abs(kpis.mrr - books.mrr) > 0.005
    or abs(kpis.arr - books.arr) > 0.005
    or abs(kpis.net_new_mrr - books.net_new_mrr) > 0.005
