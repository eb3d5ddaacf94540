"""Small deterministic helpers shared by the simulation modules."""
from __future__ import annotations

import calendar
import math
import random
from datetime import UTC, datetime, timedelta, timezone

DAY = 86400
HOUR = 3600
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def rng_for(seed: int, *parts) -> random.Random:
    """A Python RNG seeded from a string (sha512 based: identical on every platform)."""
    return random.Random(f"{seed}|" + "|".join(str(p) for p in parts))


def b62(rng: random.Random, n: int) -> str:
    x = rng.getrandbits(6 * n)
    out = []
    for _ in range(n):
        x, r = divmod(x, 62)
        out.append(B62[r])
    return "".join(out)


def choice_w(rng: random.Random, pairs):
    """Pick from ((value, weight), ...) with a single uniform draw."""
    total = 0.0
    for _, w in pairs:
        total += w
    u = rng.random() * total
    acc = 0.0
    for v, w in pairs:
        acc += w
        if u < acc:
            return v
    return pairs[-1][0]


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def add_months(t: int, months: int) -> int:
    """Stripe-style billing anchor: same day of month (clamped), same time of day."""
    d = datetime.fromtimestamp(t, UTC)
    m = d.month - 1 + months
    y = d.year + m // 12
    m = m % 12 + 1
    day = min(d.day, calendar.monthrange(y, m)[1])
    return int(d.replace(year=y, month=m, day=day).timestamp())


def add_interval(t: int, interval: str, count: int) -> int:
    return add_months(t, count * (12 if interval == "year" else 1))


def months_of(interval: str, count: int) -> int:
    return count * (12 if interval == "year" else 1)


_TZ_CACHE: dict[int, timezone] = {}


def iso(t: int, offset_min: int = 0, z: bool = False) -> str:
    """ISO-8601 with an explicit offset; the same instant whatever the offset."""
    if z and offset_min == 0:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tz = _TZ_CACHE.get(offset_min)
    if tz is None:
        tz = _TZ_CACHE[offset_min] = timezone(timedelta(minutes=offset_min))
    return datetime.fromtimestamp(t, tz).isoformat()


def day_str(t0: int, d: int) -> str:
    return datetime.fromtimestamp(t0 + d * DAY, UTC).strftime("%Y-%m-%d")


def clamp(x, lo, hi):
    return lo if x < lo else hi if x > hi else x
