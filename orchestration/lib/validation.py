"""The gate's core (no Dagster): validate the marts with Great Expectations before they are
published (orchestration/lib/serving/ publishes them).

`validate_marts` opens the warehouse READ-ONLY (GX SQL data source on DuckDB through
SQLAlchemy/duckdb_engine), runs the suites in expectations/suites.py and writes the GX
validation results as HTML Data Docs under `<docs_dir>/<run_id>/`, made self-contained by
orchestration/lib/gx_docs.py (vendored JS/CSS/fonts, relative paths: they open offline from
file://).

GX 1.24 + duckdb 2.0 + duckdb_engine: results must stay readable after GX returns the pooled
connection (GX fetches after closing the connection, and SQLAlchemy's ROLLBACK on close clears
DuckDB's pending result). The data source therefore connects through a `creator` whose
connection wrapper ignores BEGIN/COMMIT/ROLLBACK: harmless because the connection is
read-only. The same creator sets `search_path` to `marts`, so GX table assets need no
(deprecated) `schema_name`.
"""
from __future__ import annotations

import datetime as dt
import decimal
import importlib.util
import logging
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import duckdb  # noqa: E402

from orchestration.lib.serving import WAREHOUSE_SCHEMA  # noqa: E402
from orchestration.lib.settings import EXPECTATIONS_DIR  # noqa: E402

log = logging.getLogger(__name__)

SAMPLE_ROWS = 10


# ---------------------------------------------------------------------------------------------
# Suites
# ---------------------------------------------------------------------------------------------
@cache
def load_suites_module(path: str | None = None):
    """expectations/suites.py, loaded by path (the folder is not a Python package)."""
    path = path or str(EXPECTATIONS_DIR / "suites.py")
    spec = importlib.util.spec_from_file_location("csp_expectation_suites", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def validated_marts() -> tuple[str, ...]:
    return tuple(load_suites_module().VALIDATED_MARTS)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------
@dataclass
class FailedExpectation:
    expectation: str  # GX type, e.g. expect_column_values_to_be_between
    description: str
    kwargs: dict
    observed_value: Any = None
    unexpected_count: int | None = None
    sample_rows: list = field(default_factory=list)
    exception: str | None = None


@dataclass
class ValidationOutcome:
    mart: str
    success: bool
    evaluated: int = 0
    failed: list[FailedExpectation] = field(default_factory=list)
    data_docs_path: str | None = None  # this mart's validation page (HTML)
    data_docs_index: str | None = None  # the run's Data Docs index.html
    error: str | None = None  # validation could not run at all (e.g. missing table)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        if self.success:
            return f"{self.mart}: {self.evaluated} expectations passed"
        if self.error:
            return f"{self.mart}: validation error: {self.error}"
        return f"{self.mart}: {len(self.failed)} of {self.evaluated} expectations failed: " + "; ".join(
            f.description for f in self.failed
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        try:
            return value.item()
        except Exception:  # pragma: no cover
            pass
    return str(value)


# raw DuckDB connections opened for GX, by validation run: closed when the run ends, whatever
# engines / pools GX made (it builds more than one from the data source config), so no handle
# on the warehouse outlives validate_marts (DuckDB refuses a read-write connection in a
# process that still holds the file read-only).
_OPEN_CONNECTIONS: dict[str, list] = {}


@cache
def _no_txn_wrapper_class():
    import duckdb_engine

    class _NoTxnWrapper(duckdb_engine.ConnectionWrapper):
        def begin(self, *a, **k):  # read-only: transactions are meaningless
            return None

        def commit(self):
            return None

        def rollback(self):
            return None

    return _NoTxnWrapper


class _ReadOnlyDuckDBConnection:
    """SQLAlchemy `creator` for GX (see module docstring)."""

    def __init__(self, path: Path, token: str):
        self.path = str(path)
        self.token = token

    def __call__(self):
        conn = duckdb.connect(self.path, read_only=True)
        conn.execute(f"SET search_path = '{WAREHOUSE_SCHEMA}'")
        _OPEN_CONNECTIONS.setdefault(self.token, []).append(conn)
        return _no_txn_wrapper_class()(conn)


def _close_connections(token: str) -> None:
    for conn in _OPEN_CONNECTIONS.pop(token, []):
        try:
            conn.close()
        except Exception:  # pragma: no cover
            pass


def _gx_context(site_dir: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.add_data_docs_site(
        site_name="run",
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(site_dir),
            },
        },
    )
    return context


def _failed_expectation(res, sample_rows: int) -> FailedExpectation:
    cfg = res.expectation_config
    kwargs = {k: v for k, v in (cfg.kwargs or {}).items() if k not in ("batch_id",)}
    result = res.result or {}
    samples: list = []
    details = result.get("details") or {}
    if "unexpected_rows" in details:  # UnexpectedRowsExpectation
        samples = list(details["unexpected_rows"])[:sample_rows]
    elif result.get("unexpected_index_list"):
        samples = list(result["unexpected_index_list"])[:sample_rows]
    elif result.get("partial_unexpected_list"):
        samples = list(result["partial_unexpected_list"])[:sample_rows]
    exc = res.exception_info or {}
    exception = None
    if isinstance(exc, dict):
        if exc.get("raised_exception"):
            exception = exc.get("exception_message")
        else:  # {metric_id: {...}} form
            msgs = [v.get("exception_message") for v in exc.values() if isinstance(v, dict)
                    and v.get("raised_exception")]
            exception = "; ".join(m for m in msgs if m) or None
    description = getattr(cfg, "description", None) or (cfg.meta or {}).get("description")
    return FailedExpectation(
        expectation=cfg.type,
        description=description or cfg.type,
        kwargs=_jsonable(kwargs),
        observed_value=_jsonable(result.get("observed_value")),
        unexpected_count=result.get("unexpected_count"),
        sample_rows=_jsonable(samples),
        exception=exception,
    )


def validate_marts(
    warehouse_path: str | os.PathLike,
    docs_dir: str | os.PathLike,
    run_id: str,
    marts: Sequence[str] | None = None,
    sample_rows: int = SAMPLE_ROWS,
) -> dict[str, ValidationOutcome]:
    """Run the expectation suites against the warehouse (opened read-only).

    Returns {mart: ValidationOutcome}. Data Docs for the run are written to
    `<docs_dir>/<run_id>/index.html` (one validation page per mart)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    warehouse_path = Path(warehouse_path)
    suites_module = load_suites_module()
    suites = suites_module.build_suites()
    marts = list(marts or suites_module.VALIDATED_MARTS)
    unknown = [m for m in marts if m not in suites]
    if unknown:
        raise ValueError(f"no expectation suite for {unknown}")

    site_dir = Path(docs_dir) / _safe_name(run_id)
    site_dir.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, ValidationOutcome] = {}
    if not warehouse_path.exists():
        for mart in marts:
            outcomes[mart] = ValidationOutcome(mart, False, error=f"{warehouse_path} not found")
        return outcomes

    context = _gx_context(site_dir)
    token = uuid.uuid4().hex
    datasource = context.data_sources.add_sql(
        name="warehouse",
        connection_string=f"duckdb:///{warehouse_path}",
        kwargs={"creator": _ReadOnlyDuckDBConnection(warehouse_path, token)},
    )
    gx_run_id = RunIdentifier(run_name=run_id, run_time=dt.datetime.now(dt.UTC))
    try:
        for mart in marts:
            try:
                asset = datasource.add_table_asset(name=mart, table_name=mart)
                batch_definition = asset.add_batch_definition_whole_table(f"{mart}_all")
                suite = context.suites.add(suites[mart])
                vd = context.validation_definitions.add(
                    gx.ValidationDefinition(name=f"{mart}_validation", data=batch_definition,
                                            suite=suite)
                )
                result = vd.run(
                    result_format={
                        "result_format": "COMPLETE",
                        "unexpected_index_column_names": list(suites_module.MART_KEYS[mart]),
                        "partial_unexpected_count": sample_rows,
                        "return_unexpected_index_query": False,
                    },
                    run_id=gx_run_id,
                )
            except Exception as exc:  # table missing, SQL error outside an expectation...
                log.exception("validation of %s could not run", mart)
                outcomes[mart] = ValidationOutcome(mart, False, error=f"{type(exc).__name__}: {exc}")
                continue
            failed = [_failed_expectation(r, sample_rows) for r in result.results if not r.success]
            outcomes[mart] = ValidationOutcome(
                mart=mart,
                success=bool(result.success) and not failed,
                evaluated=len(result.results),
                failed=failed,
            )
        try:
            context.build_data_docs(site_names=["run"])
        except Exception:  # docs are a by-product: never hide the validation outcome
            log.exception("building Data Docs failed")
        else:
            try:  # vendored JS/CSS/fonts instead of CDNs: the pages open offline (file://)
                from orchestration.lib.gx_docs import localize_site

                localize_site(site_dir)
            except Exception:
                log.exception("making the Data Docs under %s offline-capable failed", site_dir)
    finally:
        try:
            datasource.get_engine().dispose()
        except Exception:  # pragma: no cover
            pass
        _close_connections(token)

    index = site_dir / "index.html"
    for mart, outcome in outcomes.items():
        outcome.data_docs_index = str(index) if index.exists() else None
        pages = sorted((site_dir / "validations" / mart).rglob("*.html"))
        outcome.data_docs_path = str(pages[-1]) if pages else outcome.data_docs_index
    return outcomes


def _safe_name(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(run_id)) or "run"
