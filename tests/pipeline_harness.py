"""Run the pipeline's pieces on a hand-built landing zone in a temporary directory:
ingestion straight through the loader, dbt through its CLI against a private warehouse."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.lib.ingestion.contracts import OBJECTS
from orchestration.lib.ingestion.landing import list_drops
from orchestration.lib.ingestion.raw_store import load_drop
from orchestration.lib.settings import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).parent / "dbt")


def ingest_all(landing: Path, raw: Path, drops: list[str] | None = None) -> dict:
    results = {}
    for obj in OBJECTS:
        complete, _ = list_drops(landing, obj.source)
        for d in complete:
            if drops is None or d in drops:
                results[(obj.source, obj.name, d)] = load_drop(obj, landing, raw, d)
    return results


def dbt(args: list[str], raw: Path, warehouse: Path, target_path: Path, vars: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "CSP_RAW_DIR": str(raw), "CSP_WAREHOUSE_PATH": str(warehouse),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(target_path), "--log-path", str(target_path / "logs")]
    if vars:
        cmd += ["--vars", json.dumps(vars)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return proc


class WarehouseReader:
    """Read-only queries on `self.warehouse` (a DuckDB file)."""

    def query(self, sql: str, params=None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def df(self, sql: str):
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).df()
        finally:
            con.close()


class Pipeline(WarehouseReader):
    """A private raw layer + warehouse under tmp_path, for one landing zone."""

    def __init__(self, tmp_path: Path, landing: Path):
        self.landing = landing
        self.raw = tmp_path / "raw"
        self.warehouse = tmp_path / "warehouse.duckdb"
        self.target = tmp_path / "dbt_target"

    def ingest(self, drops=None) -> dict:
        return ingest_all(self.landing, self.raw, drops)

    def build(self, select: str | None = None, vars: dict | None = None, full_refresh=False,
              check=True) -> subprocess.CompletedProcess:
        self.dbt(["seed"])
        args = ["build"] + (["--select", select] if select else []) + (["--full-refresh"] if full_refresh else [])
        return self.dbt(args, vars=vars, check=check)

    def dbt(self, args, vars=None, check=True):
        return dbt(args, self.raw, self.warehouse, self.target, vars=vars, check=check)

