"""The landing zone of a preset: generated once (D+2 complete daily drops) into
<workdir>/landing_all, and exposed drop by drop in <workdir>/landing through symlinks."""
from __future__ import annotations

import datetime as dt
import glob
import json
import subprocess
import time
from pathlib import Path

from bench.measure import PY, ROOT, log
from orchestration.lib.ingestion.contracts import SOURCES


def preset_dates(p: dict) -> list[str]:
    start = dt.date.fromisoformat(p["start_date"])
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(p["days"] + 2)]


def generate(p: dict, work: Path, seed: int) -> dict:
    """The full landing zone (D+2 complete drops), once per preset."""
    all_dir = work / "landing_all"
    stamp = all_dir / "_bench.json"
    want = {**p, "seed": seed, "complete_drops": p["days"] + 2}
    if stamp.exists() and json.loads(stamp.read_text()).get("params") == want:
        info = json.loads(stamp.read_text())
        log(f"landing zone {all_dir} already generated ({info.get('usage_events_total') or 0:,} events): reused")
        return info
    log(f"generating {all_dir}: {p['accounts']} accounts x {want['complete_drops']} drops ...")
    cmd = [PY, "-m", "orchestration.lib.sample_data", "--accounts", str(p["accounts"]),
           "--days", str(want["complete_drops"]), "--seed", str(seed), "--out", str(all_dir),
           "--start-date", p["start_date"], "--events-per-user-day", str(p["events_per_user_day"]),
           "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    gen = json.loads((all_dir / "_generator.json").read_text())
    info = {"params": want, "generate_s": round(time.perf_counter() - t0, 1),
            "usage_events_total": gen.get("summary", {}).get("records", {}).get("usage/events")}
    stamp.write_text(json.dumps(info, indent=1))
    return info


def expose(work: Path, dates: list[str]) -> None:
    """Make these drop dates (and only added ones) visible in <work>/landing via symlinks."""
    for source in SOURCES:
        for d in dates:
            src = work / "landing_all" / source / d
            dst = work / "landing" / source / d
            if src.is_dir() and (src / "_SUCCESS").is_file() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.symlink_to(src.resolve(), target_is_directory=True)


def event_files(work: Path, dates: list[str]) -> list[str]:
    files = []
    for d in dates:
        files += sorted(glob.glob(str(work / "landing_all" / "usage" / d / "events-*.parquet")))
    return files
