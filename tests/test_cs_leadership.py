"""Customer-success leadership views on the hand-built health landing zone
(tests/helpers/fixtures_health.py, as-of 2024-06-30): the health trend on mart_account_health
and the health_declined alert, the CSM book of business (mart_csm_book), June's KPI row
(mart_cs_kpis_monthly), their GX reconciliations on corrupted copies, and the trend after an
incremental refresh. The month's KPIs on the revenue landing zone are in test_revenue.py."""
import datetime as dt
import shutil
from decimal import Decimal

import duckdb
import pytest

from helpers.pipeline_harness import Pipeline
from orchestration.lib.validation import validate_marts

D = Decimal
LEADERSHIP_MARTS = ["mart_cs_kpis_monthly", "mart_csm_book", "mart_csm_book_monthly"]


def trend(p, account, day):
    rows = p.df(f"""select health_score, health_tier, days_in_tier, health_tier_7d_before,
                           health_tier_30d_before, health_score_7d_before, health_score_change_7d, declined_7d
                    from marts.mart_account_health where account_id = '{account}' and date = '{day}'""")
    assert len(rows) == 1, (account, day)
    return rows.iloc[0]


# ---------------------------------------------------------------- health trend

def test_a_decline_and_its_days_in_tier_by_hand(health_built):
    p = health_built
    # acc_sla_bad: 100 (support burden only) every day from 2024-01-01 to 06-02: green for 154 days
    r = trend(p, "acc_sla_bad", "2024-06-02")
    assert (r.health_score, r.health_tier, r.days_in_tier, bool(r.declined_7d)) == (100, "green", 154, False)
    # 06-03, its first (late) ticket: (0*5 + 0*10 + 100*10) / 25 = 40, red, 60 points down in 7 days
    r = trend(p, "acc_sla_bad", "2024-06-03")
    assert (r.health_score, r.health_tier, r.days_in_tier) == (40, "red", 1)
    assert (r.health_score_7d_before, r.health_score_change_7d, bool(r.declined_7d)) == (100, -60, True)
    assert r.health_tier_7d_before == "green"
    # 06-10: 40 a week before as well: no decline any more, 8th day in red
    r = trend(p, "acc_sla_bad", "2024-06-10")
    assert (r.health_score_change_7d, bool(r.declined_7d), r.days_in_tier, r.health_tier_7d_before) == (0, False, 8, "red")
    # 06-24: 2 of 4 replies on time -> 53.33, yellow; 06-30: 7th day in yellow, red a week before,
    # green a month before (05-31)
    r = trend(p, "acc_sla_bad", "2024-06-30")
    assert (r.health_score, r.health_tier, r.days_in_tier) == (pytest.approx(53.33), "yellow", 7)
    assert (r.health_tier_7d_before, r.health_tier_30d_before) == ("red", "green")
    assert r.health_score_change_7d == pytest.approx(53.33 - 42.22, abs=0.006)
    # an account without any score has no tier and no days in it; declined_7d stays false
    assert p.query("select health_tier, days_in_tier, declined_7d from marts.mart_account_health "
                   "where account_id = 'acc_churn' and date = '2024-06-30'") == [(None, None, False)]


def test_days_in_tier_is_the_length_of_the_current_spell(health_built):
    """Invariant over every account and day, recomputed independently from the daily tiers."""
    rows = health_built.query("select account_id, date, health_tier, days_in_tier, health_tier_7d_before "
                              "from marts.mart_account_health order by account_id, date")
    prev, checked = {}, 0
    by_account: dict = {}
    for account, day, tier, days, tier_7d in rows:
        history = by_account.setdefault(account, [])
        last = prev.get(account)
        if last and last[1] == tier and last[0] == day - dt.timedelta(days=1):
            run = last[2] + 1
        else:
            run = 1
        prev[account] = (day, tier, run)
        assert days == (run if tier is not None else None), (account, day)
        assert tier_7d == (history[-7] if len(history) >= 7 else None), (account, day)
        history.append(tier)
        checked += 1
    assert checked > 1500


def test_alert_health_declined_with_its_evidence(health_built):
    rows = health_built.query("""select cast(opened_date as varchar), cast(closed_date as varchar), severity,
                                        threshold, evidence_value, evidence
                                 from marts.mart_cs_alerts where account_id = 'acc_sla_good' and rule = 'health_declined'""")
    # 100 -> 80 on 06-03 (20 points >= the 15 of seeds/alert_rules.csv); 80 a week later too
    assert rows == [("2024-06-03", "2024-06-10", "medium", 15.0, 20.0,
                     "health score 80.0 (green), down 20.0 points in 7 days (from 100.0 on 2024-05-27); "
                     "main drivers: support_burden 0.0, - ")]
    # not paying: no alert, whatever the score does
    assert health_built.query("select count(*) from marts.mart_cs_alerts "
                              "where account_id = 'acc_churn' and rule = 'health_declined'") == [(0,)]


# ---------------------------------------------------------------- the CSM book

BOOK_COLUMNS = ("accounts, paying_accounts, mrr, arr, arr_green, arr_yellow, arr_red, arr_unscored, "
                "accounts_at_risk, arr_at_risk, renewals_due_90d, renewal_accounts_90d, renewals_due_90d_arr, "
                "open_alerts_high, open_alerts_medium, open_alerts_low, stage_handover, stage_at_risk, "
                "stage_renewal, stage_active, stage_churned")


def test_csm_book_by_hand(health_built):
    book = {r[0]: r[1:] for r in health_built.query(f"select csm_owner, {BOOK_COLUMNS} from marts.mart_csm_book")}
    assert set(book) == {"Alice", "Bob", "unassigned"}
    # Bob: acc_risk (10 seats x $100: ARR 12,000, red) and acc_renewal (5 seats annual at
    # $1,200 a seat: ARR 6,000, red, due 2024-08-15: 46 days ahead). Open alerts: acc_risk
    # usage_drop, champion_gone, invoice_overdue (medium) and health_red (high); acc_renewal
    # health_red and renewal_not_green (high).
    assert book["Bob"] == (2, 2, D("1500.00"), D("18000.00"), D("0.00"), D("0.00"), D("18000.00"), D("0.00"),
                           2, D("18000.00"), 1, 1, D("6000.00"), 3, 3, 0, 0, 1, 1, 0, 0)
    # unassigned: acc_handover (no csm_owner), 3 seats from 06-20, green, in handover
    assert book["unassigned"] == (1, 1, D("300.00"), D("3600.00"), D("3600.00"), D("0.00"), D("0.00"), D("0.00"),
                                  0, D("0.00"), 0, 0, D("0.00"), 0, 0, 0, 1, 0, 0, 0, 0)
    # Alice: the other seven; acc_churn has no MRR and no tier. Green: acc_active, acc_onboard,
    # acc_sla_good ($2,400 each) and acc_mono_b ($4,800); yellow: acc_mono_a ($4,800) and
    # acc_sla_bad ($2,400). Open: acc_onboard's urgent ticket.
    assert book["Alice"] == (7, 6, D("1600.00"), D("19200.00"), D("12000.00"), D("7200.00"),
                             D("0.00"), D("0.00"), 0, D("0.00"), 0, 0, D("0.00"), 1, 0, 0, 0, 0, 0, 5, 1)
    # the books add up to the company: 10 accounts, $3,400 MRR, $40,800 ARR
    assert health_built.query("select sum(current_arr), count(*) from marts.dim_accounts")[0] == (D("40800.00"), 10)


def test_csm_books_month_by_month(health_built):
    rows = health_built.query("select csm_owner, cast(month as varchar), accounts, paying_accounts, mrr, arr, arr_red, "
                              "new_mrr, net_new_mrr from marts.mart_csm_book_monthly where month >= '2024-05-01' "
                              "order by 1, 2")
    assert rows == [
        # Alice: acc_onboard subscribes 05-15 ($200 new in May); acc_churn left in April
        ("Alice", "2024-05-01", 7, 6, D("1600.00"), D("19200.00"), D("0.00"), D("200.00"), D("200.00")),
        ("Alice", "2024-06-01", 7, 6, D("1600.00"), D("19200.00"), D("0.00"), D("0.00"), D("0.00")),
        # Bob: acc_risk (red from 05-28) and acc_renewal (red all along) both red at both month ends
        ("Bob", "2024-05-01", 2, 2, D("1500.00"), D("18000.00"), D("18000.00"), D("0.00"), D("0.00")),
        ("Bob", "2024-06-01", 2, 2, D("1500.00"), D("18000.00"), D("18000.00"), D("0.00"), D("0.00")),
        # unassigned: acc_handover from 06-20 only
        ("unassigned", "2024-06-01", 1, 1, D("300.00"), D("3600.00"), D("0.00"), D("300.00"), D("300.00")),
    ]


# ---------------------------------------------------------------- the monthly KPIs

def test_june_kpis_by_hand(health_built):
    k = health_built.df("select * from marts.mart_cs_kpis_monthly where month = '2024-06-01' and segment = 'all'")
    assert len(k) == 1
    k = k.iloc[0]
    # nine paying accounts, $3,400 MRR (see the fixture); acc_handover is June's only new account
    assert (k.paying_accounts, k.mrr, k.arr) == (9, 3400, 40800)
    assert (k.new_mrr, k.expansion_mrr, k.churned_mrr, k.net_new_mrr, k.new_accounts) == (300, 0, 0, 300, 1)
    # health mix on 06-30: green active, onboard, mono_b, sla_good, handover; yellow mono_a,
    # sla_bad; red risk, renewal
    assert (k.green_accounts, k.yellow_accounts, k.red_accounts, k.unscored_accounts) == (5, 2, 2, 0)
    assert (k.green_share, k.yellow_share, k.red_share) == (0.5556, 0.2222, 0.2222)
    # opened in June: high sla_bad health_red (06-03), acc_onboard's urgent ticket (06-27);
    # medium acc_risk invoice_overdue (06-01) and the two health_declined of 06-03. Closed in
    # June: high sla_bad health_red (06-24); medium the three health_declined (acc_risk 06-06,
    # the SLA twins 06-10)
    assert (k.alerts_opened_high, k.alerts_opened_medium, k.alerts_opened_low) == (2, 3, 0)
    assert (k.alerts_closed_high, k.alerts_closed_medium, k.alerts_closed_low) == (1, 3, 0)
    # tickets opened in June, first reply hours 1 (active), 0.5 (urgent), 1 x4 (sla_good),
    # 10, 10, 1, 1 (sla_bad): median 1; 8 of 10 within SLA; 9 good ratings of 9; NPS one 10
    assert (k.median_first_reply_hours, k.sla_attainment, k.csat, k.nps) == (1.0, 0.8, 1.0, 1.0)
    # no history 12 months back, no renewal due in June: retention and renewal rates null
    assert k.nrr != k.nrr and k.logo_renewal_rate != k.logo_renewal_rate and k.renewals_due == 0
    # every account is mid_market: its row is the same figures
    seg = health_built.df("select * from marts.mart_cs_kpis_monthly where month = '2024-06-01' and segment = 'mid_market'")
    cols = [c for c in seg.columns if c not in ("kpi_month_id", "segment")]
    assert seg[cols].iloc[0].equals(k[cols])
    # only complete months: 2023-08 (acc_renewal's first) .. 2024-06
    months = health_built.query("select min(month), max(month), count(distinct month) from marts.mart_cs_kpis_monthly")
    assert months == [(dt.date(2023, 8, 1), dt.date(2024, 6, 1), 11)]


# ---------------------------------------------------------------- the gate

def test_leadership_suites_pass_on_the_built_marts(health_built, tmp_path):
    outcomes = validate_marts(health_built.warehouse, tmp_path / "docs", "leadership-ok", marts=LEADERSHIP_MARTS)
    for mart, o in outcomes.items():
        assert o.success, (mart, o.error, [(f.description, f.sample_rows[:2]) for f in o.failed])


CORRUPTIONS = {
    "kpi_nrr_differs": ("update marts.mart_cs_kpis_monthly set nrr = 0.9 where month = '2024-06-01' and segment = 'all'",
                        "mart_cs_kpis_monthly", "agrees with mart_revenue_retention"),
    "kpi_renewal_invented": ("update marts.mart_cs_kpis_monthly set renewals_due = 1, renewals_pending = 1 "
                             "where month = '2024-06-01'",
                            "mart_cs_kpis_monthly", "agrees with mart_renewal_rates"),
    "kpi_mrr_off_by_a_cent": ("update marts.mart_cs_kpis_monthly set mrr = mrr + 0.01, arr = arr + 0.12 "
                              "where month = '2024-06-01' and segment = 'all'",
                              "mart_cs_kpis_monthly", "reconciles with fct_account_daily"),
    "kpi_health_mix_swapped": ("update marts.mart_cs_kpis_monthly set green_accounts = 2, yellow_accounts = 5 "
                               "where month = '2024-06-01'", "mart_cs_kpis_monthly",
                               "reconciles with fct_account_daily and mart_account_health"),
    "kpi_alert_not_counted": ("update marts.mart_cs_kpis_monthly set alerts_opened_high = alerts_opened_high - 1 "
                              "where month = '2024-06-01'", "mart_cs_kpis_monthly", "reconciles with mart_cs_alerts"),
    "kpi_month_missing": ("delete from marts.mart_cs_kpis_monthly where month = '2024-03-01'",
                          "mart_cs_kpis_monthly", "every complete month of fct_account_daily has its"),
    "kpi_service_differs": ("update marts.mart_cs_kpis_monthly set sla_attainment = 0.9 where month = '2024-06-01'",
                            "mart_cs_kpis_monthly", "reconciles with mart_service_efficiency"),
    "book_renewal_forgotten": ("update marts.mart_csm_book set renewals_due_90d = 0 where csm_owner = 'Bob'",
                               "mart_csm_book", "mart_renewals (renewals due in the next 90 days"),
    "book_monthly_arr_moved": ("update marts.mart_csm_book_monthly set arr = arr + 100, arr_green = arr_green + 100 "
                               "where csm_owner = 'Alice' and month = '2024-06-01'",
                               "mart_csm_book_monthly", "the books add up to the `all` row"),
    "book_monthly_owner_swapped": ("update marts.mart_csm_book_monthly set csm_owner = 'Bob' "
                                   "where csm_owner = 'unassigned'", "mart_csm_book_monthly",
                                   "reconciles with fct_account_daily, mart_account_health and fct_mrr_movements"),
    "book_renewal_arr_twice": ("update marts.mart_csm_book set renewals_due_90d_arr = 2 * renewals_due_90d_arr "
                               "where csm_owner = 'Bob'", "mart_csm_book", "those accounts' ARR each counted once"),
    "book_monthly_tier_moved": ("update marts.mart_csm_book_monthly set arr_green = arr_green - 2400, arr_red = arr_red + 2400 "
                                "where csm_owner = 'Alice' and month = '2024-06-01'", "mart_csm_book_monthly",
                                "green and red ARR on every month's last day"),
    "book_lost_an_account": ("delete from marts.mart_csm_book where csm_owner = 'unassigned'",
                             "mart_csm_book", "sums to dim_accounts"),
    "book_arr_moved": ("update marts.mart_csm_book set arr = arr + 100, arr_green = arr_green + 100 "
                       "where csm_owner = 'Alice'", "mart_csm_book", "sums to dim_accounts"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_leadership_reconciliations_fail_on_a_corrupted_copy(health_built, tmp_path, name):
    sql, mart, description = CORRUPTIONS[name]
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(health_built.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(sql)
    con.close()
    outcome = validate_marts(warehouse, tmp_path / "docs", f"leadership-{name}", marts=[mart])[mart]
    assert not outcome.success
    hits = [f for f in outcome.failed if description in f.description]
    assert hits and hits[0].sample_rows and not hits[0].exception, [(f.description, f.exception) for f in outcome.failed]


# ---------------------------------------------------------------- incremental = full refresh

def test_trend_after_an_incremental_refresh_equals_the_full_build(health_built, tmp_path):
    """Built up to 06-10, then refreshed 06-11 .. 06-30: acc_sla_bad's red spell began before
    the window (its days in tier come from the stored days), and it turns yellow inside it."""
    p = Pipeline(tmp_path, health_built.landing)
    p.ingest()
    p.dbt(["seed"])
    p.dbt(["run"], vars={"as_of_date": "2024-06-10"})
    p.dbt(["run"], vars={"refresh_start": "2024-06-11"})
    cols = ("account_id, date, health_score, health_tier, days_in_tier, health_tier_7d_before, "
            "health_tier_30d_before, health_score_7d_before, health_score_change_7d, declined_7d")
    q = f"select {cols} from marts.mart_account_health order by account_id, date"
    assert p.query(q) == health_built.query(q)
    for table in ("marts.mart_cs_alerts", "marts.mart_csm_book", "marts.mart_cs_kpis_monthly", "marts.mart_csm_book_monthly"):
        assert p.query(f"select * from {table} order by all") == health_built.query(f"select * from {table} order by all"), table


def test_a_health_table_built_before_the_trend_is_refused_with_a_clear_message(health_built, tmp_path):
    """An incremental run over a mart_account_health stored without days_in_tier (built by an
    earlier version) cannot know when the spells began: it stops and says how to rebuild."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(health_built.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("alter table marts.mart_account_health drop column days_in_tier")
    con.close()
    p = Pipeline(tmp_path, health_built.landing)
    p.raw, p.warehouse = health_built.raw, warehouse
    proc = p.dbt(["run", "--select", "mart_account_health"], check=False)
    assert proc.returncode != 0
    assert "mart_account_health was built before it carried days_in_tier" in proc.stdout
    assert "--full-refresh --select mart_account_health+" in proc.stdout
