"""Sample landing-zone generator: a simulated SaaS business delivered as daily drops.

    python -m orchestration.lib.sample_data --accounts 500 --days 540 --seed 7 --out data/landing

or from Python::

    from orchestration.lib.sample_data import generate
    summary = generate("data/landing", accounts=20, days=40, seed=7)

Layout (docs/source_contract.md): ``<out>/<source>/<YYYY-MM-DD>/<object>.<ext>`` with a
``_SUCCESS`` marker in each complete drop, plus ``<out>/_generator.json`` (parameters,
counts, dirt counts and per-account ground truth). Same arguments, same bytes.
"""
from __future__ import annotations

import gzip as gzip_mod
import os
import shutil
import sys
import time
from datetime import UTC, datetime

import numpy as np
import orjson

from orchestration.lib.ingestion.contracts import SOURCES
from orchestration.lib.sample_data import catalog as C
from orchestration.lib.sample_data.business import Ctx, simulate_account
from orchestration.lib.sample_data.dirt import REJECTED_KINDS, Dirt
from orchestration.lib.sample_data.engagement import TicketIds, _ticket, simulate_engagement
from orchestration.lib.sample_data.usage import EventStream, UsageModel
from orchestration.lib.sample_data.util import DAY, day_str, iso, poisson, rng_for

__all__ = ["generate", "SOURCES", "OBJECTS"]

OBJECTS = {
    "billing": ("customers", "subscription_events", "invoices", "fx_rates"),
    "usage": ("events", "users"),
    "ticketing": ("organizations", "tickets", "nps_responses"),
}
SOURCE_OF = {o: s for s, objs in OBJECTS.items() for o in objs}
# objects already written when the trailing incomplete drop is cut off
PARTIAL_OBJECTS = {"billing": ("customers", "subscription_events", "invoices"),
                   "usage": ("events",),
                   "ticketing": ("organizations", "tickets")}
# history before the first drop is delivered in it; for these only the latest version per id
BACKFILL_LATEST = {"customers", "invoices", "users", "organizations", "tickets"}
PREHISTORY_DAYS = 910            # accounts may start up to 900 days before the first drop
CHUNK = 2000                     # accounts simulated and written per batch (fixed: part of the output's identity)
N_UNKNOWN_ACCOUNTS = 40


class _Progress:
    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.last = 0.0
        self.t0 = time.perf_counter()
        self.shown = False

    def __call__(self, label: str, i: int, n: int, extra: str = "", force: bool = False) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if now - self.t0 < 1.0 or (not force and now - self.last < 0.5):
            return
        self.last = now
        width = 30
        k = int(width * i / max(1, n))
        sys.stderr.write(f"\r{label:<9} [{'#' * k}{'.' * (width - k)}] {i}/{n} {extra}   ")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown and not self.quiet:
            sys.stderr.write("\n")
            sys.stderr.flush()
        self.shown = False


def _unknown_accounts(n_accounts: int) -> list[str]:
    width = max(5, len(str(n_accounts)))
    if n_accounts < 90_000:
        return [f"acc_{98_000 + 37 * k:05d}" for k in range(N_UNKNOWN_ACCOUNTS)]
    return [f"acc_9{(37 * k):0{width}d}" for k in range(N_UNKNOWN_ACCOUNTS)]


def _fx_rows(seed: int, t0: int, first_day: int, last_day: int):
    """Daily usd_per_unit per currency: a mean-reverting random walk in log space."""
    out = []
    n = last_day - first_day + 1
    series = {}
    for cur in C.CURRENCIES:
        start, sd = C.FX_START[cur]
        if sd == 0:
            series[cur] = np.ones(n)
            continue
        rng = np.random.default_rng([seed, 31, C.CURRENCIES.index(cur)])
        shocks = rng.normal(0, sd, n)
        x = np.empty(n)
        v = 0.0
        for i in range(n):
            v = v * 0.998 + shocks[i]
            x[i] = v
        x -= x[-first_day] if 0 <= -first_day < n else 0.0    # the start rate on the first drop day
        series[cur] = start * np.exp(x)
    for i in range(n):
        d = first_day + i
        ds = day_str(t0, d)
        for cur in C.CURRENCIES:
            val = float(series[cur][i])
            out.append((d, {"date": ds, "currency": cur, "usd_per_unit": 1.0 if cur == "usd" else float(f"{val:.6g}")}))
    return out


def generate(out: str = "data/landing", accounts: int = 500, days: int = 540, seed: int = 7,
             start_date: str = "2024-01-01", dirt_rate: float = 0.002,
             events_per_user_day: float = 2.0, late_rate: float = 0.03, gzip: bool = False,
             quiet: bool = True) -> dict:
    """Write the landing zone under ``out`` and return a summary dict.

    ``dirt_rate=0`` disables every kind of dirt (also the trailing incomplete drop and the
    missing ticketing day); late-arriving events are governed by ``late_rate`` instead.
    """
    if accounts < 1 or days < 1:
        raise ValueError("accounts and days must be >= 1")
    wall0 = time.perf_counter()
    prog = _Progress(quiet)
    t0 = int(datetime.strptime(start_date, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    dirty = dirt_rate > 0
    n_complete = days
    partial = dirty
    n_drops = days + (1 if partial else 0)
    horizon = t0 + n_drops * DAY
    missing_day = days // 2 if (dirty and days >= 4) else None
    unknown = _unknown_accounts(accounts)
    dirt = Dirt(seed, dirt_rate, unknown)

    # ------------------------------------------------------------------ layout
    os.makedirs(out, exist_ok=True)
    for s in SOURCES:
        shutil.rmtree(os.path.join(out, s), ignore_errors=True)
    gen_path = os.path.join(out, "_generator.json")
    if os.path.exists(gen_path):
        os.remove(gen_path)
    names = [day_str(t0, d) for d in range(n_drops)]

    def folder(source: str, d: int) -> str | None:
        if source == "ticketing" and d == missing_day:
            return None
        return os.path.join(out, source, names[d])

    def objects_in(source: str, d: int):
        if partial and d == n_drops - 1:
            return PARTIAL_OBJECTS[source]
        return OBJECTS[source]

    for s in SOURCES:
        for d in range(n_drops):
            f = folder(s, d)
            if f is None:
                continue
            os.makedirs(f)
            for o in objects_in(s, d):
                if o != "events":
                    open(os.path.join(f, o + ".jsonl"), "wb").close()

    lines = {o: 0 for s in SOURCES for o in OBJECTS[s]}
    lines_partial = {o: 0 for s in SOURCES for o in OBJECTS[s]}

    def drop_of(obj: str, t: int) -> int:
        d = (t - t0) // DAY
        d = 0 if d < 0 else d
        if SOURCE_OF[obj] == "ticketing" and d == missing_day:
            d += 1
        return d

    def write_entries(obj: str, entries: list) -> None:
        """entries: [drop, sortkey, dict|bytes] -> appended to the drop files, sorted."""
        src = SOURCE_OF[obj]
        by_drop: dict[int, list] = {}
        for e in entries:
            by_drop.setdefault(e[0], []).append(e)
        for d in sorted(by_drop):
            if d >= n_drops or obj not in objects_in(src, d):
                continue
            f = folder(src, d)
            if f is None:
                continue
            es = by_drop[d]
            es.sort(key=lambda e: e[1])
            buf = bytearray()
            for e in es:
                p = e[2]
                buf += (p if isinstance(p, bytes) else orjson.dumps(p))
                buf += b"\n"
            with open(os.path.join(f, obj + ".jsonl"), "ab") as fh:
                fh.write(buf)
            if partial and d == n_drops - 1:
                lines_partial[obj] += len(es)
            else:
                lines[obj] += len(es)

    # ------------------------------------------------------------------ fx rates
    fx = _fx_rows(seed, t0, -PREHISTORY_DAYS, n_drops - 1)
    fx_entries = [[max(0, d), (d, i), rec] for i, (d, rec) in enumerate(fx)]
    fx_entries += dirt.apply(0, "fx_rates", fx_entries, n_complete, lambda d: names[d])
    write_entries("fx_rates", fx_entries)

    # ------------------------------------------------------------------ accounts
    ctx = Ctx(seed=seed, t0=t0, horizon=horizon, n_accounts=accounts,
              truth_cutoff=t0 + n_complete * DAY)
    model = UsageModel(accounts, n_drops)
    tids = TicketIds()
    truth: dict[str, dict] = {}
    n_chunks = -(-accounts // CHUNK)
    for c in range(n_chunks):
        by_obj: dict[str, list] = {}
        seq = 0
        backfill: dict[tuple, list] = {}

        def add(obj, t, rid, rec):
            nonlocal seq
            seq += 1
            if t < t0 and obj in BACKFILL_LATEST:
                k = (obj, rid)
                prev = backfill.get(k)  # noqa: B023 (add() runs within its iteration)
                if prev is None or t >= prev[0]:
                    backfill[k] = [t, seq, rec]  # noqa: B023
                return
            by_obj.setdefault(obj, []).append([drop_of(obj, t), (t, seq), rec])  # noqa: B023

        for i in range(c * CHUNK, min(accounts, (c + 1) * CHUNK)):
            res = simulate_account(ctx, i)
            eng = simulate_engagement(res, seed, t0, n_drops, horizon, tids)
            model.add(i, res.account_id, eng)
            for obj, t, rid, rec in res.records:
                add(obj, t, rid, rec)
            for obj, t, rid, rec in eng.records:
                add(obj, t, rid, rec)
            truth[res.account_id] = _truth(res, eng, t0)
            prog("accounts", i + 1, accounts)
        # partner / reseller organisations without an account (external_id null)
        orng = rng_for(seed, "orphans", c)
        n_in_chunk = min(accounts, (c + 1) * CHUNK) - c * CHUNK
        for k in range(1 + n_in_chunk // 150):
            oid = str(369_000_000_000 + c * 1000 + k)
            ot = t0 - int(orng.uniform(0, 300) * DAY)
            add("organizations", ot, oid, {"id": oid, "name": f"{orng.choice(C.NAME_A)} Consulting Partners",
                                            "external_id": None, "updated_at": iso(ot, 0, z=True)})
            recs: list = []
            for j in range(poisson(orng, 2 + days / 120)):
                ct = t0 + int(orng.uniform(0, days) * DAY)
                _ticket(recs, orng, str(800_000_000 + c * 10_000 + k * 100 + j), oid,
                        str(390_000_000_000 + c * 1000 + k), ct, horizon, 0.0, 0.0, 0)
            for obj, t, rid, rec in recs:
                add(obj, t, rid, rec)
        for (obj, _), (t, s_, rec) in sorted(backfill.items(), key=lambda kv: kv[1][1]):
            by_obj.setdefault(obj, []).append([0, (t, s_), rec])
        for s in SOURCES:
            for obj in OBJECTS[s]:
                if obj in ("events", "fx_rates"):
                    continue
                entries = by_obj.get(obj, [])
                entries = entries + dirt.apply(c, obj, entries, n_complete, lambda d: names[d])
                write_entries(obj, entries)
    prog("accounts", accounts, accounts, force=True)
    prog.done()

    # ------------------------------------------------------------------ usage events
    model.finish(unknown, seed)

    def usage_dir(d):
        return folder("usage", d)

    stream = EventStream(model, seed, t0, events_per_user_day, late_rate, dirt_rate, n_drops,
                         usage_dir, n_complete)
    ev0 = time.perf_counter()
    for d in range(n_drops):
        stream.step(d)
        el = time.perf_counter() - ev0
        prog("events", d + 1, n_drops,
             f"{stream.rows_written / 1e6:.1f}M events {stream.rows_written / max(el, 1e-9) / 1e6:.2f}M/s")
    stream.close()
    ev_elapsed = time.perf_counter() - ev0
    prog.done()
    if dirty:
        dirt.count("duplicate", "events", stream.dups)
        dirt.count("unknown_account", "events", stream.unknown)
        dirt.items.extend(stream.dirt_items[:50])
        dirt.count("incomplete_drop", "billing", 1, names[-1])
        dirt.count("incomplete_drop", "usage", 1, names[-1])
        dirt.count("incomplete_drop", "ticketing", 1, names[-1])
        if missing_day is not None:
            dirt.count("missing_drop", "ticketing", 1, names[missing_day])

    # ------------------------------------------------------------------ finalise
    for s in SOURCES:
        for d in range(n_drops):
            f = folder(s, d)
            if f is None:
                continue
            if gzip:
                for o in objects_in(s, d):
                    if o == "events":
                        continue
                    _gzip_file(os.path.join(f, o + ".jsonl"))
            if not (partial and d == n_drops - 1):
                open(os.path.join(f, "_SUCCESS"), "wb").close()

    counts = {f"{SOURCE_OF[o]}/{o}": lines[o] for o in lines if o != "events"}
    counts["usage/events"] = stream.rows_written - stream.rows_partial
    counts_partial = {f"{SOURCE_OF[o]}/{o}": lines_partial[o] for o in lines_partial if o != "events"}
    counts_partial["usage/events"] = stream.rows_partial
    dirt_counts = {k: dict(sorted(v.items())) for k, v in sorted(dirt.counts.items())}
    rejected = sum(v for k, objs in dirt.counts.items() if k in REJECTED_KINDS for v in objs.values())
    segs = {}
    for t in truth.values():
        segs[t["segment"]] = segs.get(t["segment"], 0) + 1
    meta = {
        "generator": "orchestration.lib.sample_data",
        "format_version": 1,
        "params": {"accounts": accounts, "days": days, "seed": seed, "start_date": start_date,
                   "dirt_rate": dirt_rate, "events_per_user_day": events_per_user_day,
                   "late_rate": late_rate, "gzip": gzip},
        "drops": {"first": names[0], "last_complete": names[n_complete - 1],
                  "incomplete": names[-1] if partial else None,
                  "missing": {"ticketing": [names[missing_day]]} if missing_day is not None else {}},
        "summary": {
            "records": counts,
            "records_in_incomplete_drop": counts_partial,
            "usage_events_generated": stream.events_generated,
            "late_events": stream.late,
            "users": model.n_users,
            "accounts_by_segment": dict(sorted(segs.items())),
            "accounts_churned": sum(1 for t in truth.values() if t["churned"]),
            "accounts_reactivated": sum(1 for t in truth.values() if t["reactivation_dates"]),
            "expected_rejects": rejected,
        },
        "dirt": dirt_counts,
        "dirt_samples": dirt.items,
        "unknown_accounts": unknown if dirty else [],
        "accounts": truth,
    }
    with open(gen_path, "wb") as fh:
        fh.write(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    elapsed = time.perf_counter() - wall0
    summary = dict(meta["summary"])
    summary.update({"dirt": dirt_counts, "out": out, "elapsed_s": round(elapsed, 3),
                    "events_elapsed_s": round(ev_elapsed, 3),
                    "events_per_s": round(stream.rows_written / max(ev_elapsed, 1e-9))})
    return summary


def _gzip_file(path: str) -> None:
    gz = path + ".gz"
    if os.path.getsize(path) == 0:
        os.replace(path, gz)             # an empty object stays a zero-byte file
        return
    with open(path, "rb") as src, open(gz, "wb") as raw:
        with gzip_mod.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as z:
            shutil.copyfileobj(src, z)
    os.remove(path)


def _dates(t0: int, ts: list) -> list[str]:
    return [datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d") for t in ts]


def _truth(res, eng, t0: int) -> dict:
    tr = res.truth
    asof = tr["asof"]
    return {
        "name": res.name, "segment_initial": tr["segment_initial"], "segment": asof["segment"],
        "region": res.region, "currency": res.currency, "industry": res.industry,
        "start_date": _dates(t0, [res.start_t])[0],
        "existed_before_first_drop": res.start_t < t0,
        "trial": tr["trial"], "ever_paid": asof["ever_paid"],
        "churned": asof["churned"], "churn_dates": _dates(t0, asof["churn_times"]),
        "reactivation_dates": _dates(t0, asof["reactivation_times"]),
        "paying_at_end": asof["paying"],
        "customers": sorted({r[3]["id"] for r in res.records if r[0] == "customers"}),
        "expansions": len(res.expansion_times), "contractions": len(res.contraction_times),
        "health_latent": round(res.health, 3),
        "users": eng.truth["users"], "tickets": eng.truth["tickets"],
        "nps_responses": eng.truth["nps_responses"], "champion_lost": eng.truth["champion_lost"],
        "organization_id": eng.truth["organization_id"],
    }
