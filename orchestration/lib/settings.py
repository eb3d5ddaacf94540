"""The pipeline's settings, in one typed object: `get_settings()`.

It reads config/pipeline.yaml (or the file CSP_CONFIG names) through the schema in
orchestration/lib/config_schema.py, which validates every section and key and fills in the
defaults, then applies the environment overrides below. Every reader (the Dagster
definitions, `csp`, dbt's environment, the engines, serving) takes its values from here.

Environment overrides: CSP_CONFIG (another YAML file), CSP_LANDING_DIR, CSP_DATA_DIR (raw/,
warehouse/, serving/ below it), CSP_RAW_DIR, CSP_WAREHOUSE_PATH, CSP_SERVING_PATH,
CSP_ENGINE, CSP_PUBLICATION_TARGET, CSP_DAGSTER_UI_URL.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.lib.config_schema import PipelineConfig, load_config
from orchestration.lib.ingestion.contracts import SOURCES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_PATH = PROJECT_ROOT / "config" / "pipeline.yaml"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


# a path given as a value, a zero-argument callable resolved when it is needed, or None (a default)
PathSource = str | os.PathLike | Callable[[], str | os.PathLike] | None


def resolve_path(value: PathSource, default: Callable[[], str | os.PathLike]) -> Path:
    if value is None:
        return Path(default())
    return Path(value() if callable(value) else value)


def _path(value: str | os.PathLike) -> Path:
    p = Path(value)
    return p if p.is_absolute() else PROJECT_ROOT / p


@dataclass(frozen=True)
class FreshnessSettings:
    expected_by: dict[str, dt.time]  # source -> expected arrival time of each day's drop
    timezone: str                    # schedule.timezone
    gap_window_days: int

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class AlertSettings:
    webhook_env_var: str
    dagster_ui_url: str
    timeout_seconds: float

    @property
    def webhook_url(self) -> str | None:
        return os.environ.get(self.webhook_env_var) or None

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_ui_url.rstrip('/')}/runs/{run_id}"


@dataclass(frozen=True)
class Settings:
    """The validated configuration (`config`: every section of config/pipeline.yaml, typed)
    and the values derived from it with the environment applied."""
    config: PipelineConfig
    landing_dir: Path
    raw_dir: Path
    warehouse_path: Path
    serving_path: Path

    @property
    def data_dir(self) -> Path:
        return self.raw_dir.parent

    # -- engine -----------------------------------------------------------------------------
    @property
    def engine(self) -> str:
        """`duckdb` or `spark` (engine; env CSP_ENGINE overrides it)."""
        value = str(os.environ.get("CSP_ENGINE") or self.config.engine).strip().lower()
        if value not in ("duckdb", "spark"):
            raise ValueError(f"engine must be one of ('duckdb', 'spark'), got {value!r} (config/pipeline.yaml)")
        return value

    # -- ingestion --------------------------------------------------------------------------
    @property
    def partitions_start(self) -> str:
        """The first drop date of the daily partitions (partitions.start_date), YYYY-MM-DD."""
        return self.config.partitions.start_date.isoformat()

    @property
    def max_reject_rate(self) -> float:
        return self.config.ingestion.max_reject_rate

    @property
    def max_unmatched_rate(self) -> float:
        return self.config.ingestion.max_unmatched_rate

    @property
    def lookback_days(self) -> int:
        """Days before the first new drop that an incremental dbt run rebuilds
        (ingestion.late_event_lookback_days)."""
        return self.config.ingestion.late_event_lookback_days

    @property
    def min_rejects_to_fail(self) -> int:
        """The reject-rate check fails only when a load rejects at least this many records
        (ingestion.min_rejects_to_fail): a few rejects in a small drop do not stop
        publication; a share above max_reject_rate of a real drop does."""
        return self.config.ingestion.min_rejects_to_fail

    @property
    def ingestion_workers(self) -> int:
        """Processes loading the drops of a multi-drop run (ingestion.workers; 0 = one per core)."""
        n = self.config.ingestion.workers
        return n if n > 0 else (os.cpu_count() or 1)

    @property
    def plausibility_max_days_before_first_drop(self) -> int:
        """A timestamp earlier than a source's first complete drop minus this many days is
        quarantined (ingestion.plausibility.max_days_before_first_drop)."""
        return self.config.ingestion.plausibility.max_days_before_first_drop

    @property
    def plausibility_max_days_after_drop(self) -> int:
        """A record's own time (created/updated/event time) on a day later than its drop date
        plus this many days is quarantined (ingestion.plausibility.max_days_after_drop)."""
        return self.config.ingestion.plausibility.max_days_after_drop

    @property
    def max_landing_mb_per_run(self) -> float:
        """Most landing data `csp build` loads in one run (backfill.max_landing_mb_per_run; 0 = no limit)."""
        return self.config.backfill.max_landing_mb_per_run

    # -- publication ------------------------------------------------------------------------
    @property
    def storage_compatibility_version(self) -> str:
        """DuckDB storage format of the serving file (publication.storage_compatibility_version,
        default v1.0.0): the oldest DuckDB release whose clients must open it. A DuckDB version
        string such as v1.0.0 or v1.4.0; `latest` writes the running DuckDB's own format, which
        older clients refuse ("Trying to read a database file with version number ...")."""
        return self.config.publication.storage_compatibility_version

    @property
    def publication_target(self) -> str:
        """Where `serving_marts` publishes (publication.target, env CSP_PUBLICATION_TARGET
        overrides it): `duckdb` (default) = the serving DuckDB file; `postgres` = a schema in a
        PostgreSQL database (orchestration/lib/serving/postgres.py). The PostgreSQL connection
        comes only from the environment (CSP_POSTGRES_DSN, else libpq's PGHOST/PGPORT/PGUSER/
        PGPASSWORD/PGDATABASE), never from a file."""
        value = os.environ.get("CSP_PUBLICATION_TARGET") or self.config.publication.target
        target = str(value).strip().lower()
        if target not in ("duckdb", "postgres"):
            raise ValueError(f"publication.target must be one of ('duckdb', 'postgres'), not {value!r}")
        return target

    @property
    def postgres_schema(self) -> str:
        """PostgreSQL schema the marts are published to (publication.postgres_schema)."""
        return self.config.publication.postgres_schema

    @property
    def postgres_reader_role(self) -> str:
        """NOLOGIN role granted SELECT on the published PostgreSQL schema
        (publication.postgres_reader_role); grant it to BI logins."""
        return self.config.publication.postgres_reader_role

    @property
    def postgres_swap_timeout_seconds(self) -> float:
        """How long a PostgreSQL publication waits for readers to release the old marts before
        it gives up (publication.postgres_swap_timeout_seconds)."""
        return self.config.publication.postgres_swap_timeout_seconds

    # -- operations: schedule, sensor, freshness, alerts ----------------------------------------
    @property
    def schedule(self):
        """schedule.*: cron, timezone (and .tz), drop_date_offset_days, freshness_cron, default_status."""
        return self.config.schedule

    @property
    def sensor(self):
        """sensor.*: minimum_interval_seconds, catch_up_days, default_status."""
        return self.config.sensor

    @property
    def freshness(self) -> FreshnessSettings:
        f = self.config.freshness
        expected = {}
        for source in SOURCES:
            hh, mm = getattr(f, source).expected_by.split(":")
            expected[source] = dt.time(int(hh), int(mm))
        return FreshnessSettings(expected_by=expected, timezone=self.config.schedule.timezone,
                                 gap_window_days=f.gap_window_days)

    @property
    def alerts(self) -> AlertSettings:
        a = self.config.alerts
        return AlertSettings(
            webhook_env_var=a.webhook_env_var,
            dagster_ui_url=os.environ.get("CSP_DAGSTER_UI_URL") or a.dagster_ui_url,
            timeout_seconds=a.timeout_seconds,
        )


@cache
def _load(path: str, mtime_ns: int) -> PipelineConfig:
    return load_config(path)


def _config(path: str) -> PipelineConfig:
    """config/pipeline.yaml (or CSP_CONFIG) validated against config_schema.py, defaults
    filled in, read again when the file changes; a problem raises ConfigError naming the
    file and the key."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        mtime = -1
    return _load(path, mtime)


def get_settings() -> Settings:
    """The settings of config/pipeline.yaml (or CSP_CONFIG) with the environment overrides."""
    cfg = _config(os.environ.get("CSP_CONFIG", str(CONFIG_PATH)))
    paths = cfg.paths
    raw, warehouse, serving = paths.raw, paths.warehouse, paths.serving
    data_dir = os.environ.get("CSP_DATA_DIR")
    if data_dir:
        raw = Path(data_dir) / "raw"
        warehouse = Path(data_dir) / "warehouse" / "warehouse.duckdb"
        serving = Path(data_dir) / "serving" / "analytics.duckdb"
    return Settings(
        config=cfg,
        landing_dir=_path(os.environ.get("CSP_LANDING_DIR", paths.landing)),
        raw_dir=_path(os.environ.get("CSP_RAW_DIR", raw)),
        warehouse_path=_path(os.environ.get("CSP_WAREHOUSE_PATH", warehouse)),
        serving_path=_path(os.environ.get("CSP_SERVING_PATH", serving)),
    )
