"""CLI: python -m orchestration.lib.sample_data --accounts 500 --days 540 --seed 7 --out data/landing"""
from __future__ import annotations

import argparse
import sys

from orchestration.lib.sample_data import generate


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m orchestration.lib.sample_data",
                                description="Write a deterministic sample landing zone (billing, usage, ticketing daily drops).")
    p.add_argument("--accounts", type=int, default=500, help="number of CRM accounts (default 500)")
    p.add_argument("--days", type=int, default=540, help="number of complete daily drops (default 540)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--start-date", default="2024-01-01", help="date of the first drop, YYYY-MM-DD (default 2024-01-01)")
    p.add_argument("--out", default="data/landing", help="landing-zone folder (default data/landing)")
    p.add_argument("--dirt-rate", type=float, default=0.002,
                   help="share of records made dirty per kind (default 0.002; 0 disables all dirt, "
                        "the trailing incomplete drop and the missing ticketing day)")
    p.add_argument("--events-per-user-day", type=float, default=2.0,
                   help="mean product events per active user-day at normal usage, >= 1 (default 2.0); "
                        "the volume knob")
    p.add_argument("--late-rate", type=float, default=0.03,
                   help="share of usage events delivered 1-5 drops late (default 0.03)")
    p.add_argument("--gzip", action="store_true", help="write JSONL objects as .jsonl.gz")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    a = p.parse_args(argv)
    s = generate(out=a.out, accounts=a.accounts, days=a.days, seed=a.seed, start_date=a.start_date,
                 dirt_rate=a.dirt_rate, events_per_user_day=a.events_per_user_day,
                 late_rate=a.late_rate, gzip=a.gzip, quiet=a.quiet)
    if not a.quiet:
        for k, v in s["records"].items():
            print(f"{k:<30} {v:>12,}")
        print(f"{'dirt':<30} " + ", ".join(f"{k}={sum(v.values())}" for k, v in s["dirt"].items()))
        print(f"wrote {s['out']} in {s['elapsed_s']:.1f}s; usage events: "
              f"{s['records']['usage/events']:,} at {s['events_per_s']:,} events/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
