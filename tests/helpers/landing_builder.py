"""Build small landing zones by hand for tests: drops, objects and _SUCCESS markers."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.ingestion.contracts import OBJECTS

EVENT_SCHEMA = pa.schema([
    ("message_id", pa.string()), ("account_id", pa.string()), ("user_id", pa.string()),
    ("event", pa.string()), ("feature", pa.string()),
    ("timestamp", pa.timestamp("us", tz="UTC")), ("received_at", pa.timestamp("us", tz="UTC")),
])


def unix(s: str) -> int:
    """'2024-01-15' or '2024-01-15T10:00:00' (UTC) -> unix seconds."""
    d = dt.datetime.fromisoformat(s)
    return int(d.replace(tzinfo=dt.UTC).timestamp())


def utc(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=dt.UTC)


class Landing:
    """landing = Landing(tmp_path); landing.add('billing', '2024-01-01', 'customers', [...])."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.drops: dict[tuple[str, str], dict[str, list]] = {}

    def add(self, source: str, drop: str, obj: str, records: list) -> Landing:
        self.drops.setdefault((source, drop), {}).setdefault(obj, []).extend(records)
        return self

    def write(self, complete: bool = True, only: tuple[str, str] | None = None) -> Path:
        for (source, drop), objs in self.drops.items():
            if only and (source, drop) != only:
                continue
            d = self.root / source / drop
            d.mkdir(parents=True, exist_ok=True)
            for o in OBJECTS:
                if o.source != source:
                    continue
                recs = objs.get(o.name, [])
                if o.file_format == "parquet":
                    cols = {k: [r.get(k) for r in recs] for k in EVENT_SCHEMA.names}
                    pq.write_table(pa.table(cols, schema=EVENT_SCHEMA), d / f"{o.name}-0000.parquet")
                else:
                    with open(d / f"{o.name}.jsonl", "w") as f:
                        for r in recs:
                            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
            if complete:
                (d / "_SUCCESS").touch()
        return self.root


def customer(cid: str, account: str, created: str, updated: str | None = None, segment="smb",
             currency="usd", **meta) -> dict:
    return {"id": cid, "name": f"{account} Inc", "email": f"billing@{account}.example",
            "currency": currency, "created": unix(created), "updated": unix(updated or created),
            "deleted": False,
            "metadata": {"account_id": account, "segment": segment, "industry": "software",
                         "region": "emea", "csm_owner": "Alice", **meta}}


def item(unit_amount: int, quantity: int = 1, interval: str = "month", interval_count: int = 1,
         currency: str = "usd", price_id: str = "price_1", item_id: str = "si_1") -> dict:
    return {"id": item_id, "quantity": quantity,
            "price": {"id": price_id, "product": "prod_1", "unit_amount": unit_amount,
                      "currency": currency,
                      "recurring": {"interval": interval, "interval_count": interval_count}}}


def sub_event(evt: str, at: str, sub: str, customer_id: str, status: str, items: list,
              etype: str = "customer.subscription.updated", period_start: str | None = None,
              period_end: str | None = None, currency: str = "usd", cancel_at_period_end=False,
              canceled_at: str | None = None, ended_at: str | None = None,
              start: str | None = None) -> dict:
    return {"id": evt, "type": etype, "created": unix(at), "data": {"object": {
        "id": sub, "customer": customer_id, "status": status,
        "start_date": unix(start or at), "current_period_start": unix(period_start or at),
        "current_period_end": unix(period_end or at), "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": unix(canceled_at) if canceled_at else None,
        "ended_at": unix(ended_at) if ended_at else None, "currency": currency,
        "items": {"object": "list", "data": items}}}}


def fx(date: str, currency: str, rate: float) -> dict:
    return {"date": date, "currency": currency, "usd_per_unit": rate}
