"""dbt staging layer against a tiny hand-made raw layer.

Builds Parquet files in the raw-layer layout (schema from orchestration/lib/ingestion/contracts.py)
in a tmp dir, runs `dbt seed` + `dbt build --select staging` into a tmp DuckDB, and checks the
de-duplication rules of each staging model exactly.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import dbt_runner
from orchestration.lib.ingestion.contracts import META_COLUMNS, OBJECTS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)

_ARROW = {
    "str": pa.string(), "currency": pa.string(), "int": pa.int64(), "bool": pa.bool_(),
    "float": pa.float64(), "unix": pa.timestamp("us"), "ts": pa.timestamp("us"),
    "date": pa.date32(),
}
_META = [("_drop_date", pa.date32()), ("_source_file", pa.string()),
         ("_source_line", pa.int64()), ("_loaded_at", pa.timestamp("us"))]


def _schemas() -> dict[tuple[str, str], pa.Schema]:
    """(source, table) -> Arrow schema of the raw table, as ingestion writes it."""
    out = {}
    for obj in OBJECTS:
        cols = [(f.column, _ARROW[f.type]) for f in obj.fields]
        out[(obj.source, obj.table)] = pa.schema(cols + _META)
        for child in obj.children:
            parent = dict(cols)
            ccols = [(c, parent[c]) for c in child.parent_columns]
            ccols += [(f.column, _ARROW[f.type]) for f in child.fields]
            out[(obj.source, child.name)] = pa.schema(ccols + _META + [("_item_index", pa.int64())])
    assert set(META_COLUMNS) == {n for n, _ in _META}
    return out


def ts(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, minute)


def meta(drop: dt.date, line: int, file: str = "f.jsonl") -> dict:
    return {"_drop_date": drop, "_source_file": f"{drop}/{file}", "_source_line": line,
            "_loaded_at": dt.datetime.combine(drop, dt.time(6))}


def customer(cid, updated, drop, line, name="Acme", account="acc_1"):
    return {"customer_id": cid, "name": name, "email": f"{cid}@example.com", "currency": "usd",
            "created_at": ts(1), "updated_at": updated, "is_deleted": False,
            "account_id": account, "segment": "smb", "industry": "saas", "region": "emea",
            "csm_owner": "csm_a", **meta(drop, line)}


def sub_event(eid, drop, line, created, status="active", currency="usd"):
    return {"event_id": eid, "event_type": "customer.subscription.updated", "created_at": created,
            "subscription_id": "sub_1", "customer_id": "cus_1", "status": status,
            "start_date": ts(1), "current_period_start": ts(1), "current_period_end": ts(31),
            "cancel_at_period_end": False, "canceled_at": None, "ended_at": None,
            "currency": currency, **meta(drop, line)}


def item(eid, created, drop, line, idx, qty, amount, currency="usd", interval="month"):
    return {"event_id": eid, "subscription_id": "sub_1", "created_at": created,
            "item_id": f"si_{idx}", "quantity": qty, "price_id": "price_1", "product_id": "prod_1",
            "unit_amount": amount, "price_currency": currency, "interval": interval,
            "interval_count": 1, **meta(drop, line), "_item_index": idx}


def invoice(iid, updated, drop, line, status, due, paid, currency="usd"):
    return {"invoice_id": iid, "customer_id": "cus_1", "subscription_id": "sub_1",
            "status": status, "currency": currency, "amount_due": due, "amount_paid": paid,
            "created_at": ts(1), "due_at": ts(15), "paid_at": None, "updated_at": updated,
            **meta(drop, line)}


def usage_event(mid, drop, line, event_at, received_at, file="events-0.parquet"):
    return {"message_id": mid, "account_id": "acc_1", "user_id": "u_1", "event": "report_created",
            "feature": "reports", "event_at": event_at, "received_at": received_at,
            **meta(drop, line, file)}


RAW: dict[tuple[str, str], list[dict]] = {
    ("billing", "customers"): [
        customer("cus_1", ts(1, 10), D1, 1, name="Acme v1"),
        customer("cus_1", ts(2, 10), D2, 1, name="Acme v2"),        # newer version wins
        customer("cus_2", ts(1, 11), D1, 2, name="Beta"),
        customer("cus_2", ts(1, 11), D2, 2, name="Beta"),           # exact re-delivery
        customer("cus_3", ts(1, 12), D1, 3, name="Gamma line 3"),
        customer("cus_3", ts(1, 12), D1, 4, name="Gamma line 4"),   # same updated: later line
        customer("cus_4", ts(1, 13), D2, 3, name="Delta drop 2"),
        customer("cus_4", ts(1, 13), D1, 5, name="Delta drop 1"),   # same updated: later drop
    ],
    ("billing", "subscription_events"): [
        sub_event("evt_1", D1, 1, ts(1, 9)),
        sub_event("evt_1", D2, 7, ts(1, 9)),                        # delivered twice
        sub_event("evt_2", D2, 8, ts(2, 9), currency="jpy"),
    ],
    ("billing", "subscription_event_items"): [
        item("evt_1", ts(1, 9), D1, 1, 0, 5, 1999),
        item("evt_1", ts(1, 9), D1, 1, 1, 1, 500),
        item("evt_1", ts(1, 9), D2, 7, 0, 5, 1999),                 # items of the duplicate
        item("evt_1", ts(1, 9), D2, 7, 1, 1, 500),
        item("evt_2", ts(2, 9), D2, 8, 0, 2, 12000, currency="jpy", interval="year"),
    ],
    ("billing", "invoices"): [
        invoice("in_1", ts(1, 9), D1, 1, "open", 1999, 0),
        invoice("in_1", ts(2, 9), D2, 1, "paid", 1999, 1999),       # newer version wins
        invoice("in_2", ts(2, 9), D2, 2, "open", 1234, 0, currency="kwd"),
    ],
    ("billing", "fx_rates"): [
        {"rate_date": D1, "currency": "eur", "usd_per_unit": 1.1, **meta(D1, 1)},
        {"rate_date": D1, "currency": "eur", "usd_per_unit": 1.1, **meta(D2, 3)},  # re-delivered, same value
        {"rate_date": D2, "currency": "eur", "usd_per_unit": 1.3, **meta(D2, 1)},
        {"rate_date": D2, "currency": "usd", "usd_per_unit": 1.0, **meta(D2, 2)},  # delivered usd
    ],
    ("usage", "events"): [
        usage_event("m_1", D1, 1, ts(1, 8), ts(1, 8, 1)),
        usage_event("m_1", D2, 1, ts(1, 8), ts(2, 0, 5)),           # delivered again: first wins
        usage_event("m_2", D2, 2, dt.datetime(2023, 12, 30, 23, 59), ts(2, 1)),   # late event
        usage_event("m_3", D2, 1, ts(2, 7), ts(2, 7, 1), file="events-1.parquet"),
    ],
    ("usage", "users"): [
        {"user_id": "u_1", "account_id": "acc_1", "email": "a@x.io", "role": "member",
         "created_at": ts(1), "deactivated_at": None, "updated_at": ts(1, 5), **meta(D1, 1)},
        {"user_id": "u_1", "account_id": "acc_1", "email": "a@x.io", "role": "admin",
         "created_at": ts(1), "deactivated_at": None, "updated_at": ts(2, 5), **meta(D2, 1)},
    ],
    ("ticketing", "organizations"): [
        {"organization_id": "1", "name": "Acme", "external_id": None, "updated_at": ts(1),
         **meta(D1, 1)},
        {"organization_id": "1", "name": "Acme Inc", "external_id": "acc_1", "updated_at": ts(2),
         **meta(D2, 1)},
    ],
    ("ticketing", "tickets"): [
        {"ticket_id": "100", "organization_id": "1", "requester_id": "9", "priority": "urgent",
         "ticket_type": "problem", "status": "open", "channel": "email", "created_at": ts(1, 1),
         "updated_at": ts(1, 2), "first_replied_at": ts(1, 2), "solved_at": None, "reopens": 0,
         "replies": 1, "satisfaction_rating": "unoffered", **meta(D1, 1)},
        {"ticket_id": "100", "organization_id": "1", "requester_id": "9", "priority": "urgent",
         "ticket_type": "problem", "status": "solved", "channel": "email", "created_at": ts(1, 1),
         "updated_at": ts(2, 3), "first_replied_at": ts(1, 2), "solved_at": ts(2, 3), "reopens": 1,
         "replies": 2, "satisfaction_rating": "good", **meta(D2, 1)},
    ],
    ("ticketing", "nps_responses"): [
        {"response_id": "r_1", "account_id": "acc_1", "user_id": "u_1", "score": 9,
         "comment": "great", "responded_at": ts(1, 4), **meta(D1, 1)},
        {"response_id": "r_1", "account_id": "acc_1", "user_id": "u_1", "score": 9,
         "comment": "great", "responded_at": ts(1, 4), **meta(D2, 1)},   # delivered twice
        {"response_id": "r_2", "account_id": "acc_2", "user_id": None, "score": 3,
         "comment": None, "responded_at": ts(2, 4), **meta(D2, 2)},
    ],
}

REJECT = {"source": "billing", "object": "invoices", "_drop_date": D2,
          "_source_file": f"{D2}/invoices.jsonl", "_source_line": 3, "reason": "negative amount",
          "record": '{"id": "in_3", "amount_due": -5}', "_loaded_at": ts(2, 6)}


def write_raw_layer(raw: Path, with_rejects: bool = True) -> None:
    for (source, table), schema in _schemas().items():
        rows = RAW.get((source, table), [])
        for drop in (D1, D2):
            part = [r for r in rows if r["_drop_date"] == drop]   # may be empty: zero-row file
            out = raw / source / table / f"drop_date={drop}" / "data.parquet"
            out.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(part, schema=schema), out)
    if with_rejects:
        out = raw / "_rejects" / "billing__invoices" / f"drop_date={D2}" / "data.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        schema = pa.schema([("source", pa.string()), ("object", pa.string()),
                            ("_drop_date", pa.date32()), ("_source_file", pa.string()),
                            ("_source_line", pa.int64()), ("reason", pa.string()),
                            ("record", pa.string()), ("_loaded_at", pa.timestamp("us"))])
        pq.write_table(pa.Table.from_pylist([REJECT], schema=schema), out)


def run_dbt(tmp: Path, raw: Path, warehouse: Path, *args: str) -> None:
    proc = dbt_runner.run_dbt(list(args), raw=raw, warehouse=warehouse, project_dir=DBT_PROJECT_DIR,
                              target_path=tmp / "target", log_path=tmp / "logs", cwd=DBT_PROJECT_DIR)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    tmp = tmp_path_factory.mktemp("dbt_staging")
    raw, wh = tmp / "raw", tmp / "warehouse.duckdb"
    write_raw_layer(raw)
    run_dbt(tmp, raw, wh, "seed")
    run_dbt(tmp, raw, wh, "build", "--select", "staging")
    con = duckdb.connect(str(wh), read_only=True)
    yield con
    con.close()


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_customers_latest_version(warehouse):
    assert rows(warehouse, "select customer_id, customer_name, _drop_date, _source_line "
                           "from staging.stg_billing__customers order by 1") == [
        ("cus_1", "Acme v2", D2, 1),
        ("cus_2", "Beta", D2, 2),
        ("cus_3", "Gamma line 4", D1, 4),
        ("cus_4", "Delta drop 2", D2, 3),
    ]


def test_subscription_events_and_items(warehouse):
    assert rows(warehouse, "select event_id, _drop_date, event_date, currency "
                           "from staging.stg_billing__subscription_events order by 1") == [
        ("evt_1", D1, D1, "usd"), ("evt_2", D2, D2, "jpy")]
    assert rows(warehouse, "select event_item_id, _drop_date, quantity, unit_amount_minor, "
                           "unit_amount, interval_months, event_date "
                           "from staging.stg_billing__subscription_items order by 1") == [
        ("evt_1-0", D1, 5, 1999, Decimal("19.99"), 1, D1),
        ("evt_1-1", D1, 1, 500, Decimal("5.00"), 1, D1),
        ("evt_2-0", D2, 2, 12000, Decimal("12000"), 12, D2),
    ]


def test_invoices_latest_and_major_units(warehouse):
    assert rows(warehouse, "select invoice_id, status, amount_due, amount_paid "
                           "from staging.stg_billing__invoices order by 1") == [
        ("in_1", "paid", Decimal("19.99"), Decimal("19.99")),
        ("in_2", "open", Decimal("1.234"), Decimal("0")),
    ]


def test_fx_rates_latest_delivery_and_usd_fill(warehouse):
    # an identical re-delivery is loaded once, from the latest delivery (a different value
    # would be a conflict: quarantined, see tests/test_ingestion_faults.py)
    assert rows(warehouse, "select rate_date, currency, usd_per_unit, is_delivered, _drop_date "
                           "from staging.stg_billing__fx_rates order by 1, 2") == [
        (D1, "eur", 1.1, True, D2), (D1, "usd", 1.0, False, None),
        (D2, "eur", 1.3, True, D2), (D2, "usd", 1.0, True, D2),
    ]


def test_usage_events_first_delivery(warehouse):
    assert rows(warehouse, "select message_id, _drop_date, event_date, days_late "
                           "from staging.stg_usage__events order by 1") == [
        ("m_1", D1, D1, 0),
        ("m_2", D2, dt.date(2023, 12, 30), 3),
        ("m_3", D2, D2, 0),
    ]


def test_users_orgs_tickets_nps(warehouse):
    assert rows(warehouse, "select user_id, user_role, is_admin from staging.stg_usage__users") == [
        ("u_1", "admin", True)]
    assert rows(warehouse, "select organization_id, organization_name, account_id "
                           "from staging.stg_ticketing__organizations") == [("1", "Acme Inc", "acc_1")]
    assert rows(warehouse, "select ticket_id, status, is_solved, reopens, satisfaction_rating "
                           "from staging.stg_ticketing__tickets") == [("100", "solved", True, 1, "good")]
    assert rows(warehouse, "select response_id, _drop_date, nps_category "
                           "from staging.stg_ticketing__nps_responses order by 1") == [
        ("r_1", D2, "promoter"), ("r_2", D2, "detractor")]


def test_rejects(warehouse):
    assert rows(warehouse, "select source_name, object_name, reason, _source_line "
                           "from staging.stg_ingestion__rejects") == [
        ("billing", "invoices", "negative amount", 3)]


def test_rejects_missing_reads_empty(tmp_path):
    raw, wh = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    write_raw_layer(raw, with_rejects=False)
    run_dbt(tmp_path, raw, wh, "run", "--select", "stg_ingestion__rejects")
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert rows(con, "select count(*) from staging.stg_ingestion__rejects") == [(0,)]
        assert rows(con, "select data_type from information_schema.columns where "
                         "table_name = 'stg_ingestion__rejects' and column_name = '_source_line'"
                    ) == [("BIGINT",)]
    finally:
        con.close()
