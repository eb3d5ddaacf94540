"""Validate the customer-health configuration seeds before anything is built.

The seeds (dbt_project/seeds): health_components.csv, health_tiers.csv, alert_rules.csv,
core_features.csv, sla_targets.csv. Rows with segment `all` are the defaults; a row for a
segment overrides the `all` row with the same key for that segment's accounts.

    validate_health_config(seeds_dir)   # raises ValueError listing every problem

The known components and alert rules (the registry) are the vars health_components and
health_alert_rules of dbt_project/dbt_project.yml, read here and by the dbt models. This is
the complete validation, run before every build (fast feedback, with the CSV line numbers);
building int_account_health_config runs the same checks with the same messages on the
loaded seeds (macros/validate_health_config.sql) for a dbt run outside the pipeline.
"""
from __future__ import annotations

import csv
from pathlib import Path

import yaml

from orchestration.lib.settings import DBT_PROJECT_DIR


def _load_registry() -> dict:
    with open(DBT_PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)["vars"]


# component -> (group, direction in which the raw measure is better)
_REGISTRY = _load_registry()
COMPONENTS: dict[str, tuple[str, str]] = {
    c["name"]: (c["group"], c["better"]) for c in _REGISTRY["health_components"]}
TIERS = ("green", "yellow", "red")
ALERT_RULES: tuple[str, ...] = tuple(_REGISTRY["health_alert_rules"])
SEVERITIES = ("high", "medium", "low")
PRIORITIES = ("urgent", "high", "normal", "low")
TRUE, FALSE = ("true", "t", "1", "yes"), ("false", "f", "0", "no")


class HealthConfigError(ValueError):
    """Invalid customer-health configuration; the message lists every problem."""


def _read(path: Path, required: tuple[str, ...], problems: list[str]) -> list[dict]:
    if not path.exists():
        problems.append(f"{path.name}: file missing")
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            problems.append(f"{path.name}: missing column(s) {', '.join(missing)}")
            return []
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def _num(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _bool(value: str) -> bool | None:
    v = value.lower()
    return True if v in TRUE else False if v in FALSE else None


def _components(rows: list[dict], problems: list[str]) -> None:
    seen: set[tuple[str, str]] = set()
    resolved: dict[str, dict[str, tuple[bool, float]]] = {}
    for i, r in enumerate(rows, start=2):
        seg, comp = r["segment"], r["component"]
        where = f"health_components.csv line {i} (segment {seg or '?'}, component {comp or '?'})"
        if not seg:
            problems.append(f"{where}: segment is empty (use `all` for the default)")
        if (seg, comp) in seen:
            problems.append(f"{where}: duplicate row")
        seen.add((seg, comp))
        if comp not in COMPONENTS:
            problems.append(f"{where}: unknown component; known: {', '.join(COMPONENTS)}")
            continue
        group, better = COMPONENTS[comp]
        if r["component_group"] != group:
            problems.append(f"{where}: component_group must be {group}, not {r['component_group']!r}")
        if r["better"] != better:
            problems.append(f"{where}: better must be {better}, not {r['better']!r}")
        enabled = _bool(r["enabled"])
        if enabled is None:
            problems.append(f"{where}: enabled must be true or false, not {r['enabled']!r}")
        weight = _num(r["weight"])
        if weight is None or weight < 0:
            problems.append(f"{where}: weight must be a number >= 0, not {r['weight']!r}")
        if r.get("window_days"):
            w = _num(r["window_days"])
            if w is None or w < 1 or w != int(w) or w > 365:
                problems.append(f"{where}: window_days must be a whole number of days in 1..365, not {r['window_days']!r}")
        elif comp != "payment":
            problems.append(f"{where}: window_days is required")
        bad, good = _num(r["bad_threshold"]), _num(r["good_threshold"])
        if bad is None or good is None:
            problems.append(f"{where}: bad_threshold and good_threshold must be numbers")
        elif better == "higher" and not good > bad:
            problems.append(f"{where}: thresholds in the wrong order: higher is better, so "
                            f"good_threshold ({good:g}) must be above bad_threshold ({bad:g})")
        elif better == "lower" and not good < bad:
            problems.append(f"{where}: thresholds in the wrong order: lower is better, so "
                            f"good_threshold ({good:g}) must be below bad_threshold ({bad:g})")
        if enabled is not None and weight is not None:
            resolved.setdefault(seg, {})[comp] = (enabled, weight)
    if "all" not in resolved:
        problems.append("health_components.csv: no `all` (default) rows")
    defaults = resolved.get("all", {})
    for seg in resolved:
        merged = {**defaults, **resolved[seg]}
        total = sum(w for on, w in merged.values() if on)
        if not total > 0:
            problems.append(f"health_components.csv: the enabled weights of segment {seg} sum to "
                            f"{total:g}; they must sum to a positive number")


def _tiers(rows: list[dict], problems: list[str]) -> None:
    bands: dict[str, dict[str, float]] = {}
    for i, r in enumerate(rows, start=2):
        where = f"health_tiers.csv line {i} (segment {r['segment'] or '?'}, tier {r['tier'] or '?'})"
        if r["tier"] not in TIERS:
            problems.append(f"{where}: unknown tier; tiers are {', '.join(TIERS)}")
            continue
        m = _num(r["min_score"])
        if m is None or not 0 <= m <= 100:
            problems.append(f"{where}: min_score must be a number in 0..100")
            continue
        if r["tier"] in bands.get(r["segment"], {}):
            problems.append(f"{where}: duplicate row")
        bands.setdefault(r["segment"], {})[r["tier"]] = m
    if "all" not in bands:
        problems.append("health_tiers.csv: no `all` (default) rows")
    for seg, b in bands.items():
        merged = {**bands.get("all", {}), **b}
        if any(t not in merged for t in TIERS):
            problems.append(f"health_tiers.csv (segment {seg}): green, yellow and red are all required")
        elif not (merged["green"] > merged["yellow"] > merged["red"] == 0):
            problems.append(f"health_tiers.csv (segment {seg}): bands in the wrong order: need green "
                            f"({merged['green']:g}) > yellow ({merged['yellow']:g}) > red = 0 ({merged['red']:g})")


def _alerts(rows: list[dict], problems: list[str]) -> None:
    seen = set()
    for i, r in enumerate(rows, start=2):
        where = f"alert_rules.csv line {i} (segment {r['segment'] or '?'}, rule {r['rule'] or '?'})"
        if (r["segment"], r["rule"]) in seen:
            problems.append(f"{where}: duplicate row")
        seen.add((r["segment"], r["rule"]))
        if r["rule"] not in ALERT_RULES:
            problems.append(f"{where}: unknown rule; known: {', '.join(ALERT_RULES)}")
        if r["severity"] not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        if _bool(r["enabled"]) is None:
            problems.append(f"{where}: enabled must be true or false")
        t = _num(r["threshold"])
        if r["rule"] != "health_red" and (t is None or t <= 0):
            problems.append(f"{where}: threshold must be a positive number, not {r['threshold']!r}")
        if r["rule"] == "usage_drop" and t is not None and not 0 < t < 1:
            problems.append(f"{where}: threshold is a fraction of usage lost, in (0, 1)")
    if not any(r["segment"] == "all" for r in rows):
        problems.append("alert_rules.csv: no `all` (default) rows")


def _sla(rows: list[dict], problems: list[str]) -> None:
    for i, r in enumerate(rows, start=2):
        if r["priority"] not in PRIORITIES:
            problems.append(f"sla_targets.csv line {i}: unknown priority {r['priority']!r}")
        h = _num(r["first_reply_hours"])
        if h is None or h <= 0:
            problems.append(f"sla_targets.csv line {i}: first_reply_hours must be a positive number")


def validate_health_config(seeds_dir: str | Path) -> None:
    """Raise HealthConfigError (a ValueError) listing every problem of the health seeds."""
    d = Path(seeds_dir)
    problems: list[str] = []
    _components(_read(d / "health_components.csv",
                      ("segment", "component", "component_group", "enabled", "weight", "window_days",
                       "better", "bad_threshold", "good_threshold"), problems), problems)
    _tiers(_read(d / "health_tiers.csv", ("segment", "tier", "min_score"), problems), problems)
    _alerts(_read(d / "alert_rules.csv", ("segment", "rule", "enabled", "severity", "threshold"), problems),
            problems)
    _sla(_read(d / "sla_targets.csv", ("priority", "first_reply_hours"), problems), problems)
    features = _read(d / "core_features.csv", ("feature",), problems)
    if (d / "core_features.csv").exists() and not any(r["feature"] for r in features):
        problems.append("core_features.csv: no core feature listed")
    if problems:
        raise HealthConfigError("Invalid customer-health configuration in " + str(d) + ":\n  - "
                                + "\n  - ".join(problems))


if __name__ == "__main__":  # python -m orchestration.lib.health_config [seeds_dir]
    import sys

    validate_health_config(sys.argv[1] if len(sys.argv) > 1 else DBT_PROJECT_DIR / "seeds")
    print("health configuration OK")
