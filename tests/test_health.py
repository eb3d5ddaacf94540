"""Customer health, lifecycle stages, risk alerts and service efficiency on a hand-built
landing zone (tests/helpers/fixtures_health.py), plus the health configuration validation."""
import csv
import shutil
from pathlib import Path

import pytest

from helpers import fixtures_health
from helpers.dbt_runner import run_dbt
from orchestration.lib.health_config import HealthConfigError, validate_health_config
from orchestration.lib.settings import DBT_PROJECT_DIR

AS_OF = fixtures_health.AS_OF
SEEDS = DBT_PROJECT_DIR / "seeds"


@pytest.fixture(scope="module")
def built(health_built):
    return health_built   # tests/conftest.py: built once per session


def health(p, account, day=AS_OF, cols="*"):
    df = p.df(f"select {cols} from marts.mart_account_health where account_id = '{account}' and date = '{day}'")
    assert len(df) == 1, (account, day)
    return df.iloc[0]


def weighted_score(row, weights):
    """The overall score by hand: weighted mean of the component scores that have data."""
    used = {c: w for c, w in weights.items() if w > 0 and row[f"{c}_score"] == row[f"{c}_score"]}
    return sum(w * row[f"{c}_score"] for c, w in used.items()) / sum(used.values())


DEFAULT_WEIGHTS = {"license_utilization": 20, "engagement": 15, "breadth": 10, "usage_trend": 15,
                   "champion": 10, "support_burden": 5, "responsiveness": 10, "satisfaction": 10, "payment": 5}


# ---------------------------------------------------------------- lifecycle

@pytest.mark.parametrize("account,stage", [
    ("acc_churn", "churned"), ("acc_handover", "handover"), ("acc_onboard", "onboarding"),
    ("acc_renewal", "renewal"), ("acc_risk", "at_risk"), ("acc_active", "active"),
])
def test_lifecycle_stage_on_as_of_date(built, account, stage):
    assert built.query("select lifecycle_stage from marts.fct_account_lifecycle_daily "
                       "where account_id = ? and date = ?", [account, AS_OF]) == [(stage,)]
    # dim_accounts carries the current stage and tier
    dim = built.query("select lifecycle_stage, health_tier from marts.dim_accounts where account_id = ?", [account])
    tier = built.query("select health_tier from marts.mart_account_health where account_id = ? and date = ?",
                       [account, AS_OF])
    assert dim == [(stage, tier[0][0])]


def test_lifecycle_history(built):
    stages = dict(built.query("select cast(date as varchar), lifecycle_stage from marts.fct_account_lifecycle_daily "
                              "where account_id = 'acc_churn'"))
    assert stages["2024-04-14"] != "churned" and stages["2024-04-15"] == "churned"
    stages = dict(built.query("select cast(date as varchar), lifecycle_stage from marts.fct_account_lifecycle_daily "
                              "where account_id = 'acc_renewal'"))
    assert stages["2024-05-16"] != "renewal" and stages["2024-05-17"] == "renewal"  # due 2024-08-15 - 90 days


# ---------------------------------------------------------------- scores

def test_all_components_and_overall_by_hand(built):
    r = health(built, "acc_active")
    for c in DEFAULT_WEIGHTS:
        expected = 0.0 if c == "support_burden" else 100.0   # 5 tickets per 10 seats: bad
        assert r[f"{c}_score"] == pytest.approx(expected), c
    assert r["coverage"] == "" and r["components_missing"] == 0 and r["components_scored"] == 9
    assert r["health_score"] == pytest.approx(95.0) and r["health_tier"] == "green"
    assert r["outcome_score"] == pytest.approx(100.0)
    assert r["experience_score"] == pytest.approx(100 * 25 / 30, abs=0.01)
    assert r["driver_1"] == "support_burden" and r["driver_1_points_lost"] == pytest.approx(5.0)
    assert r["driver_2"] is None


def test_hand_computed_score_and_missing_components_left_out(built):
    r = health(built, "acc_mono_a")
    assert r["license_utilization_measure"] == pytest.approx(0.25)
    assert r["license_utilization_score"] == pytest.approx(8.33)
    assert r["engagement_measure"] == pytest.approx(30)
    assert r["breadth_score"] == pytest.approx(33.33)
    assert r["usage_trend_measure"] == pytest.approx(1.0)
    assert r["champion_score"] == 100 and r["support_burden_score"] == 100
    # no tickets, NPS or invoices: left out and reported, not counted as zero
    for c in ("responsiveness", "satisfaction", "payment"):
        assert r[f"{c}_score"] != r[f"{c}_score"]  # NaN
    assert r["coverage"] == "responsiveness,satisfaction,payment" and r["components_missing"] == 3
    assert r["health_score"] == pytest.approx(66.67, abs=0.006)
    assert r["health_score"] == pytest.approx(weighted_score(r, DEFAULT_WEIGHTS), abs=0.006)
    as_zero = sum(w * (r[f"{c}_score"] if r[f"{c}_score"] == r[f"{c}_score"] else 0)
                  for c, w in DEFAULT_WEIGHTS.items()) / sum(DEFAULT_WEIGHTS.values())
    assert abs(r["health_score"] - as_zero) > 10
    # drivers ranked by points lost, with their scores
    assert (r["driver_1"], r["driver_2"]) == ("license_utilization", "breadth")
    assert r["driver_1_score"] == pytest.approx(8.33)
    assert r["driver_1_points_lost"] == pytest.approx(20 * (100 - 8.33) / 75, abs=0.01)


def test_no_data_at_all_is_reported(built):
    r = health(built, "acc_handover")
    assert "license_utilization" in r["coverage"] and "payment" in r["coverage"]
    assert r["components_scored"] == 1  # support burden: no tickets on 3 seats


def test_more_usage_never_lowers_outcome_score(built):
    df = built.df("""
        select a.date, a.outcome_score as a_score, b.outcome_score as b_score,
               a.health_score as a_health, b.health_score as b_health
        from marts.mart_account_health a
        join marts.mart_account_health b on b.date = a.date and b.account_id = 'acc_mono_b'
        where a.account_id = 'acc_mono_a' and a.outcome_score is not null
    """)
    assert len(df) > 100
    assert (df.b_score >= df.a_score - 1e-9).all()
    assert (df.b_health >= df.a_health - 1e-9).all()
    assert (df.b_score > df.a_score).any()


def test_worse_sla_never_raises_experience_score(built):
    df = built.df("""
        select g.date, g.experience_score as good, b.experience_score as bad,
               g.responsiveness_score as good_resp, b.responsiveness_score as bad_resp
        from marts.mart_account_health g
        join marts.mart_account_health b on b.date = g.date and b.account_id = 'acc_sla_bad'
        where g.account_id = 'acc_sla_good'
    """)
    assert (df.bad.fillna(-1) <= df.good.fillna(-1) + 1e-9).all()
    last = df[df.date == df.date.max()].iloc[0]
    assert last.good_resp == 100 and last.bad_resp == pytest.approx(100 * (0.5 - 0.3) / 0.6, abs=0.01)
    assert last.bad < last.good


def test_score_30_days_before_and_change(built):
    now, before = health(built, "acc_risk"), health(built, "acc_risk", "2024-05-31")
    assert now["health_score_30d_before"] == before["health_score"]
    assert now["health_score_change_30d"] == pytest.approx(now["health_score"] - before["health_score"], abs=0.01)
    assert now["health_tier"] == "red" and now["health_score_change_30d"] < 0


def test_no_personal_data_in_marts(built):
    cols = built.query("select table_name, column_name from information_schema.columns "
                       "where table_schema = 'marts' and (column_name like '%email%' or column_name like '%comment%')")
    assert cols == []


# ---------------------------------------------------------------- alerts

def alerts(p, account, rule):
    return p.query("select cast(opened_date as varchar), cast(closed_date as varchar), status, severity, evidence "
                   "from marts.mart_cs_alerts where account_id = ? and rule = ? order by opened_date", [account, rule])


def test_alert_invoice_overdue_opens_and_closes(built):
    a = alerts(built, "acc_risk", "invoice_overdue")
    assert [x[:4] for x in a] == [("2024-03-03", "2024-03-15", "closed", "medium"),
                                  ("2024-06-01", None, "open", "medium")]
    assert "in_risk_1" in a[0][4] and "31 days" in a[0][4]


def test_alert_urgent_ticket_unsolved(built):
    a = alerts(built, "acc_onboard", "urgent_ticket_unsolved")
    assert [x[:4] for x in a] == [("2024-05-22", "2024-05-26", "closed", "high"),
                                  ("2024-06-27", None, "open", "high")]
    assert "t_onb_urgent_2" in a[1][4]


def test_alert_champion_gone(built):
    a = alerts(built, "acc_risk", "champion_gone")
    assert [x[:3] for x in a] == [("2024-05-30", None, "open")]


def test_alert_usage_drop(built):
    a = alerts(built, "acc_risk", "usage_drop")
    assert a and a[-1][2] == "open" and "-" in a[-1][4]
    assert a[0][0] >= "2024-05-15"
    assert alerts(built, "acc_mono_a", "usage_drop") == [] and alerts(built, "acc_active", "usage_drop") == []


def test_alert_health_red_opens_once_per_spell(built):
    a = alerts(built, "acc_risk", "health_red")
    assert a and a[-1][2] == "open"
    red_days = built.query("select count(*) from marts.mart_account_health where account_id = 'acc_risk' "
                           "and health_tier = 'red' and is_paying")[0][0]
    days_active = built.query("select sum(days_active) from marts.mart_cs_alerts "
                              "where account_id = 'acc_risk' and rule = 'health_red'")[0][0]
    assert days_active == red_days
    assert alerts(built, "acc_active", "health_red") == []


def test_alert_renewal_not_green(built):
    a = alerts(built, "acc_renewal", "renewal_not_green")
    assert [x[:3] for x in a] == [("2024-05-17", None, "open")]
    assert "2024-08-15" in a[0][4]


def test_every_rule_fires(built):
    rules = {r for (r,) in built.query("select distinct rule from marts.mart_cs_alerts")}
    assert rules == {"usage_drop", "champion_gone", "urgent_ticket_unsolved", "health_red",
                     "renewal_not_green", "invoice_overdue", "health_declined"}


def test_renewal_health_tier_90d_before(built):
    rows = built.query("select cast(due_date as varchar), health_tier_90d_before from marts.mart_renewals "
                       "where account_id = 'acc_renewal'")
    tier = built.query("select health_tier from marts.mart_account_health "
                       "where account_id = 'acc_renewal' and date = '2024-05-17'")[0][0]
    assert ("2024-08-15", tier) in rows


# ---------------------------------------------------------------- service efficiency

def test_service_efficiency(built):
    rows = built.df("select * from marts.mart_service_efficiency where month = '2024-06-01' and scope = 'account'")
    bad = rows[rows.account_id == "acc_sla_bad"].iloc[0]
    assert bad.tickets_opened == 4 and bad.tickets_solved == 4
    assert bad.sla_attainment == pytest.approx(0.5) and bad.csat == 1.0
    assert bad.median_first_reply_hours == pytest.approx(5.5)  # 1, 1, 10, 10
    assert bad.one_touch_resolution_rate == 1.0 and bad.reopen_rate == 0.0
    active = rows[rows.account_id == "acc_active"].iloc[0]
    assert active.nps == 1.0
    overall = built.df("select * from marts.mart_service_efficiency where month = '2024-06-01' and scope = 'overall'")
    assert len(overall) == 1 and overall.tickets_opened[0] == rows.tickets_opened.sum()


# ---------------------------------------------------------------- incremental = full refresh

def test_incremental_rerun_keeps_history(built):
    before = built.query("select count(*), sum(hash(h)) from marts.mart_account_health h")
    built.dbt(["build", "--select", "int_account_health_measures+"])
    assert built.query("select count(*), sum(hash(h)) from marts.mart_account_health h") == before


# ---------------------------------------------------------------- configuration

def _project_copy(tmp: Path) -> Path:
    dst = tmp / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, dst, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return dst


def _edit_seed(path: Path, fn):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
        fields = list(rows[0].keys())
    rows = fn(rows)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def _dbt(project: Path, built, warehouse: Path, args):
    return run_dbt(args, raw=built.raw, warehouse=warehouse, project_dir=project, target_path=project / "target")


def set_weight(rows, component, weight=None, enabled=None):
    for r in rows:
        if r["segment"] == "all" and r["component"] == component:
            if weight is not None:
                r["weight"] = str(weight)
            if enabled is not None:
                r["enabled"] = enabled
    return rows


def test_changing_a_weight_in_config_moves_the_score_as_by_hand(built, tmp_path):
    project = _project_copy(tmp_path)
    _edit_seed(project / "seeds" / "health_components.csv",
               lambda rows: set_weight(set_weight(rows, "license_utilization", 60), "breadth", enabled="false"))
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    for args in (["seed", "--select", "health_components", "--full-refresh"],
                 ["run", "--select", "int_account_health_config+", "--full-refresh"]):
        proc = _dbt(project, built, warehouse, args)
        assert proc.returncode == 0, proc.stdout[-3000:]
    import duckdb
    con = duckdb.connect(str(warehouse), read_only=True)
    new = con.execute("select * from marts.mart_account_health where account_id = 'acc_mono_a' and date = ?",
                      [AS_OF]).df().iloc[0]
    con.close()
    old = health(built, "acc_mono_a")
    # component scores unchanged; (60*8.33 + 15*100 + 15*100 + 10*100 + 5*100) / 105 = 47.62
    assert new["license_utilization_score"] == old["license_utilization_score"]
    assert new["breadth_score"] != new["breadth_score"]  # disabled
    assert new["health_score"] == pytest.approx(47.62, abs=0.006)
    weights = {**DEFAULT_WEIGHTS, "license_utilization": 60, "breadth": 0}
    assert new["health_score"] == pytest.approx(weighted_score(old, weights), abs=0.006)
    assert old["health_score"] == pytest.approx(66.67, abs=0.006)


def _seeds_copy(tmp_path: Path) -> Path:
    d = tmp_path / "seeds"
    shutil.copytree(SEEDS, d)
    return d


def test_shipped_config_is_valid():
    validate_health_config(SEEDS)


@pytest.mark.parametrize("edit,message", [
    (lambda rows: [{**r, "weight": "0"} if r["segment"] in ("all", "smb") else r for r in rows],
     "enabled weights of segment all sum to 0"),
    (lambda rows: [{**r, "bad_threshold": "0.9", "good_threshold": "0.1"} if r["component"] == "breadth" else r
                   for r in rows], "thresholds in the wrong order"),
    (lambda rows: rows + [{**rows[0], "component": "vibes"}], "unknown component"),
    (lambda rows: [{**r, "better": "lower"} if r["component"] == "engagement" else r for r in rows],
     "better must be higher"),
])
def test_invalid_components_config_is_rejected_clearly(tmp_path, edit, message):
    seeds = _seeds_copy(tmp_path)
    _edit_seed(seeds / "health_components.csv", edit)
    with pytest.raises(ValueError, match=message):
        validate_health_config(seeds)


def test_invalid_tiers_and_rules_are_rejected(tmp_path):
    seeds = _seeds_copy(tmp_path)
    _edit_seed(seeds / "health_tiers.csv", lambda rows: [{**r, "min_score": "80"} if r["tier"] == "yellow" else r
                                                         for r in rows])
    _edit_seed(seeds / "alert_rules.csv", lambda rows: rows + [{**rows[0], "rule": "moon_phase"}])
    with pytest.raises(HealthConfigError) as e:
        validate_health_config(seeds)
    assert "bands in the wrong order" in str(e.value) and "unknown rule" in str(e.value)


def test_dbt_refuses_invalid_config_before_building_health(built, tmp_path):
    project = _project_copy(tmp_path)
    _edit_seed(project / "seeds" / "health_components.csv",
               lambda rows: [{**r, "bad_threshold": "0.9", "good_threshold": "0.1"} if r["component"] == "breadth"
                             else r for r in rows])
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    assert _dbt(project, built, warehouse, ["seed", "--select", "health_components", "--full-refresh"]).returncode == 0
    proc = _dbt(project, built, warehouse, ["run", "--select", "int_account_health_config"])
    assert proc.returncode != 0
    assert "Invalid customer-health configuration" in proc.stdout and "thresholds in the wrong order" in proc.stdout
