"""Tests for the sample landing-zone generator (orchestration.lib.sample_data), on tiny sizes."""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.lib.ingestion.contracts import OBJECTS as CONTRACT_OBJECTS
from orchestration.lib.sample_data import OBJECTS, SOURCES, generate
from orchestration.lib.sample_data.dirt import REJECTED_KINDS

ROOT = Path(__file__).resolve().parents[1]
CURRENCIES = {r["currency"] for r in csv.DictReader(open(ROOT / "dbt_project" / "seeds" / "currencies.csv"))}
SMALL = dict(accounts=20, days=40, seed=7)
EVENT_SCHEMA = pa.schema([
    ("message_id", pa.string()), ("account_id", pa.string()), ("user_id", pa.string()),
    ("event", pa.string()), ("feature", pa.string()),
    ("timestamp", pa.timestamp("us", tz="UTC")), ("received_at", pa.timestamp("us", tz="UTC")),
])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("sample")
    out = {}
    out["a"] = base / "a"
    out["summary"] = generate(str(out["a"]), **SMALL)
    out["b"] = base / "b"
    generate(str(out["b"]), **SMALL)
    out["other"] = base / "other"
    generate(str(out["other"]), accounts=20, days=40, seed=8)
    out["clean"] = base / "clean"
    generate(str(out["clean"]), accounts=20, days=40, seed=7, dirt_rate=0)
    return out


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def meta(root: Path) -> dict:
    return json.loads((root / "_generator.json").read_text())


# ----------------------------------------------------------------------------- validation
def _lookup(rec, path):
    cur = rec
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return False, None
        cur = cur[p]
    return True, cur


def _type_ok(v, typ) -> bool:
    if typ in ("str",):
        return isinstance(v, str)
    if typ in ("int", "unix"):
        return isinstance(v, int) and not isinstance(v, bool)
    if typ == "bool":
        return isinstance(v, bool)
    if typ == "float":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if typ == "ts":
        if not isinstance(v, str):
            return False
        try:
            return datetime.fromisoformat(v).tzinfo is not None
        except ValueError:
            return False
    if typ == "date":
        try:
            datetime.strptime(v, "%Y-%m-%d")
            return isinstance(v, str)
        except (TypeError, ValueError):
            return False
    if typ == "currency":
        return isinstance(v, str) and v in CURRENCIES
    raise AssertionError(typ)


def _field_errors(rec, fields) -> list[str]:
    errs = []
    for f in fields:
        present, v = _lookup(rec, f.path)
        if not present or v is None:
            if f.required:
                errs.append(f"missing {f.path}")
            continue
        if not _type_ok(v, f.type):
            errs.append(f"type {f.path}")
            continue
        if f.choices is not None and v not in f.choices:
            errs.append(f"choice {f.path}")
        if f.min_value is not None and v < f.min_value:
            errs.append(f"min {f.path}")
        if f.max_value is not None and v > f.max_value:
            errs.append(f"max {f.path}")
    return errs


def validate_line(obj, line: bytes) -> list[str]:
    try:
        rec = json.loads(line)
    except ValueError:
        return ["invalid json"]
    if not isinstance(rec, dict):
        return ["not an object"]
    errs = _field_errors(rec, obj.fields)
    for child in obj.children:
        present, arr = _lookup(rec, child.path)
        if not present or not isinstance(arr, list):
            errs.append(f"missing {child.path}")
            continue
        for el in arr:
            errs += _field_errors(el, child.fields)
    return errs


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.suffix == ".gz" and data:
        data = gzip.decompress(data)
    return [ln for ln in data.split(b"\n") if ln]


def complete_drops(root: Path, source: str) -> list[Path]:
    return sorted(p for p in (root / source).iterdir() if (p / "_SUCCESS").exists())


def scan(root: Path):
    """Per object: number of invalid lines, lines, unknown top-level keys, all valid records."""
    bad, total, unknown_cols, records = Counter(), Counter(), Counter(), {}
    for o in CONTRACT_OBJECTS:
        if o.file_format != "jsonl":
            continue
        roots = {f.path.split(".")[0] for f in o.fields}
        recs = []
        for drop in complete_drops(root, o.source):
            files = list(drop.glob(f"{o.name}.jsonl*"))
            assert len(files) == 1, (drop, o.name)
            for ln in read_lines(files[0]):
                total[o.name] += 1
                errs = validate_line(o, ln)
                if errs:
                    bad[o.name] += 1
                    continue
                rec = json.loads(ln)
                if set(rec) - roots:
                    unknown_cols[o.name] += 1
                recs.append((drop.name, rec))
        records[o.name] = recs
    return bad, total, unknown_cols, records


# ----------------------------------------------------------------------------- tests
def test_deterministic_same_seed(runs):
    ta, tb = tree(runs["a"]), tree(runs["b"])
    assert ta == tb
    assert len(ta) > 300


def test_different_seed_differs(runs):
    ta, to = tree(runs["a"]), tree(runs["other"])
    assert ta != to
    assert (runs["a"] / "billing" / "2024-01-05" / "subscription_events.jsonl").read_bytes() != \
        (runs["other"] / "billing" / "2024-01-05" / "subscription_events.jsonl").read_bytes()


def test_layout_and_success_markers(runs):
    root = runs["a"]
    m = meta(root)
    assert m["drops"]["first"] == "2024-01-01"
    assert m["drops"]["last_complete"] == "2024-02-09"
    assert m["drops"]["incomplete"] == "2024-02-10"
    missing = m["drops"]["missing"]["ticketing"]
    for source in SOURCES:
        drops = sorted(p.name for p in (root / source).iterdir())
        complete = [p.name for p in complete_drops(root, source)]
        expected = 40 - (1 if source == "ticketing" else 0)
        assert len(complete) == expected, source
        assert drops[-1] == "2024-02-10" and "2024-02-10" not in complete
        assert not (root / source / "2024-02-10" / "_SUCCESS").exists()
        if source == "ticketing":
            assert missing[0] not in drops
        for d in complete:
            folder = root / source / d
            assert (folder / "_SUCCESS").stat().st_size == 0
            for obj in OBJECTS[source]:
                if obj == "events":
                    assert (folder / "events-0000.parquet").exists()
                else:
                    assert (folder / f"{obj}.jsonl").exists(), (folder, obj)


def test_events_parquet_schema_and_timing(runs):
    root = runs["a"]
    late = 0
    n = 0
    for drop in complete_drops(root, "usage"):
        for f in sorted(drop.glob("events-*.parquet")):
            t = pq.read_table(f)
            assert t.schema.equals(EVENT_SCHEMA), t.schema
            if t.num_rows == 0:
                continue
            d = t.to_pydict()
            n += t.num_rows
            drop_start = datetime.fromisoformat(drop.name + "T00:00:00+00:00")
            for ts, rc in zip(d["timestamp"], d["received_at"]):
                assert rc > ts
                assert ts < drop_start + __import__("datetime").timedelta(days=1)
                late += ts < drop_start
    assert n > 1000
    assert 0 < late < n * 0.2
    assert meta(root)["summary"]["records"]["usage/events"] == n


def test_records_follow_contract_except_counted_dirt(runs):
    root = runs["a"]
    m = meta(root)
    bad, total, unknown_cols, _ = scan(root)
    for obj, n in total.items():
        assert n == m["summary"]["records"][f"{get_source(obj)}/{obj}"], obj
    expected = Counter()
    for kind, per_obj in m["dirt"].items():
        if kind in REJECTED_KINDS:
            for obj, k in per_obj.items():
                expected[obj] += k
    assert bad == expected
    assert sum(expected.values()) == m["summary"]["expected_rejects"]
    assert unknown_cols == Counter(m["dirt"]["unknown_column"])


def get_source(obj):
    return next(s for s, objs in OBJECTS.items() if obj in objs)


def test_dirt_present_and_counted(runs):
    root = runs["a"]
    m = meta(root)
    d = m["dirt"]
    for kind in ("invalid_json", "missing_field", "wrong_type", "duplicate", "unknown_column",
                 "unknown_account", "negative_amount", "unknown_currency", "score_out_of_range",
                 "incomplete_drop", "missing_drop"):
        assert sum(d.get(kind, {}).values()) >= 1, kind
    assert d["invalid_json"]["subscription_events"] == 1
    assert d["invalid_json"]["fx_rates"] == 1
    assert set(d["incomplete_drop"]) == set(SOURCES)
    # duplicated usage messages and unknown accounts, counted exactly
    ids, accs = Counter(), Counter()
    for drop in complete_drops(root, "usage"):
        for f in drop.glob("events-*.parquet"):
            t = pq.read_table(f, columns=["message_id", "account_id"])
            ids.update(t.column("message_id").to_pylist())
            accs.update(t.column("account_id").to_pylist())
    assert sum(c - 1 for c in ids.values() if c > 1) == d["duplicate"]["events"]
    unknown = set(m["unknown_accounts"])
    assert sum(c for a, c in accs.items() if a in unknown) == d["unknown_account"]["events"]
    assert all(a.startswith("acc_9") for a in unknown)
    assert not unknown & set(m["accounts"])


def test_no_dirt_when_rate_zero(runs):
    root = runs["clean"]
    m = meta(root)
    assert m["dirt"] == {}
    assert m["drops"]["incomplete"] is None and m["drops"]["missing"] == {}
    for source in SOURCES:
        drops = list((root / source).iterdir())
        assert len(drops) == 40 and all((p / "_SUCCESS").exists() for p in drops)
    bad, total, unknown_cols, records = scan(root)
    assert sum(bad.values()) == 0 and sum(unknown_cols.values()) == 0
    for obj, recs in records.items():
        o = next(x for x in CONTRACT_OBJECTS if x.name == obj)
        keys = [tuple(json.dumps(_lookup(r, f.path)[1]) for f in o.fields if f.column in o.key) for _, r in recs]
        assert len(keys) == len(set(keys)), obj
    accounts = set(m["accounts"])
    ids = []
    for drop in complete_drops(root, "usage"):
        for f in drop.glob("events-*.parquet"):
            t = pq.read_table(f, columns=["message_id", "account_id"])
            ids += t.column("message_id").to_pylist()
            assert set(t.column("account_id").to_pylist()) <= accounts
    assert len(ids) == len(set(ids))
    for _, r in records["nps_responses"]:
        assert r["account_id"] in accounts
    for _, r in records["organizations"]:
        assert r["external_id"] is None or r["external_id"] in accounts


def test_business_consistency(runs):
    root = runs["clean"]
    m = meta(root)
    _, _, _, records = scan(root)
    # every customer belongs to a known account; every account has one
    cust_acc = {r["id"]: r["metadata"]["account_id"] for _, r in records["customers"]}
    assert set(cust_acc.values()) == set(m["accounts"])
    # subscription events: land on their creation day (history in the first drop),
    # never two events of one subscription in the same second, known customers
    seen = Counter()
    for drop, ev in records["subscription_events"]:
        day = datetime.utcfromtimestamp(ev["created"]).strftime("%Y-%m-%d")
        assert day == drop or (drop == "2024-01-01" and day < drop)
        sub = ev["data"]["object"]
        seen[(sub["id"], ev["created"])] += 1
        assert sub["customer"] in cust_acc
        assert sub["items"]["data"]
        if ev["type"].endswith("deleted"):
            assert sub["status"] == "canceled" and sub["ended_at"] is not None
    assert max(seen.values()) == 1
    # fx: one rate per currency per drop day, for every currency used
    fx = Counter((r["date"], r["currency"]) for d, r in records["fx_rates"] if r["date"] == d)
    used = {r["currency"] for _, r in records["invoices"]}
    assert {"usd", "eur", "cny", "gbp"} >= used
    for drop in complete_drops(root, "billing"):
        for cur in ("usd", "eur", "gbp", "cny"):
            assert fx[(drop.name, cur)] == 1
    assert all(r["usd_per_unit"] == 1.0 for _, r in records["fx_rates"] if r["currency"] == "usd")
    # tickets reference organizations, which reference accounts
    orgs = {r["id"] for _, r in records["organizations"]}
    assert all(r["organization_id"] in orgs for _, r in records["tickets"])


def test_gzip_option(tmp_path):
    s = generate(str(tmp_path / "gz"), accounts=5, days=6, seed=3, gzip=True)
    files = list((tmp_path / "gz").rglob("*.jsonl*"))
    assert files and all(f.name.endswith(".jsonl.gz") for f in files)
    n = sum(len(read_lines(f)) for f in files if (f.parent / "_SUCCESS").exists()
            and f.name.startswith("subscription_events"))
    assert n == s["records"]["billing/subscription_events"]


def test_cli(tmp_path):
    from orchestration.lib.sample_data.__main__ import main
    assert main(["--accounts", "3", "--days", "5", "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    assert (tmp_path / "cli" / "_generator.json").exists()
    assert (tmp_path / "cli" / "usage" / "2024-01-05" / "_SUCCESS").exists()
