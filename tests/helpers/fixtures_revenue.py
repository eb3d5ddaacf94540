"""A hand-built landing zone whose MRR, movements, retention and renewals were worked out by
hand (the expected figures are in tests/test_revenue.py, with the arithmetic).

Accounts (as-of date 2024-04-15, the latest complete drop):
  acc_A  smb->mid_market, usd monthly: 2 seats x $100 from 2024-01-05; 2024-02-10 two changes the
         same day (4 seats 10:00, 3 seats 15:00: the day-end state counts); 2024-03-20 one seat.
  acc_B  mid_market, eur annual EUR 1,200/yr from 2024-01-10 at 1.10 USD/EUR (= $110.00 MRR);
         2024-03-05 two seats at that day's 1.20 (= $240.00). FX moves in between must not move it.
  acc_C  smb, usd: trial from 2024-01-15 ($50 plan, MRR 0), converts 2024-01-29, cancels mid-term
         2024-02-15, comes back with a new $80 subscription 2024-04-02 (reactivation).
  acc_D  enterprise, two billing customers: cny monthly CNY 700 at 0.14 (= $98.00) from
         2024-01-03; usd quarterly $300 (= $100/month) from 2024-02-01, past_due 2024-03-01
         (still MRR), unpaid 2024-03-25 (MRR 0).
  acc_E  smb, usd annual $1,200/yr since 2023-01-20 (history delivered in the first drop);
         cancel_at_period_end on 2024-01-05, canceled at period end 2024-01-20 -> churned renewal.
  acc_F  enterprise, usd annual $2,400/yr since 2023-02-15; renews 2024-02-15 with two seats
         ($400 MRR) -> renewed, next due 2025-02-15 pending.
Dirt: a duplicated subscription event in a later drop, an invalid JSON line, an unknown extra
column, and an incomplete drop (no _SUCCESS) that would cancel acc_A if it were read.
"""
from helpers.landing_builder import Landing, customer, fx, item, sub_event

AS_OF = "2024-04-15"


def build(root) -> Landing:
    L = Landing(root)
    b = "billing"
    d1, d2, d3, d4 = "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-15"
    cust_a = customer("cus_A", "acc_A", "2024-01-01", segment="smb")
    cust_a["loyalty_tier"] = "gold"   # an unknown extra column: kept aside, never a crash
    L.add(b, d1, "customers", [
        cust_a,
        customer("cus_B", "acc_B", "2024-01-01", segment="mid_market", currency="eur"),
        customer("cus_C", "acc_C", "2024-01-01", segment="smb"),
        customer("cus_D1", "acc_D", "2024-01-02", segment="enterprise", currency="cny"),
        customer("cus_E", "acc_E", "2023-01-01", segment="smb"),
        customer("cus_F", "acc_F", "2023-02-01", segment="enterprise"),
    ])
    L.add(b, d2, "customers", [customer("cus_D2", "acc_D", "2024-02-01", segment="enterprise")])
    L.add(b, d3, "customers", [customer("cus_A", "acc_A", "2024-01-01", "2024-03-01", segment="mid_market")])

    def a(q):
        return [item(10000, q)]

    ev = []
    ev += [sub_event("evt_A1", "2024-01-05T09:00:00", "sub_A1", "cus_A", "active", a(2),
                     etype="customer.subscription.created", period_end="2024-02-05")]
    ev += [sub_event("evt_B1", "2024-01-10T12:00:00", "sub_B1", "cus_B", "active",
                     [item(120000, 1, "year", currency="eur")], etype="customer.subscription.created",
                     currency="eur", period_end="2025-01-10T12:00:00")]
    ev += [sub_event("evt_C1", "2024-01-15T08:00:00", "sub_C1", "cus_C", "trialing", [item(5000, 1)],
                     etype="customer.subscription.created", period_end="2024-01-29T08:00:00"),
           sub_event("evt_C2", "2024-01-29T08:00:00", "sub_C1", "cus_C", "active", [item(5000, 1)],
                     period_start="2024-01-29T08:00:00", period_end="2024-02-29T08:00:00")]
    ev += [sub_event("evt_D1", "2024-01-03T10:00:00", "sub_D1", "cus_D1", "active",
                     [item(70000, 1, currency="cny")], currency="cny",
                     etype="customer.subscription.created", period_end="2024-02-03")]
    ev += [sub_event("evt_E1", "2023-01-20T10:00:00", "sub_E1", "cus_E", "active",
                     [item(120000, 1, "year")], etype="customer.subscription.created",
                     period_end="2024-01-20T10:00:00"),
           sub_event("evt_E2", "2024-01-05T10:00:00", "sub_E1", "cus_E", "active",
                     [item(120000, 1, "year")], period_start="2023-01-20T10:00:00",
                     period_end="2024-01-20T10:00:00", cancel_at_period_end=True,
                     canceled_at="2024-01-05T10:00:00"),
           sub_event("evt_E3", "2024-01-20T10:00:00", "sub_E1", "cus_E", "canceled",
                     [item(120000, 1, "year")], etype="customer.subscription.deleted",
                     period_start="2023-01-20T10:00:00", period_end="2024-01-20T10:00:00",
                     cancel_at_period_end=True, canceled_at="2024-01-05T10:00:00",
                     ended_at="2024-01-20T10:00:00")]
    ev += [sub_event("evt_F1", "2023-02-15T10:00:00", "sub_F1", "cus_F", "active",
                     [item(240000, 1, "year")], etype="customer.subscription.created",
                     period_end="2024-02-15T10:00:00")]
    L.add(b, d1, "subscription_events", ev + ["{this line is not json"])

    ev2 = [sub_event("evt_A2", "2024-02-10T10:00:00", "sub_A1", "cus_A", "active", a(4), period_end="2024-03-05"),
           sub_event("evt_A3", "2024-02-10T15:00:00", "sub_A1", "cus_A", "active", a(3), period_end="2024-03-05"),
           sub_event("evt_C3", "2024-02-15T09:00:00", "sub_C1", "cus_C", "canceled", [item(5000, 1)],
                     etype="customer.subscription.deleted", period_end="2024-02-29T08:00:00",
                     canceled_at="2024-02-15T09:00:00", ended_at="2024-02-15T09:00:00"),
           sub_event("evt_D2", "2024-02-01T10:00:00", "sub_D2", "cus_D2", "active",
                     [item(30000, 1, "month", 3)], etype="customer.subscription.created",
                     period_end="2024-05-01T10:00:00"),
           sub_event("evt_F2", "2024-02-15T10:00:00", "sub_F1", "cus_F", "active",
                     [item(240000, 2, "year")], period_start="2024-02-15T10:00:00",
                     period_end="2025-02-15T10:00:00")]
    L.add(b, d2, "subscription_events", ev2)

    ev3 = [sub_event("evt_A4", "2024-03-20T10:00:00", "sub_A1", "cus_A", "active", a(1), period_end="2024-04-05"),
           sub_event("evt_B2", "2024-03-05T10:00:00", "sub_B1", "cus_B", "active",
                     [item(120000, 2, "year", currency="eur")], currency="eur",
                     period_start="2024-01-10T12:00:00", period_end="2025-01-10T12:00:00"),
           sub_event("evt_D3", "2024-03-01T10:00:00", "sub_D2", "cus_D2", "past_due",
                     [item(30000, 1, "month", 3)], period_end="2024-05-01T10:00:00"),
           sub_event("evt_D4", "2024-03-25T10:00:00", "sub_D2", "cus_D2", "unpaid",
                     [item(30000, 1, "month", 3)], period_end="2024-05-01T10:00:00"),
           ev2[1]]  # evt_A3 delivered a second time: loaded once
    L.add(b, d3, "subscription_events", ev3)
    L.add(b, d4, "subscription_events", [
        sub_event("evt_C4", "2024-04-02T10:00:00", "sub_C2", "cus_C", "active", [item(8000, 1)],
                  etype="customer.subscription.created", period_end="2024-05-02T10:00:00")])
    # rates: only the ones a state begins on matter; the others must not move anything
    L.add(b, d1, "fx_rates", [fx("2024-01-03", "cny", 0.14), fx("2024-01-10", "eur", 1.10),
                              fx("2024-01-31", "eur", 1.05), fx("2024-01-31", "cny", 0.15)])
    L.add(b, d2, "fx_rates", [fx("2024-02-29", "eur", 1.30), fx("2024-02-29", "cny", 0.16)])
    L.add(b, d3, "fx_rates", [fx("2024-03-05", "eur", 1.20), fx("2024-03-31", "eur", 1.25)])
    L.add(b, d4, "fx_rates", [fx("2024-04-15", "eur", 1.40)])
    for d in (d1, d2, d3, d4):
        for s in ("usage", "ticketing"):
            L.drops.setdefault((s, d), {})
    # a drop still being written: must not be read (it would cancel acc_A)
    L.add(b, "2024-04-16", "subscription_events", [
        sub_event("evt_A5", "2024-04-16T10:00:00", "sub_A1", "cus_A", "canceled", a(1),
                  etype="customer.subscription.deleted", period_end="2024-04-16")])
    return L


def write(root):
    L = build(root)
    for key in list(L.drops):
        L.write(complete=key[1] != "2024-04-16", only=key)
    return L
