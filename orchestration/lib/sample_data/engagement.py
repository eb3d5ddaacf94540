"""Everything that follows from an account's commercial history: product users, the daily
usage intensity that drives the vectorised events, support tickets, organizations and NPS.

Accounts heading for churn use the product less (fewer active users, narrower feature use,
lost admins) and have a worse service experience (more, slower, worse-rated tickets, lower
NPS) in the months before; expanding accounts grow.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from orchestration.lib.sample_data import catalog as C
from orchestration.lib.sample_data.subscriptions import LIVE_LEVEL, AccountResult
from orchestration.lib.sample_data.util import DAY, HOUR, b62, choice_w, clamp, iso, poisson, rng_for

RAMP_DAYS = 120          # how long before churn usage and experience start to degrade
N_EVENTS = len(C.EVENTS)


@dataclass
class Engagement:
    intensity: np.ndarray          # uint8 [days]: 100 = normal use, 0 = not live
    decline: list                  # [(start_day, end_day)) windows of degraded feature use
    dist: np.ndarray               # float64 [4, N_EVENTS] probabilities (role x phase)
    peak_sec: int                  # UTC second of day at which the account's usage peaks
    users: list                    # (user_id, created_day, deact_day, propensity, admin)
    records: list                  # (object, t, id_for_backfill|None, dict)
    truth: dict


def _level_days(res: AccountResult, t0: int, n_days: int):
    """Per-day live level and licensed seats from the subscription state timeline."""
    level = np.zeros(n_days, dtype=np.float32)
    seats = np.zeros(n_days, dtype=np.int32)
    cur: dict[str, tuple[str, int]] = {}
    states = res.states
    for i, (t, sid, st, q) in enumerate(states):
        cur[sid] = (st, q)
        t_next = states[i + 1][0] if i + 1 < len(states) else t0 + n_days * DAY
        d0 = max(0, (t - t0) // DAY)
        d1 = min(n_days, (t_next - t0) // DAY + (1 if t_next > t0 else 0))
        if d1 <= d0:
            continue
        lv = max((LIVE_LEVEL.get(s, 0.0) for s, _ in cur.values()), default=0.0)
        sq = sum(q2 for s, q2 in cur.values() if s in LIVE_LEVEL)
        level[d0:d1] = np.maximum(level[d0:d1], lv) if lv else level[d0:d1]
        seats[d0:d1] = np.maximum(seats[d0:d1], sq)
    return level, seats


def _state_at(res: AccountResult, t: int):
    """(live level, seats) at instant t."""
    cur: dict[str, tuple[str, int]] = {}
    for tt, sid, st, q in res.states:
        if tt > t:
            break
        cur[sid] = (st, q)
    lv = max((LIVE_LEVEL.get(s, 0.0) for s, _ in cur.values()), default=0.0)
    return lv, sum(q for s, q in cur.values() if s in LIVE_LEVEL)


def simulate_engagement(res: AccountResult, seed: int, t0: int, n_days: int, horizon: int,
                        ticket_ids: TicketIds) -> Engagement:
    rng = rng_for(seed, "engagement", res.index)
    h = res.health
    seg = res.segment
    churns = res.truth["churn_times"]
    tz = C.REGION_TZ_MIN[res.region]
    records: list = []

    def in_ramp(t: int) -> float:
        """0..1: how far into the pre-churn decline t is (0 = not in a decline)."""
        best = 0.0
        for c in churns:
            if c - RAMP_DAYS * DAY <= t < c:
                best = max(best, 1 - (c - t) / (RAMP_DAYS * DAY))
        return best

    # ---------------------------------------------------------------- intensity
    level, seats_d = _level_days(res, t0, n_days)
    days = np.arange(n_days, dtype=np.float64)
    base = math.exp(0.25 * h + rng.gauss(0, 0.15))
    f = np.full(n_days, base)
    decline = []
    for c in churns:
        cd = (c - t0) / DAY
        s = cd - RAMP_DAYS
        m = (days >= s) & (days < cd)
        f[m] *= 1 - 0.65 * (days[m] - s) / RAMP_DAYS
        if cd > 0:
            decline.append((int(max(0, math.floor(s))), int(math.ceil(cd))))
    for e in res.expansion_times:
        ed = (e - t0) / DAY
        m = (days >= ed - 45) & (days < ed)
        f[m] *= 1 + 0.25 * (days[m] - (ed - 45)) / 45
        f[days >= ed] *= 1.06
    for st in [res.start_t] + res.reactivation_times:
        sd = (st - t0) / DAY
        m = (days >= sd) & (days < sd + 30)
        f[m] *= 0.35 + 0.65 * (days[m] - sd) / 30
    intensity = np.clip(np.round(level * np.clip(f, 0, 2.5) * 100), 0, 255).astype(np.uint8)

    # ---------------------------------------------------------------- feature mix
    w = np.zeros((4, N_EVENTS), dtype=np.float64)
    adopt = C.FEATURE_ADOPTION[seg]
    feat_w = {}
    for feat in C.FEATURES:
        if feat == "admin":
            feat_w[feat] = 1.0
        elif rng.random() < clamp(adopt[feat] + 0.08 * h, 0.05, 0.99):
            feat_w[feat] = rng.gammavariate(2.0, 0.5)
        else:
            feat_w[feat] = 0.0
    top = sorted((v, k) for k, v in feat_w.items() if k != "admin")[-2:]
    top = {k for _, k in top}
    for j, (_ev, feat, bw, admin_only) in enumerate(C.EVENTS):
        fw = 1.0 if feat is None else feat_w[feat]
        for role in (0, 1):
            if admin_only and not role:
                continue
            wv = bw * fw * (1.5 if (admin_only and role) else 1.0)
            w[role * 2 + 0, j] = wv
            w[role * 2 + 1, j] = wv if (feat is None or feat in top or feat == "admin") else wv * 0.1
    dist = w / w.sum(axis=1, keepdims=True)
    peak = int((C.REGION_PEAK_UTC_H[res.region] + rng.uniform(-1.5, 1.5)) * HOUR) % DAY

    # ---------------------------------------------------------------- users
    users = []             # [user_id, created, deact|None, admin, propensity, email]
    active: dict[int, None] = {}
    leaving: list = []     # heap of (deact_t, uidx)
    step = 14 * DAY
    util0 = clamp(0.6 + 0.12 * h + rng.gauss(0, 0.08), 0.2, 0.97)
    champion_lost = False
    starts = sorted([res.start_t] + res.reactivation_times)

    def hire(t: int, admin: bool):
        first, last = rng.choice(C.FIRST_NAMES), rng.choice(C.LAST_NAMES)
        uid = "usr_" + b62(rng, 16)
        email = f"{first}.{last}{len(users) + 1}@{res.domain}"
        tenure = rng.expovariate(1 / (3.0 * 365 * DAY))
        deact = t + int(tenure) if t + tenure < horizon else None
        prop = clamp(rng.betavariate(3, 2) if admin else rng.betavariate(1.6, 1.8), 0.03, 0.97)
        idx = len(users)
        users.append([uid, t, deact, admin, prop, email])
        active[idx] = None
        if deact is not None:
            heapq.heappush(leaving, (deact, idx))

    def deactivate(idx: int, t: int):
        u = users[idx]
        if u[2] is None or u[2] > t:
            u[2] = t
        active.pop(idx, None)

    t = starts[0]
    while t < horizon:
        while leaving and leaving[0][0] <= t:
            dt, idx = heapq.heappop(leaving)
            if users[idx][2] == dt:
                active.pop(idx, None)
        lv, seats = _state_at(res, t)
        if lv > 0 and seats > 0:
            since = min((t - s for s in starts if s <= t), default=0)
            onboard = min(1.0, 0.35 + since / (45 * DAY))
            r = in_ramp(t)
            util = util0 * onboard * (1 - 0.55 * r)
            for e in res.expansion_times:
                if e - 45 * DAY <= t < e:
                    util = min(1.0, util * 1.15)
            target = max(1, int(round(seats * util)))
            n_act = len(active)
            has_admin = any(users[i][3] for i in active)
            if r > 0.3 and not champion_lost and rng.random() < 0.5:
                champion_lost = True
                for i in [i for i in active if users[i][3]]:
                    deactivate(i, t + int(rng.uniform(0, step)))
                has_admin = True   # nobody steps up
            if n_act < target:
                for _k in range(min(target - n_act, 400)):
                    ht = t + int(rng.uniform(0, step if n_act else DAY))
                    if ht >= horizon:
                        continue
                    hire(ht, (not has_admin) or rng.random() < 0.07)
                    has_admin = True
            elif n_act > target * 1.2 + 1:
                members = [i for i in active if not users[i][3]]
                for i in members[: n_act - target][::-1]:
                    if rng.random() < 0.8:
                        dt = t + int(rng.uniform(0, step))
                        if dt < horizon:
                            deactivate(i, dt)
        t += step

    user_rows = []
    for uid, created, deact, admin, prop, email in users:
        if created >= horizon:
            continue
        role = "admin" if admin else "member"
        off = tz if rng.random() < 0.2 else 0
        rec = {"user_id": uid, "account_id": res.account_id, "email": email, "role": role,
               "created_at": iso(created, off), "deactivated_at": None,
               "updated_at": iso(created, off)}
        records.append(("users", created, uid, rec))
        if deact is not None and deact < horizon:
            records.append(("users", deact, uid, dict(rec, deactivated_at=iso(deact, off),
                                                       updated_at=iso(deact, off))))
        cday = (created - t0) // DAY + 1
        dday = (deact - t0) // DAY if deact is not None else 1 << 30
        user_rows.append((uid, cday, dday, prop, admin))

    # ---------------------------------------------------------------- organization
    org_id = ticket_ids.org_id(res.index, rng)
    org_t = res.start_t - int(rng.uniform(0, 5) * DAY)
    if org_t < horizon:
        records.append(("organizations", org_t, org_id,
                        {"id": org_id, "name": res.name, "external_id": res.account_id,
                         "updated_at": iso(org_t, 0, z=True)}))

    # ---------------------------------------------------------------- tickets
    n_tickets = 0
    bad_csat = 0
    requesters = [i for i in range(len(users))]
    block = 30 * DAY
    t = res.start_t
    k_ticket = 0
    while t < horizon:
        lv, _ = _state_at(res, t + block // 2)
        if lv > 0:
            r = in_ramp(t + block // 2)
            since = min((t - s for s in starts if s <= t), default=10 ** 9)
            lam = C.TICKET_RATE[seg] * math.exp(-0.35 * h) * (1 + 1.3 * r) * (1.6 if since < 45 * DAY else 1.0)
            for _ in range(poisson(rng, lam)):
                c = t + int(rng.uniform(0, block))
                if c >= horizon or k_ticket >= 1999:
                    continue
                req = requesters[rng.randrange(len(requesters))] if requesters else 0
                tid = ticket_ids.ticket_id(res.index, k_ticket)
                k_ticket += 1
                bad = _ticket(records, rng, tid, org_id, ticket_ids.requester(res.index, req), c,
                              horizon, churn_risk=max(r, in_ramp(c + 60 * DAY) * 0.7), health=h, tz=tz)
                n_tickets += 1
                bad_csat += bad
        t += block

    # ---------------------------------------------------------------- NPS
    n_nps = 0
    wave = res.start_t + int(rng.uniform(30, 120) * DAY)
    while wave < horizon:
        lv, _ = _state_at(res, wave)
        if lv > 0:
            pool = [i for i, u in enumerate(users) if u[1] <= wave and (u[2] is None or u[2] > wave)]
            rng.shuffle(pool)
            r = in_ramp(wave)
            mean = 7.7 + 0.7 * h - 3.0 * r
            for i in pool[:25]:
                if rng.random() >= 0.3:
                    continue
                rt = wave + int(rng.uniform(0, 7 * DAY))
                if rt >= horizon:
                    continue
                score = int(clamp(round(rng.gauss(mean, 1.7)), 0, 10))
                band = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                comment = rng.choice(C.NPS_COMMENTS[band]) if rng.random() < 0.45 else None
                off = tz if rng.random() < 0.3 else 0
                nid = "nps_" + b62(rng, 14)
                records.append(("nps_responses", rt, None,
                                {"id": nid, "account_id": res.account_id, "user_id": users[i][0],
                                 "score": score, "comment": comment, "responded_at": iso(rt, off)}))
                n_nps += 1
        wave += int(rng.uniform(85, 97) * DAY)

    truth = {"users": len(user_rows), "tickets": n_tickets, "bad_csat": bad_csat,
             "nps_responses": n_nps, "organization_id": org_id, "champion_lost": champion_lost}
    return Engagement(intensity, decline, dist, peak, user_rows, records, truth)


def _ticket(records, rng, tid, org_id, requester, c, horizon, churn_risk, health, tz) -> int:
    """Emit the versions of one ticket (only the last change of each UTC day)."""
    prio = choice_w(rng, C.TICKET_PRIORITIES)
    slow = 1.0 + 1.2 * churn_risk + max(0.0, -0.15 * health)
    state = {"id": tid, "organization_id": org_id, "requester_id": requester, "priority": prio,
             "type": choice_w(rng, C.TICKET_TYPES), "status": "new",
             "channel": choice_w(rng, C.TICKET_CHANNELS), "created_at": c, "updated_at": c,
             "first_replied_at": None, "solved_at": None, "reopens": 0, "replies": 0,
             "satisfaction_rating": "unoffered"}
    versions = [(c, dict(state))]

    def step(t, **kw):
        t = max(t, versions[-1][0] + 1)
        state.update(kw, updated_at=t)
        versions.append((t, dict(state)))
        return t

    t = c + int(math.exp(rng.gauss(math.log(C.FIRST_REPLY_MEDIAN_H[prio] * HOUR * slow), 0.9)))
    t = step(t, first_replied_at=t, replies=1, status="pending" if rng.random() < 0.6 else "open")
    state["first_replied_at"] = t
    versions[-1][1]["first_replied_at"] = t
    for _ in range(poisson(rng, 0.9 + 0.8 * churn_risk)):
        t = step(t + int(rng.uniform(2 * HOUR, 2 * DAY * slow)), replies=state["replies"] + 1,
                 status=rng.choice(("pending", "open", "open", "hold")))
    t = step(t + int(rng.uniform(HOUR, 3 * DAY * slow)), status="solved", solved_at=None,
             satisfaction_rating="offered" if rng.random() < 0.85 else "unoffered")
    state["solved_at"] = t
    versions[-1][1]["solved_at"] = t
    bad = 0
    p_bad = clamp(0.1 + 0.35 * churn_risk + 0.1 * (slow - 1) - 0.04 * health, 0.02, 0.8)
    if rng.random() < 0.08 + 0.15 * churn_risk:
        t = step(t + int(rng.uniform(0.3, 3) * DAY), status="open", solved_at=None,
                 reopens=state["reopens"] + 1)
        t = step(t + int(rng.uniform(2 * HOUR, 2 * DAY * slow)), replies=state["replies"] + 1)
        t = step(t + int(rng.uniform(HOUR, 2 * DAY)), status="solved")
        state["solved_at"] = t
        versions[-1][1]["solved_at"] = t
    solved_t = t
    if state["satisfaction_rating"] == "offered" and rng.random() < 0.45:
        bad = int(rng.random() < p_bad)
        t = step(t + int(rng.uniform(0.1, 3) * DAY), satisfaction_rating="bad" if bad else "good")
    step(max(t, solved_t + 4 * DAY) + int(rng.uniform(0, 6 * HOUR)), status="closed")
    # one record per UTC day it changed (the last version of that day), inside the horizon
    by_day: dict[int, tuple] = {}
    for vt, v in versions:
        if vt < horizon:
            by_day[vt // DAY] = (vt, v)
    off = tz if rng.random() < 0.05 else 0
    for _, (vt, v) in sorted(by_day.items()):
        rec = dict(v)
        for k in ("created_at", "updated_at", "first_replied_at", "solved_at"):
            if rec[k] is not None:
                rec[k] = iso(rec[k], off, z=True)
        records.append(("tickets", vt, tid, rec))
    return bad


class TicketIds:
    """Zendesk-style numeric ids, unique and deterministic per account."""

    def org_id(self, index: int, rng) -> str:
        return str(360_000_000_000 + (index + 1) * 1000 + rng.randrange(1000))

    def ticket_id(self, index: int, k: int) -> str:
        return str(100_000 + index * 2000 + k)

    def requester(self, index: int, user_idx: int) -> str:
        return str(380_000_000_000 + index * 100_000 + user_idx % 100_000)
