"""The scenarios of a preset, each one `python -m orchestration.cli build` measured on one
DAGSTER_HOME, raw layer, warehouse and serving database under <workdir> (see bench/run.py):
the environment, the machine, per-run details, the headline figures."""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.dagster_events import event_counts, step_stats, summarize_steps
from bench.dbt_results import dbt_results, merge_dbt
from bench.floor import floor
from bench.landing import expose, generate, preset_dates
from bench.measure import PY, ROOT, du, log, run_measured


def run_details(work: Path, text: str) -> dict:
    """Per-step (Dagster) and per-model (dbt) timings of every run the command made: one, or
    one per chunk of a long load ("run i/N: ... (run id)" lines), added up."""
    # the CLI's lines: "Run [i/N ]<run id>: drops A .. B" per run, "Succeeded in ..." at the end
    run_ids = re.findall(r"^Run (?:\d+/\d+ )?([0-9a-f-]{36}): drops", text, flags=re.M)
    if not run_ids or not re.search(r"^Succeeded in", text, flags=re.M):
        return {}
    steps: dict[str, float] = {}
    events: dict[str, int] = {}
    for rid in run_ids:
        for k, v in step_stats(work / "dagster_home", rid).items():
            steps[k] = round(steps.get(k, 0) + v, 2)
        for k, v in event_counts(work / "dagster_home", rid).items():
            events[k] = events.get(k, 0) + v
    out = {"run_id": run_ids[-1], "run_ids": run_ids, "runs": len(run_ids),
           "steps": summarize_steps(steps), "dbt": merge_dbt([dbt_results(r) for r in run_ids]),
           "dagster_events": events}
    ev_ingest = next((v for k, v in steps.items() if k.startswith("raw__usage__events")
                      and not k.endswith("_match")), 0.0)
    out["events_processing_s"] = round(ev_ingest + out["dbt"].get("event_models_s", 0.0), 2)
    out["events_ingest_s"] = ev_ingest
    return out


PREPARE = "from orchestration.defs.dbt_project import get_dbt_project; get_dbt_project()"


def build(label: str, work: Path, env: dict) -> dict:
    # (re)parse the dbt manifest first if a dbt file changed since the last parse, so that a
    # one-off `dbt parse` after a code change is not counted in the figure (timed apart)
    prep = run_measured([PY, "-c", PREPARE], env, work / "logs" / f"{label}-prepare.log")
    if prep["rc"] != 0:
        raise RuntimeError(f"{label}: preparing the dbt manifest failed, see {prep['log']}")
    log(f"{label}: python -m orchestration.cli build ...")
    m = run_measured([PY, "-m", "orchestration.cli", "build"], env, work / "logs" / f"{label}.log")
    text = Path(m["log"]).read_text(errors="replace")
    if m["rc"] != 0 and not (m["rc"] == 1 and "Up to date" in text):   # 1 = nothing to do
        print(text[-4000:], file=sys.stderr)
        raise RuntimeError(f"{label}: the build failed (rc={m['rc']}), see {m['log']}")
    out = {**m, "up_to_date": "Up to date" in text, "prepare_manifest_s": prep["wall_s"]}
    out.update(run_details(work, text))
    log(f"{label}: {m['wall_s']:.1f}s, peak {m['peak_rss_gb']:.2f} GB"
        + (f"; ingest {out['steps']['ingest_s']:.0f}s, dbt {out['steps']['dbt_step_s']:.0f}s, "
           f"publish {out['steps']['publish_s']:.0f}s" if "steps" in out else " (nothing to do)"))
    return out


def machine() -> dict:
    from importlib import metadata

    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for pkg in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt", "great_expectations",
                "pyarrow"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"cores": os.cpu_count(), "memory_gb": round(mem / 2**30, 1), "cpu": cpu,
            "os": platform.platform(), "versions": versions, "commit": commit}


def bench_env(work: Path, p: dict) -> dict:
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "pipeline.yaml").read_text())
    cfg.setdefault("partitions", {})["start_date"] = p["start_date"]
    (work / "pipeline.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("CSP_"):
            del env[k]
    env.update({
        "CSP_CONFIG": str(work / "pipeline.yaml"),
        "CSP_LANDING_DIR": str(work / "landing"),
        "CSP_DATA_DIR": str(work / "data"),
        "DAGSTER_HOME": str(home),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def figures(res: dict) -> dict:
    fb = res["full_build"]
    return {
        "full_build_s": fb["wall_s"],
        "full_build_peak_rss_gb": fb["peak_rss_gb"],
        "refresh_s": res["refresh"]["wall_s"],
        "refresh_peak_rss_gb": res["refresh"]["peak_rss_gb"],
        "refresh_half_s": res.get("refresh_half", {}).get("wall_s"),
        "refresh_growth": (round(res["refresh"]["wall_s"] / res["refresh_half"]["wall_s"], 2)
                           if "refresh_half" in res else None),
        "floor_s": res["floor"]["seconds"],
        "events_processing_s": fb.get("events_processing_s"),
        "events_vs_floor": (round(fb["events_processing_s"] / res["floor"]["seconds"], 2)
                            if fb.get("events_processing_s") else None),
        "noop_s": res["noop"]["wall_s"],
        "peak_rss_gb": max(r["peak_rss_gb"] for k, r in res.items()
                           if k in ("half_build", "refresh_half", "full_build", "refresh", "noop")),
    }


def reset_state(work: Path) -> None:
    """A clean pipeline state (the generated landing zone is kept)."""
    for sub in ("landing", "data", "dagster_home"):
        shutil.rmtree(work / sub, ignore_errors=True)


def run_preset(name: str, p: dict, seed: int, work: Path, skip_generate: bool, double: bool) -> dict:
    """Every scenario of preset `name` (parameters `p`, generator seed `seed`) under `work`."""
    D = p["days"]
    work.mkdir(parents=True, exist_ok=True)
    if skip_generate and (work / "landing_all" / "_bench.json").exists():
        gen = json.loads((work / "landing_all" / "_bench.json").read_text())
    else:
        gen = generate(p, work, seed)
    dates = preset_dates(p)
    # a clean pipeline state for every benchmark run (the generated landing zone is kept)
    reset_state(work)
    shutil.rmtree(work / "logs", ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    env = bench_env(work, p)
    res: dict = {"preset": name, "params": {**p, "seed": seed}, "generated": gen,
                 "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                 "machine": machine(), "workdir": str(work)}

    t_all = time.perf_counter()
    if double:
        H = D // 2
        expose(work, dates[:H])
        res["half_build"] = build("half_build", work, env)
        res["half_build"]["drops"] = H
        expose(work, dates[:H + 1])
        res["refresh_half"] = build("refresh_half", work, env)
        res["refresh_half"]["history_drops"] = H
        reset_state(work)
        env = bench_env(work, p)

    res["floor"] = floor(work, dates[:D], env)
    expose(work, dates[:D])
    res["full_build"] = build("full_build", work, env)
    res["full_build"]["drops"] = D
    res["full_build"]["usage_events"] = res["floor"]["events"]
    res["full_build"]["raw_gb"] = du(work / "data" / "raw")
    res["full_build"]["warehouse_gb"] = du(work / "data" / "warehouse")
    res["full_build"]["serving_gb"] = du(work / "data" / "serving")

    res["noop"] = build("noop", work, env)
    if not res["noop"]["up_to_date"]:
        raise RuntimeError("the no-op run did work: expected 'Up to date'")

    expose(work, dates[:D + 1])
    res["refresh"] = build("refresh", work, env)
    res["refresh"]["history_drops"] = D

    res["figures"] = figures(res)
    res["total_s"] = round(time.perf_counter() - t_all, 1)
    return res
