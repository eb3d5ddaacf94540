"""MRR movements: "had MRR" is read on month-end MRR (docs/metrics.md), on a small hand-built landing
zone of its own (tests/helpers/fixtures_revenue.py and its exact figures stay as they are).

Accounts (usd monthly, as-of date 2024-05-15, the latest complete drop):
  acc_P  $100 from 2024-02-10, canceled 2024-02-20 (paid 10 days, Feb month-end MRR 0);
         back with $150 on 2024-04-05 -> Feb and Mar unchanged, Apr `new` (never had a
         month-end MRR > 0 before).
  acc_Q  paid inside January (01-10 .. 01-20) and inside March (03-05 .. 03-15), back for good
         with $70 on 2024-05-02 -> nothing moves until May, which is `new`.
  acc_R  $200 from 2024-01-10, canceled 2024-02-20 (Feb month-end 0: churn), back with $250 on
         2024-04-03 -> `reactivation` (it had month-end MRR in January).
  acc_S  1 x $300 from 2024-01-05, 2 seats 2024-03-12, back to 1 seat 2024-05-01.
Month-end totals: Jan 500, Feb 300, Mar 600, Apr 1000, May (as-of) 770.
"""
from decimal import Decimal

import pytest

from helpers.landing_builder import Landing, customer, item, sub_event
from helpers.pipeline_harness import Pipeline
from helpers.reference_metrics import Reference

D = Decimal
DROPS = ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-15"]


def _start(evt, at, sub, cus, amount, qty=1):
    return sub_event(evt, at, sub, cus, "active", [item(amount, qty)],
                     etype="customer.subscription.created", period_end=at)


def _cancel(evt, at, sub, cus, amount):
    return sub_event(evt, at, sub, cus, "canceled", [item(amount, 1)],
                     etype="customer.subscription.deleted", period_end=at, canceled_at=at, ended_at=at)


def build(root) -> Landing:
    L = Landing(root)
    b = "billing"
    jan, feb, mar, apr, may = DROPS
    L.add(b, jan, "customers", [customer(f"cus_{x}", f"acc_{x}", "2024-01-01") for x in "PQRS"])
    L.add(b, jan, "subscription_events", [
        _start("evt_Q1", "2024-01-10T09:00:00", "sub_Q1", "cus_Q", 5000),
        _cancel("evt_Q2", "2024-01-20T09:00:00", "sub_Q1", "cus_Q", 5000),
        _start("evt_R1", "2024-01-10T09:00:00", "sub_R1", "cus_R", 20000),
        _start("evt_S1", "2024-01-05T09:00:00", "sub_S1", "cus_S", 30000),
    ])
    L.add(b, feb, "subscription_events", [
        _start("evt_P1", "2024-02-10T09:00:00", "sub_P1", "cus_P", 10000),
        _cancel("evt_P2", "2024-02-20T09:00:00", "sub_P1", "cus_P", 10000),
        _cancel("evt_R2", "2024-02-20T09:00:00", "sub_R1", "cus_R", 20000),
    ])
    L.add(b, mar, "subscription_events", [
        _start("evt_Q3", "2024-03-05T09:00:00", "sub_Q2", "cus_Q", 6000),
        _cancel("evt_Q4", "2024-03-15T09:00:00", "sub_Q2", "cus_Q", 6000),
        sub_event("evt_S2", "2024-03-12T09:00:00", "sub_S1", "cus_S", "active", [item(30000, 2)],
                  period_end="2024-04-12T09:00:00"),
    ])
    L.add(b, apr, "subscription_events", [
        _start("evt_P3", "2024-04-05T09:00:00", "sub_P2", "cus_P", 15000),
        _start("evt_R3", "2024-04-03T09:00:00", "sub_R2", "cus_R", 25000),
    ])
    L.add(b, may, "subscription_events", [
        _start("evt_Q5", "2024-05-02T09:00:00", "sub_Q3", "cus_Q", 7000),
        sub_event("evt_S3", "2024-05-01T09:00:00", "sub_S1", "cus_S", "active", [item(30000, 1)],
                  period_end="2024-06-01T09:00:00"),
    ])
    for d in DROPS:
        for s in ("usage", "ticketing"):
            L.drops.setdefault((s, d), {})
    return L


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mrr_rule")
    build(tmp / "landing").write()
    p = Pipeline(tmp, tmp / "landing")
    p.ingest()
    p.build()
    return p


MOVEMENTS = {
    # (account, month): (starting, ending, type, amount)
    ("acc_P", "2024-02-01"): ("0", "0", "unchanged", "0"),   # paid Feb 10-19 only: no movement
    ("acc_P", "2024-03-01"): ("0", "0", "unchanged", "0"),
    ("acc_P", "2024-04-01"): ("0", "150", "new", "150"),     # not reactivation
    ("acc_P", "2024-05-01"): ("150", "150", "unchanged", "0"),
    ("acc_Q", "2024-01-01"): ("0", "0", "unchanged", "0"),
    ("acc_Q", "2024-02-01"): ("0", "0", "unchanged", "0"),
    ("acc_Q", "2024-03-01"): ("0", "0", "unchanged", "0"),
    ("acc_Q", "2024-04-01"): ("0", "0", "unchanged", "0"),
    ("acc_Q", "2024-05-01"): ("0", "70", "new", "70"),
    ("acc_R", "2024-01-01"): ("0", "200", "new", "200"),
    ("acc_R", "2024-02-01"): ("200", "0", "churn", "-200"),
    ("acc_R", "2024-03-01"): ("0", "0", "unchanged", "0"),
    ("acc_R", "2024-04-01"): ("0", "250", "reactivation", "250"),
    ("acc_R", "2024-05-01"): ("250", "250", "unchanged", "0"),
    ("acc_S", "2024-01-01"): ("0", "300", "new", "300"),
    ("acc_S", "2024-02-01"): ("300", "300", "unchanged", "0"),
    ("acc_S", "2024-03-01"): ("300", "600", "expansion", "300"),
    ("acc_S", "2024-04-01"): ("600", "600", "unchanged", "0"),
    ("acc_S", "2024-05-01"): ("600", "300", "contraction", "-300"),
}


def test_daily_mrr_inside_the_month(built):
    rows = built.query("""select account_id, cast(date as varchar), mrr from marts.fct_account_daily
                          where account_id in ('acc_P', 'acc_Q') and mrr > 0 and date < '2024-04-01'""")
    days = {}
    for acc, d, m in rows:
        days.setdefault(acc, set()).add((d[:7], m))
    # the blips are real daily MRR, only the month-end reading ignores them
    assert days == {"acc_P": {("2024-02", D("100.00"))},
                    "acc_Q": {("2024-01", D("50.00")), ("2024-03", D("60.00"))}}
    assert len([r for r in rows if r[0] == "acc_P"]) == 10


def test_movements_read_had_mrr_on_month_end(built):
    rows = built.query("""select account_id, cast(month as varchar), starting_mrr, ending_mrr, movement_type, movement_mrr
                          from marts.fct_mrr_movements order by 1, 2""")
    got = {(a, m): (s, e, t, x) for a, m, s, e, t, x in rows}
    want = {k: (D(s), D(e), t, D(x)) for k, (s, e, t, x) in MOVEMENTS.items()}
    assert got == want


def test_had_mrr_before_month_flag(built):
    # acc_P paid on days of February, yet its first month with month-end MRR > 0 is April
    rows = built.query("""select cast(month as varchar), had_mrr_before_month from intermediate.int_account_month_end_mrr
                          where account_id = 'acc_P' order by 1""")
    assert rows == [("2024-02-01", False), ("2024-03-01", False), ("2024-04-01", False), ("2024-05-01", True)]


def test_no_reactivation_without_an_earlier_churn_row(built):
    bad = built.query("""
        select r.account_id, r.month from marts.fct_mrr_movements r
        where r.movement_type = 'reactivation'
          and not exists (select 1 from marts.fct_mrr_movements c
                          where c.account_id = r.account_id and c.movement_type = 'churn' and c.month < r.month)""")
    assert bad == []


def test_movements_sum_to_the_change_in_total_month_end_mrr(built):
    # totals read straight from fct_account_daily on each month's last day (as-of for May)
    totals = dict(built.query("""
        select cast(date_trunc('month', date) as date), sum(mrr) from marts.fct_account_daily
        where date = last_day(date) or date = (select max(date) from marts.fct_account_daily)
        group by 1"""))
    assert {str(k): v for k, v in totals.items()} == {
        "2024-01-01": D("500.00"), "2024-02-01": D("300.00"), "2024-03-01": D("600.00"),
        "2024-04-01": D("1000.00"), "2024-05-01": D("770.00")}
    moved = dict(built.query("select month, sum(movement_mrr) from marts.fct_mrr_movements group by 1"))
    months = sorted(totals)
    for i, m in enumerate(months):
        prev = totals[months[i - 1]] if i else D("0")
        assert moved[m] == totals[m] - prev, m


def test_reference_implementation_agrees(built):
    want = {(a, m.isoformat()): (t, x) for (a, m), (t, x) in Reference(built.landing).movements().items()}
    assert want == {k: (t, float(x)) for k, (_, _, t, x) in MOVEMENTS.items()}


def test_gx_suite_holds(built, tmp_path):
    from orchestration.lib.validation import validate_marts

    outcome = validate_marts(built.warehouse, tmp_path / "docs", "mrr-rule", marts=["fct_mrr_movements"])
    assert outcome["fct_mrr_movements"].success, outcome["fct_mrr_movements"]
