"""Faults in landing files beyond the docs/source_contract.md dirt table, each with its exact handling:
padded ids, implausible timestamps, conflicting FX rates, invalid UTF-8 and zero-byte files."""
import datetime as dt
import gzip
import json

import pyarrow.parquet as pq
import pytest

from helpers import fixtures_revenue
from helpers.landing_builder import Landing, customer, fx, item, sub_event, unix, utc
from helpers.pipeline_harness import Pipeline
from orchestration.defs.checks.unmatched import count_unmatched_by_drop, judge_unmatched, run_drops
from orchestration.lib.ingestion.contracts import OBJECTS, get_object
from orchestration.lib.ingestion.landing import object_files
from orchestration.lib.ingestion.raw_store import load_drop, partition_path, rejects_path
from orchestration.lib.ingestion.reader import TimeBounds, read_object

D1, D2 = "2024-03-01", "2024-03-02"
CUSTOMERS, SUB_EVENTS, INVOICES = (get_object("billing", n) for n in ("customers", "subscription_events", "invoices"))
FX, EVENTS, USERS = get_object("billing", "fx_rates"), get_object("usage", "events"), get_object("usage", "users")
ORGS = get_object("ticketing", "organizations")
# 3650 days before the first billing/usage drop (D1)
EARLIEST = "2014-03-04"


def event(mid, account="acc_1", ts="2024-03-02T10:00:00", received=None, user="usr_1"):
    return {"message_id": mid, "account_id": account, "user_id": user, "event": "report_created",
            "feature": "reporting", "timestamp": utc(ts), "received_at": utc(received or ts)}


def user(uid, account, **kw):
    return {"user_id": uid, "account_id": account, "email": "a@b.c", "role": "member",
            "created_at": "2024-03-01T00:00:00Z", "deactivated_at": None,
            "updated_at": "2024-03-01T00:00:00Z", **kw}


def invoice(iid, created="2024-03-01", **kw):
    return {"id": iid, "customer": "cus_1", "subscription": "sub_1", "status": "open", "currency": "usd",
            "amount_due": 1000, "amount_paid": 0, "created": unix(created), "due_date": unix("2024-09-01"),
            "status_transitions": {"paid_at": None}, "updated": unix(created), **kw}


def rejects(raw, obj, drop=D2):
    p = rejects_path(raw, obj, drop)
    return [(r["_source_line"], r["reason"]) for r in pq.read_table(p).to_pylist()] if p.exists() else []


def rows(raw, obj, drop=D2, table=None):
    return pq.read_table(partition_path(raw, obj.source, table or obj.table, drop)).to_pylist()


# --- 1. id hygiene ------------------------------------------------------------------------

def test_ids_are_trimmed_and_a_blank_id_is_missing(tmp_path):
    L = Landing(tmp_path / "landing")
    padded = customer(" cus_1\t", "acc_1 ", D2)
    blank_account = customer("cus_2", "\u00a0 ", D2)               # optional id: blank -> null
    L.add("billing", D2, "customers", [padded, blank_account, customer("   ", "acc_3", D2)])
    L.add("usage", D2, "users", [user(" usr_1", "acc_1\u3000"), user("usr_2", "")])
    L.add("usage", D2, "events", [event("m1 ", account=" acc_1 "), event(" ", account="acc_1"),
                                  event("m3", account="acc_1", user="  "), event("m4", account="\t")])
    L.add("ticketing", D2, "organizations", [{"id": " 7 ", "name": "Org", "external_id": " acc_1 ",
                                              "updated_at": "2024-03-01T00:00:00+00:00"}])
    landing, raw = L.write(), tmp_path / "raw"
    for obj in (CUSTOMERS, USERS, EVENTS, ORGS):
        load_drop(obj, landing, raw, D2)
    assert [(r["customer_id"], r["account_id"]) for r in rows(raw, CUSTOMERS)] == [("cus_1", "acc_1"), ("cus_2", None)]
    assert rejects(raw, CUSTOMERS) == [(3, "missing required field 'id'")]
    assert [(r["user_id"], r["account_id"]) for r in rows(raw, USERS)] == [("usr_1", "acc_1")]
    assert rejects(raw, USERS) == [(2, "missing required field 'account_id'")]
    # Parquet: the same rule in DuckDB
    assert [(r["message_id"], r["account_id"], r["user_id"]) for r in rows(raw, EVENTS)] == [
        ("m1", "acc_1", "usr_1"), ("m3", "acc_1", None)]
    assert rejects(raw, EVENTS) == [(2, "missing required field 'message_id'"),
                                    (4, "missing required field 'account_id'")]
    assert [(r["organization_id"], r["external_id"]) for r in rows(raw, ORGS)] == [("7", "acc_1")]


@pytest.fixture()
def unmatched_raw(tmp_path):
    """Customers acc_1, acc_2; events: D1 4 records (1 unmatched), D2 10 records (3 unmatched,
    2 distinct ids), 2024-03-03 2 records (none unmatched; a padded id that matches once trimmed)."""
    L = Landing(tmp_path / "landing")
    L.add("billing", D1, "customers", [customer("cus_1", "acc_1", D1)])
    L.add("billing", D2, "customers", [customer("cus_2", "acc_2", D2)])
    L.add("usage", D1, "events", [event("a1", ts="2024-03-01T10:00:00"), event("a2", "acc_2", ts="2024-03-01T10:00:00"),
                                  event("a3", "acc_9", ts="2024-03-01T10:00:00"), event("a4", ts="2024-03-01T10:00:00")])
    L.add("usage", D2, "events", [event(f"b{i}", "acc_2") for i in range(7)]
          + [event("b7", "acc_8"), event("b8", "acc_7"), event("b9", "acc_8")])
    L.add("usage", "2024-03-03", "events", [event("c1", "acc_1 ", ts="2024-03-03T10:00:00"),
                                            event("c2", "acc_2", ts="2024-03-03T10:00:00")])
    landing, raw = L.write(), tmp_path / "raw"
    for d in (D1, D2):
        load_drop(CUSTOMERS, landing, raw, d)
    for d in (D1, D2, "2024-03-03"):
        load_drop(EVENTS, landing, raw, d)
    return raw


def test_unmatched_accounts_are_counted_per_drop(unmatched_raw):
    per = count_unmatched_by_drop(unmatched_raw, "usage", "events", "account_id", [D1, D2, "2024-03-03", "2024-03-04"])
    assert per == [
        {"drop_date": D1, "records": 4, "without_account": 0, "unmatched": 1, "share": 0.25,
         "unmatched_ids": ["acc_9"]},
        {"drop_date": D2, "records": 10, "without_account": 0, "unmatched": 3, "share": 0.3,
         "unmatched_ids": ["acc_7", "acc_8"]},
        {"drop_date": "2024-03-03", "records": 2, "without_account": 0, "unmatched": 0, "share": 0.0,
         "unmatched_ids": []},
    ]
    # without drops: the latest loaded drop only
    assert [p["drop_date"] for p in count_unmatched_by_drop(unmatched_raw, "usage", "events", "account_id")] == ["2024-03-03"]
    passed, desc, meta = judge_unmatched(per, 0.05)
    assert not passed
    assert desc == "2 of 3 drop(s) above 5.0% unmatched; worst 2024-03-02: 3 of 10 records (30.0%), e.g. acc_7, acc_8"
    assert meta["records"] == 16 and meta["unmatched_records"] == 4 and meta["unmatched_share"] == 0.25
    assert meta["drops_above_threshold"] == [D1, D2] and meta["worst_drop"] == D2
    assert meta["per_drop"].value[D2] == {"records": 10, "unmatched": 3, "share": 0.3, "without_account": 0,
                                          "sample_unmatched_account_ids": ["acc_7", "acc_8"]}
    assert meta["sample_unmatched_account_ids"].value == ["acc_7", "acc_8", "acc_9"]
    # a threshold above every drop's share passes; one drop alone is judged alone
    assert judge_unmatched(per, 0.3)[0]
    assert judge_unmatched(per[2:], 0.05)[1] == "all 1 drop(s) within 5.0% unmatched; worst 2024-03-03: 0 of 2 records (0.0%)"


def test_run_drops_come_from_the_run_tags():
    loaded = [D1, D2, "2024-03-03"]
    assert run_drops({"dagster/asset_partition_range_start": D2,
                      "dagster/asset_partition_range_end": "2024-03-05"}, loaded) == [D2, "2024-03-03"]
    assert run_drops({"dagster/partition": D1}, loaded) == [D1]
    assert run_drops({}, loaded) is None


def test_unmatched_check_judges_the_run_drops(unmatched_raw, monkeypatch):
    from dagster import AssetSelection, DagsterInstance, materialize

    from orchestration.defs.assets.ingestion import ingestion_assets
    from orchestration.defs.checks.unmatched import build_unmatched_check

    monkeypatch.setenv("CSP_RAW_DIR", str(unmatched_raw))
    check = build_unmatched_check(EVENTS)
    for tags, worst, passed in (({"dagster/partition": "2024-03-03"}, "2024-03-03", True),
                                ({"dagster/asset_partition_range_start": D1,
                                  "dagster/asset_partition_range_end": D2}, D2, False),
                                ({}, "2024-03-03", True)):           # no tags: the latest drop
        # the check alone (as `dagster asset check` runs it), with a run's partition tags
        res = materialize([*ingestion_assets, check], selection=AssetSelection.checks(check),
                          instance=DagsterInstance.ephemeral(), tags=tags)
        (ev,) = res.get_asset_check_evaluations()
        assert (ev.metadata["worst_drop"].value, ev.passed) == (worst, passed), tags
        assert ev.severity.value == "WARN" and ev.description.endswith(
            "worst 2024-03-02: 3 of 10 records (30.0%), e.g. acc_7, acc_8" if worst == D2
            else "worst 2024-03-03: 0 of 2 records (0.0%)")


# --- 2. plausibility ----------------------------------------------------------------------

@pytest.fixture()
def implausible(tmp_path):
    L = Landing(tmp_path / "landing")
    L.add("billing", "2024-02-20", "customers", [])                  # incomplete: not the first drop
    L.write(complete=False)
    L = Landing(tmp_path / "landing")
    L.add("billing", D1, "customers", [customer("cus_0", "acc_0", D1)])
    L.add("usage", D1, "events", [])
    L.add("billing", D2, "subscription_events", [
        sub_event("evt_1", "1970-01-01T00:00:00", "sub_1", "cus_1", "active", [item(1000)]),     # unix 0
        sub_event("evt_2", "2024-03-02T10:00:00", "sub_1", "cus_1", "active", [item(1000)],
                  period_end="2034-03-02"),                              # future by nature: fine
        sub_event("evt_3", "2024-03-03T23:59:59", "sub_1", "cus_1", "active", [item(1000)]),     # drop + 1 day: fine
        sub_event("evt_4", "2024-03-04T00:00:00", "sub_1", "cus_1", "active", [item(1000)]),     # drop + 2 days
        sub_event("evt_5", "2024-03-02T10:00:00", "sub_1", "cus_1", "canceled", [item(1000)],
                  canceled_at="2014-03-03T23:00:00"),                    # any time field: lower bound
        sub_event("evt_6", "2014-03-04T00:00:00", "sub_1", "cus_1", "active", [item(1000)]),     # the bound itself: fine
    ])
    L.add("billing", D2, "invoices", [invoice("in_1", due_date=unix("2031-01-01")),
                                      invoice("in_2", status_transitions={"paid_at": unix("2024-03-05")})])
    L.add("billing", D2, "fx_rates", [fx("1970-01-01", "eur", 1.1), fx("2024-03-02", "eur", 1.1),
                                      fx("2024-03-04", "eur", 1.1)])
    L.add("usage", D2, "events", [event("m1"), event("m2", ts="1970-01-01T00:00:00"),
                                  event("m3", ts="2024-03-02T10:00:00", received="2024-03-04T00:00:01"),
                                  event("m4", ts="2024-03-03T23:00:00")])
    return L.write(), tmp_path / "raw"


def test_implausible_timestamps_are_quarantined(implausible):
    landing, raw = implausible
    for obj in (SUB_EVENTS, INVOICES, FX, EVENTS):
        load_drop(obj, landing, raw, D2)
    assert rejects(raw, SUB_EVENTS) == [
        (1, f"implausible timestamp in 'created': 1970-01-01 00:00:00 (before {EARLIEST}, 3650 days before the first billing drop)"),
        (4, "implausible timestamp in 'created': 2024-03-04 00:00:00 (after 2024-03-03, 1 day after the drop)"),
        (5, f"implausible timestamp in 'data.object.canceled_at': 2014-03-03 23:00:00 (before {EARLIEST}, "
            "3650 days before the first billing drop)"),
    ]
    assert [r["event_id"] for r in rows(raw, SUB_EVENTS)] == ["evt_2", "evt_3", "evt_6"]
    # a quarantined event's items are not loaded either
    assert {r["event_id"] for r in rows(raw, SUB_EVENTS, table="subscription_event_items")} == {"evt_2", "evt_3", "evt_6"}
    assert rejects(raw, INVOICES) == [
        (2, "implausible timestamp in 'status_transitions.paid_at': 2024-03-05 00:00:00 (after 2024-03-03, 1 day after the drop)")]
    assert rejects(raw, FX) == [
        (1, f"implausible date in 'date': 1970-01-01 (before {EARLIEST}, 3650 days before the first billing drop)"),
        (3, "implausible date in 'date': 2024-03-04 (after 2024-03-03, 1 day after the drop)")]
    assert rejects(raw, EVENTS) == [
        (2, f"implausible timestamp in 'timestamp': 1970-01-01 00:00:00 (before {EARLIEST}, 3650 days before the first usage drop)"),
        (3, "implausible timestamp in 'received_at': 2024-03-04 00:00:01 (after 2024-03-03, 1 day after the drop)")]
    assert [r["message_id"] for r in rows(raw, EVENTS)] == ["m1", "m4"]
    rec = json.loads(pq.read_table(rejects_path(raw, EVENTS, D2)).to_pylist()[0]["record"])
    assert rec["message_id"] == "m2"                                   # the raw record is kept


def test_plausibility_bounds_are_tunable_and_can_be_disabled(implausible, tmp_path, monkeypatch):
    landing, _ = implausible
    files = object_files(landing, FX, D2)
    at = dt.datetime(2024, 3, 2)
    assert TimeBounds.for_drop(landing, "billing", D2) == TimeBounds(
        dt.date(2014, 3, 4), dt.date(2024, 3, 3), "3650 days before the first billing drop", "1 day after the drop")
    b = TimeBounds.for_drop(landing, "billing", D2, max_days_before_first_drop=0, max_days_after_drop=2)
    assert read_object(FX, files, D2, at, rel_to=landing, bounds=b).rejects.column("reason").to_pylist() == [
        "implausible date in 'date': 1970-01-01 (before 2024-03-01, 0 days before the first billing drop)"]
    assert read_object(FX, files, D2, at, rel_to=landing, bounds=None).rejected == 0
    assert read_object(FX, files, D2, at).rejected == 0                # no landing dir: no bounds
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text("ingestion:\n  plausibility:\n    max_days_before_first_drop: 10\n    max_days_after_drop: 3\n")
    monkeypatch.setenv("CSP_CONFIG", str(cfg))
    assert TimeBounds.for_drop(landing, "usage", D2) == TimeBounds(
        dt.date(2024, 2, 20), dt.date(2024, 3, 5), "10 days before the first usage drop", "3 days after the drop")


def test_sample_generator_produces_no_implausible_record(tmp_path):
    from orchestration.lib.sample_data import generate

    generate(str(tmp_path / "landing"), accounts=20, days=40, seed=7, quiet=True)
    landing = tmp_path / "landing"
    from orchestration.lib.ingestion.landing import list_drops
    for obj in OBJECTS:
        for d in list_drops(landing, obj.source)[0]:
            files = object_files(landing, obj, d)
            batch = read_object(obj, files, d, dt.datetime(2024, 1, 1), rel_to=landing)
            assert not [r for r in batch.rejects.column("reason").to_pylist() if r.startswith("implausible")]


# --- 4. invalid UTF-8 ---------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_invalid_utf8_line_is_quarantined_not_repaired(tmp_path, gz):
    d = tmp_path / "landing" / "billing" / D2
    d.mkdir(parents=True)
    good = json.dumps(customer("cus_1", "acc_1", D2), ensure_ascii=False).replace("acc_1 Inc", "Zoë Café").encode()
    bad = json.dumps(customer("cus_2", "acc_2", D2)).encode().replace(b"acc_2", b"acc_\xff2", 1)
    data = good + b"\n" + bad + b"\n" + b"\xc3\n"
    path = d / ("customers.jsonl.gz" if gz else "customers.jsonl")
    path.write_bytes(gzip.compress(data) if gz else data)
    (d / "_SUCCESS").touch()
    raw = tmp_path / "raw"
    r = load_drop(CUSTOMERS, tmp_path / "landing", raw, D2)
    assert (r.records, r.loaded, r.rejected) == (3, 1, 2)
    assert rows(raw, CUSTOMERS)[0]["name"] == "Zoë Café"
    pos = bad.index(b"\xff")
    rej = pq.read_table(rejects_path(raw, CUSTOMERS, D2)).to_pylist()
    assert [(x["_source_line"], x["reason"]) for x in rej] == [(2, f"invalid UTF-8 at byte {pos}"),
                                                               (3, "invalid UTF-8 at byte 0")]
    assert "acc_\\xff2" in rej[0]["record"] and rej[1]["record"] == "\\xc3"


# --- 5. zero-byte files -------------------------------------------------------------------

def test_zero_byte_files_are_empty_objects(tmp_path):
    L = Landing(tmp_path / "landing")
    L.add("usage", D2, "events", [event("m1")])
    L.add("billing", D2, "customers", [])
    landing = L.write()
    d = landing / "usage" / D2
    (d / "events-0001.parquet").write_bytes(b"")                     # a zero-byte part beside a real one
    (d / "users.jsonl").write_bytes(b"")
    (landing / "billing" / D2 / "customers.jsonl").unlink()
    (landing / "billing" / D2 / "customers.jsonl.gz").write_bytes(b"")
    raw = tmp_path / "raw"
    r = load_drop(EVENTS, landing, raw, D2)
    assert (r.records, r.loaded, r.rejected) == (1, 1, 0)
    for obj in (USERS, CUSTOMERS):
        r = load_drop(obj, landing, raw, D2)
        assert (r.records, r.loaded, r.rejected) == (0, 0, 0)
        assert rows(raw, obj) == []                                    # an empty partition, full schema
    only_empty = tmp_path / "landing2" / "usage" / D2
    only_empty.mkdir(parents=True)
    (only_empty / "events-0000.parquet").write_bytes(b"")
    (only_empty / "_SUCCESS").touch()
    r = load_drop(EVENTS, tmp_path / "landing2", raw, D2)
    assert (r.records, r.loaded, r.rejected) == (0, 0, 0)
    assert pq.read_schema(partition_path(raw, "usage", "events", D2)).names[:2] == ["message_id", "account_id"]


# --- 3. FX conflicts (dbt) ----------------------------------------------------------------

def test_conflicting_fx_rates_are_quarantined_and_fail_the_build(tmp_path):
    landing = tmp_path / "landing"
    L = fixtures_revenue.build(landing)
    d2, d3, d4 = "2024-02-29", "2024-03-31", "2024-04-15"
    # acc_B's 2024-03-05 state needs EUR of that day: a second, different rate in a later drop
    L.add("billing", d4, "fx_rates", [fx("2024-03-05", "eur", 1.21)])
    # a conflict inside one drop that no paying state needs
    L.add("billing", d2, "fx_rates", [fx("2024-02-15", "cny", 0.15), fx("2024-02-15", "cny", 0.16)])
    # identical re-deliveries (across drops, within a drop) are no conflict
    L.add("billing", d2, "fx_rates", [fx("2024-01-10", "eur", 1.10)])
    L.add("billing", d3, "fx_rates", [fx("2024-03-31", "eur", 1.25)])
    for key in L.drops:
        L.write(complete=key[1] != "2024-04-16", only=key)
    p = Pipeline(tmp_path, landing)
    p.ingest()
    proc = p.build(check=False)
    assert proc.returncode != 0
    results = json.loads((p.target / "run_results.json").read_text())["results"]
    failed = sorted(r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error"))
    assert failed == ["assert_fx_rate_for_every_paying_state"]
    # the state that needs the quarantined rate is the one the test flags
    assert p.query("select event_id, currency from intermediate.int_subscription_states "
                   "where is_missing_fx_rate") == [("evt_B2", "eur")]
    fx_rows = p.query("select rate_date::varchar, currency, usd_per_unit, _drop_date::varchar "
                      "from staging.stg_billing__fx_rates where is_delivered order by 1, 2")
    keys = [(d, c) for d, c, _, _ in fx_rows]
    assert ("2024-03-05", "eur") not in keys and ("2024-02-15", "cny") not in keys
    assert [r for r in fx_rows if r[:2] in (("2024-01-10", "eur"), ("2024-03-31", "eur"))] == [
        ("2024-01-10", "eur", 1.10, d2), ("2024-03-31", "eur", 1.25, d3)]
    assert len(fx_rows) == 8
    rej = p.query("select _source_file, _source_line, reason, raw_record from staging.stg_ingestion__rejects "
                  "where object_name = 'fx_rates' order by 1, 2")
    assert rej == [
        (f"billing/{d2}/fx_rates.jsonl", 3, "conflicting FX rates for cny on 2024-02-15: 0.15, 0.16",
         '{"date": "2024-02-15", "currency": "cny", "usd_per_unit": 0.15}'),
        (f"billing/{d2}/fx_rates.jsonl", 4, "conflicting FX rates for cny on 2024-02-15: 0.15, 0.16",
         '{"date": "2024-02-15", "currency": "cny", "usd_per_unit": 0.16}'),
        (f"billing/{d3}/fx_rates.jsonl", 1, "conflicting FX rates for eur on 2024-03-05: 1.2, 1.21",
         '{"date": "2024-03-05", "currency": "eur", "usd_per_unit": 1.2}'),
        (f"billing/{d4}/fx_rates.jsonl", 2, "conflicting FX rates for eur on 2024-03-05: 1.2, 1.21",
         '{"date": "2024-03-05", "currency": "eur", "usd_per_unit": 1.21}'),
    ]
    assert len({r for (r,) in p.query("select reject_id from staging.stg_ingestion__rejects")}) == 5
