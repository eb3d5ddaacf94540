"""Expectation suites (Great Expectations Core 1.x) for the marts that are published to BI.

One suite per mart. Each suite is built in code so that the SQL of the reconciliations stays
readable and reviewable; `python expectations/suites.py` prints them as GX suite JSON.
README.md in this folder explains every expectation.

Conventions the SQL relies on (see docs/metrics.md):
- the warehouse has schema `marts` (the marts and fct_account_daily) and
  `intermediate.int_as_of_date(as_of_date)` with one row;
- `mart` is the mart being validated (GX substitutes the table);
- month-end MRR of an account = its `mrr` on the month's last day, or on the as-of date for the
  current month;
- money compares to the cent (|difference| > 0.005 fails), rates to 0.0005 (they may be
  rounded to 4 decimals).

This module is loaded by path (orchestration/lib/validation.py, `load_suites_module`), it is not a package.
"""
from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

# Marts validated before publication, and their keys (used for uniqueness and to identify the
# sample rows reported for a failed expectation).
MART_KEYS: dict[str, list[str]] = {
    "mart_renewals": ["account_id", "due_date"],
    "mart_renewal_rates": ["grain", "period_start", "segment"],
    "mart_revenue_retention": ["month", "segment"],
    "fct_mrr_movements": ["account_id", "month"],
    "mart_cs_kpis_monthly": ["month", "segment"],
    "mart_csm_book": ["csm_owner"],
    "mart_csm_book_monthly": ["csm_owner", "month"],
}
VALIDATED_MARTS: tuple[str, ...] = tuple(MART_KEYS)

MONEY_TOLERANCE = 0.005
RATE_TOLERANCE = 0.0005

# ---------------------------------------------------------------------------------------------
# Shared SQL fragments
# ---------------------------------------------------------------------------------------------
AS_OF_CTE = """as_of as (
    select max(as_of_date)::date as as_of_date,
           (case when last_day(max(as_of_date)) = max(as_of_date)
                 then date_trunc('month', max(as_of_date))
                 else date_trunc('month', max(as_of_date)) - interval 1 month
            end)::date as latest_complete_month
    from intermediate.int_as_of_date
)"""

# account x month: month-end MRR from the facts
MONTH_END_CTE = """month_end as (
    select f.account_id, date_trunc('month', f.date)::date as month, f.mrr
    from marts.fct_account_daily f cross join as_of a
    where f.date = least(last_day(f.date), a.as_of_date)
)"""


def _rows(query: str, description: str) -> gxe.UnexpectedRowsExpectation:
    """An UnexpectedRowsExpectation: the query returns the offending rows (none = pass).

    Queries refer to the validated mart as `mart`: a CTE over GX's `{batch}` is prepended.
    (GX renders `{batch}` as `(subquery)` when the query has a JOIN and as
    `(subquery) AS subselect` otherwise; going through a CTE works in both cases.)"""
    query = query.strip()
    batch_cte = "mart as (select * from {batch})"
    if query.lower().startswith("with "):
        query = f"with {batch_cte},\n{query[5:]}"
    else:
        query = f"with {batch_cte}\n{query}"
    return gxe.UnexpectedRowsExpectation(unexpected_rows_query=query, description=description)


def _not_null(columns: list[str]) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column=c, description=f"`{c}` is never null")
        for c in columns
    ]


def _columns(columns: list[str]) -> gxe.Expectation:
    return gxe.ExpectTableColumnsToMatchSet(
        column_set=columns,
        exact_match=False,
        description="the contract columns BI queries rely on are present",
    )


def _every_month_has_an_all_row() -> gxe.Expectation:
    """A monthly mart by segment has its `all` row in every month it holds."""
    return _rows("""
select distinct b.month as month_without_all_row
from mart b
where not exists (select 1 from mart x where x.month = b.month and x.segment = 'all')
""", "every month has an `all` segment row")


def _latest_complete_month_present(history_months: int) -> gxe.Expectation:
    """Freshness of a monthly mart by segment: the latest complete month's `all` row is there,
    once the facts reach back `history_months` before it (12 for trailing-12-month retention)."""
    first = f"(a.latest_complete_month - interval {history_months} month)::date" if history_months else "a.latest_complete_month"
    return _rows(f"""
with {AS_OF_CTE}
select a.latest_complete_month as missing_month, a.as_of_date
from as_of a
where (select min(date) from marts.fct_account_daily) <= {first}
  and not exists (select 1 from mart b
                  where b.month = a.latest_complete_month and b.segment = 'all')
""", "freshness: the latest complete month (last day <= as-of date) is present")


def _complete_months_only() -> gxe.Expectation:
    """A monthly mart (month, segment) holds only complete months, each as its first day."""
    return _rows(f"""
with {AS_OF_CTE}
select b.month, b.segment, a.latest_complete_month
from mart b cross join as_of a
where b.month > a.latest_complete_month or b.month <> date_trunc('month', b.month)::date
""", "only complete months, each as its first day")


def _unique(mart: str) -> gxe.Expectation:
    keys = MART_KEYS[mart]
    if len(keys) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=keys[0], description=f"key {keys[0]} is unique")
    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=keys, description=f"key ({', '.join(keys)}) is unique"
    )


# ---------------------------------------------------------------------------------------------
# mart_revenue_retention
# ---------------------------------------------------------------------------------------------
def revenue_retention_suite() -> gx.ExpectationSuite:
    m = MONEY_TOLERANCE
    r = RATE_TOLERANCE
    exps: list[gxe.Expectation] = [
        _columns(["month", "segment", "cohort_accounts", "retained_accounts", "starting_mrr",
                  "ending_mrr", "logo_retention", "grr", "nrr"]),
        gxe.ExpectTableRowCountToBeBetween(min_value=1, description="the mart is not empty"),
        *_not_null(["month", "segment", "cohort_accounts", "retained_accounts", "starting_mrr",
                    "ending_mrr"]),
        _unique("mart_revenue_retention"),
        gxe.ExpectColumnValuesToBeBetween(column="grr", min_value=0, max_value=1,
                                          description="GRR is a fraction in [0, 1]"),
        gxe.ExpectColumnValuesToBeBetween(column="logo_retention", min_value=0, max_value=1,
                                          description="logo retention is a fraction in [0, 1]"),
        gxe.ExpectColumnValuesToBeBetween(column="nrr", min_value=0,
                                          description="NRR is >= 0"),
        gxe.ExpectColumnValuesToBeBetween(column="cohort_accounts", min_value=0,
                                          description="cohort size is >= 0"),
        gxe.ExpectColumnValuesToBeBetween(column="starting_mrr", min_value=0,
                                          description="starting MRR is >= 0"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="cohort_accounts", column_B="retained_accounts", or_equal=True,
            description="retained accounts never exceed the cohort"),
        _rows(f"""
select month, segment, cohort_accounts, retained_accounts, starting_mrr, ending_mrr,
       logo_retention, grr, nrr
from mart
where (cohort_accounts > 0
       and abs(logo_retention - retained_accounts::double / cohort_accounts) > {r})
   or (starting_mrr > 0 and abs(nrr - ending_mrr / starting_mrr) > {r})
   or grr > nrr + {r}
""", "rates agree with their counts: logo = retained / cohort, NRR = ending / starting, "
     "GRR <= NRR"),
        _every_month_has_an_all_row(),
        _rows(f"""
with seg as (
    select month, sum(cohort_accounts) as cohort_accounts,
           sum(retained_accounts) as retained_accounts,
           sum(starting_mrr) as starting_mrr, sum(ending_mrr) as ending_mrr
    from mart where segment <> 'all' group by month
)
select a.month, a.cohort_accounts, s.cohort_accounts as segments_cohort_accounts,
       a.retained_accounts, s.retained_accounts as segments_retained_accounts,
       a.starting_mrr, s.starting_mrr as segments_starting_mrr,
       a.ending_mrr, s.ending_mrr as segments_ending_mrr
from mart a join seg s on s.month = a.month
where a.segment = 'all'
  and (a.cohort_accounts <> s.cohort_accounts or a.retained_accounts <> s.retained_accounts
       or abs(a.starting_mrr - s.starting_mrr) > {m} or abs(a.ending_mrr - s.ending_mrr) > {m})
""", "segment rows add up to the `all` row (cohort, retained, starting and ending MRR)"),
        _rows(f"""
with {AS_OF_CTE},
{MONTH_END_CTE},
expected as (
    select b.month,
           count(p.account_id) as cohort_accounts,
           count(p.account_id) filter (where coalesce(c.mrr, 0) > 0) as retained_accounts,
           coalesce(sum(p.mrr), 0) as starting_mrr,
           coalesce(sum(coalesce(c.mrr, 0)), 0) as ending_mrr
    from (select distinct month from mart) b
    left join month_end p
           on p.month = (b.month - interval 12 month)::date and p.mrr > 0
    left join month_end c on c.account_id = p.account_id and c.month = b.month
    group by b.month
)
select r.month, r.cohort_accounts, e.cohort_accounts as fact_cohort_accounts,
       r.retained_accounts, e.retained_accounts as fact_retained_accounts,
       r.starting_mrr, e.starting_mrr as fact_starting_mrr,
       r.ending_mrr, e.ending_mrr as fact_ending_mrr
from mart r join expected e on e.month = r.month
where r.segment = 'all'
  and (r.cohort_accounts <> e.cohort_accounts or r.retained_accounts <> e.retained_accounts
       or abs(r.starting_mrr - e.starting_mrr) > {m} or abs(r.ending_mrr - e.ending_mrr) > {m})
""", "reconciles with fct_account_daily: the `all` cohort is the accounts with month-end "
     "MRR(M-12) > 0, starting_mrr = the sum of their MRR(M-12), ending_mrr = their MRR(M)"),
        _latest_complete_month_present(history_months=12),
        _complete_months_only(),
    ]
    return gx.ExpectationSuite(name="mart_revenue_retention", expectations=exps)


# ---------------------------------------------------------------------------------------------
# fct_mrr_movements
# ---------------------------------------------------------------------------------------------
MOVEMENT_TYPES = ["new", "reactivation", "churn", "expansion", "contraction", "unchanged"]


def mrr_movements_suite() -> gx.ExpectationSuite:
    m = MONEY_TOLERANCE
    exps: list[gxe.Expectation] = [
        _columns(["account_id", "month", "starting_mrr", "ending_mrr", "movement_type",
                  "movement_mrr"]),
        gxe.ExpectTableRowCountToBeBetween(min_value=1, description="the table is not empty"),
        *_not_null(["account_id", "month", "starting_mrr", "ending_mrr", "movement_type",
                    "movement_mrr"]),
        _unique("fct_mrr_movements"),
        gxe.ExpectColumnValuesToBeInSet(column="movement_type", value_set=MOVEMENT_TYPES,
                                        description="movement_type is one of the spec's types"),
        gxe.ExpectColumnValuesToBeBetween(column="starting_mrr", min_value=0,
                                          description="starting MRR is >= 0"),
        gxe.ExpectColumnValuesToBeBetween(column="ending_mrr", min_value=0,
                                          description="ending MRR is >= 0"),
        _rows(f"""
select account_id, month, movement_type, starting_mrr, ending_mrr, movement_mrr
from mart
where abs(movement_mrr - (ending_mrr - starting_mrr)) > {m}
""", "each movement amount equals ending_mrr - starting_mrr"),
        _rows("""
select account_id, month, movement_type, starting_mrr, ending_mrr, movement_mrr
from mart
where not (
       (movement_type in ('new', 'reactivation') and starting_mrr = 0 and ending_mrr > 0)
    or (movement_type = 'churn' and starting_mrr > 0 and ending_mrr = 0)
    or (movement_type = 'expansion' and starting_mrr > 0 and ending_mrr > starting_mrr)
    or (movement_type = 'contraction' and ending_mrr > 0 and ending_mrr < starting_mrr)
    or (movement_type = 'unchanged' and ending_mrr = starting_mrr and movement_mrr = 0))
""", "movement type agrees with starting and ending MRR"),
        _rows("""
select account_id, count(*) as new_movements
from mart where movement_type = 'new'
group by account_id having count(*) > 1
""", "an account is `new` at most once"),
        _rows(f"""
with {AS_OF_CTE},
{MONTH_END_CTE},
totals as (select month, sum(mrr) as total_mrr from month_end group by month),
months as (select month from totals union select distinct month from mart),
moves as (select month, sum(movement_mrr) as movement_sum from mart group by month)
select m.month, coalesce(mv.movement_sum, 0) as movement_sum,
       coalesce(t.total_mrr, 0) - coalesce(tp.total_mrr, 0) as mrr_change,
       coalesce(t.total_mrr, 0) as total_mrr, coalesce(tp.total_mrr, 0) as prior_total_mrr
from months m
left join moves mv on mv.month = m.month
left join totals t on t.month = m.month
left join totals tp on tp.month = (m.month - interval 1 month)::date
where abs(coalesce(mv.movement_sum, 0)
          - (coalesce(t.total_mrr, 0) - coalesce(tp.total_mrr, 0))) > {m}
""", "reconciles with fct_account_daily: for every month, the sum of movements equals total "
     "month-end MRR(M) - total MRR(M-1), to the cent"),
        _rows(f"""
with {AS_OF_CTE},
{MONTH_END_CTE}
select b.account_id, b.month, b.starting_mrr, coalesce(p.mrr, 0) as fact_starting_mrr,
       b.ending_mrr, coalesce(c.mrr, 0) as fact_ending_mrr
from mart b
left join month_end c on c.account_id = b.account_id and c.month = b.month
left join month_end p on p.account_id = b.account_id
                     and p.month = (b.month - interval 1 month)::date
where abs(b.ending_mrr - coalesce(c.mrr, 0)) > {m}
   or abs(b.starting_mrr - coalesce(p.mrr, 0)) > {m}
""", "reconciles with fct_account_daily per account: starting/ending MRR are the month-end "
     "MRR of M-1 and M"),
        _rows(f"""
with {AS_OF_CTE},
required as (
    select date_trunc('month', as_of_date)::date as month, 'as-of month' as why from as_of
    union all
    select latest_complete_month, 'latest complete month' from as_of
)
select r.month as missing_month, r.why
from required r
where not exists (select 1 from mart b where b.month = r.month)
""", "freshness: the as-of month and the latest complete month are present"),
        _rows(f"""
with {AS_OF_CTE}
select b.account_id, b.month, a.as_of_date
from mart b cross join as_of a
where b.month > a.as_of_date or b.month <> date_trunc('month', b.month)::date
""", "no month after the as-of date; months are their first day"),
    ]
    return gx.ExpectationSuite(name="fct_mrr_movements", expectations=exps)


# ---------------------------------------------------------------------------------------------
# mart_renewals
# ---------------------------------------------------------------------------------------------
def renewals_suite() -> gx.ExpectationSuite:
    m = MONEY_TOLERANCE
    exps: list[gxe.Expectation] = [
        _columns(["account_id", "due_date", "segment", "prior_arr", "renewed_arr", "outcome"]),
        *_not_null(["account_id", "due_date", "segment", "prior_arr", "outcome"]),
        _unique("mart_renewals"),
        gxe.ExpectColumnValuesToBeInSet(column="outcome",
                                        value_set=["renewed", "churned", "pending"],
                                        description="outcome is renewed, churned or pending"),
        gxe.ExpectColumnValuesToBeBetween(column="prior_arr", min_value=0,
                                          description="prior ARR is >= 0"),
        gxe.ExpectColumnValuesToBeBetween(column="renewed_arr", min_value=0,
                                          description="renewed ARR is >= 0"),
        _rows(f"""
with {AS_OF_CTE}
select b.account_id, b.due_date, b.outcome, b.renewed_arr, a.as_of_date
from mart b cross join as_of a
where (b.outcome = 'pending') <> (b.due_date + 30 > a.as_of_date)
   or (b.outcome = 'pending' and b.renewed_arr is not null)
   or (b.outcome = 'churned' and coalesce(b.renewed_arr, -1) <> 0)
   or (b.outcome = 'renewed' and coalesce(b.renewed_arr, 0) <= 0)
""", "outcome agrees with the 30-day grace period and renewed_arr (pending: null, "
     "churned: 0, renewed: > 0)"),
        _rows(f"""
with {AS_OF_CTE}
select b.account_id, b.due_date, b.outcome,
       b.prior_arr, coalesce(p.arr, 0) as fact_prior_arr,
       b.renewed_arr, coalesce(r.arr, 0) as fact_renewed_arr
from mart b cross join as_of a
left join marts.fct_account_daily p
       on p.account_id = b.account_id and p.date = least(b.due_date - 1, a.as_of_date)
left join marts.fct_account_daily r
       on r.account_id = b.account_id and r.date = b.due_date + 30
where abs(b.prior_arr - coalesce(p.arr, 0)) > {m}
   or (b.outcome <> 'pending' and abs(b.renewed_arr - coalesce(r.arr, 0)) > {m})
""", "reconciles with fct_account_daily: prior_arr = ARR the day before the due date (as-of "
     "date if later), renewed_arr = ARR on due date + 30"),
    ]
    return gx.ExpectationSuite(name="mart_renewals", expectations=exps)


# ---------------------------------------------------------------------------------------------
# mart_renewal_rates
# ---------------------------------------------------------------------------------------------
def renewal_rates_suite() -> gx.ExpectationSuite:
    r = RATE_TOLERANCE
    exps: list[gxe.Expectation] = [
        _columns(["grain", "period_start", "segment", "due_count", "renewed_count",
                  "churned_count", "pending_count", "logo_renewal_rate",
                  "gross_amount_renewal_rate", "net_amount_renewal_rate"]),
        *_not_null(["grain", "period_start", "segment", "due_count", "renewed_count",
                    "churned_count", "pending_count"]),
        _unique("mart_renewal_rates"),
        gxe.ExpectColumnValuesToBeInSet(column="grain", value_set=["month", "quarter"],
                                        description="grain is month or quarter"),
        gxe.ExpectColumnValuesToBeBetween(column="logo_renewal_rate", min_value=0, max_value=1,
                                          description="logo renewal rate is in [0, 1]"),
        gxe.ExpectColumnValuesToBeBetween(column="gross_amount_renewal_rate", min_value=0,
                                          max_value=1,
                                          description="gross amount renewal rate is in [0, 1]"),
        gxe.ExpectColumnValuesToBeBetween(column="net_amount_renewal_rate", min_value=0,
                                          description="net amount renewal rate is >= 0"),
        *[
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0,
                                              description=f"`{c}` is >= 0")
            for c in ["due_count", "renewed_count", "churned_count", "pending_count"]
        ],
        _rows("""
select grain, period_start, segment, due_count, renewed_count, churned_count, pending_count
from mart
where renewed_count + churned_count + pending_count <> due_count
""", "counts add up: renewed + churned + pending = due"),
        _rows("""
select grain, period_start, segment
from mart
where period_start <> (case when grain = 'quarter' then date_trunc('quarter', period_start)
                            else date_trunc('month', period_start) end)::date
""", "period_start is the first day of its month / quarter"),
        _rows(f"""
with r as (
    select segment, outcome, prior_arr, renewed_arr,
           date_trunc('month', due_date)::date as month_start,
           date_trunc('quarter', due_date)::date as quarter_start
    from marts.mart_renewals
),
p as (
    select 'month' as grain, month_start as period_start, segment, outcome, prior_arr,
           renewed_arr from r
    union all
    select 'quarter', quarter_start, segment, outcome, prior_arr, renewed_arr from r
),
ps as (
    select * from p
    union all
    select grain, period_start, 'all', outcome, prior_arr, renewed_arr from p
),
e as (
    select grain, period_start, segment,
           count(*) as due_count,
           count(*) filter (where outcome = 'renewed') as renewed_count,
           count(*) filter (where outcome = 'churned') as churned_count,
           count(*) filter (where outcome = 'pending') as pending_count,
           (count(*) filter (where outcome = 'renewed'))::double
               / nullif(count(*) filter (where outcome <> 'pending'), 0) as logo_renewal_rate,
           sum(least(renewed_arr, prior_arr)) filter (where outcome <> 'pending')
               / nullif(sum(prior_arr) filter (where outcome <> 'pending'), 0)
               as gross_amount_renewal_rate,
           sum(renewed_arr) filter (where outcome <> 'pending')
               / nullif(sum(prior_arr) filter (where outcome <> 'pending'), 0)
               as net_amount_renewal_rate
    from ps group by all
)
select coalesce(b.grain, e.grain) as grain,
       coalesce(b.period_start, e.period_start) as period_start,
       coalesce(b.segment, e.segment) as segment,
       b.due_count, e.due_count as renewals_due_count,
       b.renewed_count, e.renewed_count as renewals_renewed_count,
       b.churned_count, e.churned_count as renewals_churned_count,
       b.pending_count, e.pending_count as renewals_pending_count,
       b.logo_renewal_rate, e.logo_renewal_rate as renewals_logo_renewal_rate,
       b.gross_amount_renewal_rate,
       e.gross_amount_renewal_rate as renewals_gross_amount_renewal_rate,
       b.net_amount_renewal_rate, e.net_amount_renewal_rate as renewals_net_amount_renewal_rate
from mart b
full outer join e
  on e.grain = b.grain and e.period_start = b.period_start and e.segment = b.segment
where coalesce(b.due_count, 0) <> coalesce(e.due_count, 0)
   or coalesce(b.renewed_count, 0) <> coalesce(e.renewed_count, 0)
   or coalesce(b.churned_count, 0) <> coalesce(e.churned_count, 0)
   or coalesce(b.pending_count, 0) <> coalesce(e.pending_count, 0)
   or (b.logo_renewal_rate is null) <> (e.logo_renewal_rate is null)
   or abs(b.logo_renewal_rate - e.logo_renewal_rate) > {r}
   or (b.gross_amount_renewal_rate is null) <> (e.gross_amount_renewal_rate is null)
   or abs(b.gross_amount_renewal_rate - e.gross_amount_renewal_rate) > {r}
   or (b.net_amount_renewal_rate is null) <> (e.net_amount_renewal_rate is null)
   or abs(b.net_amount_renewal_rate - e.net_amount_renewal_rate) > {r}
""", "reconciles with mart_renewals: counts and the three rates per period and segment "
     "(plus `all`) recomputed from the renewals; pending renewals are left out of the rates"),
    ]
    return gx.ExpectationSuite(name="mart_renewal_rates", expectations=exps)


# ---------------------------------------------------------------------------------------------
# mart_cs_kpis_monthly
# ---------------------------------------------------------------------------------------------
KPI_MOVEMENTS = {"new": "new_mrr", "expansion": "expansion_mrr", "contraction": "contraction_mrr",
                 "churn": "churned_mrr", "reactivation": "reactivation_mrr"}
# an account's CSM book (macros/csm_book.sql): its csm_owner, 'unassigned' when null or blank
BOOK_OWNER = "coalesce(nullif(trim({}), ''), 'unassigned')"
KPI_ALERTS = [f"alerts_{e}_{s}" for e in ("opened", "closed") for s in ("high", "medium", "low")]
KPI_COUNTS = ["paying_accounts", "new_accounts", "churned_accounts", "renewals_due",
              "renewals_renewed", "renewals_churned", "renewals_pending", "green_accounts",
              "yellow_accounts", "red_accounts", "unscored_accounts", *KPI_ALERTS]
KPI_MONEY = ["mrr", "arr", *KPI_MOVEMENTS.values(), "net_new_mrr"]
KPI_SERVICE = ["median_first_reply_hours", "sla_attainment", "csat", "nps"]

# the complete months (last day on or before the as-of date) that fct_account_daily covers
COMPLETE_MONTHS_CTE = """complete_months as (
    select distinct date_trunc('month', f.date)::date as month, f.date as month_end_date
    from marts.fct_account_daily f cross join as_of a
    where f.date = last_day(f.date) and f.date <= a.as_of_date
)"""


def _segmented(name: str, select: str) -> str:
    """CTEs `<name>_rows` (the select, with an account_id column) and `<name>`: each row with
    the account's current segment (dim_accounts; 'unknown' when it has none) and once more with
    segment 'all', as the leadership marts count them."""
    return f"""{name}_rows as (
{select}
),
{name} as (
    select r.*, coalesce(d.segment, 'unknown') as segment
    from {name}_rows r left join marts.dim_accounts d on d.account_id = r.account_id
    union all
    select r.*, 'all' as segment from {name}_rows r
)"""


def _same_rate(a: str, b: str, tolerance: float) -> str:
    """SQL: `a` and `b` differ (one null and not the other, or apart by more than tolerance)."""
    return f"(({a} is null) <> ({b} is null) or abs({a} - {b}) > {tolerance})"


KPI_STATE_CTES = _segmented("state", """    select f.account_id, c.month, f.mrr, h.health_tier
    from marts.fct_account_daily f
    join complete_months c on c.month_end_date = f.date
    left join marts.mart_account_health h on h.account_id = f.account_id and h.date = f.date""")
KPI_MOVES_CTES = _segmented("moves", """    select mv.account_id, mv.month, mv.movement_type, mv.movement_mrr
    from marts.fct_mrr_movements mv join complete_months c on c.month = mv.month""")
KPI_EVENTS_CTES = _segmented("events", """    select date_trunc('month', a.opened_date)::date as month, 'opened' as event, a.severity,
           a.account_id
    from marts.mart_cs_alerts a
    union all
    select date_trunc('month', a.closed_date)::date, 'closed', a.severity, a.account_id
    from marts.mart_cs_alerts a where a.closed_date is not null""")


def cs_kpis_monthly_suite() -> gx.ExpectationSuite:
    m = MONEY_TOLERANCE
    r = RATE_TOLERANCE
    rates = ["nrr", "grr", "logo_retention"]
    renewal_rates = ["logo_renewal_rate", "gross_amount_renewal_rate", "net_amount_renewal_rate"]
    exps: list[gxe.Expectation] = [
        _columns(["month", "segment", "paying_accounts", "mrr", "arr", *KPI_MOVEMENTS.values(),
                  "net_new_mrr", *rates, "renewals_due", "renewals_renewed", "renewals_churned",
                  *renewal_rates, "green_share", "yellow_share", "red_share",
                  "median_first_reply_hours", "sla_attainment", "csat", "nps"]),
        *_not_null(["month", "segment", *KPI_COUNTS, *KPI_MONEY]),
        _unique("mart_cs_kpis_monthly"),
        *[gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1,
                                            description=f"{c} is a fraction in [0, 1]")
          for c in ("green_share", "yellow_share", "red_share", "sla_attainment", "csat")],
        gxe.ExpectColumnValuesToBeBetween(column="nps", min_value=-1, max_value=1,
                                          description="NPS is in [-1, 1]"),
        _every_month_has_an_all_row(),
        _rows("""
select month, segment, paying_accounts, green_accounts, yellow_accounts, red_accounts,
       unscored_accounts
from mart
where green_accounts + yellow_accounts + red_accounts + unscored_accounts <> paying_accounts
""", "the health mix covers the paying accounts: green + yellow + red + unscored = paying"),
        _rows(f"""
select month, segment, net_new_mrr, {' + '.join(KPI_MOVEMENTS.values())} as movements
from mart
where abs(net_new_mrr - ({' + '.join(KPI_MOVEMENTS.values())})) > {m}
""", "net new MRR is the sum of the five movements"),
        _rows(f"""
with seg as (
    select month, {', '.join(f'sum({c}) as {c}' for c in KPI_COUNTS + KPI_MONEY)}
    from mart where segment <> 'all' group by month
)
select a.month, {', '.join(f'a.{c}, s.{c} as segments_{c}' for c in ('paying_accounts', 'mrr', 'net_new_mrr', 'renewals_due'))}
from mart a join seg s on s.month = a.month
where a.segment = 'all'
  and ({' or '.join([f'a.{c} <> s.{c}' for c in KPI_COUNTS] + [f'abs(a.{c} - s.{c}) > {m}' for c in KPI_MONEY])})
""", "segment rows add up to the `all` row (accounts, MRR, ARR, movements, renewals, health "
     "mix, alerts)"),
        _rows(f"""
with {AS_OF_CTE},
{COMPLETE_MONTHS_CTE},
{KPI_STATE_CTES},
expected as (
    select month, segment, count(*) filter (where mrr > 0) as paying_accounts, sum(mrr) as mrr,
           count(*) filter (where mrr > 0 and health_tier = 'green') as green_accounts,
           count(*) filter (where mrr > 0 and health_tier = 'yellow') as yellow_accounts,
           count(*) filter (where mrr > 0 and health_tier = 'red') as red_accounts
    from state group by month, segment
)
select coalesce(k.month, e.month) as month, coalesce(k.segment, e.segment) as segment,
       k.paying_accounts, e.paying_accounts as fact_paying_accounts, k.mrr, e.mrr as fact_mrr,
       k.green_accounts, e.green_accounts as health_green_accounts,
       k.yellow_accounts, e.yellow_accounts as health_yellow_accounts,
       k.red_accounts, e.red_accounts as health_red_accounts
from mart k full outer join expected e on e.month = k.month and e.segment = k.segment
where k.month is null
   or k.paying_accounts <> coalesce(e.paying_accounts, 0)
   or abs(k.mrr - coalesce(e.mrr, 0)) > {m} or abs(k.arr - 12 * coalesce(e.mrr, 0)) > {m}
   or k.green_accounts <> coalesce(e.green_accounts, 0)
   or k.yellow_accounts <> coalesce(e.yellow_accounts, 0)
   or k.red_accounts <> coalesce(e.red_accounts, 0)
""", "reconciles with fct_account_daily and mart_account_health, every month and segment: "
     "paying accounts and MRR on the month's last day, ARR = 12 x MRR, the health mix that day"),
        _rows(f"""
with {AS_OF_CTE},
{COMPLETE_MONTHS_CTE},
{KPI_MOVES_CTES},
expected as (
    select month, segment,
           {', '.join(f"sum(movement_mrr) filter (where movement_type = '{t}') as {c}" for t, c in KPI_MOVEMENTS.items())},
           sum(movement_mrr) as net_new_mrr
    from moves group by month, segment
)
select coalesce(k.month, e.month) as month, coalesce(k.segment, e.segment) as segment,
       {', '.join(f'k.{c}, e.{c} as movements_{c}' for c in [*KPI_MOVEMENTS.values(), 'net_new_mrr'])}
from mart k full outer join expected e on e.month = k.month and e.segment = k.segment
where k.month is null
   or {' or '.join(f'abs(k.{c} - coalesce(e.{c}, 0)) > {m}' for c in [*KPI_MOVEMENTS.values(), 'net_new_mrr'])}
""", "reconciles with fct_mrr_movements: each movement type's MRR of every month and segment"),
        _rows(f"""
with {AS_OF_CTE},
{COMPLETE_MONTHS_CTE},
{KPI_EVENTS_CTES},
expected as (
    select ev.month, ev.segment,
           {', '.join(f"count(*) filter (where ev.event = '{c.split('_')[1]}' and ev.severity = '{c.split('_')[2]}') as {c}"
                      for c in KPI_ALERTS)}
    from events ev join complete_months c on c.month = ev.month
    group by ev.month, ev.segment
)
select coalesce(k.month, e.month) as month, coalesce(k.segment, e.segment) as segment,
       {', '.join(f'k.{c}, e.{c} as cs_alerts_{c}' for c in KPI_ALERTS)}
from mart k full outer join expected e on e.month = k.month and e.segment = k.segment
where k.month is null or {' or '.join(f'k.{c} <> coalesce(e.{c}, 0)' for c in KPI_ALERTS)}
""", "reconciles with mart_cs_alerts: alerts opened and closed by severity, every month and segment"),
        _rows(f"""
select k.month, {', '.join(f'k.{c}, s.{c} as service_{c}' for c in KPI_SERVICE)}
from mart k
left join marts.mart_service_efficiency s on s.scope = 'overall' and s.month = k.month
where k.segment = 'all'
  and ({' or '.join(_same_rate(f'k.{c}', f's.{c}', r) for c in KPI_SERVICE)})
""", "reconciles with mart_service_efficiency: the `all` rows carry the overall row's median "
     "first reply, SLA attainment, CSAT and NPS"),
        _rows(f"""
with {AS_OF_CTE},
{COMPLETE_MONTHS_CTE}
select c.month as missing_month
from complete_months c
where not exists (select 1 from mart k where k.month = c.month and k.segment = 'all')
""", "every complete month of fct_account_daily has its `all` row (no month missing)"),
        _rows(f"""
with months as (select distinct month from mart)
select coalesce(k.month, r.month) as month, coalesce(k.segment, r.segment) as segment,
       {', '.join(f'k.{c}, r.{c} as retention_{c}' for c in rates)}
from (select * from mart where {' or '.join(f'{c} is not null' for c in rates)}
      or (month, segment) in (select month, segment from marts.mart_revenue_retention)) k
full outer join (select * from marts.mart_revenue_retention
                 where month in (select month from months)) r
  on r.month = k.month and r.segment = k.segment
where k.month is null or r.month is null
   or {' or '.join(_same_rate(f'k.{c}', f'r.{c}', r) for c in rates)}
""", "agrees with mart_revenue_retention: NRR, GRR and logo retention of every month and "
     "segment it has, null where it has none"),
        _rows(f"""
with months as (select distinct month from mart),
rates as (select * from marts.mart_renewal_rates
          where grain = 'month' and period_start in (select month from months))
select coalesce(k.month, e.period_start) as month, coalesce(k.segment, e.segment) as segment,
       k.renewals_due, e.due_count, k.renewals_renewed, e.renewed_count,
       k.renewals_churned, e.churned_count, k.renewals_pending, e.pending_count,
       {', '.join(f'k.{c}, e.{c} as renewal_rates_{c}' for c in renewal_rates)}
from mart k
full outer join rates e on e.period_start = k.month and e.segment = k.segment
where k.month is null
   or k.renewals_due <> coalesce(e.due_count, 0)
   or k.renewals_renewed <> coalesce(e.renewed_count, 0)
   or k.renewals_churned <> coalesce(e.churned_count, 0)
   or k.renewals_pending <> coalesce(e.pending_count, 0)
   or {' or '.join(_same_rate(f'k.{c}', f'e.{c}', r) for c in renewal_rates)}
""", "agrees with mart_renewal_rates (grain month): renewals due, renewed, churned, pending "
     "and the three renewal rates of every month and segment"),
        _latest_complete_month_present(history_months=0),
        _complete_months_only(),
    ]
    return gx.ExpectationSuite(name="mart_cs_kpis_monthly", expectations=exps)


# ---------------------------------------------------------------------------------------------
# mart_csm_book
# ---------------------------------------------------------------------------------------------
BOOK_STAGES = ["trial", "handover", "onboarding", "active", "renewal", "at_risk", "churned"]
BOOK_FIGURES = ["accounts", "paying_accounts", "mrr", "arr", "arr_green", "arr_yellow", "arr_red",
                "arr_unscored", "accounts_at_risk", "arr_at_risk", "renewals_due_90d",
                "renewal_accounts_90d", "renewals_due_90d_arr", "open_alerts_high",
                "open_alerts_medium", "open_alerts_low", *[f"stage_{s}" for s in BOOK_STAGES], "stage_none"]


def csm_book_suite() -> gx.ExpectationSuite:
    m = MONEY_TOLERANCE
    stage_sum = " + ".join(f"stage_{s}" for s in BOOK_STAGES) + " + stage_none"
    exps: list[gxe.Expectation] = [
        _columns(["csm_owner", "as_of_date", "accounts", "paying_accounts", "mrr", "arr",
                  "arr_green", "arr_yellow", "arr_red", "arr_unscored", "arr_at_risk",
                  "renewals_due_90d", "renewals_due_90d_arr", "open_alerts_high",
                  "open_alerts_medium", "open_alerts_low"]),
        *_not_null(["csm_owner", "as_of_date", *BOOK_FIGURES]),
        _unique("mart_csm_book"),
        _rows(f"""
select csm_owner, arr, arr_green, arr_yellow, arr_red, arr_unscored, accounts, {stage_sum} as staged
from mart
where abs(arr - (arr_green + arr_yellow + arr_red + arr_unscored)) > {m}
   or accounts <> {stage_sum}
   or arr_at_risk > arr_red + {m}
""", "a book adds up: ARR by tier = ARR, accounts by stage = accounts, at risk within red"),
        _rows(f"""
with dim as (
    select {BOOK_OWNER.format('csm_owner')} as csm_owner,
           count(*) as accounts, sum(current_arr) as arr, sum(current_mrr) as mrr
    from marts.dim_accounts group by 1
)
select coalesce(b.csm_owner, d.csm_owner) as csm_owner, b.accounts, d.accounts as dim_accounts,
       b.arr, d.arr as dim_arr, b.mrr, d.mrr as dim_mrr
from mart b full outer join dim d on d.csm_owner = b.csm_owner
where b.csm_owner is null or d.csm_owner is null or b.accounts <> d.accounts
   or abs(b.arr - d.arr) > {m} or abs(b.mrr - d.mrr) > {m}
""", "sums to dim_accounts: every owner's accounts, MRR and ARR (so the books' ARR is the "
     "company's ARR to the cent)"),
        _rows("""
with expected as (
    select count(*) filter (where severity = 'high') as high,
           count(*) filter (where severity = 'medium') as medium,
           count(*) filter (where severity = 'low') as low
    from marts.mart_cs_alerts where status = 'open'
)
select sum(b.open_alerts_high) as open_alerts_high, e.high as alerts_high,
       sum(b.open_alerts_medium) as open_alerts_medium, e.medium as alerts_medium,
       sum(b.open_alerts_low) as open_alerts_low, e.low as alerts_low
from mart b cross join expected e
group by e.high, e.medium, e.low
having sum(b.open_alerts_high) <> e.high or sum(b.open_alerts_medium) <> e.medium
    or sum(b.open_alerts_low) <> e.low
""", "reconciles with mart_cs_alerts: the open alerts of every book add up to the open alerts"),
        _rows(f"""
with {AS_OF_CTE},
facts as (
    select {BOOK_OWNER.format('d.csm_owner')} as csm_owner,
           count(*) filter (where f.mrr > 0) as paying_accounts, sum(f.arr) as arr,
           count(*) filter (where f.mrr > 0 and d.health_tier = 'red') as accounts_at_risk
    from marts.fct_account_daily f
    join as_of a on f.date = a.as_of_date
    join marts.dim_accounts d on d.account_id = f.account_id
    group by 1
),
renewal_accounts as (
    select d.csm_owner, r.account_id, count(*) as renewals_due, max(r.prior_arr) as prior_arr
    from marts.mart_renewals r
    join (select account_id, {BOOK_OWNER.format('csm_owner')} as csm_owner
          from marts.dim_accounts) d on d.account_id = r.account_id
    cross join as_of a
    where r.due_date between a.as_of_date and a.as_of_date + interval 90 day
    group by d.csm_owner, r.account_id
),
renewals as (
    select csm_owner, sum(renewals_due) as renewals_due, count(*) as renewal_accounts,
           sum(prior_arr) as renewals_due_arr
    from renewal_accounts group by csm_owner
)
select b.csm_owner, b.paying_accounts, f.paying_accounts as fact_paying_accounts, b.arr, f.arr as fact_arr,
       b.accounts_at_risk, f.accounts_at_risk as fact_accounts_at_risk,
       b.renewals_due_90d, r.renewals_due as renewals_renewals_due,
       b.renewal_accounts_90d, r.renewal_accounts as renewals_renewal_accounts,
       b.renewals_due_90d_arr, r.renewals_due_arr as renewals_renewals_due_arr
from mart b
left join facts f on f.csm_owner = b.csm_owner
left join renewals r on r.csm_owner = b.csm_owner
where b.paying_accounts <> coalesce(f.paying_accounts, 0)
   or abs(b.arr - coalesce(f.arr, 0)) > {m}
   or b.accounts_at_risk <> coalesce(f.accounts_at_risk, 0)
   or b.renewals_due_90d <> coalesce(r.renewals_due, 0)
   or b.renewal_accounts_90d <> coalesce(r.renewal_accounts, 0)
   or abs(b.renewals_due_90d_arr - coalesce(r.renewals_due_arr, 0)) > {m}
""", "reconciles with fct_account_daily (paying accounts, ARR and red paying accounts on the "
     "as-of date) and mart_renewals (renewals due in the next 90 days, their accounts, and those "
     "accounts' ARR each counted once)"),
        _rows("""
select distinct b.as_of_date, a.as_of_date as warehouse_as_of_date
from mart b cross join intermediate.int_as_of_date a
where b.as_of_date <> a.as_of_date
""", "the book is as of the warehouse's as-of date"),
    ]
    return gx.ExpectationSuite(name="mart_csm_book", expectations=exps)


def csm_book_monthly_suite() -> gx.ExpectationSuite:
    m = MONEY_TOLERANCE
    money = ["mrr", "arr", *KPI_MOVEMENTS.values(), "net_new_mrr"]
    tiers = ["arr_green", "arr_yellow", "arr_red", "arr_unscored"]
    exps: list[gxe.Expectation] = [
        _columns(["csm_owner", "month", "accounts", "paying_accounts", "mrr", "arr", "arr_green",
                  "arr_yellow", "arr_red", "arr_unscored", "net_new_mrr"]),
        *_not_null(["csm_owner", "month", "accounts", "paying_accounts", *money, *tiers]),
        _unique("mart_csm_book_monthly"),
        _rows(f"""
select csm_owner, month, arr, arr_green, arr_yellow, arr_red, arr_unscored
from mart
where abs(arr - (arr_green + arr_yellow + arr_red + arr_unscored)) > {m}
""", "a month's book adds up: ARR by tier = ARR"),
        _rows(f"""
with books as (
    select month, sum(paying_accounts) as paying_accounts, {', '.join(f'sum({c}) as {c}' for c in money)}
    from mart group by month
)
select coalesce(k.month, b.month) as month, k.paying_accounts, b.paying_accounts as books_paying_accounts,
       k.arr, b.arr as books_arr, k.net_new_mrr, b.net_new_mrr as books_net_new_mrr
from (select * from marts.mart_cs_kpis_monthly where segment = 'all') k
full outer join books b on b.month = k.month
where k.month is null or b.month is null or k.paying_accounts <> b.paying_accounts
   or {' or '.join(f'abs(k.{c} - b.{c}) > {m}' for c in money)}
""", "every month, the books add up to the `all` row of mart_cs_kpis_monthly (paying accounts, "
     "MRR, ARR, each movement type)"),
        _rows(f"""
with {AS_OF_CTE},
{COMPLETE_MONTHS_CTE},
owners as (
    select account_id, {BOOK_OWNER.format('csm_owner')} as csm_owner from marts.dim_accounts
),
expected as (
    select coalesce(o.csm_owner, 'unassigned') as csm_owner, c.month,
           count(*) as accounts, count(*) filter (where f.mrr > 0) as paying_accounts, sum(f.mrr) as mrr,
           sum(f.arr) filter (where h.health_tier = 'green') as arr_green,
           sum(f.arr) filter (where h.health_tier = 'red') as arr_red
    from marts.fct_account_daily f
    join complete_months c on c.month_end_date = f.date
    left join owners o on o.account_id = f.account_id
    left join marts.mart_account_health h on h.account_id = f.account_id and h.date = f.date
    group by 1, 2
),
moves as (
    select coalesce(o.csm_owner, 'unassigned') as csm_owner, mv.month, sum(mv.movement_mrr) as net_new_mrr,
           sum(mv.movement_mrr) filter (where mv.movement_type = 'churn') as churned_mrr
    from marts.fct_mrr_movements mv
    join complete_months c on c.month = mv.month
    left join owners o on o.account_id = mv.account_id
    group by 1, 2
)
select coalesce(b.csm_owner, e.csm_owner) as csm_owner, coalesce(b.month, e.month) as month,
       b.accounts, e.accounts as fact_accounts, b.paying_accounts, e.paying_accounts as fact_paying_accounts,
       b.mrr, e.mrr as fact_mrr, b.arr_green, e.arr_green as health_arr_green, b.arr_red, e.arr_red as health_arr_red,
       b.net_new_mrr, mv.net_new_mrr as movements_net_new_mrr
from mart b
full outer join expected e on e.csm_owner = b.csm_owner and e.month = b.month
left join moves mv on mv.csm_owner = coalesce(b.csm_owner, e.csm_owner) and mv.month = coalesce(b.month, e.month)
where b.month is null or e.month is null or b.accounts <> e.accounts
   or b.paying_accounts <> e.paying_accounts or abs(b.mrr - e.mrr) > {m}
   or abs(b.arr_green - coalesce(e.arr_green, 0)) > {m} or abs(b.arr_red - coalesce(e.arr_red, 0)) > {m}
   or abs(b.net_new_mrr - coalesce(mv.net_new_mrr, 0)) > {m}
   or abs(b.churned_mrr - coalesce(mv.churned_mrr, 0)) > {m}
""", "reconciles with fct_account_daily, mart_account_health and fct_mrr_movements: each book's "
     "accounts, paying accounts, MRR, green and red ARR on every month's last day, and its net new and "
     "churned MRR (today's owners from dim_accounts)"),
    ]
    return gx.ExpectationSuite(name="mart_csm_book_monthly", expectations=exps)


SUITE_BUILDERS = {
    "mart_renewals": renewals_suite,
    "mart_renewal_rates": renewal_rates_suite,
    "mart_revenue_retention": revenue_retention_suite,
    "fct_mrr_movements": mrr_movements_suite,
    "mart_cs_kpis_monthly": cs_kpis_monthly_suite,
    "mart_csm_book": csm_book_suite,
    "mart_csm_book_monthly": csm_book_monthly_suite,
}


def build_suites() -> dict[str, gx.ExpectationSuite]:
    """A fresh suite per validated mart (suites are bound to a context once added)."""
    return {mart: builder() for mart, builder in SUITE_BUILDERS.items()}


if __name__ == "__main__":  # print the suites as GX 1.x JSON, for review
    import json

    for suite in build_suites().values():
        print(json.dumps(suite.to_json_dict(), indent=2, default=str))
