"""Paths and tunables, read from config/pipeline.yaml and the environment (one place)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_ROOT / "config" / "pipeline.yaml"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
# serving file readable by DuckDB clients from 1.0 on (publication.storage_compatibility_version)
DEFAULT_STORAGE_COMPATIBILITY_VERSION = "v1.0.0"
# where serving_marts publishes (publication.target, env CSP_PUBLICATION_TARGET)
PUBLICATION_TARGETS = ("duckdb", "postgres")


def _path(value: str | os.PathLike) -> Path:
    p = Path(value)
    return p if p.is_absolute() else PROJECT_ROOT / p


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    raw_dir: Path
    warehouse_path: Path
    serving_path: Path
    partitions_start: str
    max_reject_rate: float
    max_unmatched_rate: float
    lookback_days: int
    raw: dict

    @property
    def max_landing_mb_per_run(self) -> float:
        """Most landing data `cli build` loads in one run (backfill.max_landing_mb_per_run; 0 = no limit)."""
        return float((self.raw.get("backfill") or {}).get("max_landing_mb_per_run") or 0)

    @property
    def ingestion_workers(self) -> int:
        """Processes loading the drops of a multi-drop run (ingestion.workers; 0 = one per core)."""
        n = int((self.raw.get("ingestion") or {}).get("workers") or 0)
        return n if n > 0 else (os.cpu_count() or 1)

    @property
    def min_rejects_to_fail(self) -> int:
        """The reject-rate check fails only when a load rejects at least this many records
        (ingestion.min_rejects_to_fail, default 3): a few rejects in a small drop do not stop
        publication; a share above max_reject_rate of a real drop does."""
        return int((self.raw.get("ingestion") or {}).get("min_rejects_to_fail", 3))

    @property
    def plausibility_max_days_before_first_drop(self) -> int:
        """A timestamp earlier than a source's first complete drop minus this many days is
        quarantined (ingestion.plausibility.max_days_before_first_drop, default 3650)."""
        return int(self._plausibility.get("max_days_before_first_drop", 3650))

    @property
    def plausibility_max_days_after_drop(self) -> int:
        """A record's own time (created/updated/event time) on a day later than its drop date
        plus this many days is quarantined (ingestion.plausibility.max_days_after_drop, default 1)."""
        return int(self._plausibility.get("max_days_after_drop", 1))

    @property
    def storage_compatibility_version(self) -> str:
        """DuckDB storage format of the serving file (publication.storage_compatibility_version,
        default v1.0.0): the oldest DuckDB release whose clients must open it. A DuckDB version
        string such as v1.0.0 or v1.4.0; `latest` writes the running DuckDB's own format, which
        older clients refuse ("Trying to read a database file with version number ...")."""
        value = (self.raw.get("publication") or {}).get("storage_compatibility_version")
        return str(value).strip() if value else DEFAULT_STORAGE_COMPATIBILITY_VERSION

    @property
    def publication_target(self) -> str:
        """Where `serving_marts` publishes (publication.target, env CSP_PUBLICATION_TARGET
        overrides it): `duckdb` (default) = the serving DuckDB file; `postgres` = a schema in a
        PostgreSQL database (orchestration/serving_postgres.py). The PostgreSQL connection comes
        only from the environment (CSP_POSTGRES_DSN, else libpq's PGHOST/PGPORT/PGUSER/
        PGPASSWORD/PGDATABASE), never from a file."""
        value = os.environ.get("CSP_PUBLICATION_TARGET") or self._publication.get("target")
        target = str(value or "duckdb").strip().lower()
        if target not in PUBLICATION_TARGETS:
            raise ValueError(
                f"publication.target must be one of {PUBLICATION_TARGETS}, not {value!r}"
            )
        return target

    @property
    def postgres_schema(self) -> str:
        """PostgreSQL schema the marts are published to (publication.postgres_schema, default marts)."""
        return str(self._publication.get("postgres_schema") or "marts").strip()

    @property
    def postgres_reader_role(self) -> str:
        """NOLOGIN role granted SELECT on the published PostgreSQL schema
        (publication.postgres_reader_role, default bi_reader); grant it to BI logins."""
        return str(self._publication.get("postgres_reader_role") or "bi_reader").strip()

    @property
    def postgres_swap_timeout_seconds(self) -> float:
        """How long a PostgreSQL publication waits for readers to release the old marts before
        it gives up (publication.postgres_swap_timeout_seconds, default 300)."""
        return float(self._publication.get("postgres_swap_timeout_seconds", 300))

    @property
    def _publication(self) -> dict:
        return self.raw.get("publication") or {}

    @property
    def _plausibility(self) -> dict:
        return (self.raw.get("ingestion") or {}).get("plausibility") or {}

    @property
    def data_dir(self) -> Path:
        return self.raw_dir.parent


@lru_cache(maxsize=None)
def _load(path: str, mtime_ns: int) -> dict:
    from .config_schema import load_config

    return load_config(path)


def _config(path: str) -> dict:
    """config/pipeline.yaml (or CSP_CONFIG) validated against orchestration/config_schema.py,
    defaults filled in; a problem raises ConfigError naming the file and the key."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        mtime = -1
    return _load(path, mtime)


def get_settings() -> Settings:
    """Settings from config/pipeline.yaml, overridden by environment variables:
    CSP_CONFIG (another YAML file), CSP_LANDING_DIR, CSP_DATA_DIR (raw/, warehouse/, serving/
    below it), CSP_RAW_DIR, CSP_WAREHOUSE_PATH, CSP_SERVING_PATH."""
    cfg = _config(os.environ.get("CSP_CONFIG", str(CONFIG_PATH)))
    paths = cfg.get("paths", {})
    data_dir = os.environ.get("CSP_DATA_DIR")
    raw = paths.get("raw", "data/raw")
    warehouse = paths.get("warehouse", "data/warehouse/warehouse.duckdb")
    serving = paths.get("serving", "data/serving/analytics.duckdb")
    if data_dir:
        raw = Path(data_dir) / "raw"
        warehouse = Path(data_dir) / "warehouse" / "warehouse.duckdb"
        serving = Path(data_dir) / "serving" / "analytics.duckdb"
    ing = cfg.get("ingestion", {})
    return Settings(
        landing_dir=_path(os.environ.get("CSP_LANDING_DIR", paths.get("landing", "data/landing"))),
        raw_dir=_path(os.environ.get("CSP_RAW_DIR", raw)),
        warehouse_path=_path(os.environ.get("CSP_WAREHOUSE_PATH", warehouse)),
        serving_path=_path(os.environ.get("CSP_SERVING_PATH", serving)),
        partitions_start=str(cfg.get("partitions", {}).get("start_date", "2024-01-01")),
        max_reject_rate=float(ing.get("max_reject_rate", 0.02)),
        max_unmatched_rate=float(ing.get("max_unmatched_rate", 0.05)),
        lookback_days=int(ing.get("late_event_lookback_days", 7)),
        raw=cfg,
    )
