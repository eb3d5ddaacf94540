"""Build a landing zone's raw layer on local Spark (the `spark` dbt target), beside the DuckDB
harness (pipeline_harness.Pipeline): same raw layer, same dbt project, another engine. The
marts the build exports are loaded into a DuckDB file (orchestration/lib/engines/spark.py), which
`query` reads, so results compare with the DuckDB warehouse table by table."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from helpers.dbt_runner import run_dbt
from helpers.pipeline_harness import WarehouseReader
from orchestration.lib.engines import spark as spark_engine


class SparkPipeline(WarehouseReader):
    """dbt on local Spark over an existing raw layer, everything under `root`."""

    def __init__(self, root: Path, raw: Path):
        self.root = Path(root)
        self.raw = Path(raw)
        self.paths = spark_engine.SparkPaths(self.root / "spark")
        self.target = self.root / "dbt_target_spark"
        self.build_seconds: float | None = None

    def dbt(self, args: list[str], vars: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return run_dbt(args, raw=self.raw.resolve(), target=spark_engine.SPARK_TARGET, target_path=self.target,
                       vars=vars, env=spark_engine.dbt_env(self.paths), cwd=self.root, check=check,
                       label=" on Spark")

    def build(self, select: str | None = None, vars: dict | None = None, full_refresh: bool = False,
              check: bool = True) -> subprocess.CompletedProcess:
        """`dbt build` (seeds, models, tests) on Spark, then load the exported marts."""
        args = ["build"] + (["--select", select] if select else []) + (["--full-refresh"] if full_refresh else [])
        started = time.perf_counter()
        proc = self.dbt(args, vars=vars, check=check)
        if proc.returncode == 0:
            self.load_marts()
        self.build_seconds = time.perf_counter() - started
        return proc

    def load_marts(self) -> dict[str, int]:
        return spark_engine.refresh_marts_db(self.paths, self.target / "manifest.json")

    @property
    def warehouse(self) -> Path:
        """The exported marts as a DuckDB file (schemas marts and intermediate)."""
        return self.paths.marts_db

