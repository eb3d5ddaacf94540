"""The small, consistent warehouse of the publication tests (6 accounts, daily MRR
2024-01-01 .. 2025-03-10, marts computed from it per docs/metrics.md), the corruptions the GX
suites must catch, and the Dagster assets (stand-in marts, GX checks, `serving_marts`) over it.
Shared by test_publication.py, test_gx_docs_offline.py, test_serving_compat.py and
test_serving_postgres.py."""
from __future__ import annotations

from pathlib import Path

import duckdb

AS_OF = "2025-03-10"
MART_NAMES = ["mart_renewals", "mart_renewal_rates", "mart_revenue_retention", "fct_mrr_movements"]
PUBLISHED = [*MART_NAMES, "dim_accounts", "fct_account_daily"]


# ---------------------------------------------------------------------------------------------
# A small, consistent warehouse
# ---------------------------------------------------------------------------------------------
def build_warehouse(path: Path, as_of: str = AS_OF) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema intermediate; create schema staging")
    con.execute(f"create table intermediate.int_as_of_date as select date '{as_of}' as as_of_date")
    con.execute("create table staging.stg_users as select 'u1' as user_id, 'a@b.c' as email")
    # account MRR from a date on: new, expansion, churn, reactivation, contraction
    con.execute("""
    create temp table steps(account_id varchar, segment varchar, from_date date, mrr decimal(18,2));
    insert into steps values
     ('a1','smb','2024-01-01',100),
     ('a2','enterprise','2024-01-01',200),('a2','enterprise','2024-06-10',300),
     ('a3','smb','2024-01-01',0),('a3','smb','2024-02-15',150),('a3','smb','2024-09-20',0),
     ('a4','smb','2024-01-01',0),('a4','smb','2024-05-05',80),
     ('a5','enterprise','2024-01-01',500),('a5','enterprise','2024-04-01',0),
     ('a5','enterprise','2024-08-01',400),
     ('a6','enterprise','2024-01-01',1000),('a6','enterprise','2024-11-11',900),
     ('a6','enterprise','2025-03-05',950.55);
    """)
    con.execute(f"""
    create table marts.dim_accounts as
    select distinct account_id, segment, 'Company ' || account_id as company_name from steps;
    create table marts.fct_account_daily as
    select d.account_id, d.date, s.mrr, s.mrr * 12 as arr
    from (select a.account_id, g.range::date as date
          from (select distinct account_id from steps) a,
               range(date '2024-01-01', date '{as_of}' + 1, interval 1 day) g) d
    asof join steps s on s.account_id = d.account_id and d.date >= s.from_date;

    create temp table month_end as
    select account_id, date_trunc('month', date)::date as month, mrr
    from marts.fct_account_daily where date = least(last_day(date), date '{as_of}');

    create table marts.fct_mrr_movements as
    with x as (
      select account_id, month, mrr as ending_mrr,
             coalesce(lag(mrr) over w, 0) as starting_mrr,
             coalesce(max(mrr) over (w rows between unbounded preceding and 1 preceding), 0) as had
      from month_end window w as (partition by account_id order by month))
    select account_id, month, starting_mrr, ending_mrr,
      case when ending_mrr > 0 and had = 0 then 'new'
           when ending_mrr > 0 and starting_mrr = 0 then 'reactivation'
           when ending_mrr = 0 and starting_mrr > 0 then 'churn'
           when ending_mrr > starting_mrr then 'expansion'
           when ending_mrr < starting_mrr then 'contraction'
           else 'unchanged' end as movement_type,
      ending_mrr - starting_mrr as movement_mrr
    from x where starting_mrr > 0 or ending_mrr > 0;

    create table marts.mart_revenue_retention as
    with months as (
      select distinct month from month_end
      where last_day(month) <= date '{as_of}' and (month - interval 12 month)::date >= date '2024-01-01'),
    c as (
      select m.month, d.segment, p.mrr as s, coalesce(e.mrr, 0) as e
      from months m
      join month_end p on p.month = (m.month - interval 12 month)::date and p.mrr > 0
      join marts.dim_accounts d on d.account_id = p.account_id
      left join month_end e on e.account_id = p.account_id and e.month = m.month),
    cs as (select * from c union all select month, 'all', s, e from c)
    select month, segment, count(*) as cohort_accounts, count(*) filter (where e > 0) as retained_accounts,
      sum(s) as starting_mrr, sum(e) as ending_mrr,
      round(count(*) filter (where e > 0) / count(*), 4) as logo_retention,
      round(sum(least(s, e)) / sum(s), 4) as grr, round(sum(e) / sum(s), 4) as nrr
    from cs group by all;

    create temp table due(account_id varchar, due_date date, subscription_ids varchar[]);
    insert into due values ('a3','2024-09-20',['s3']), ('a2','2025-01-01',['s2','s2b']),
      ('a6','2024-12-15',['s6']), ('a1','2025-02-20',['s1']), ('a6','2025-06-01',['s6']);
    create table marts.mart_renewals as
    select u.account_id, u.due_date, d.segment, u.subscription_ids, p.arr as prior_arr,
      case when u.due_date + 30 > date '{as_of}' then null else r.arr end as renewed_arr,
      case when u.due_date + 30 > date '{as_of}' then 'pending'
           when r.arr > 0 then 'renewed' else 'churned' end as outcome,
      'green' as health_tier_90d_before
    from due u join marts.dim_accounts d using (account_id)
    join marts.fct_account_daily p
      on p.account_id = u.account_id and p.date = least(u.due_date - 1, date '{as_of}')
    left join marts.fct_account_daily r on r.account_id = u.account_id and r.date = u.due_date + 30;

    create table marts.mart_renewal_rates as
    with p as (
      select 'month' as grain, date_trunc('month', due_date)::date as period_start, segment,
             outcome, prior_arr, renewed_arr from marts.mart_renewals
      union all
      select 'quarter', date_trunc('quarter', due_date)::date, segment, outcome, prior_arr,
             renewed_arr from marts.mart_renewals),
    ps as (select * from p union all select grain, period_start, 'all', outcome, prior_arr, renewed_arr from p)
    select grain, period_start, segment, count(*) as due_count,
      count(*) filter (where outcome = 'renewed') as renewed_count,
      count(*) filter (where outcome = 'churned') as churned_count,
      count(*) filter (where outcome = 'pending') as pending_count,
      round(count(*) filter (where outcome = 'renewed')
            / nullif(count(*) filter (where outcome <> 'pending'), 0), 4) as logo_renewal_rate,
      round(sum(least(renewed_arr, prior_arr)) filter (where outcome <> 'pending')
            / nullif(sum(prior_arr) filter (where outcome <> 'pending'), 0), 4) as gross_amount_renewal_rate,
      round(sum(renewed_arr) filter (where outcome <> 'pending')
            / nullif(sum(prior_arr) filter (where outcome <> 'pending'), 0), 4) as net_amount_renewal_rate
    from ps group by all;
    """)
    con.close()
    return path


def corrupt(path: Path, sql: str) -> None:
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()


CORRUPTIONS = {
    "grr_above_1": (
        "update marts.mart_revenue_retention set grr = 1.2 "
        "where segment = 'all' and month = date '2025-02-01'",
        "mart_revenue_retention", "expect_column_values_to_be_between", "GRR",
    ),
    "duplicated_key": (
        "insert into marts.mart_renewals select * from marts.mart_renewals "
        "where account_id = 'a2'",
        "mart_renewals", "expect_compound_columns_to_be_unique", "unique",
    ),
    "movement_sum_not_reconciling": (
        # consistent within the row (amount = ending - starting), but not with the facts
        "update marts.fct_mrr_movements set ending_mrr = ending_mrr + 10, "
        "movement_mrr = movement_mrr + 10 where account_id = 'a2' and month = date '2024-06-01'",
        "fct_mrr_movements", "unexpected_rows_expectation", "sum of movements",
    ),
    "missing_latest_month_retention": (
        "delete from marts.mart_revenue_retention where month = date '2025-02-01'",
        "mart_revenue_retention", "unexpected_rows_expectation", "freshness",
    ),
    "missing_as_of_month_movements": (
        "delete from marts.fct_mrr_movements where month = date '2025-03-01'",
        "fct_mrr_movements", "unexpected_rows_expectation", "freshness",
    ),
    "counts_not_adding_up": (
        "update marts.mart_renewal_rates set renewed_count = renewed_count + 1 "
        "where grain = 'quarter' and segment = 'all'",
        "mart_renewal_rates", "unexpected_rows_expectation", "counts add up",
    ),
    "retention_cohort_not_reconciling": (
        "update marts.mart_revenue_retention set starting_mrr = starting_mrr + 1, "
        "nrr = ending_mrr / (starting_mrr + 1) where month = date '2025-01-01'",
        "mart_revenue_retention", "unexpected_rows_expectation", "fct_account_daily",
    ),
}


def dagster_assets(warehouse: Path, serving: Path, docs: Path):
    from dagster import AssetKey, MaterializeResult, asset

    from orchestration.defs.assets.serving import build_publication_asset
    from orchestration.defs.checks.gx import build_gx_checks

    def key_for(name: str) -> AssetKey:
        return AssetKey(["marts", name])

    def stand_in(name: str):
        @asset(key=key_for(name), group_name="marts")
        def _mart():  # the warehouse already holds the table
            return MaterializeResult()

        return _mart

    stand_ins = [stand_in(n) for n in PUBLISHED]
    # the suites of the marts this warehouse has (the leadership marts' suites need the real ones)
    checks = build_gx_checks(key_for, marts=MART_NAMES, warehouse_path=warehouse, docs_dir=docs)
    serving_marts = build_publication_asset(
        {n: key_for(n) for n in PUBLISHED}, warehouse_path=warehouse, serving_path=serving,
        require_fresh=False)  # no landing zone here: the freshness gate is tested in test_ops
    return [*stand_ins, *checks, serving_marts]
