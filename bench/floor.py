"""The floor: DuckDB alone reads the landing usage-event Parquet files of the given drops once
and aggregates them per account and UTC day (an embedded script, run as a measured subprocess)."""
from __future__ import annotations

import json
from pathlib import Path

from bench.landing import event_files
from bench.measure import PY, log, run_measured

FLOOR_SCRIPT = r"""
import json, sys, time, duckdb
files = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
t0 = time.perf_counter()
con.execute('''CREATE TABLE floor AS
    SELECT account_id, CAST(timezone('UTC', "timestamp") AS DATE) AS event_date,
           count(*) AS events, count(DISTINCT user_id) AS active_users
    FROM read_parquet(?) GROUP BY ALL''', [files])
took = time.perf_counter() - t0
rows, events = con.execute("SELECT count(*), sum(events) FROM floor").fetchone()
print(json.dumps({"seconds": took, "rows": rows, "events": int(events),
                  "threads": con.execute("SELECT current_setting('threads')").fetchone()[0]}))
"""


def floor(work: Path, dates: list[str], env: dict, repeats: int = 2) -> dict:
    files = event_files(work, dates)
    lst = work / "floor_files.json"
    lst.write_text(json.dumps(files))
    script = work / "floor.py"
    script.write_text(FLOOR_SCRIPT)
    runs = []
    for i in range(repeats):
        m = run_measured([PY, str(script), str(lst)], env, work / "logs" / f"floor-{i}.log")
        if m["rc"] != 0:
            raise RuntimeError(f"floor query failed: {m['tail']}")
        res = json.loads(Path(m["log"]).read_text().strip().splitlines()[-1])
        runs.append({**res, "wall_s": m["wall_s"], "peak_rss_gb": m["peak_rss_gb"],
                     "load_before": m["load_before"], "load_after": m["load_after"]})
        log(f"floor run {i + 1}: {res['seconds']:.1f}s for {res['events']:,} events "
            f"({len(files)} files)")
    best = min(runs, key=lambda r: r["seconds"])
    return {"seconds": round(best["seconds"], 2), "events": best["events"], "files": len(files),
            "load_before": best["load_before"], "load_after": best["load_after"], "runs": runs}
