"""Deliberate dirt for the JSONL objects (see the dirt table in docs/source_contract.md).

All dirt is *additive* except ``unknown_column`` (an extra key on a real record): the clean
business history is always complete, and each dirty record is either an exact duplicate or a
separate record with its own fresh id, so quarantining it loses nothing. Subscription events
and fx rates only get exact duplicates and one invalid JSON line.
"""
from __future__ import annotations

import random

import numpy as np
import orjson

from orchestration.lib.ingestion.contracts import get_object
from orchestration.lib.sample_data.util import b62

KINDS = {
    "customers": ("invalid_json", "missing_field", "wrong_type", "duplicate", "unknown_column"),
    "subscription_events": ("invalid_json", "duplicate"),
    "invoices": ("invalid_json", "missing_field", "wrong_type", "duplicate", "unknown_column",
                 "negative_amount", "unknown_currency"),
    "fx_rates": ("invalid_json", "duplicate"),
    "users": ("invalid_json", "missing_field", "wrong_type", "duplicate", "unknown_column"),
    "organizations": ("invalid_json", "duplicate", "unknown_column", "unknown_account"),
    "tickets": ("invalid_json", "missing_field", "wrong_type", "duplicate", "unknown_column"),
    "nps_responses": ("invalid_json", "missing_field", "wrong_type", "duplicate",
                      "unknown_account", "score_out_of_range"),
}
# kinds the ingestion must quarantine (one rejected line each)
REJECTED_KINDS = ("invalid_json", "missing_field", "wrong_type", "negative_amount",
                  "unknown_currency", "score_out_of_range")
# exactly one line in the whole run, whatever the rate
ONCE = {("subscription_events", "invalid_json"), ("fx_rates", "invalid_json")}
SOURCE_OF = {"customers": "billing", "subscription_events": "billing", "invoices": "billing",
             "fx_rates": "billing", "users": "usage", "organizations": "ticketing",
             "tickets": "ticketing", "nps_responses": "ticketing"}
ID_PATH = {"customers": "id", "invoices": "id", "users": "user_id", "organizations": "id",
           "tickets": "id", "nps_responses": "id", "subscription_events": "id", "fx_rates": "date"}
EXTRA_COLUMN = {
    "customers": ("livemode", False),
    "invoices": ("hosted_invoice_url", "https://pay.example.com/i/"),
    "users": ("timezone", "Europe/Berlin"),
    "organizations": ("domain_names", []),
    "tickets": ("via", {"channel": "web", "source": {"rel": None}}),
}


def _required_paths(obj: str) -> list[tuple[str, str]]:
    ro = get_object(SOURCE_OF[obj], obj)
    return [(f.path, f.type) for f in ro.fields if f.required and f.path != ID_PATH[obj]]


def _del_path(rec: dict, path: str) -> None:
    parts = path.split(".")
    cur = rec
    for p in parts[:-1]:
        cur = cur[p]
    cur.pop(parts[-1], None)


def _get(rec, path):
    cur = rec
    for p in path.split("."):
        cur = cur[p]
    return cur


def _set(rec, path, value):
    parts = path.split(".")
    cur = rec
    for p in parts[:-1]:
        cur = cur[p]
    cur[parts[-1]] = value


def _wrong(value, typ):
    if typ in ("unix", "int", "float"):
        return str(value)                      # "1704067200"
    if typ == "bool":
        return "yes"
    if typ == "ts":
        return 1704067200                      # unix where an ISO string is expected
    return 12345                               # number where a string is expected


def copy_rec(rec: dict) -> dict:
    return orjson.loads(orjson.dumps(rec))


class Dirt:
    """Collects dirt counts and a sample of dirty ids over the whole run."""

    def __init__(self, seed: int, rate: float, unknown_accounts: list[str]):
        self.seed = seed
        self.rate = rate
        self.unknown_accounts = unknown_accounts
        self.counts: dict[str, dict[str, int]] = {}
        self.items: list[dict] = []
        self._fresh = 0
        self._once_done: set = set()

    def count(self, kind: str, obj: str, n: int = 1, drop: str | None = None, rid=None) -> None:
        self.counts.setdefault(kind, {}).setdefault(obj, 0)
        self.counts[kind][obj] += n
        if rid is not None and sum(1 for i in self.items if i["kind"] == kind and i["object"] == obj) < 50:
            self.items.append({"kind": kind, "object": obj, "drop": drop, "id": rid})

    def fresh_id(self, obj: str, rng: random.Random) -> str:
        self._fresh += 1
        if obj == "customers":
            return "cus_" + b62(rng, 14)
        if obj == "invoices":
            return "in_" + b62(rng, 24)
        if obj == "users":
            return "usr_" + b62(rng, 16)
        if obj == "tickets":
            return str(900_000_000 + self._fresh)
        if obj == "organizations":
            return str(369_900_000_000 + self._fresh)
        return "nps_" + b62(rng, 14)

    def apply(self, chunk: int, obj: str, entries: list, n_complete: int, drop_name) -> list:
        """entries: [drop, sortkey(tuple), rec(dict)] of one object in one chunk.
        Returns extra entries [drop, sortkey, bytes|dict]; may mutate records in place
        (unknown_column). Only records of complete drops are used as templates."""
        if self.rate <= 0 or not entries:
            return []
        cand = [i for i, e in enumerate(entries) if e[0] < n_complete]
        if not cand:
            return []
        extras = []
        rng = random.Random(f"{self.seed}|dirt|{chunk}|{obj}")
        nprng = np.random.default_rng([self.seed, 4242, chunk, len(obj)])
        for kind in KINDS[obj]:
            if (obj, kind) in ONCE:
                if chunk != 0 or (obj, kind) in self._once_done:
                    continue
                self._once_done.add((obj, kind))
                k = 1
            else:
                k = int(nprng.binomial(len(cand), self.rate)) + (1 if chunk == 0 else 0)
            for _ in range(k):
                i = cand[rng.randrange(len(cand))]
                drop, key, rec = entries[i]
                dname = drop_name(drop)
                after = key + (1,)
                if kind == "invalid_json":
                    line = orjson.dumps(rec)
                    extras.append([drop, after, line[: max(5, len(line) // 2)]])
                    self.count(kind, obj, 1, dname, _get(rec, ID_PATH[obj]))
                elif kind == "duplicate":
                    d2 = drop
                    if rng.random() < 0.4:
                        d2 = min(drop + rng.randint(1, 3), n_complete - 1)
                    extras.append([d2, after if d2 == drop else (-1,) + key, rec])
                    self.count(kind, obj, 1, drop_name(d2), _get(rec, ID_PATH[obj]))
                elif kind == "unknown_column":
                    col, val = EXTRA_COLUMN[obj]
                    if col not in rec:
                        rec[col] = val
                        self.count(kind, obj, 1, dname, _get(rec, ID_PATH[obj]))
                else:
                    bad = copy_rec(rec)
                    fid = self.fresh_id(obj, rng)
                    _set(bad, ID_PATH[obj], fid)
                    if kind == "missing_field":
                        path, _ = rng.choice(_required_paths(obj))
                        _del_path(bad, path)
                    elif kind == "wrong_type":
                        path, typ = rng.choice(_required_paths(obj))
                        _set(bad, path, _wrong(_get(bad, path), typ))
                    elif kind == "negative_amount":
                        bad["amount_due"] = -max(100, abs(bad["amount_due"]))
                        bad["amount_paid"] = 0
                    elif kind == "unknown_currency":
                        bad["currency"] = "zzz"
                    elif kind == "score_out_of_range":
                        bad["score"] = rng.choice((-1, 11, 12))
                    elif kind == "unknown_account":
                        acc = self.unknown_accounts[rng.randrange(len(self.unknown_accounts))]
                        if obj == "organizations":
                            bad["external_id"] = acc
                            bad["name"] = "Unknown Holdings " + acc[-4:]
                        else:
                            bad["account_id"] = acc
                            bad["user_id"] = "usr_" + b62(rng, 16)
                    extras.append([drop, after, bad])
                    self.count(kind, obj, 1, dname, fid)
        return extras
