"""Vectorised product-event generation (Segment-shaped), streamed one drop day at a time.

All per-event work is numpy; strings are built with Arrow ``take`` from small dictionaries
(account ids, user ids, event names) and the message ids are written straight into an Arrow
string buffer, so no Python object is created per event.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.sample_data import catalog as C
from orchestration.lib.sample_data.util import DAY

EVENT_SCHEMA = pa.schema([
    pa.field("message_id", pa.string()),
    pa.field("account_id", pa.string()),
    pa.field("user_id", pa.string()),
    pa.field("event", pa.string()),
    pa.field("feature", pa.string()),
    pa.field("timestamp", pa.timestamp("us", tz="UTC")),
    pa.field("received_at", pa.timestamp("us", tz="UTC")),
])
PART_ROWS = 4_000_000      # rows per events-NNNN.parquet part
WRITE_OPTS = dict(compression="zstd", compression_level=1,
                  use_dictionary=["account_id", "user_id", "event", "feature"],
                  write_statistics=False, row_group_size=1 << 20)

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# byte -> two hex characters, as one little-endian uint16
_LUT16 = (_HEX[np.arange(256) >> 4].astype(np.uint16)
          | (_HEX[np.arange(256) & 15].astype(np.uint16) << 8))


def uuid_strings(rng: np.random.Generator, n: int) -> pa.Array:
    """n random UUID4 strings as an Arrow string array, built without Python objects."""
    b = np.frombuffer(rng.bytes(n * 16), dtype=np.uint8).reshape(n, 16).copy()
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    hx = _LUT16[b].view(np.uint8)            # [n, 32] hex characters
    out = np.empty((n, 36), dtype=np.uint8)
    out[:, 0:8] = hx[:, 0:8]
    out[:, 9:13] = hx[:, 8:12]
    out[:, 14:18] = hx[:, 12:16]
    out[:, 19:23] = hx[:, 16:20]
    out[:, 24:36] = hx[:, 20:32]
    out[:, [8, 13, 18, 23]] = ord("-")
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out.reshape(-1)))


class UsageModel:
    """Compact arrays describing every account and user, enough to draw any day's events."""

    def __init__(self, n_accounts: int, n_days: int):
        self.n = n_accounts
        self.n_days = n_days
        self.intensity = np.zeros((n_days, n_accounts), dtype=np.uint8)
        self.dist = np.zeros((n_accounts * 4, len(C.EVENTS)), dtype=np.float64)
        self.peak = np.zeros(n_accounts, dtype=np.int64)
        self.account_ids: list[str] = []
        self._users: list = []          # per account: list of user rows
        self._windows: list = []

    def add(self, index: int, account_id: str, eng) -> None:
        self.account_ids.append(account_id)
        self.intensity[:, index] = eng.intensity
        self.dist[index * 4:(index + 1) * 4] = eng.dist
        self.peak[index] = eng.peak_sec
        self._users.append((index, eng.users))
        for s, e in eng.decline:
            self._windows.append((index, s, e))

    def finish(self, unknown_accounts: list[str], seed: int) -> None:
        uid, uacc, ucd, udd, uprop, uadm = [], [], [], [], [], []
        for index, rows in self._users:
            for u_id, cday, dday, prop, admin in rows:
                uid.append(u_id)
                uacc.append(index)
                ucd.append(cday)
                udd.append(dday)
                uprop.append(prop)
                uadm.append(admin)
        self.n_users = len(uid)
        # unknown accounts (dirt) get a handful of users of their own, not in users.jsonl
        self.unknown_first = self.n
        self.unknown_user_first = self.n_users
        for k, _ in enumerate(unknown_accounts):
            for j in range(3):
                uid.append(f"usr_x{seed % 1000:03d}{k:04d}{j}")
        self.user_dict = pa.array(uid, pa.string())
        self.account_dict = pa.array(self.account_ids + list(unknown_accounts), pa.string())
        self.n_unknown = len(unknown_accounts)
        self.uacc = np.asarray(uacc, dtype=np.int32)
        self.ucday = np.asarray(ucd, dtype=np.int64)
        self.udday = np.asarray(udd, dtype=np.int64)
        self.uprop = np.asarray(uprop, dtype=np.float64)
        self.uadmin = np.asarray(uadm, dtype=np.int64)
        # sort users by creation day so each day only scans users that already exist
        order = np.argsort(self.ucday, kind="stable")
        self.order = order
        self.s_cday = self.ucday[order]
        self.alias_prob, self.alias_idx = alias_tables(self.dist)
        w = np.asarray(self._windows, dtype=np.int64).reshape(-1, 3)
        self.w_acc, self.w_s, self.w_e = w[:, 0], w[:, 1], w[:, 2]
        self.event_dict = pa.array([e[0] for e in C.EVENTS], pa.string())
        self.feature_dict = pa.array([e[1] for e in C.EVENTS], pa.string())
        self._users = []


    def sample_events(self, rng: np.random.Generator, ridx: np.ndarray) -> np.ndarray:
        """One draw per row from distribution ``ridx`` (Walker's alias method, O(1) each)."""
        K = len(C.EVENTS)
        x = rng.random(ridx.size) * K
        j = x.astype(np.int64)
        np.minimum(j, K - 1, out=j)
        f = ridx * K + j
        return np.where((x - j) < self.alias_prob[f], j, self.alias_idx[f])


def alias_tables(p: np.ndarray):
    """Walker alias tables for each row of a probability matrix (rows sum to 1)."""
    R, K = p.shape
    prob = np.ones((R, K), dtype=np.float64)
    alias = np.tile(np.arange(K, dtype=np.int64), (R, 1))
    for r in range(R):
        q = p[r] * K
        small = [i for i in range(K) if q[i] < 1.0]
        large = [i for i in range(K) if q[i] >= 1.0]
        while small and large:
            sm, lg = small.pop(), large.pop()
            prob[r, sm] = q[sm]
            alias[r, sm] = lg
            q[lg] -= 1.0 - q[sm]
            (small if q[lg] < 1.0 else large).append(lg)
    return prob.reshape(-1), alias.reshape(-1)


class EventStream:
    """Draws each day's events, holds late arrivals for their drop, writes Parquet parts."""

    def __init__(self, model: UsageModel, seed: int, t0: int, epu: float, late_rate: float,
                 dirt_rate: float, n_drops: int, usage_dir_of, n_complete: int):
        self.m = model
        self.seed = seed
        self.t0 = t0
        self.epu = epu
        self.late_rate = late_rate
        self.dirt_rate = dirt_rate
        self.n_drops = n_drops
        self.n_complete = n_complete
        self.rows_partial = 0
        self.dir_of = usage_dir_of          # drop index -> folder (or None: not written)
        self.pending: dict[int, list] = {}
        self.rows_written = 0
        self.events_generated = 0
        self.late = 0
        self.dups = 0
        self.unknown = 0
        self.dirt_items: list = []
        self._pool = None
        self._fut = None

    def _submit(self, table, folder) -> None:
        """Write in a background thread (Arrow releases the GIL) while the next day is drawn."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1)
        if self._fut is not None:
            self._fut.result()
        self._fut = self._pool.submit(write_events, table, folder)

    def close(self) -> None:
        if self._fut is not None:
            self._fut.result()
            self._fut = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _table(self, rng, uidx, eacc, ev, ts, recv) -> pa.Table:
        m = self.m
        return pa.Table.from_arrays([
            uuid_strings(rng, ts.size),
            m.account_dict.take(pa.array(eacc.astype(np.int32))),
            m.user_dict.take(pa.array(uidx.astype(np.int32))),
            m.event_dict.take(pa.array(ev.astype(np.int32))),
            m.feature_dict.take(pa.array(ev.astype(np.int32))),
            pa.array(ts, pa.timestamp("us", tz="UTC")),
            pa.array(recv, pa.timestamp("us", tz="UTC")),
        ], schema=EVENT_SCHEMA)

    def day_events(self, d: int):
        """Events that happened on day d: (on-time table, {lag: late table})."""
        m = self.m
        rng = np.random.default_rng([self.seed, 1001, d])
        hi = np.searchsorted(m.s_cday, d, side="right")
        cand = m.order[:hi]
        cand = cand[m.udday[cand] > d]
        row = m.intensity[d]
        acc = m.uacc[cand]
        lvl = row[acc].astype(np.float32) * np.float32(0.01)
        live = lvl > 0
        cand, acc, lvl = cand[live], acc[live], lvl[live]
        wd = datetime.fromtimestamp(self.t0 + d * DAY, UTC).weekday()
        wk = 0.28 if wd >= 5 else 1.0
        p = np.minimum(m.uprop[cand] * np.minimum(lvl, 1.6) * wk, 0.97)
        act = rng.random(cand.size, dtype=np.float32) < p
        cand, acc, lvl = cand[act], acc[act], lvl[act]
        cnt = rng.poisson(max(self.epu - 1.0, 0.0) * np.sqrt(lvl)) + 1
        n = int(cnt.sum())
        uidx = np.repeat(cand, cnt)
        eacc = np.repeat(acc, cnt)
        # session centre per active user, events spread around it
        centre = m.peak[acc] + (rng.standard_normal(acc.size, dtype=np.float32) * np.float32(9000)).astype(np.int64)
        secs = np.repeat(centre, cnt) + (rng.standard_normal(n, dtype=np.float32) * np.float32(2400)).astype(np.int64)
        np.mod(secs, DAY, out=secs)
        ts = (self.t0 + d * DAY) * 1_000_000 + secs * 1_000_000 + rng.integers(0, 1_000_000, n)
        # degraded feature mix during pre-churn decline windows
        phase = np.zeros(m.n, dtype=np.int64)
        if m.w_acc.size:
            wm = (m.w_s <= d) & (m.w_e > d)
            phase[m.w_acc[wm]] = 1
        ridx = eacc.astype(np.int64) * 4 + m.uadmin[uidx] * 2 + phase[eacc]
        ev = m.sample_events(rng, ridx)
        # unknown-account events (dirt): a few extra rows
        if self.dirt_rate > 0 and n and d < self.n_complete:
            k = int(rng.binomial(n, self.dirt_rate * 0.5)) + (1 if d == self.n_complete // 3 else 0)
            if k and m.n_unknown:
                ua = rng.integers(0, m.n_unknown, k)
                uu = m.unknown_user_first + ua * 3 + rng.integers(0, 3, k)
                uidx = np.concatenate([uidx, uu])
                eacc = np.concatenate([eacc, m.unknown_first + ua])
                ev = np.concatenate([ev, rng.integers(0, len(C.EVENTS), k)])
                ts = np.concatenate([ts, (self.t0 + d * DAY) * 1_000_000 + rng.integers(0, DAY * 1_000_000, k)])
                self.unknown += k
                n += k
        order = np.argsort(ts)
        uidx, eacc, ev, ts = uidx[order], eacc[order], ev[order], ts[order]
        recv = ts + np.exp(rng.standard_normal(n, dtype=np.float32) * np.float32(1.2)
                           + np.float32(np.log(1.5e6))).astype(np.int64) + 1000
        self.events_generated += n
        # arrival: most in the drop of their day, some 1-5 days late
        n_late = int(rng.binomial(n, self.late_rate)) if self.late_rate > 0 else 0
        late_tables = {}
        if n_late:
            li = np.unique(rng.integers(0, n, n_late))
            lag = rng.integers(1, 6, li.size)
            keep = np.ones(n, dtype=bool)
            keep[li] = False
            for L in range(1, 6):
                sel = li[lag == L]
                if not sel.size or d + L >= self.n_drops:
                    continue
                start = (self.t0 + (d + L) * DAY) * 1_000_000
                r = np.maximum(start + rng.integers(0, DAY * 1_000_000, sel.size), ts[sel] + 1000)
                late_tables[L] = self._table(rng, uidx[sel], eacc[sel], ev[sel], ts[sel], np.sort(r))
            uidx, eacc, ev, ts, recv = uidx[keep], eacc[keep], ev[keep], ts[keep], recv[keep]
        return self._table(rng, uidx, eacc, ev, ts, recv), late_tables

    def step(self, d: int) -> int:
        """Generate day d and write drop d. Returns rows written."""
        today, late = self.day_events(d)
        for L, t in late.items():
            self.pending.setdefault(d + L, []).append(t)
            if d + L < self.n_complete:
                self.late += t.num_rows
        parts = self.pending.pop(d, [])
        parts.append(today)
        out = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        # the same message delivered twice: in this drop, or again in the next one
        if self.dirt_rate > 0 and out.num_rows and d < self.n_complete:
            rng = np.random.default_rng([self.seed, 1002, d])
            k = int(rng.binomial(out.num_rows, self.dirt_rate)) + (1 if d == self.n_complete // 2 else 0)
            if k:
                idx = np.unique(rng.integers(0, out.num_rows, k))
                dup = out.take(pa.array(idx))
                nxt = rng.random(idx.size) < 0.3
                if nxt.any() and d + 1 < self.n_complete:
                    self.pending.setdefault(d + 1, []).insert(0, dup.filter(pa.array(nxt)))
                    dup = dup.filter(pa.array(~nxt))
                    self.dups += int(nxt.sum())
                if dup.num_rows:
                    out = pa.concat_tables([out, dup])
                    self.dups += dup.num_rows
                for mid in dup.column("message_id").to_pylist()[:3]:
                    if len(self.dirt_items) < 200:
                        self.dirt_items.append({"kind": "duplicate", "object": "usage/events", "drop": d, "id": mid})
        folder = self.dir_of(d)
        if folder is not None:
            self._submit(out, folder)
            self.rows_written += out.num_rows
            if d >= self.n_complete:
                self.rows_partial += out.num_rows
        return out.num_rows


def write_events(table: pa.Table, folder: str) -> None:
    n = table.num_rows
    nparts = max(1, -(-n // PART_ROWS))
    for p in range(nparts):
        part = table.slice(p * PART_ROWS, PART_ROWS) if nparts > 1 else table
        pq.write_table(part, os.path.join(folder, f"events-{p:04d}.parquet"), **WRITE_OPTS)
