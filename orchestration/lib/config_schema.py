"""The schema of config/pipeline.yaml: every section, key, type and allowed value, with the
defaults that apply when a key is absent. `load_config(path)` reads the file and returns it
validated, defaults filled in; any problem (a YAML error, an unknown section or key, a wrong
type, a bad value) raises ConfigError with one line per problem naming the file and the key.

Nothing runs on an unvalidated configuration: `get_settings()` (orchestration/lib/settings.py)
loads it through here, so the command line, `dagster dev` and the daemon all stop with the
same message; `python -m orchestration.cli validate-config` checks it on its own.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from orchestration.lib.ingestion.contracts import SOURCES

_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)
_VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")   # an SQL identifier, an environment variable
_URL = re.compile(r"^https?://\S+$")

NonNegInt = Annotated[int, Field(ge=0)]
PosInt = Annotated[int, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class ConfigError(ValueError):
    """Invalid pipeline configuration: one line per problem, each naming the file and key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, validate_default=True)


def _matching(rx: re.Pattern, what: str):
    """A field validator: the value must match `rx` (`what` says what it must be)."""
    def check(cls, v) -> str:
        if not rx.match(str(v)):
            raise ValueError(f"{v!r} is not {what}")
        return str(v)
    return classmethod(check)


_CRON_ALIASES = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
# (lowest, highest, names) of the five fields: minute, hour, day of month, month, day of week
_CRON_FIELDS = (
    (0, 59, ()), (0, 23, ()), (1, 31, ()),
    (1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    (0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)


def _cron_values(field: str, low: int, high: int, names: tuple[str, ...]) -> set[int] | None:
    """The values one cron field allows, or None when it is not valid."""
    def value(text: str) -> int | None:
        text = text.lower()
        if text in names:
            return names.index(text) + (low if low else 0)
        return int(text) if text.isdigit() and low <= int(text) <= high else None

    out: set[int] = set()
    for item in field.split(","):
        rng, _, step = item.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return None
        if rng == "*":
            first, last = low, high
        elif "-" in rng:
            a, _, b = rng.partition("-")
            first, last = value(a), value(b)
            if first is None or last is None:
                return None
            if first > last:   # a range that wraps (22-2 = 22, 23, 0, 1, 2), as croniter reads it
                out.update(range(first, high + 1, int(step or 1)))
                first = low
        else:
            first = value(rng)
            if first is None:
                return None
            last = high if step else first
        out.update(range(first, last + 1, int(step or 1)))
    return out


def _cron(value: str) -> str:
    """A five-field cron expression as Dagster schedules take it (or @daily and the like)."""
    text = str(value).strip()
    fields = text.split()
    ok = text in _CRON_ALIASES
    if not ok and len(fields) == 5:
        allowed = [_cron_values(f, *spec) for f, spec in zip(fields, _CRON_FIELDS)]
        ok = all(a is not None for a in allowed)
        if ok and allowed[3] == {2} and allowed[2] and min(allowed[2]) >= 30:
            ok = False   # the 30th or 31st of February never comes
    if not ok:
        raise ValueError(f"{value!r} is not a cron expression (five fields, e.g. \"30 6 * * *\")")
    return str(value)


class Paths(_Section):
    landing: str = "data/landing"
    raw: str = "data/raw"
    warehouse: str = "data/warehouse/warehouse.duckdb"
    serving: str = "data/serving/analytics.duckdb"


class DuckDB(_Section):
    memory_limit: str = "4GB"
    threads: NonNegInt = 2

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, v: str) -> str:
        if not _SIZE.match(str(v)):
            raise ValueError(f"{v!r} is not a size such as 4GB or 512MB")
        return str(v).strip()


class Partitions(_Section):
    start_date: dt.date = dt.date(2024, 1, 1)


class Plausibility(_Section):
    max_days_before_first_drop: NonNegInt = 3650
    max_days_after_drop: NonNegInt = 1


class Ingestion(_Section):
    max_reject_rate: Share = 0.02
    min_rejects_to_fail: NonNegInt = 3
    max_unmatched_rate: Share = 0.05
    late_event_lookback_days: NonNegInt = 7
    workers: NonNegInt = 0
    plausibility: Plausibility = Plausibility()


class Backfill(_Section):
    max_landing_mb_per_run: Annotated[float, Field(ge=0)] = 1500


class Publication(_Section):
    storage_compatibility_version: str = "v1.0.0"
    target: Literal["duckdb", "postgres"] = "duckdb"
    postgres_schema: str = "marts"
    postgres_reader_role: str = "bi_reader"
    postgres_swap_timeout_seconds: Annotated[float, Field(gt=0)] = 300

    @field_validator("storage_compatibility_version")
    @classmethod
    def _version(cls, v: str) -> str:
        v = str(v).strip()
        if v != "latest" and not _VERSION.match(v):
            raise ValueError(f"{v!r} is not a DuckDB version such as v1.0.0 (or `latest`)")
        return v

    _ident = field_validator("postgres_schema", "postgres_reader_role")(
        _matching(_NAME, "a plain SQL identifier (letters, digits, _)"))


Status = Literal["STOPPED", "RUNNING"]


def _timezone(v: str) -> str:
    try:
        ZoneInfo(str(v))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{v!r} is not an IANA time zone such as UTC or Europe/Berlin") from None
    return str(v)


class Schedule(_Section):
    """When the daily refresh runs (schedule.*)."""
    cron: str = "30 6 * * *"
    timezone: str = "UTC"
    drop_date_offset_days: NonNegInt = 0
    freshness_cron: str = "15 * * * *"
    default_status: Status = "STOPPED"

    _check_cron = field_validator("cron", "freshness_cron")(classmethod(lambda cls, v: _cron(v)))
    _check_tz = field_validator("timezone")(classmethod(lambda cls, v: _timezone(v)))

    @field_validator("default_status", mode="before")
    @classmethod
    def _upper(cls, v):
        return str(v).upper()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Sensor(_Section):
    minimum_interval_seconds: PosInt = 60
    catch_up_days: PosInt = 3
    default_status: Status = "STOPPED"

    @field_validator("default_status", mode="before")
    @classmethod
    def _upper(cls, v):
        return str(v).upper()


def _hhmm(v: Any) -> str:
    if isinstance(v, bool):
        raise ValueError(f"{v!r} is not a time HH:MM")
    if isinstance(v, int):   # YAML 1.1 reads an unquoted 06:00 as 360 (sexagesimal minutes)
        v = f"{v // 60:02d}:{v % 60:02d}"
    m = re.match(r"^(\d{1,2}):(\d{2})$", str(v).strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"{v!r} is not a time HH:MM (00:00 .. 23:59)")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


class Expected(_Section):
    expected_by: str = "06:00"

    _check = field_validator("expected_by", mode="before")(classmethod(lambda cls, v: _hhmm(v)))


# freshness.<source>.expected_by for every source of the landing contract, and gap_window_days
Freshness = create_model(
    "Freshness", __base__=_Section,
    gap_window_days=(PosInt, 30),
    **{source: (Expected, Expected()) for source in SOURCES},
)


class Alerts(_Section):
    webhook_env_var: str = "CSP_ALERT_WEBHOOK_URL"
    dagster_ui_url: str = "http://127.0.0.1:3000"
    timeout_seconds: Annotated[float, Field(gt=0)] = 10

    _env = field_validator("webhook_env_var")(_matching(_NAME, "an environment variable name"))
    _url = field_validator("dagster_ui_url")(_matching(_URL, "an http(s) URL"))


class PipelineConfig(_Section):
    paths: Paths = Paths()
    engine: Literal["duckdb", "spark"] = "duckdb"
    duckdb: DuckDB = DuckDB()
    partitions: Partitions = Partitions()
    ingestion: Ingestion = Ingestion()
    backfill: Backfill = Backfill()
    publication: Publication = Publication()
    schedule: Schedule = Schedule()
    sensor: Sensor = Sensor()
    freshness: Freshness = Freshness()
    alerts: Alerts = Alerts()


def _known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed at `loc` (for "did you mean")."""
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None) if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


def _problem(path: Path, err: dict) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        what = "section" if len(loc) == 1 else "key"
        known = _known_keys(PipelineConfig, loc)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f" (did you mean {'.'.join(map(str, loc[:-1] + (close[0],)))}?)" if close else \
            f" (known: {', '.join(known)})"
        return f"{path}: {key}: unknown {what}{hint}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    given = err.get("input")
    if kind in ("model_type", "dict_type"):
        return f"{path}: {key}: must be a section of keys, not {given!r}"
    shown = "" if kind.startswith("value_error") or isinstance(given, dict) else f" (got {given!r})"
    return f"{path}: {key}: {msg}{shown}"


def validate_config(data: Any, path: Path | str = "config") -> PipelineConfig:
    path = Path(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the file must hold sections of keys (a YAML mapping), "
                           f"not {type(data).__name__}"])
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError([_problem(path, err) for err in e.errors()]) from None


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: a date stays text until the schema parses it, so a
    bad one (2024-13-45) is reported against its key instead of failing the whole file."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_config(path: Path | str) -> PipelineConfig:
    """The validated configuration of `path`, every default filled in."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError([f"{path}: configuration file not found (CSP_CONFIG or config/pipeline.yaml)"]) from None
    except OSError as e:
        raise ConfigError([f"{path}: cannot be read: {e.strerror}"]) from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError([f"{path}:{where}: not valid YAML: {problem}"]) from None
    return validate_config(data, path)
