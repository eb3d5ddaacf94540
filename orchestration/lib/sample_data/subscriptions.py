"""The objects of the billing simulation (Stripe-shaped): prices, subscription items, one
subscription's state and the events and invoices it emits (business.py drives them)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestration.lib.sample_data import catalog as C
from orchestration.lib.sample_data.util import DAY, HOUR, b62, months_of

if TYPE_CHECKING:
    from orchestration.lib.sample_data.business import AccountSim

PAYING = ("active", "past_due")
LIVE_LEVEL = {"trialing": 0.8, "active": 1.0, "past_due": 1.0, "unpaid": 0.55}


@dataclass
class Price:
    key: str
    interval: str
    count: int
    currency: str

    @property
    def product(self) -> str:
        return C.PRODUCTS[self.key][0]

    @property
    def id(self) -> str:
        return f"price_{self.key}_{self.interval}{self.count}_{self.currency}"

    @property
    def unit_amount(self) -> int:
        monthly_usd = C.PRODUCTS[self.key][2]
        months = months_of(self.interval, self.count)
        usd = monthly_usd * months
        if self.interval == "year":
            usd = monthly_usd * 10 * self.count          # two months free
        elif self.count == 3:
            usd = int(monthly_usd * 3 * 0.95)
        # whole units of the currency
        return int(round(usd * C.PRICE_FX[self.currency] / 100.0)) * 100

    def obj(self) -> dict:
        return {"id": self.id, "product": self.product, "unit_amount": self.unit_amount,
                "currency": self.currency,
                "recurring": {"interval": self.interval, "interval_count": self.count}}


@dataclass
class Item:
    id: str
    price: Price
    quantity: int


@dataclass
class Ctx:
    seed: int
    t0: int            # start of the first drop day (unix)
    horizon: int       # nothing is emitted at or after this instant
    n_accounts: int
    truth_cutoff: int | None = None   # ground truth is reported as of this instant


@dataclass
class AccountResult:
    index: int
    account_id: str
    segment: str
    region: str
    currency: str
    industry: str
    name: str
    domain: str
    health: float
    start_t: int
    records: list = field(default_factory=list)   # (object, t, id_for_backfill|None, dict)
    states: list = field(default_factory=list)    # (t, sub_id, status, seats)
    churn_times: list = field(default_factory=list)
    reactivation_times: list = field(default_factory=list)
    expansion_times: list = field(default_factory=list)
    contraction_times: list = field(default_factory=list)
    truth: dict = field(default_factory=dict)


class SubSim:
    def __init__(self, acc: AccountSim, customer: str, currency: str, collection: str):
        self.a = acc
        self.rng = acc.rng
        self.id = "sub_" + b62(self.rng, 24)
        self.customer = customer
        self.currency = currency
        self.collection = collection          # charge_automatically | send_invoice
        self.status = "active"
        self.start_date = 0
        self.cps = 0
        self.cpe = 0
        self.cape = False
        self.canceled_at = None
        self.ended_at = None
        self.items: list[Item] = []
        self.last_t = -1
        self.interval = ("month", 1)

    # -- objects -----------------------------------------------------------------
    def obj(self) -> dict:
        return {
            "id": self.id, "customer": self.customer, "status": self.status,
            "start_date": self.start_date, "current_period_start": self.cps,
            "current_period_end": self.cpe, "cancel_at_period_end": self.cape,
            "canceled_at": self.canceled_at, "ended_at": self.ended_at,
            "currency": self.currency,
            "items": {"data": [{"id": it.id, "quantity": it.quantity, "price": it.price.obj()}
                               for it in self.items]},
        }

    def emit(self, typ: str, t: int) -> int:
        if t <= self.last_t:
            t = self.last_t + 1
        self.last_t = t
        if t >= self.a.ctx.horizon:
            return t
        ev = {"id": "evt_" + b62(self.rng, 24), "type": "customer.subscription." + typ,
              "created": t, "data": {"object": self.obj()}}
        self.a.res.records.append(("subscription_events", t, None, ev))
        self.a.res.states.append((t, self.id, self.status, self.seats()))
        return t

    def seats(self) -> int:
        return self.items[0].quantity if self.items else 0

    def amount(self) -> int:
        return sum(it.price.unit_amount * it.quantity for it in self.items)

    def new_item(self, key: str, qty: int) -> Item:
        return Item("si_" + b62(self.rng, 14), Price(key, self.interval[0], self.interval[1], self.currency), qty)

    # -- invoices ----------------------------------------------------------------
    def invoice(self, t: int, amount: int, pay_t, fail_t=None, void=False) -> None:
        """Emit the versions of one invoice: draft at t, open an hour later, then paid at
        pay_t, uncollectible at fail_t, or void. Versions after the horizon are not emitted."""
        rng = self.rng
        inv_id = "in_" + b62(rng, 24)
        due = None
        if self.collection == "send_invoice":
            due = t + HOUR + 30 * DAY
        base = {"id": inv_id, "customer": self.customer, "subscription": self.id,
                "status": "draft", "currency": self.currency, "amount_due": amount,
                "amount_paid": 0, "created": t, "due_date": due,
                "status_transitions": {"paid_at": None}, "updated": t}
        out = self.a.res.records
        H = self.a.ctx.horizon
        if t >= H:
            return
        out.append(("invoices", t, inv_id, base))
        t_open = t + HOUR
        if t_open >= H:
            return
        v = dict(base, status="open", updated=t_open)
        out.append(("invoices", t_open, inv_id, v))
        if void:
            tv = t_open + int(rng.uniform(0.2, 3) * DAY)
            if tv < H:
                out.append(("invoices", tv, inv_id, dict(v, status="void", updated=tv)))
            return
        if pay_t is not None:
            pay_t = max(pay_t, t_open + 60)
            if pay_t < H:
                out.append(("invoices", pay_t, inv_id,
                            dict(v, status="paid", amount_paid=amount, updated=pay_t,
                                 status_transitions={"paid_at": pay_t})))
        elif fail_t is not None and fail_t < H:
            out.append(("invoices", fail_t, inv_id, dict(v, status="uncollectible", updated=fail_t)))
