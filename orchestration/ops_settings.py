"""Operations settings (schedule, new-drop sensor, freshness, alerts) read from the
`schedule`, `sensor`, `freshness` and `alerts` sections of config/pipeline.yaml, through
orchestration.settings.get_settings().raw. Defaults apply when a section is absent."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .ingestion.contracts import OBJECTS
from .settings import get_settings

SOURCES: tuple[str, ...] = tuple(dict.fromkeys(o.source for o in OBJECTS))


def _section(name: str) -> dict:
    return dict(get_settings().raw.get(name) or {})


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str
    timezone: str
    drop_date_offset_days: int
    freshness_cron: str
    default_status: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def schedule_settings() -> ScheduleSettings:
    s = _section("schedule")
    return ScheduleSettings(
        cron=str(s.get("cron", "30 6 * * *")),
        timezone=str(s.get("timezone", "UTC")),
        drop_date_offset_days=int(s.get("drop_date_offset_days", 0)),
        freshness_cron=str(s.get("freshness_cron", "15 * * * *")),
        default_status=str(s.get("default_status", "STOPPED")).upper(),
    )


@dataclass(frozen=True)
class SensorSettings:
    minimum_interval_seconds: int
    catch_up_days: int
    default_status: str


def sensor_settings() -> SensorSettings:
    s = _section("sensor")
    return SensorSettings(
        minimum_interval_seconds=int(s.get("minimum_interval_seconds", 60)),
        catch_up_days=int(s.get("catch_up_days", 3)),
        default_status=str(s.get("default_status", "STOPPED")).upper(),
    )


def _parse_hhmm(value) -> dt.time:
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 06:00 as sexagesimal minutes
        return dt.time(value // 60, value % 60)
    hh, _, mm = str(value).partition(":")
    return dt.time(int(hh), int(mm or 0))


@dataclass(frozen=True)
class FreshnessSettings:
    expected_by: dict[str, dt.time]  # source -> expected arrival time of each day's drop
    timezone: str
    gap_window_days: int

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def freshness_settings() -> FreshnessSettings:
    s = _section("freshness")
    expected = {}
    for source in SOURCES:
        entry = s.get(source) or {}
        expected[source] = _parse_hhmm(entry.get("expected_by", "06:00"))
    return FreshnessSettings(
        expected_by=expected,
        timezone=schedule_settings().timezone,
        gap_window_days=int(s.get("gap_window_days", 30)),
    )


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


def alert_settings() -> AlertSettings:
    s = _section("alerts")
    return AlertSettings(
        webhook_env_var=str(s.get("webhook_env_var", "CSP_ALERT_WEBHOOK_URL")),
        dagster_ui_url=str(os.environ.get("CSP_DAGSTER_UI_URL") or s.get("dagster_ui_url", "http://127.0.0.1:3000")),
        timeout_seconds=float(s.get("timeout_seconds", 10)),
    )
