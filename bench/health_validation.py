"""Plausibility of the customer-health scores on generated sample data.

    python -m orchestration.lib.sample_data --accounts 200 --days 400 --out /tmp/hs/landing --quiet
    python bench/health_validation.py --landing /tmp/hs/landing --work /tmp/hs      # ingest + dbt build
    python bench/health_validation.py --landing /tmp/hs/landing --work /tmp/hs --no-build

Prints the tier distribution (paying account-days, and accounts on the as-of date) and the
mean health of the accounts the generator made churn over the 90 days before each churn,
against accounts that renewed an annual contract over the 90 days before the due date (and
all paying account-days of never-churned accounts).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # tests/helpers: the pipeline harness

from helpers.pipeline_harness import Pipeline  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--landing", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path, help="folder for the raw layer and warehouse")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args(argv)
    p = Pipeline(a.work, a.landing)
    if not a.no_build:
        p.ingest()
        p.build()
    truth = json.loads((a.landing / "_generator.json").read_text())["accounts"]
    churns = [(acc, d) for acc, t in truth.items() for d in t.get("churn_dates", [])]
    never_churned = [acc for acc, t in truth.items() if t.get("ever_paid") and not t.get("churned")]

    print("tier distribution, paying account-days:")
    rows = p.query("select health_tier, count(*) from marts.mart_account_health where is_paying group by 1 order by 1")
    total = sum(n for _, n in rows)
    for tier, n in rows:
        print(f"  {tier or 'no score':<8} {n:>8,}  {n / total:6.1%}")
    print("tier distribution, paying accounts on the as-of date:")
    rows = p.query("select health_tier, count(*) from marts.mart_account_health "
                   "where is_paying and date = (select max(date) from marts.mart_account_health) group by 1 order by 1")
    total = sum(n for _, n in rows)
    for tier, n in rows:
        print(f"  {tier or 'no score':<8} {n:>8,}  {n / total:6.1%}")

    con_sql = """
        select avg(h.health_score), count(distinct w.k), count(h.health_score),
               avg(case when h.health_tier = 'red' then 1.0 else 0.0 end),
               avg(case when h.health_tier = 'green' then 1.0 else 0.0 end)
        from (select unnest(?) as account_id, unnest(?) as end_date, unnest(?) as k) as w
        join marts.mart_account_health as h
          on h.account_id = w.account_id
         and h.date >= cast(w.end_date as date) - interval 90 day and h.date < cast(w.end_date as date)
    """
    def window_stats(pairs):
        if not pairs:
            return None
        return p.query(con_sql, [[x for x, _ in pairs], [d for _, d in pairs], list(range(len(pairs)))])[0]

    renewed = p.query("select account_id, cast(due_date as varchar) from marts.mart_renewals where outcome = 'renewed'")
    churn_stats = window_stats(churns)
    renew_stats = window_stats([(x, d) for x, d in renewed])
    base = p.query("select avg(health_score), count(*) from marts.mart_account_health where is_paying "
                   "and account_id in (select unnest(?))", [never_churned])[0]
    print("mean health score in the 90 days before:")
    def fmt(s):
        return (f"{s[0]:.1f} (n={s[1]} events, {s[2]:,} scored days; red {s[3]:.0%}, green {s[4]:.0%})"
                if s and s[0] is not None else "n/a")
    print(f"  churn (generator churn dates)  {fmt(churn_stats)}")
    print(f"  renewal due date, renewed      {fmt(renew_stats)}")
    print(f"  never-churned accounts, all paying days: {base[0]:.1f} ({base[1]:,} days)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
