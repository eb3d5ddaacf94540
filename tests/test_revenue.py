"""Revenue, retention and renewals on a hand-built landing zone (tests/helpers/fixtures_revenue.py),
against figures worked out by hand from docs/metrics.md."""
from decimal import Decimal

import pytest

from helpers import fixtures_revenue
from helpers.pipeline_harness import Pipeline

D = Decimal


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("revenue")
    fixtures_revenue.write(tmp / "landing")
    p = Pipeline(tmp, tmp / "landing")
    p.ingestion = p.ingest()
    p.build()
    return p


def test_incomplete_drop_is_not_read_and_dirt_is_quarantined(built):
    # evt_A5 sits in a drop without _SUCCESS: never loaded, acc_A keeps paying
    assert built.query("select count(*) from staging.stg_billing__subscription_events where event_id = 'evt_A5'") == [(0,)]
    # the duplicated evt_A3 is loaded once; the invalid JSON line is a reject with its line
    assert built.query("select count(*) from staging.stg_billing__subscription_events where event_id = 'evt_A3'") == [(1,)]
    rejects = built.query("select object_name, _source_file, _source_line, reason from staging.stg_ingestion__rejects")
    assert len(rejects) == 1
    obj, file, line, reason = rejects[0]
    assert obj == "subscription_events" and file.endswith("2024-01-31/subscription_events.jsonl")
    assert line == 10 and reason.startswith("invalid JSON")


def test_as_of_date_is_latest_complete_drop(built):
    assert built.query("select max(date) from marts.fct_account_daily") == [(pytest.importorskip("datetime").date(2024, 4, 15),)]


@pytest.mark.parametrize("account,day,mrr", [
    ("acc_A", "2024-01-04", None),   # before its first event the account has no row
    ("acc_A", "2024-01-05", D("200.00")),
    ("acc_A", "2024-02-10", D("300.00")),  # two changes that day: the day-end state counts
    ("acc_A", "2024-03-20", D("100.00")),
    ("acc_B", "2024-01-10", D("110.00")),  # EUR 100/month at 1.10 on the day the state began
    ("acc_B", "2024-02-29", D("110.00")),  # the rate moved to 1.30: an unchanged subscription does not
    ("acc_B", "2024-03-05", D("240.00")),  # EUR 200 at 1.20
    ("acc_B", "2024-04-15", D("240.00")),
    ("acc_C", "2024-01-20", D("0.00")),    # trialing
    ("acc_C", "2024-01-29", D("50.00")),
    ("acc_C", "2024-02-15", D("0.00")),    # canceled mid-term
    ("acc_C", "2024-04-02", D("80.00")),
    ("acc_D", "2024-01-03", D("98.00")),   # CNY 700 x 0.14
    ("acc_D", "2024-02-01", D("198.00")),  # + $300 per quarter = $100/month
    ("acc_D", "2024-03-01", D("198.00")),  # past_due still counts
    ("acc_D", "2024-03-25", D("98.00")),   # unpaid does not
    ("acc_E", "2023-06-30", D("100.00")),  # $1,200/yr annual
    ("acc_E", "2024-01-19", D("100.00")),  # cancel_at_period_end: still paying
    ("acc_E", "2024-01-20", D("0.00")),
    ("acc_F", "2024-02-15", D("400.00")),
])
def test_daily_mrr(built, account, day, mrr):
    rows = built.query("select mrr, arr from marts.fct_account_daily where account_id = ? and date = ?", [account, day])
    if mrr is None:
        assert rows == []
    else:
        assert rows == [(mrr, 12 * mrr)]


MOVEMENTS_2024 = {
    # month: {account: (starting, ending, type, amount)}
    "2024-01-01": {"acc_A": ("0", "200", "new", "200"), "acc_B": ("0", "110", "new", "110"),
                   "acc_C": ("0", "50", "new", "50"), "acc_D": ("0", "98", "new", "98"),
                   "acc_E": ("100", "0", "churn", "-100"), "acc_F": ("200", "200", "unchanged", "0")},
    "2024-02-01": {"acc_A": ("200", "300", "expansion", "100"), "acc_B": ("110", "110", "unchanged", "0"),
                   "acc_C": ("50", "0", "churn", "-50"), "acc_D": ("98", "198", "expansion", "100"),
                   "acc_E": ("0", "0", "unchanged", "0"), "acc_F": ("200", "400", "expansion", "200")},
    "2024-03-01": {"acc_A": ("300", "100", "contraction", "-200"), "acc_B": ("110", "240", "expansion", "130"),
                   "acc_C": ("0", "0", "unchanged", "0"), "acc_D": ("198", "98", "contraction", "-100"),
                   "acc_E": ("0", "0", "unchanged", "0"), "acc_F": ("400", "400", "unchanged", "0")},
    "2024-04-01": {"acc_A": ("100", "100", "unchanged", "0"), "acc_B": ("240", "240", "unchanged", "0"),
                   "acc_C": ("0", "80", "reactivation", "80"), "acc_D": ("98", "98", "unchanged", "0"),
                   "acc_E": ("0", "0", "unchanged", "0"), "acc_F": ("400", "400", "unchanged", "0")},
}


def test_mrr_movements(built):
    rows = built.query("""select cast(month as varchar), account_id, starting_mrr, ending_mrr, movement_type, movement_mrr
                          from marts.fct_mrr_movements where month >= '2024-01-01' order by 1, 2""")
    got = {}
    for month, acc, s, e, t, a in rows:
        got.setdefault(month, {})[acc] = (s, e, t, a)
    want = {m: {a: (D(s), D(e), t, D(x)) for a, (s, e, t, x) in accs.items()} for m, accs in MOVEMENTS_2024.items()}
    assert got == want
    # 2023: acc_E new in January, acc_F new in February, nothing else moves
    moves_2023 = built.query("""select cast(month as varchar), account_id, movement_type, movement_mrr
                                from marts.fct_mrr_movements where month < '2024-01-01' and movement_type <> 'unchanged'""")
    assert sorted(moves_2023) == [("2023-01-01", "acc_E", "new", D("100.00")), ("2023-02-01", "acc_F", "new", D("200.00"))]


def test_movements_reconcile_to_total_mrr_change(built):
    bad = built.query("""
        with totals as (
            select month, sum(ending_mrr) as total, sum(movement_mrr) as moved from marts.fct_mrr_movements group by month
        )
        select month, total, moved, total - coalesce(lag(total) over (order by month), 0) as change
        from totals qualify moved <> change""")
    assert bad == []
    totals = dict(built.query("select cast(month as varchar), sum(ending_mrr) from marts.fct_mrr_movements "
                              "where month >= '2024-01-01' group by 1"))
    assert totals == {"2024-01-01": D("658.00"), "2024-02-01": D("1008.00"), "2024-03-01": D("838.00"), "2024-04-01": D("918.00")}


def test_revenue_retention(built):
    rows = built.query("""select cast(month as varchar), segment, cohort_accounts, retained_accounts, starting_mrr, ending_mrr,
                                 logo_retention, grr, nrr
                          from marts.mart_revenue_retention order by 1, 2""")
    # months 2024-01..03 are complete and their M-12 lies in the data (first event 2023-01-20);
    # cohort(2024-01) = {E}; cohort(2024-02) = cohort(2024-03) = {E ($100, churned), F ($200 -> $400)}
    want = [
        ("2024-01-01", "all", 1, 0, D("100.00"), D("0.00"), 0.0, 0.0, 0.0),
        ("2024-01-01", "smb", 1, 0, D("100.00"), D("0.00"), 0.0, 0.0, 0.0),
        ("2024-02-01", "all", 2, 1, D("300.00"), D("400.00"), 0.5, 200 / 300, 400 / 300),
        ("2024-02-01", "enterprise", 1, 1, D("200.00"), D("400.00"), 1.0, 1.0, 2.0),
        ("2024-02-01", "smb", 1, 0, D("100.00"), D("0.00"), 0.0, 0.0, 0.0),
        ("2024-03-01", "all", 2, 1, D("300.00"), D("400.00"), 0.5, 200 / 300, 400 / 300),
        ("2024-03-01", "enterprise", 1, 1, D("200.00"), D("400.00"), 1.0, 1.0, 2.0),
        ("2024-03-01", "smb", 1, 0, D("100.00"), D("0.00"), 0.0, 0.0, 0.0),
    ]
    assert len(rows) == len(want)
    for got, exp in zip(rows, want):
        assert got[:6] == exp[:6]
        assert got[6:] == pytest.approx(exp[6:], abs=1e-12)


def test_renewals(built):
    rows = built.query("""select account_id, cast(due_date as varchar), segment, subscription_ids, prior_arr, renewed_arr, outcome
                          from marts.mart_renewals order by 1, 2""")
    assert rows == [
        # not yet due: prior ARR is the ARR on the as-of date (EUR 2,400/yr at 1.20)
        ("acc_B", "2025-01-10", "mid_market", "sub_B1", D("2880.00"), None, "pending"),
        # canceled at period end: ARR the day before 1,200; MRR on due + 30 is 0
        ("acc_E", "2024-01-20", "smb", "sub_E1", D("1200.00"), D("0.00"), "churned"),
        # renewed with two seats: ARR 2,400 before, 4,800 thirty days after
        ("acc_F", "2024-02-15", "enterprise", "sub_F1", D("2400.00"), D("4800.00"), "renewed"),
        ("acc_F", "2025-02-15", "enterprise", "sub_F1", D("4800.00"), None, "pending"),
    ]


def test_renewal_rates(built):
    rows = built.query("""select grain, cast(period_start as varchar), segment, due_count, renewed_count, churned_count,
                                 pending_count, logo_renewal_rate, gross_amount_renewal_rate, net_amount_renewal_rate
                          from marts.mart_renewal_rates order by 1, 2, 3""")
    want = [
        ("month", "2024-01-01", "all", 1, 0, 1, 0, 0.0, 0.0, 0.0),
        ("month", "2024-01-01", "smb", 1, 0, 1, 0, 0.0, 0.0, 0.0),
        ("month", "2024-02-01", "all", 1, 1, 0, 0, 1.0, 1.0, 2.0),
        ("month", "2024-02-01", "enterprise", 1, 1, 0, 0, 1.0, 1.0, 2.0),
        ("month", "2025-01-01", "all", 1, 0, 0, 1, None, None, None),
        ("month", "2025-01-01", "mid_market", 1, 0, 0, 1, None, None, None),
        ("month", "2025-02-01", "all", 1, 0, 0, 1, None, None, None),
        ("month", "2025-02-01", "enterprise", 1, 0, 0, 1, None, None, None),
        # Q1 2024: E churned ($1,200 -> 0) and F renewed ($2,400 -> $4,800)
        ("quarter", "2024-01-01", "all", 2, 1, 1, 0, 0.5, 2400 / 3600, 4800 / 3600),
        ("quarter", "2024-01-01", "enterprise", 1, 1, 0, 0, 1.0, 1.0, 2.0),
        ("quarter", "2024-01-01", "smb", 1, 0, 1, 0, 0.0, 0.0, 0.0),
        ("quarter", "2025-01-01", "all", 2, 0, 0, 2, None, None, None),
        ("quarter", "2025-01-01", "enterprise", 1, 0, 0, 1, None, None, None),
        ("quarter", "2025-01-01", "mid_market", 1, 0, 0, 1, None, None, None),
    ]
    assert [r[:7] for r in rows] == [w[:7] for w in want]
    for got, exp in zip(rows, want):
        assert got[7:] == pytest.approx(exp[7:], abs=1e-12)


def test_dim_accounts_current_state(built):
    rows = built.query("select account_id, segment, billing_customers, current_mrr, current_arr from marts.dim_accounts order by 1")
    assert rows == [
        ("acc_A", "mid_market", 1, D("100.00"), D("1200.00")),  # segment changed by a later customer version
        ("acc_B", "mid_market", 1, D("240.00"), D("2880.00")),
        ("acc_C", "smb", 1, D("80.00"), D("960.00")),
        ("acc_D", "enterprise", 2, D("98.00"), D("1176.00")),
        ("acc_E", "smb", 1, D("0.00"), D("0.00")),
        ("acc_F", "enterprise", 1, D("400.00"), D("4800.00")),
    ]


def test_missing_fx_rate_is_an_error_not_a_zero(tmp_path):
    landing = tmp_path / "landing"
    L = fixtures_revenue.build(landing)
    # drop the CNY rate that acc_D's subscription needs
    L.drops[("billing", "2024-01-31")]["fx_rates"] = [
        r for r in L.drops[("billing", "2024-01-31")]["fx_rates"] if r["date"] != "2024-01-03"]
    for key in L.drops:
        L.write(complete=key[1] != "2024-04-16", only=key)
    p = Pipeline(tmp_path, landing)
    p.ingest()
    proc = p.build(check=False)
    assert proc.returncode != 0
    assert "fx_rate" in proc.stdout


def test_february_kpis_read_from_their_marts(built):
    """mart_cs_kpis_monthly for 2024-02 by hand (the figures above): month-end MRR A 300, B 110,
    D 198, F 400; movements A +100, D +100, F +200 (expansion), C -50 (churn); the retention
    cohort {E, F} and F's renewal of 2024-02-15."""
    cols = ("paying_accounts, mrr, arr, new_mrr, expansion_mrr, contraction_mrr, churned_mrr, "
            "reactivation_mrr, net_new_mrr, churned_accounts, nrr, grr, logo_retention, renewals_due, "
            "renewals_renewed, renewals_churned, logo_renewal_rate, gross_amount_renewal_rate, "
            "net_amount_renewal_rate, green_accounts, unscored_accounts")
    rows = {seg: rest for seg, *rest in built.query(
        f"select segment, {cols} from marts.mart_cs_kpis_monthly where month = '2024-02-01'")}
    assert set(rows) == {"all", "enterprise", "mid_market", "smb"}   # current segments (A is mid_market now)
    assert rows["all"] == [4, D("1008.00"), D("12096.00"), D("0.00"), D("400.00"), D("0.00"), D("-50.00"),
                           D("0.00"), D("350.00"), 1, pytest.approx(400 / 300), pytest.approx(200 / 300), 0.5,
                           1, 1, 0, 1.0, 1.0, 2.0, 4, 0]
    assert rows["enterprise"][:9] == [2, D("598.00"), D("7176.00"), D("0.00"), D("300.00"), D("0.00"), D("0.00"),
                                      D("0.00"), D("300.00")]
    assert rows["smb"][:2] == [0, D("0.00")] and rows["smb"][6] == D("-50.00")
    # retention and renewal rates are the marts' own figures, null where they have no row
    assert rows["mid_market"][10:13] == [None, None, None] and rows["mid_market"][16] is None
    # only complete months: April (as-of 2024-04-15) is not one
    assert built.query("select max(month) from marts.mart_cs_kpis_monthly") == [
        (pytest.importorskip("datetime").date(2024, 3, 1),)]


REVENUE_KPI_CORRUPTIONS = {
    # 2024-02 enterprise GRR is 1.0 in mart_revenue_retention
    "grr_off": ("update marts.mart_cs_kpis_monthly set grr = grr - 0.001 where month = '2024-02-01' and segment = 'enterprise'",
                "agrees with mart_revenue_retention"),
    # acc_F's renewal of 2024-02-15 counted as churned
    "renewal_outcome": ("update marts.mart_cs_kpis_monthly set renewals_renewed = 0, renewals_churned = 1 "
                        "where month = '2024-02-01' and segment in ('all', 'enterprise')", "agrees with mart_renewal_rates"),
    # $100 of February's MRR moved from enterprise to mid_market: the `all` row still adds up
    "segment_swap": ("update marts.mart_cs_kpis_monthly set mrr = mrr + case segment when 'enterprise' then -100 else 100 end, "
                     "arr = arr + case segment when 'enterprise' then -1200 else 1200 end "
                     "where month = '2024-02-01' and segment in ('enterprise', 'mid_market')",
                     "reconciles with fct_account_daily and mart_account_health"),
}


def test_kpi_suite_passes_on_real_figures_and_catches_small_errors(built, tmp_path):
    """On this landing zone retention, renewal rates and movements are non-empty, per segment."""
    import shutil

    import duckdb

    from orchestration.lib.validation import validate_marts

    ok = validate_marts(built.warehouse, tmp_path / "docs", "kpi-ok", marts=["mart_cs_kpis_monthly"])["mart_cs_kpis_monthly"]
    assert ok.success, [(f.description, f.sample_rows[:2]) for f in ok.failed]
    for name, (sql, description) in REVENUE_KPI_CORRUPTIONS.items():
        warehouse = tmp_path / f"{name}.duckdb"
        shutil.copy(built.warehouse, warehouse)
        con = duckdb.connect(str(warehouse))
        con.execute(sql)
        con.close()
        outcome = validate_marts(warehouse, tmp_path / "docs", f"kpi-{name}", marts=["mart_cs_kpis_monthly"])
        failed = [f.description for f in outcome["mart_cs_kpis_monthly"].failed]
        assert any(description in d for d in failed), (name, failed)
