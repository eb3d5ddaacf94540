"""Account, billing-customer, subscription and invoice simulation (Stripe-shaped).

One account is simulated at a time with its own RNG (seeded by seed + account number), so
the result for an account never depends on the others or on the chunking. The simulation
is event driven over unix seconds; every subscription change emits a whole-object event.
"""
from __future__ import annotations

import math

from orchestration.lib.sample_data import catalog as C
from orchestration.lib.sample_data.subscriptions import PAYING, AccountResult, Ctx, Item, Price, SubSim
from orchestration.lib.sample_data.util import DAY, HOUR, add_interval, b62, choice_w, clamp, rng_for


class AccountSim:
    def __init__(self, ctx: Ctx, index: int):
        self.ctx = ctx
        self.rng = rng = rng_for(ctx.seed, "account", index)
        seg = choice_w(rng, tuple(zip(C.SEGMENTS, C.SEGMENT_WEIGHTS)))
        region = choice_w(rng, tuple(zip(C.REGIONS, C.REGION_WEIGHTS)))
        currency = choice_w(rng, C.REGION_CURRENCIES[region])
        a, b = rng.choice(C.NAME_A), rng.choice(C.NAME_B)
        name = f"{a} {b} {rng.choice(C.NAME_SUFFIX[region])}"
        domain = f"{a}{b}{rng.randint(1, 99) if rng.random() < 0.3 else ''}".lower() + C.REGION_TLD[region]
        health = clamp(rng.gauss(0.0, 1.0), -2.8, 2.8)
        # start: ~45% of accounts already exist when the data starts, with history
        horizon_days = (ctx.horizon - ctx.t0) // DAY
        if rng.random() < 0.45:
            start_day = -rng.randint(20, 900)
        else:
            start_day = rng.randint(0, max(0, horizon_days - 2))
        start_t = ctx.t0 + start_day * DAY + int(rng.uniform(13, 22) * HOUR)
        width = max(5, len(str(ctx.n_accounts)))
        self.res = AccountResult(index, f"acc_{index + 1:0{width}d}", seg, region, currency,
                                 rng.choice(C.INDUSTRIES), name, domain, health, start_t)
        self.segment = seg
        self.csm = self.csm0 = rng.choice(C.CSM_OWNERS[seg])
        self.cust_changes: dict[str, list] = {}
        self.customers: list[tuple[str, str, str, int]] = []   # (id, currency, name, created)

    # -- probabilities -------------------------------------------------------------
    def p_churn_at_renewal(self, interval) -> float:
        h = self.res.health
        seg = self.segment
        if interval[0] == "year":
            base = {"smb": 0.24, "mid_market": 0.14, "enterprise": 0.08}[seg]
        else:
            base = {"smb": 0.032, "mid_market": 0.016, "enterprise": 0.009}[seg] * interval[1]
        return clamp(base * math.exp(-0.9 * h), 0.003, 0.85)

    # -- customers ------------------------------------------------------------------
    def add_customer(self, currency: str, name: str, created: int) -> str:
        cid = "cus_" + b62(self.rng, 14)
        self.customers.append((cid, currency, name, created))
        self.cust_changes[cid] = []
        return cid

    def customer_records(self) -> None:
        r = self.res
        H = self.ctx.horizon
        seg, csm = self.res.segment, self.csm0
        changes = sorted(self.account_changes)
        for cid, cur, name, created in self.customers:
            if created >= H:
                continue
            state = {"segment": seg, "csm_owner": csm, "deleted": False}
            versions = [(created, dict(state))]
            for t, kind, val in changes:
                if t >= H:
                    continue
                if kind == "deleted":
                    if cid not in val:
                        continue
                    state["deleted"] = True
                else:
                    state[kind] = val
                if t <= versions[-1][0]:
                    t = versions[-1][0] + 1
                versions.append((t, dict(state)))
            email = f"billing@{self.res.domain}" if cur == self.res.currency else f"ap-{cur}@{self.res.domain}"
            for t, st in versions:
                rec = {"id": cid, "name": name, "email": email, "currency": cur, "created": created,
                       "updated": t, "deleted": st["deleted"],
                       "metadata": {"account_id": r.account_id, "segment": st["segment"],
                                    "industry": r.industry, "region": r.region,
                                    "csm_owner": st["csm_owner"]}}
                r.records.append(("customers", t, cid, rec))

    # -- subscriptions --------------------------------------------------------------
    def pick_terms(self):
        return choice_w(self.rng, C.SEGMENT_TERMS[self.segment])

    def initial_seats(self, scale=1.0) -> int:
        med, sig, lo, hi = C.SEATS[self.res.segment]
        return int(clamp(round(med * scale * math.exp(self.rng.gauss(0, sig))), max(1, int(lo * scale)), hi))

    def run_subscription(self, customer: str, currency: str, start_t: int, seats: int,
                         allow_trial: bool, allow_addons: bool = True) -> str:
        """Simulate one subscription until it ends or the horizon. Returns how it ended:
        'open' | 'churned' | 'involuntary' | 'trial_lapsed'."""
        rng, ctx, res = self.rng, self.ctx, self.res
        H = ctx.horizon
        h = res.health
        seg = self.segment
        terms = self.pick_terms()
        collection = "charge_automatically" if (seg == "smb" or (terms == ("month", 1) and rng.random() < 0.7)) else "send_invoice"
        s = SubSim(self, customer, currency, collection)
        s.interval = terms
        plan = choice_w(rng, C.SEGMENT_PLANS[seg])
        s.items = [s.new_item(plan, seats)]
        if allow_addons:
            if seg == "enterprise" and rng.random() < 0.5:
                s.items.append(s.new_item("support", 1))
            if seg != "smb" and rng.random() < (0.4 if seg == "enterprise" else 0.2):
                s.items.append(s.new_item("analytics", seats))
        s.start_date = start_t
        if start_t >= H:
            return "open"
        if allow_trial:
            s.status = "trialing"
            s.cps, s.cpe = start_t, start_t + 14 * DAY
            s.emit("created", start_t)
            te = s.cpe
            if te >= H:
                return "open"
            if rng.random() < 1 / (1 + math.exp(-(0.7 + 0.9 * h))):
                s.status = "active"
                s.cps, s.cpe = te, add_interval(te, *terms)
                s.emit("updated", te)
            else:
                s.status = "canceled"
                s.canceled_at = s.ended_at = te
                s.emit("deleted", te)
                return "trial_lapsed"
        else:
            s.status = "active"
            s.cps, s.cpe = start_t, add_interval(start_t, *terms)
            s.emit("created", start_t)

        while True:
            # ---- payment of the period that just started -------------------------
            end = self.pay_period(s)
            if end is not None:
                return end
            period_start = s.cps
            R = s.cpe
            churn = rng.random() < self.p_churn_at_renewal(terms)
            if churn:
                lead = rng.uniform(5, 60) if terms[0] == "year" else rng.uniform(1, 20)
                notice = min(max(R - int(lead * DAY), s.last_t + HOUR, period_start + HOUR), R - 60)
                limit = min(notice, R - 60)
            else:
                notice = None
                limit = R
            # ---- mid-term changes -------------------------------------------------
            years = max(0.0, (limit - s.last_t) / (365.0 * DAY))
            exp_rate = {"smb": 0.35, "mid_market": 0.6, "enterprise": 0.8}[seg] * math.exp(0.7 * h)
            con_rate = (0.25 * math.exp(-0.5 * h)) if terms[0] == "month" else 0.04
            cancel_rate = 0.03 if terms[0] == "month" else 0.005
            arrivals = []
            for kind, rate in (("expand", exp_rate), ("contract", con_rate), ("cancel", cancel_rate)):
                for _ in range(self.poisson_years(rate, years)):
                    arrivals.append((rng.randint(s.last_t + 1, max(s.last_t + 2, limit - 1)), kind))
            arrivals.sort()
            for tt, kind in arrivals:
                if tt >= H:
                    return "open"
                if kind == "cancel":
                    s.status = "canceled"
                    s.canceled_at = s.ended_at = tt
                    t_end = s.emit("deleted", tt)
                    res.churn_times.append(t_end)
                    return "churned"
                self.change_items(s, kind, tt)
            # ---- end of period ----------------------------------------------------
            if churn:
                if notice >= H:
                    return "open"
                s.cape = True
                s.canceled_at = notice
                s.emit("updated", notice)
                if R >= H:
                    return "open"
                s.status = "canceled"
                s.ended_at = R
                t_end = s.emit("deleted", R)
                res.churn_times.append(t_end)
                return "churned"
            if R >= H:
                return "open"
            # renewal: possibly re-sized at renewal
            if terms[0] == "year" or terms[1] == 3:
                u = rng.random()
                if u < 0.12 * math.exp(-0.5 * h):
                    self.resize(s, rng.uniform(0.6, 0.9))
                    res.contraction_times.append(R)
                elif u > 1 - 0.2 * math.exp(0.5 * h):
                    self.resize(s, rng.uniform(1.1, 1.5))
                    res.expansion_times.append(R)
            s.cps, s.cpe = R, add_interval(R, *terms)
            self.after_resize(s, R)
            s.emit("updated", R)

    def poisson_years(self, rate: float, years: float) -> int:
        from orchestration.lib.sample_data.util import poisson
        return poisson(self.rng, rate * years)

    def pay_period(self, s: SubSim):
        """Invoice for the period starting at s.cps; dunning spells for failed payments.
        Returns an ending string if the subscription ended (involuntary churn), else None."""
        rng, H, h = self.rng, self.ctx.horizon, self.res.health
        t = s.cps
        amount = s.amount()
        if s.collection == "charge_automatically":
            if rng.random() < 0.05 * math.exp(-0.5 * h):
                # failed charge -> past_due now (the renewal event already carries it? no:
                # Stripe flips status a moment later)
                s.status = "past_due"
                s.emit("updated", t + 120)
                if rng.random() < 0.72:
                    pay = t + int(rng.uniform(1, 12) * DAY)
                    s.invoice(t, amount, pay)
                    if pay >= H:
                        return "open"
                    s.status = "active"
                    s.emit("updated", pay)
                    return None
                t_unpaid = t + 15 * DAY
                if rng.random() < 0.5:
                    pay = t + int(rng.uniform(17, 35) * DAY)
                    s.invoice(t, amount, pay)
                    if t_unpaid >= H:
                        return "open"
                    s.status = "unpaid"
                    s.emit("updated", t_unpaid)
                    if pay >= H:
                        return "open"
                    s.status = "active"
                    s.emit("updated", pay)
                    return None
                t_cancel = t + int(rng.uniform(30, 45) * DAY)
                s.invoice(t, amount, None, fail_t=t_cancel)
                if t_unpaid >= H:
                    return "open"
                s.status = "unpaid"
                s.emit("updated", t_unpaid)
                if t_cancel >= H:
                    return "open"
                s.status = "canceled"
                s.canceled_at = s.ended_at = t_cancel
                t_end = s.emit("deleted", t_cancel)
                self.res.churn_times.append(t_end)
                return "involuntary"
            void = rng.random() < 0.01
            s.invoice(t, amount, t + int(rng.uniform(60, 3000)), void=void)
            if void:   # re-issued
                s.invoice(t + int(rng.uniform(0.3, 2) * DAY), amount, t + int(rng.uniform(2, 3) * DAY))
            return None
        # send_invoice, net 30
        u = rng.random()
        if u < 0.02 * math.exp(-0.5 * h):
            # never paid: overdue, past_due, written off, canceled
            due = t + HOUR + 30 * DAY
            t_cancel = due + int(rng.uniform(45, 75) * DAY)
            s.invoice(t, amount, None, fail_t=t_cancel)
            if due + DAY >= H:
                return "open"
            s.status = "past_due"
            s.emit("updated", due + DAY)
            if t_cancel >= H:
                return "open"
            s.status = "canceled"
            s.canceled_at = s.ended_at = t_cancel
            t_end = s.emit("deleted", t_cancel)
            self.res.churn_times.append(t_end)
            return "involuntary"
        days = clamp(math.exp(rng.gauss(math.log(12) - 0.25 * h, 0.75)), 0.5, 80)
        pay = t + HOUR + int(days * DAY)
        void = rng.random() < 0.015
        s.invoice(t, amount, pay, void=void)
        if void:
            t2 = t + int(rng.uniform(0.3, 3) * DAY)
            pay = t2 + HOUR + int(days * DAY)
            s.invoice(t2, amount, pay)
        if days > 31 and pay < s.cpe:
            due = t + HOUR + 30 * DAY
            if due + DAY >= H:
                return None
            s.status = "past_due"
            s.emit("updated", due + DAY)
            if pay >= H:
                return "open"
            s.status = "active"
            s.emit("updated", pay)
        return None

    def resize(self, s: SubSim, factor: float) -> None:
        base = s.items[0]
        q = max(1, int(round(base.quantity * factor)))
        if q == base.quantity:
            q = base.quantity + (1 if factor > 1 else -1 if base.quantity > 1 else 0)
        base.quantity = q
        for it in s.items[1:]:
            if C.PRODUCTS[it.price.key][3]:
                it.quantity = q

    def after_resize(self, s: SubSim, t: int) -> None:
        """Segment upgrade on the billing customer when seats cross a threshold."""
        up = C.SEGMENT_UPGRADE_AT.get(self.segment)
        if up and s.items and s.items[0].quantity > up[0]:
            self.segment = up[1]
            self.res.truth.setdefault("segment_changes", []).append([t, up[1]])
            self.account_changes.append((t + 5, "segment", up[1]))
            if self.rng.random() < 0.8:
                self.csm = self.rng.choice(C.CSM_OWNERS[up[1]])
                self.account_changes.append((t + 6, "csm_owner", self.csm))

    def change_items(self, s: SubSim, kind: str, t: int) -> None:
        rng = self.rng
        old = s.amount()
        if kind == "expand":
            u = rng.random()
            base_key = s.items[0].price.key
            keys = [it.price.key for it in s.items]
            if u < 0.15 and base_key in C.PLAN_UPGRADE:
                new_key = C.PLAN_UPGRADE[base_key]
                s.items[0] = Item(s.items[0].id, Price(new_key, s.interval[0], s.interval[1], s.currency), s.items[0].quantity)
            elif u < 0.27 and "analytics" not in keys and self.segment != "smb":
                s.items.append(s.new_item("analytics", s.items[0].quantity))
            else:
                self.resize(s, rng.uniform(1.08, 1.6))
            self.res.expansion_times.append(t)
        else:
            if len(s.items) > 1 and rng.random() < 0.3:
                s.items.pop()
            else:
                if s.items[0].quantity <= 1:
                    return
                self.resize(s, rng.uniform(0.6, 0.92))
            self.res.contraction_times.append(t)
        self.after_resize(s, t)
        t = s.emit("updated", t)
        new = s.amount()
        if new > old and s.status in PAYING:
            frac = max(0.0, (s.cpe - t) / max(1, s.cpe - s.cps))
            prorate = int(round((new - old) * frac))
            if prorate > 0:
                pay = t + (int(rng.uniform(60, 600)) if s.collection == "charge_automatically"
                           else HOUR + int(clamp(rng.gauss(14, 6), 1, 40) * DAY))
                s.invoice(t + 30, prorate, pay)

    # -- the whole account ------------------------------------------------------------
    def run(self) -> AccountResult:
        rng, ctx, res = self.rng, self.ctx, self.res
        H = ctx.horizon
        self.account_changes: list = []
        cust_created = res.start_t - int(rng.uniform(0.1, 3) * DAY)
        primary = self.add_customer(res.currency, res.name, cust_created)
        trial = res.start_t >= ctx.t0 and rng.random() < {"smb": 0.55, "mid_market": 0.35, "enterprise": 0.05}[res.segment]
        res.truth["trial"] = trial
        seats = self.initial_seats()
        outcome = self.run_subscription(primary, res.currency, res.start_t, seats, trial)
        res.truth["first_outcome"] = outcome
        subs_started = 1
        # reactivations: a churned (or lapsed) account comes back months later
        while outcome in ("churned", "involuntary", "trial_lapsed") and subs_started < 4:
            p = (0.05 if outcome == "trial_lapsed" else 0.22) * math.exp(0.3 * res.health)
            if rng.random() >= p:
                break
            end_t = self.last_end()
            back = end_t + int(rng.uniform(45, 300) * DAY)
            if back >= H:
                break
            res.reactivation_times.append(back)
            subs_started += 1
            outcome = self.run_subscription(primary, res.currency, back,
                                             self.initial_seats(rng.uniform(0.5, 1.0)), False)
        res.truth["final_outcome"] = outcome
        # a second billing customer (subsidiary, other currency) for ~5% of accounts
        if rng.random() < 0.05 + (0.1 if res.segment == "enterprise" else 0):
            other = [c for c in C.CURRENCIES if c != res.currency]
            cur = rng.choice(other)
            t2 = res.start_t + int(rng.uniform(20, 400) * DAY)
            name2 = f"{res.name.rsplit(' ', 1)[0]} {C.SUBSIDIARY_SUFFIX[cur]}"
            if t2 < H:
                second = self.add_customer(cur, name2, t2 - int(rng.uniform(0.1, 2) * DAY))
                self.run_subscription(second, cur, t2, self.initial_seats(rng.uniform(0.15, 0.4)), False, False)
        # CSM reassignment now and then
        t = res.start_t
        while True:
            t += int(rng.expovariate(0.3) * 365 * DAY)
            if t >= H:
                break
            self.csm = rng.choice(C.CSM_OWNERS[self.segment_at(t)])
            self.account_changes.append((t, "csm_owner", self.csm))
        # a few customers of churned-for-good accounts get deleted
        if outcome in ("churned", "involuntary") and rng.random() < 0.12:
            td = self.last_end() + int(rng.uniform(20, 120) * DAY)
            if td < H:
                self.account_changes.append((td, "deleted", tuple(c[0] for c in self.customers)))
                res.truth["customer_deleted_at"] = td
        self.customer_records()
        self.finish_truth()
        return res

    def segment_at(self, t: int) -> str:
        seg = self.res.segment
        for tt, new in self.res.truth.get("segment_changes", []):
            if tt <= t:
                seg = new
        return seg

    def last_end(self) -> int:
        return max(t for t, _, st, _ in self.res.states)

    def finish_truth(self) -> None:
        res = self.res
        res.states.sort(key=lambda x: (x[0], x[1]))
        ever, churns, reacts, paying = paying_timeline(res.states, self.ctx.horizon)
        res.truth.update({
            "segment_initial": res.segment, "segment": self.segment, "csm_owner": self.csm,
            "churn_times": churns, "reactivation_times": reacts,
        })
        # ground truth as of the last complete drop
        cut = self.ctx.truth_cutoff or self.ctx.horizon
        ever, churns, reacts, paying = paying_timeline(res.states, cut)
        seg = res.segment
        for t, new in res.truth.get("segment_changes", []):
            if t < cut:
                seg = new
        res.truth["asof"] = {"ever_paid": ever, "churn_times": churns, "reactivation_times": reacts,
                             "churned": bool(churns) and not paying, "paying": paying,
                             "segment": seg}


def paying_timeline(states, cutoff: int):
    """Account-level paying (active/past_due) timeline before ``cutoff``: churn is the moment
    the last paying subscription ends (all canceled), reactivation paying again after that."""
    cur: dict[str, str] = {}
    paying = ever = False
    churns, reacts = [], []
    for t, sid, st, _ in states:
        if t >= cutoff:
            break
        cur[sid] = st
        now = any(v in PAYING for v in cur.values())
        if now and not paying and ever:
            reacts.append(t)
        if not now and paying and all(v == "canceled" for v in cur.values()):
            churns.append(t)
        if now:
            ever = True
        paying = now
    return ever, churns, reacts, paying


def simulate_account(ctx: Ctx, index: int) -> AccountResult:
    return AccountSim(ctx, index).run()
