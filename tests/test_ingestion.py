"""Raw ingestion: every kind of dirt in docs/source_contract.md gets its handling, loaded + rejected =
records in the drop, incomplete drops are not read, and re-loading a drop is idempotent."""
import datetime as dt
import gzip
import json

import duckdb
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from helpers.landing_builder import Landing, customer, item, sub_event, unix, utc
from orchestration.lib.ingestion.contracts import OBJECTS, get_object
from orchestration.lib.ingestion.landing import list_drops
from orchestration.lib.ingestion.raw_store import latest_loaded_drop, load_drop, partition_path, rejects_path

DROP = "2024-03-02"


def event(mid, account="acc_1", ts="2024-03-02T10:00:00", **kw):
    return {"message_id": mid, "account_id": account, "user_id": "usr_1", "event": "report_created",
            "feature": "reporting", "timestamp": utc(ts), "received_at": utc(ts), **kw}


def invoice(iid, **kw):
    base = {"id": iid, "customer": "cus_1", "subscription": "sub_1", "status": "open", "currency": "usd",
            "amount_due": 1000, "amount_paid": 0, "created": unix("2024-03-01"), "due_date": unix("2024-03-15"),
            "status_transitions": {"paid_at": None}, "updated": unix("2024-03-01")}
    base.update(kw)
    return base


def nps(rid, score, account="acc_1"):
    return {"id": rid, "account_id": account, "user_id": "usr_1", "score": score, "comment": "ok",
            "responded_at": "2024-03-02T09:00:00+08:00"}


@pytest.fixture()
def landing(tmp_path):
    L = Landing(tmp_path / "landing")
    good_customer = customer("cus_1", "acc_1", "2024-03-01")
    good_customer["brand_new_field"] = {"x": 1}                              # unknown column
    no_account = customer("cus_2", "acc_2", "2024-03-01")
    del no_account["id"]                                                      # missing required field
    L.add("billing", DROP, "customers", [good_customer, good_customer, no_account, "{not json"])
    L.add("billing", DROP, "subscription_events", [
        sub_event("evt_1", "2024-03-01T10:00:00", "sub_1", "cus_1", "active", [item(1000, 2)]),
        sub_event("evt_2", "2024-03-01T11:00:00", "sub_1", "cus_1", "active", [item(-5, 2)]),   # negative amount
    ])
    L.add("billing", DROP, "invoices", [
        invoice("in_1"), invoice("in_2", amount_due=-100), invoice("in_3", currency="zzz"),
        invoice("in_4", amount_due="1000"),                                   # wrong type
    ])
    L.add("billing", DROP, "fx_rates", [{"date": DROP, "currency": "eur", "usd_per_unit": 1.08}])
    L.add("usage", DROP, "events", [
        event("m1"), event("m1"),                                              # delivered twice
        event("m2", ts="2024-02-27T10:00:00"),                                 # late event
        event("m3", account="acc_999"),                                        # matches no account
        event(None),                                                           # missing message_id
    ])
    L.add("usage", DROP, "users", [{"user_id": "usr_1", "account_id": "acc_1", "email": "a@b.c", "role": "admin",
                                    "created_at": "2024-03-01T00:00:00Z", "deactivated_at": None,
                                    "updated_at": "2024-03-01T00:00:00Z"}])
    L.add("ticketing", DROP, "organizations", [{"id": "1", "name": "Org", "external_id": "acc_1",
                                                "updated_at": "2024-03-01T00:00:00+00:00"}])
    L.add("ticketing", DROP, "tickets", [])
    L.add("ticketing", DROP, "nps_responses", [nps("n1", 9), nps("n2", 11), nps("n3", -1)])
    L.write()
    # a drop still being written, and a gzip drop
    L2 = Landing(tmp_path / "landing")
    L2.add("billing", "2024-03-03", "customers", [customer("cus_9", "acc_9", "2024-03-03")])
    L2.write(complete=False)
    return L.root


def test_every_record_is_loaded_or_rejected_with_a_reason(landing, tmp_path):
    raw = tmp_path / "raw"
    res = {o.name: load_drop(o, landing, raw, DROP) for o in OBJECTS}
    for r in res.values():
        assert r.loaded + r.rejected == r.records
    assert (res["customers"].records, res["customers"].loaded, res["customers"].rejected) == (4, 2, 2)
    assert (res["subscription_events"].loaded, res["subscription_events"].rejected) == (1, 1)
    assert (res["invoices"].loaded, res["invoices"].rejected) == (1, 3)
    assert (res["events"].records, res["events"].loaded, res["events"].rejected) == (5, 4, 1)
    assert (res["nps_responses"].loaded, res["nps_responses"].rejected) == (1, 2)

    def reasons(name):
        t = pq.read_table(rejects_path(raw, get_object(*name.split(".")), DROP)).to_pylist()
        return {(r["_source_line"], r["reason"]) for r in t}

    cust = reasons("billing.customers")
    assert (3, "missing required field 'id'") in cust
    assert [line for line, r in cust if r.startswith("invalid JSON")] == [4]
    assert reasons("billing.invoices") == {
        (2, "negative amount in 'amount_due': -100"),
        (3, "unknown currency 'zzz' in 'currency'"),
        (4, "wrong type for 'amount_due': expected integer, got str")}
    assert reasons("billing.subscription_events") == {
        (2, "data.object.items.data[0]: negative amount in 'price.unit_amount': -5")}
    assert reasons("ticketing.nps_responses") == {
        (2, "value out of range for 'score': 11 (allowed 0-10)"),
        (3, "value out of range for 'score': -1 (allowed 0-10)")}
    assert reasons("usage.events") == {(5, "missing required field 'message_id'")}
    # every reject carries its file and the original record
    rej = pq.read_table(rejects_path(raw, get_object("billing", "invoices"), DROP)).to_pylist()
    assert all(r["_source_file"] == f"billing/{DROP}/invoices.jsonl" and r["record"] for r in rej)


def test_raw_rows_are_typed_and_carry_load_metadata(landing, tmp_path):
    raw = tmp_path / "raw"
    load_drop(get_object("billing", "customers"), landing, raw, DROP)
    load_drop(get_object("ticketing", "nps_responses"), landing, raw, DROP)
    load_drop(get_object("usage", "events"), landing, raw, DROP)
    cust = pq.read_table(partition_path(raw, "billing", "customers", DROP)).to_pylist()
    assert cust[0]["_extra"] == '{"brand_new_field":{"x":1}}'        # unknown column kept aside
    assert cust[0]["_drop_date"] == dt.date(2024, 3, 2) and cust[0]["_source_line"] == 1
    assert cust[0]["created_at"] == dt.datetime(2024, 3, 1)            # unix -> naive UTC
    score = pq.read_table(partition_path(raw, "ticketing", "nps_responses", DROP)).to_pylist()[0]
    assert score["responded_at"] == dt.datetime(2024, 3, 2, 1, 0)      # +08:00 -> UTC
    ev = pq.read_table(partition_path(raw, "usage", "events", DROP)).to_pylist()
    assert [e["message_id"] for e in ev] == ["m1", "m1", "m2", "m3"]  # raw keeps both deliveries
    assert ev[2]["event_at"] == dt.datetime(2024, 2, 27, 10)           # late event keeps its own day


def test_gzip_jsonl_is_read(tmp_path):
    d = tmp_path / "landing" / "billing" / DROP
    d.mkdir(parents=True)
    with gzip.open(d / "customers.jsonl.gz", "wt") as f:
        f.write(json.dumps(customer("cus_1", "acc_1", "2024-03-01")) + "\n")
    (d / "_SUCCESS").touch()
    r = load_drop(get_object("billing", "customers"), tmp_path / "landing", tmp_path / "raw", DROP)
    assert (r.records, r.loaded) == (1, 1)


def test_reloading_a_drop_replaces_exactly_its_rows(landing, tmp_path):
    raw = tmp_path / "raw"

    def snapshot():
        con = duckdb.connect()
        out = {}
        for o in OBJECTS:
            p = partition_path(raw, o.source, o.table, DROP)
            out[o.name] = con.execute(f"select * exclude (_loaded_at) from read_parquet('{p}') order by _source_line").fetchall()
        return out

    for o in OBJECTS:
        load_drop(o, landing, raw, DROP)
    first = snapshot()
    for o in OBJECTS:
        load_drop(o, landing, raw, DROP)
    assert snapshot() == first
    files = [p for p in raw.rglob("*") if p.is_file()]
    # no temp files left behind: each drop's data and the manifest of what was loaded
    assert all(p.name in ("data.parquet", "_manifest.json") for p in files)


def test_rejected_event_keeps_its_raw_record(landing, tmp_path):
    raw = tmp_path / "raw"
    load_drop(get_object("usage", "events"), landing, raw, DROP)
    (rej,) = pq.read_table(rejects_path(raw, get_object("usage", "events"), DROP)).to_pylist()
    record = json.loads(rej["record"])
    assert rej["_source_line"] == 5 and record["message_id"] is None
    assert record["account_id"] == "acc_1" and record["event"] == "report_created"
    assert rej["_source_file"].startswith(f"usage/{DROP}/events")


def test_a_drop_without_rejects_leaves_no_rejects_file(landing, tmp_path):
    raw = tmp_path / "raw"
    users = get_object("usage", "users")
    target = rejects_path(raw, users, DROP)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"stale rejects of an earlier load of this drop")
    r = load_drop(users, landing, raw, DROP)
    assert (r.loaded, r.rejected) == (1, 0)
    assert not target.exists()                       # re-loading removed the old rejects
    assert rejects_path(raw, get_object("billing", "customers"), DROP).exists() is False
    load_drop(get_object("billing", "customers"), landing, raw, DROP)
    assert rejects_path(raw, get_object("billing", "customers"), DROP).exists()


def test_latest_loaded_drop_is_the_newest_drop_with_rows(tmp_path):
    import pyarrow as pa

    raw = tmp_path / "raw"
    assert latest_loaded_drop(raw) is None
    customers, events = get_object("billing", "customers"), get_object("usage", "events")

    def write(obj, drop, n):
        path = partition_path(raw, obj.source, obj.table, drop)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"x": list(range(n))}), path)

    write(customers, "2024-03-01", 2)
    write(events, "2024-03-02", 5)
    write(customers, "2024-03-04", 0)      # an empty drop counts for nothing, like max(_drop_date)
    assert latest_loaded_drop(raw) == "2024-03-02"
    write(customers, "2024-03-03", 1)
    assert latest_loaded_drop(raw) == "2024-03-03"


def test_incomplete_drop_is_not_listed(landing):
    complete, incomplete = list_drops(landing, "billing")
    assert complete == [DROP] and incomplete == ["2024-03-03"]


def test_dagster_assets_report_counts_and_checks(landing, tmp_path, monkeypatch):
    monkeypatch.setenv("CSP_LANDING_DIR", str(landing))
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path / "data"))
    from orchestration.defs.assets.ingestion import ingestion_assets
    from orchestration.defs.checks.unmatched import unmatched_checks

    instance = DagsterInstance.ephemeral()
    result = materialize([*ingestion_assets, *unmatched_checks], instance=instance,
                         tags={"dagster/asset_partition_range_start": "2024-03-01",
                               "dagster/asset_partition_range_end": DROP})
    assert result.success
    mats = {m.asset_key: m.metadata for m in result.get_asset_materialization_events() and
            [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]}
    inv = mats[AssetKey(["raw", "billing", "invoices"])]
    assert inv["rows_loaded"].value == 1 and inv["rows_rejected"].value == 3
    assert inv["drops_not_read"].value == ["2024-03-01"]              # no drop that day
    checks = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    # 3 of 4 invoice records rejected: above the 2% threshold
    assert not checks[(AssetKey(["raw", "billing", "invoices"]), "reject_rate")].passed
    unmatched = checks[(AssetKey(["raw", "usage", "events"]), "account_ids_match")]
    assert unmatched.metadata["unmatched_records"].value == 1
    assert unmatched.metadata["sample_unmatched_account_ids"].value == ["acc_999"]


def test_a_single_missing_drop_fails_with_a_clear_error(landing, tmp_path, monkeypatch):
    monkeypatch.setenv("CSP_LANDING_DIR", str(landing))
    monkeypatch.setenv("CSP_DATA_DIR", str(tmp_path / "data"))
    from orchestration.defs.assets.ingestion import ingestion_assets

    customers = next(a for a in ingestion_assets if a.key == AssetKey(["raw", "billing", "customers"]))
    result = materialize([customers], partition_key="2024-03-03", raise_on_error=False,
                         instance=DagsterInstance.ephemeral())
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "_SUCCESS" in str(failure.event_specific_data.error)
