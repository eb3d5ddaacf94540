"""Reads of a run's records in the Dagster instance: per-step wall times (run step stats), the
event-log entries by type (SQLite run storage), and the step times summed by pipeline stage."""
from __future__ import annotations

from pathlib import Path


def step_stats(dagster_home: Path, run_id: str) -> dict[str, float]:
    from dagster import DagsterInstance

    inst = DagsterInstance.from_config(str(dagster_home))
    try:
        out = {}
        for s in inst.get_run_step_stats(run_id):
            if s.start_time and s.end_time:
                out[s.step_key] = round(s.end_time - s.start_time, 2)
        return out
    finally:
        inst.dispose()


def event_counts(dagster_home: Path, run_id: str) -> dict[str, int]:
    """Events the run wrote to the Dagster event log, by type (SQLite run storage only)."""
    import sqlite3

    db = dagster_home / "history" / "runs" / f"{run_id}.db"
    if not db.exists():
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT dagster_event_type, count(*) FROM event_logs "
                                "GROUP BY 1 ORDER BY 2 DESC").fetchall())
    finally:
        con.close()


def summarize_steps(steps: dict[str, float]) -> dict:
    ingest = {k: v for k, v in steps.items() if k.startswith("raw__") and not k.endswith("_match")}
    dbt = {k: v for k, v in steps.items() if k.startswith("dbt_models")}
    publish = {k: v for k, v in steps.items() if "serving_marts" in k}
    other = {k: v for k, v in steps.items() if k not in ingest and k not in dbt and k not in publish}
    return {
        "ingest_s": round(sum(ingest.values()), 2),
        "ingest_per_object_s": dict(sorted(ingest.items(), key=lambda kv: -kv[1])),
        "dbt_step_s": round(sum(dbt.values()), 2),
        "publish_s": round(sum(publish.values()), 2),
        "checks_and_other_s": round(sum(other.values()), 2),
        "other_steps_s": dict(sorted(other.items(), key=lambda kv: -kv[1])),
    }
