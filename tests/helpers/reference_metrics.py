"""An independent, plain-Python implementation of the revenue metrics in docs/metrics.md, read
straight from a landing zone (no SQL, no shared code with the pipeline). Used to check the
dbt marts on generated landing zones."""
from __future__ import annotations

import calendar
import datetime as dt
import gzip
import json
from collections import defaultdict
from pathlib import Path

PAYING = {"active", "past_due"}
EXPONENT = {"jpy": 0, "krw": 0}   # every other currency in the samples has 2 decimals


def _lines(path: Path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                yield rec


def _records(landing: Path, obj: str):
    root = landing / "billing"
    for d in sorted(root.iterdir()):
        if not (d / "_SUCCESS").exists():
            continue
        for name in (f"{obj}.jsonl", f"{obj}.jsonl.gz"):
            if (d / name).exists() and (d / name).stat().st_size:
                for rec in _lines(d / name):
                    yield d.name, rec


def _day(unix: int) -> dt.date:
    return dt.datetime.fromtimestamp(unix, dt.UTC).date()


def month_end(m: dt.date) -> dt.date:
    return m.replace(day=calendar.monthrange(m.year, m.month)[1])


def add_months(m: dt.date, n: int) -> dt.date:
    y, mo = divmod(m.year * 12 + m.month - 1 + n, 12)
    return dt.date(y, mo + 1, 1)


class Reference:
    def __init__(self, landing: Path):
        landing = Path(landing)
        drops = [d.name for s in ("billing", "usage", "ticketing") if (landing / s).exists()
                 for d in (landing / s).iterdir() if (d / "_SUCCESS").exists()]
        self.as_of = dt.date.fromisoformat(max(drops))
        # customers: latest updated wins
        cust = {}
        for _, c in _records(landing, "customers"):
            if not isinstance(c.get("id"), str) or not isinstance(c.get("updated"), int):
                continue
            if c["id"] not in cust or c["updated"] >= cust[c["id"]]["updated"]:
                cust[c["id"]] = c
        self.customer_account = {k: (v.get("metadata") or {}).get("account_id") for k, v in cust.items()}
        by_account = {}
        for c in cust.values():
            acc = (c.get("metadata") or {}).get("account_id")
            if acc and (acc not in by_account or c["updated"] > by_account[acc]["updated"]):
                by_account[acc] = c
        self.segment = {a: (c.get("metadata") or {}).get("segment") or "unknown" for a, c in by_account.items()}
        # fx
        self.fx = {}
        for _, r in _records(landing, "fx_rates"):
            if isinstance(r.get("usd_per_unit"), (int, float)):
                self.fx[(r["date"], r["currency"].lower())] = float(r["usd_per_unit"])
        # subscription events, first delivery per id
        events = {}
        for _, e in _records(landing, "subscription_events"):
            if isinstance(e.get("id"), str) and e["id"] not in events:
                events[e["id"]] = e
        self.subs = defaultdict(list)
        for e in events.values():
            o = e["data"]["object"]
            self.subs[o["id"]].append(e)
        for evs in self.subs.values():
            evs.sort(key=lambda e: e["created"])
        self._daily = self._account_daily()

    def state_mrr(self, e) -> float:
        o = e["data"]["object"]
        if o["status"] not in PAYING:
            return 0.0
        day = _day(e["created"]).isoformat()
        total = 0.0
        for it in o["items"]["data"]:
            p = it["price"]
            cur = p["currency"].lower()
            months = p["recurring"]["interval_count"] * (12 if p["recurring"]["interval"] == "year" else 1)
            rate = 1.0 if cur == "usd" else self.fx[(day, cur)]
            total += it["quantity"] * p["unit_amount"] / 10 ** EXPONENT.get(cur, 2) / months * rate
        return total

    def _account_daily(self) -> dict[str, dict[dt.date, float]]:
        """account -> day -> MRR rounded to the cent, from the account's first event to as-of."""
        per_account_subs = defaultdict(list)
        for evs in self.subs.values():
            acc = self.customer_account.get(evs[0]["data"]["object"]["customer"])
            if acc:
                per_account_subs[acc].append(evs)
        out = {}
        for acc, subs in per_account_subs.items():
            raw = defaultdict(float)
            first = min(_day(evs[0]["created"]) for evs in subs)
            for evs in subs:
                # day-end states
                day_state = {}
                for e in evs:
                    day_state[_day(e["created"])] = self.state_mrr(e)
                days = sorted(day_state)
                for i, d0 in enumerate(days):
                    d1 = days[i + 1] if i + 1 < len(days) else self.as_of + dt.timedelta(days=1)
                    d = d0
                    while d < d1 and d <= self.as_of:
                        raw[d] += day_state[d0]
                        d += dt.timedelta(days=1)
            series = {}
            d = first
            while d <= self.as_of:
                series[d] = round(raw.get(d, 0.0) + 1e-9, 2)
                d += dt.timedelta(days=1)
            out[acc] = series
        return out

    def mrr(self, acc: str, d: dt.date) -> float:
        return self._daily.get(acc, {}).get(d, 0.0)

    def month_end_mrr(self, acc: str, m: dt.date) -> float:
        return self.mrr(acc, min(month_end(m), self.as_of))

    def months(self):
        first = min(min(s) for s in self._daily.values()).replace(day=1)
        m, out = first, []
        while m <= self.as_of:
            out.append(m)
            m = add_months(m, 1)
        return out

    def movements(self) -> dict[tuple[str, dt.date], tuple[str, float]]:
        out = {}
        for acc, series in self._daily.items():
            # "had MRR before M" is read on month-end MRR, like every movement: days paid
            # inside a month that ended at 0 do not count
            had_before = False
            for m in self.months():
                if month_end(m) < min(series):
                    continue
                cur, prev = self.month_end_mrr(acc, m), self.month_end_mrr(acc, add_months(m, -1))
                if cur > 0 and not had_before:
                    t, a = "new", cur
                elif cur > 0 and prev == 0:
                    t, a = "reactivation", cur
                elif cur == 0 and prev > 0:
                    t, a = "churn", -prev
                elif cur > prev > 0:
                    t, a = "expansion", cur - prev
                elif 0 < cur < prev:
                    t, a = "contraction", cur - prev
                else:
                    t, a = "unchanged", 0.0
                out[(acc, m)] = (t, round(a, 2))
                had_before = had_before or cur > 0
        return out

    def retention(self) -> dict[tuple[dt.date, str], tuple]:
        months = self.months()
        out = {}
        for m in months:
            if month_end(m) > self.as_of or add_months(m, -12) < months[0]:
                continue
            groups = defaultdict(list)
            for acc in self._daily:
                start = self.month_end_mrr(acc, add_months(m, -12))
                if start > 0:
                    end = self.month_end_mrr(acc, m)
                    groups["all"].append((start, end))
                    groups[self.segment.get(acc, "unknown")].append((start, end))
            for seg, rows in groups.items():
                s = sum(a for a, _ in rows)
                e = sum(b for _, b in rows)
                out[(m, seg)] = (len(rows), sum(1 for _, b in rows if b > 0), round(s, 2), round(e, 2),
                                 sum(1 for _, b in rows if b > 0) / len(rows),
                                 sum(min(a, b) for a, b in rows) / s, e / s)
        return out

    def renewals(self) -> dict[tuple[str, dt.date], tuple]:
        due = set()
        for evs in self.subs.values():
            acc = self.customer_account.get(evs[0]["data"]["object"]["customer"])
            for e in evs:
                o = e["data"]["object"]
                annual = any(it["price"]["recurring"]["interval"] == "year" for it in o["items"]["data"])
                if acc and annual and o["status"] in PAYING and o.get("current_period_end"):
                    due.add((acc, _day(o["current_period_end"])))
        out = {}
        for acc, d in due:
            decide = d + dt.timedelta(days=30)
            prior = 12 * self.mrr(acc, min(d - dt.timedelta(days=1), self.as_of))
            if decide > self.as_of:
                out[(acc, d)] = ("pending", round(prior, 2), None)
            elif self.mrr(acc, decide) > 0:
                out[(acc, d)] = ("renewed", round(prior, 2), round(12 * self.mrr(acc, decide), 2))
            else:
                out[(acc, d)] = ("churned", round(prior, 2), 0.0)
        return out
