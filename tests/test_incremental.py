"""The incremental daily facts: a refresh after a drop with late events equals a full
refresh, and late events count on the day they happened."""
from helpers import fixtures_revenue
from helpers.landing_builder import utc
from helpers.pipeline_harness import Pipeline

TABLES = {
    "marts.fct_account_daily": "account_id, date",
    "intermediate.int_usage_account_daily": "account_id, event_date",
    "intermediate.int_usage_user_daily": "account_id, user_id, event_date",
    "intermediate.int_usage_activity_daily": "account_id, user_id, feature, event_date",
    "intermediate.int_account_mrr_daily": "account_id, date_day",
    "marts.fct_mrr_movements": "account_id, month",
    "marts.mart_account_health": "account_id, date",
}


def ev(mid, account, ts, user="usr_1", feature="reporting"):
    return {"message_id": mid, "account_id": account, "user_id": user, "event": "report_created",
            "feature": feature, "timestamp": utc(ts), "received_at": utc(ts)}


def landing_with_usage(root, with_late_drop: bool):
    L = fixtures_revenue.build(root)
    L.add("usage", "2024-03-31", "events", [ev("m1", "acc_A", "2024-03-30T10:00:00"),
                                            ev("m2", "acc_A", "2024-03-31T10:00:00", user="usr_2")])
    L.add("usage", "2024-04-15", "events", [ev("m3", "acc_B", "2024-04-14T10:00:00"),
                                            ev("m4", "acc_A", "2024-04-15T11:00:00")])
    if with_late_drop:
        # the next drop: events of 2024-04-13 and 04-14 arrive late, one message is re-delivered
        L.add("billing", "2024-04-16", "fx_rates", [])
        L.drops[("billing", "2024-04-16")]["subscription_events"] = []
        L.add("usage", "2024-04-16", "events", [ev("m5", "acc_B", "2024-04-13T09:00:00", user="usr_9"),
                                                ev("m6", "acc_A", "2024-04-14T12:00:00", feature="exports"),
                                                ev("m3", "acc_B", "2024-04-14T10:00:00"),
                                                ev("m7", "acc_A", "2024-04-16T08:00:00")])
        L.drops.setdefault(("ticketing", "2024-04-16"), {})
    for key in L.drops:
        L.write(complete=True, only=key)
    return L


def snapshot(p: Pipeline):
    return {t: p.query(f"select * from {t} order by {k}") for t, k in TABLES.items()}


def test_incremental_refresh_after_late_events_equals_full_refresh(tmp_path):
    inc = Pipeline(tmp_path / "inc", tmp_path / "inc" / "landing")
    landing_with_usage(inc.landing, with_late_drop=False)
    inc.ingest()
    inc.build()
    # the new drop arrives: ingest it and refresh from its date minus the lookback window
    landing_with_usage(inc.landing, with_late_drop=True)
    inc.ingest(drops=["2024-04-16"])
    inc.build(vars={"refresh_start": "2024-04-09"})

    full = Pipeline(tmp_path / "full", tmp_path / "full" / "landing")
    landing_with_usage(full.landing, with_late_drop=True)
    full.ingest()
    full.build(full_refresh=True)

    assert snapshot(inc) == snapshot(full)
    # late events counted on the day they happened, the re-delivered message once
    rows = inc.query("""select account_id, cast(date as varchar), events, active_users from marts.fct_account_daily
                        where date between '2024-04-13' and '2024-04-16' and events > 0 order by 2, 1""")
    assert rows == [("acc_B", "2024-04-13", 1, 1), ("acc_A", "2024-04-14", 1, 1), ("acc_B", "2024-04-14", 1, 1),
                    ("acc_A", "2024-04-15", 1, 1), ("acc_A", "2024-04-16", 1, 1)]
