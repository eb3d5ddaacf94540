"""A hand-built landing zone for customer health, lifecycle and alerts (tests/test_health.py).
One drop per source on 2024-06-30 (the as-of date); everything mid_market, USD, $100/seat/month.

  acc_active    2 seats since 2024-01-01; an admin and a member active every day on all 5 core
                features; one ticket (replied in 1h, solved, CSAT good), NPS 10, invoice paid
                on time -> every component has data; 95 on the as-of date (support burden:
                1 ticket per 2 seats in 90 days = 5 per 10 seats -> 0 points of 100). active.
  acc_churn     1 seat 2024-01-01, canceled 2024-04-15 -> churned.
  acc_handover  subscribes 2024-06-20, no product usage yet -> handover.
  acc_onboard   subscribes 2024-05-15, one user active daily; urgent ticket 2024-05-20 10:00
                solved 05-25 (unsolved > 48h from 05-22: alert 05-22, closed 05-26) and an
                urgent ticket 06-25 09:00 still open (alert from 06-27, open). onboarding.
  acc_renewal   annual, 5 seats since 2023-08-15, due 2024-08-15; one member active every 3rd
                day from 2024-01-01 on reporting only, no admin -> red; renewal (the stage wins
                over at_risk) and renewal_not_green from 2024-05-17 (due - 90 days).
  acc_risk      10 seats since 2024-01-01; admin active until 04-30 (champion_gone from 05-30),
                four members daily until 05-15, then one member every 5th day (usage_drop);
                invoice due 02-01 paid 03-15 (invoice_overdue 03-03, closed 03-15) and invoice
                due 05-01 unpaid (invoice_overdue from 06-01, open). red -> at_risk.
  acc_mono_a    4 seats since 2024-01-01; admin active daily from 2024-03-01 on reporting and
  acc_mono_b    dashboards. _b: the same plus a member active the same days on reporting,
                dashboards and exports (more usage in every respect). No tickets, NPS or
                invoices: responsiveness, satisfaction and payment have no data (coverage).
                acc_mono_a on the as-of date, by hand: utilization 1/4 -> 8.33, engagement 30
                days -> 100, breadth 2/5 -> 33.33, trend 1.0 -> 100, champion 100, support
                burden 0 -> 100: (20*8.33 + 15*100 + 10*33.33 + 15*100 + 10*100 + 5*100) / 75
                = 66.67.
  acc_sla_good  2 seats since 2024-01-01, no usage; four normal tickets in June, solved, CSAT
  acc_sla_bad   good; _good replies within 1h, _bad replies to two of them after 10h (SLA 8h).
                Until 06-02 only support burden has data (no tickets: 100). From 06-03 (first
                ticket): support burden 0 (5 tickets per 10 seats), satisfaction 100,
                responsiveness _good 100, _bad 0 -> _good (0*5 + 100*10 + 100*10) / 25 = 80,
                _bad (0 + 0 + 1000) / 25 = 40: red, down 60 in 7 days (health_declined,
                06-03 to 06-09). _bad's 3rd ticket (06-17) on time: 1/3 -> 5.56 -> 42.22; 4th
                (06-24): 2/4 -> 33.33 -> 53.33, yellow from 06-24 (7 days in tier on 06-30).
CSM owners (the book of business): Bob owns acc_risk and acc_renewal, acc_handover has none
(unassigned), Alice owns the other seven.
"""
import datetime as dt

from helpers.landing_builder import Landing, customer, item, sub_event, unix

AS_OF = "2024-06-30"
DROP = AS_OF
CORE = ("reporting", "dashboards", "exports", "integrations", "collaboration")


def days(start: str, end: str, step: int = 1):
    d, e = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    while d <= e:
        yield d.isoformat()
        d += dt.timedelta(days=step)


def ts(s: str) -> str:
    return (s if "T" in s else s + "T12:00:00") + "+00:00"


class Builder:
    def __init__(self, root):
        self.L = Landing(root)
        self.n = 0
        for s in ("billing", "usage", "ticketing"):
            self.L.drops.setdefault((s, DROP), {})

    def add(self, source, obj, recs):
        self.L.add(source, DROP, obj, recs)

    def account(self, acc, seats=1, start="2024-01-01", segment="mid_market", annual=False,
                period_end=None, cancel=None, csm="Alice"):
        cus, sub = "cus_" + acc, "sub_" + acc
        self.add("billing", "customers", [customer(cus, acc, "2023-01-01", segment=segment, csm_owner=csm)])
        if annual:
            items = [item(120000, seats, "year")]
        else:
            items = [item(10000, seats)]
        ev = [sub_event("evt_" + acc + "_1", start + "T08:00:00", sub, cus, "active", items,
                        etype="customer.subscription.created", period_start=start + "T08:00:00",
                        period_end=(period_end or start) + "T08:00:00")]
        if cancel:
            ev.append(sub_event("evt_" + acc + "_2", cancel + "T08:00:00", sub, cus, "canceled", items,
                                etype="customer.subscription.deleted", canceled_at=cancel + "T08:00:00",
                                ended_at=cancel + "T08:00:00", period_end=cancel + "T08:00:00"))
        self.add("billing", "subscription_events", ev)
        self.add("ticketing", "organizations", [{"id": "org_" + acc, "name": acc, "external_id": acc,
                                                  "updated_at": ts("2023-01-01")}])

    def user(self, acc, uid, role="member"):
        self.add("usage", "users", [{"user_id": uid, "account_id": acc, "email": f"{uid}@{acc}.example",
                                     "role": role, "created_at": ts("2023-06-01"), "deactivated_at": None,
                                     "updated_at": ts("2023-06-01")}])

    def activity(self, acc, uid, start, end, features, step=1):
        recs = []
        for d in days(start, end, step):
            for i, f in enumerate(features):
                self.n += 1
                t = dt.datetime.fromisoformat(d + "T10:00:00").replace(tzinfo=dt.UTC) + dt.timedelta(minutes=i)
                recs.append({"message_id": f"m{self.n}", "account_id": acc, "user_id": uid,
                             "event": f"{f}_used", "feature": f, "timestamp": t, "received_at": t})
        self.add("usage", "events", recs)

    def ticket(self, acc, tid, created, priority="normal", replied=None, solved=None, rating="unoffered",
               replies=1, reopens=0):
        status = "solved" if solved else "open"
        self.add("ticketing", "tickets", [{
            "id": tid, "organization_id": "org_" + acc, "requester_id": "req_" + acc, "priority": priority,
            "type": "question", "status": status, "channel": "email", "created_at": ts(created),
            "updated_at": ts(solved or replied or created), "first_replied_at": ts(replied) if replied else None,
            "solved_at": ts(solved) if solved else None, "reopens": reopens, "replies": replies,
            "satisfaction_rating": rating}])

    def invoice(self, acc, iid, created, due, paid=None):
        self.add("billing", "invoices", [{
            "id": iid, "customer": "cus_" + acc, "subscription": "sub_" + acc,
            "status": "paid" if paid else "open", "currency": "usd", "amount_due": 10000,
            "amount_paid": 10000 if paid else 0, "created": unix(created), "due_date": unix(due),
            "status_transitions": {"paid_at": unix(paid) if paid else None}, "updated": unix(paid or created)}])


def build(root) -> Landing:
    b = Builder(root)
    # acc_active
    b.account("acc_active", seats=2)
    b.user("acc_active", "u_active_admin", "admin")
    b.user("acc_active", "u_active_m", "member")
    b.activity("acc_active", "u_active_admin", "2024-01-01", AS_OF, CORE)
    b.activity("acc_active", "u_active_m", "2024-01-01", AS_OF, CORE)
    b.ticket("acc_active", "t_active_1", "2024-06-10T09:00:00", replied="2024-06-10T10:00:00",
             solved="2024-06-11T09:00:00", rating="good")
    b.add("ticketing", "nps_responses", [{"id": "nps_active", "account_id": "acc_active",
                                          "user_id": "u_active_m", "score": 10, "comment": "great",
                                          "responded_at": ts("2024-06-15")}])
    b.invoice("acc_active", "in_active_1", "2024-06-01", "2024-06-05", paid="2024-06-03")
    # acc_churn
    b.account("acc_churn", seats=1, cancel="2024-04-15", period_end="2024-05-01")
    # acc_handover
    b.account("acc_handover", seats=3, start="2024-06-20", period_end="2024-07-20", csm=None)
    # acc_onboard
    b.account("acc_onboard", seats=2, start="2024-05-15", period_end="2024-07-15")
    b.user("acc_onboard", "u_onb", "admin")
    b.activity("acc_onboard", "u_onb", "2024-05-16", AS_OF, CORE[:3])
    b.ticket("acc_onboard", "t_onb_urgent_1", "2024-05-20T10:00:00", priority="urgent",
             replied="2024-05-20T10:30:00", solved="2024-05-25T10:00:00")
    b.ticket("acc_onboard", "t_onb_urgent_2", "2024-06-25T09:00:00", priority="urgent",
             replied="2024-06-25T09:30:00")
    # acc_renewal
    b.account("acc_renewal", seats=5, start="2023-08-15", annual=True, period_end="2024-08-15", csm="Bob")
    b.user("acc_renewal", "u_ren", "member")
    b.activity("acc_renewal", "u_ren", "2024-01-01", AS_OF, ("reporting",), step=3)
    # acc_risk
    b.account("acc_risk", seats=10, csm="Bob")
    b.user("acc_risk", "u_risk_admin", "admin")
    b.activity("acc_risk", "u_risk_admin", "2024-01-01", "2024-04-30", CORE[:3])
    for i in range(1, 5):
        b.user("acc_risk", f"u_risk_m{i}", "member")
        b.activity("acc_risk", f"u_risk_m{i}", "2024-01-01", "2024-05-15", ("reporting",))
    b.activity("acc_risk", "u_risk_m1", "2024-05-20", AS_OF, ("reporting",), step=5)
    b.invoice("acc_risk", "in_risk_1", "2024-01-15", "2024-02-01", paid="2024-03-15T10:00:00")
    b.invoice("acc_risk", "in_risk_2", "2024-04-15", "2024-05-01")
    # monotonicity twins
    for acc in ("acc_mono_a", "acc_mono_b"):
        b.account(acc, seats=4)
        b.user(acc, acc + "_admin", "admin")
        b.activity(acc, acc + "_admin", "2024-03-01", AS_OF, ("reporting", "dashboards"))
    b.user("acc_mono_b", "acc_mono_b_m", "member")
    b.activity("acc_mono_b", "acc_mono_b_m", "2024-03-01", AS_OF, ("reporting", "dashboards", "exports"))
    # SLA twins
    for acc, late in (("acc_sla_good", False), ("acc_sla_bad", True)):
        b.account(acc, seats=2)
        for k, day in enumerate(("2024-06-03", "2024-06-10", "2024-06-17", "2024-06-24")):
            reply = f"{day}T{19 if late and k < 2 else 10}:00:00"
            b.ticket(acc, f"t_{acc}_{k}", f"{day}T09:00:00", replied=reply, solved=f"{day}T20:00:00", rating="good")
    return b.L


def write(root):
    L = build(root)
    L.write()
    return L
