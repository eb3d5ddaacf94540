"""dbt's run_results.json (and manifest) of a run's dbt step: execution time by node type, per
model, the slowest tests, failures, and the time of the models reading the usage events."""
from __future__ import annotations

import glob
import json
from pathlib import Path

from bench.measure import ROOT

EVENT_SOURCE = "source.cs_platform.raw.usage__events"
EVENT_STAGING = "model.cs_platform.stg_usage__events"


def dbt_results(run_id: str) -> dict:
    dirs = sorted(glob.glob(str(ROOT / "dbt_project" / "target" / f"dbt_models-{run_id[:7]}-*")))
    dirs = [d for d in dirs if Path(d, "run_results.json").exists()]
    if not dirs:
        return {}
    tdir = Path(dirs[-1])
    rr = json.loads((tdir / "run_results.json").read_text())
    manifest_path = tdir / "manifest.json"
    if not manifest_path.exists():
        manifest_path = ROOT / "dbt_project" / "target" / "manifest.json"
    nodes = json.loads(manifest_path.read_text()).get("nodes", {}) if manifest_path.exists() else {}
    event_models = {EVENT_STAGING}
    for uid, n in nodes.items():
        deps = set(n.get("depends_on", {}).get("nodes", []))
        if n.get("resource_type") == "model" and deps & {EVENT_SOURCE, EVENT_STAGING}:
            event_models.add(uid)
    per = []
    for r in rr.get("results", []):
        uid = r["unique_id"]
        per.append({"node": uid, "type": uid.split(".")[0], "s": round(r.get("execution_time") or 0, 3),
                    "status": r.get("status")})
    by_type: dict[str, float] = {}
    for r in per:
        by_type[r["type"]] = round(by_type.get(r["type"], 0) + r["s"], 2)
    models = sorted((r for r in per if r["type"] in ("model", "seed")), key=lambda r: -r["s"])
    tests = sorted((r for r in per if r["type"] == "test"), key=lambda r: -r["s"])
    return {
        "target_dir": str(tdir.relative_to(ROOT)),
        "elapsed_s": round(rr.get("elapsed_time") or 0, 2),
        "by_type_s": by_type,
        "event_models": sorted(m.split(".")[-1] for m in event_models),
        "event_models_s": round(sum(r["s"] for r in per if r["node"] in event_models), 2),
        "models": [{"name": r["node"].split(".")[-1], "s": r["s"]} for r in models],
        "slowest_tests": [{"name": r["node"].split(".")[-1], "s": r["s"]} for r in tests[:10]],
        "failures": [r["node"] for r in per if r["status"] not in ("success", "pass", "warn")],
    }


def merge_dbt(results: list[dict]) -> dict:
    """dbt_results() of the runs of one command (a long load runs in several), added up."""
    results = [r for r in results if r]
    if len(results) <= 1:
        return results[0] if results else {}
    by_type: dict[str, float] = {}
    models: dict[str, float] = {}
    for r in results:
        for k, v in r.get("by_type_s", {}).items():
            by_type[k] = round(by_type.get(k, 0) + v, 2)
        for x in r.get("models", []):
            models[x["name"]] = round(models.get(x["name"], 0) + x["s"], 3)
    return {
        "target_dir": [r["target_dir"] for r in results],
        "elapsed_s": round(sum(r.get("elapsed_s", 0) for r in results), 2),
        "by_type_s": by_type,
        "event_models": results[-1].get("event_models", []),
        "event_models_s": round(sum(r.get("event_models_s", 0) for r in results), 2),
        "models": [{"name": k, "s": v} for k, v in sorted(models.items(), key=lambda kv: -kv[1])],
        "slowest_tests": results[-1].get("slowest_tests", []),
        "failures": sorted({f for r in results for f in r.get("failures", [])}),
    }
