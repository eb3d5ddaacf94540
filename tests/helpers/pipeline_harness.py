"""Run the pipeline's pieces on a hand-built landing zone in a temporary directory:
ingestion straight through the loader, dbt through its CLI against a private warehouse."""
from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb

from helpers.dbt_runner import DBT, run_dbt  # noqa: F401  (DBT: the dbt executable, re-exported)
from orchestration.lib.ingestion.contracts import OBJECTS
from orchestration.lib.ingestion.landing import list_drops
from orchestration.lib.ingestion.raw_store import load_drop


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
    return run_dbt(args, raw=raw, warehouse=warehouse, target_path=target_path, vars=vars, check=check)


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

