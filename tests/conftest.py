import os

import pytest

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

_exit_status = {"code": 0}


@pytest.fixture(scope="session")
def health_built(tmp_path_factory):
    """The hand-built health landing zone (helpers/fixtures_health.py) ingested and built once
    (dbt build: models and data tests), shared by test_health.py and test_cs_leadership.py."""
    from helpers import fixtures_health
    from helpers.pipeline_harness import Pipeline

    tmp = tmp_path_factory.mktemp("health")
    fixtures_health.write(tmp / "landing")
    p = Pipeline(tmp, tmp / "landing")
    p.ingest()
    p.build()
    p.tmp = tmp
    return p


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)


def pytest_unconfigure(config):
    # DuckDB 2.0's nanobind bindings print pages of spurious "leaked instance" warnings at
    # interpreter teardown (GX / SQLAlchemy keep DuckDB type objects alive). The results are
    # reported by now: leave without teardown so pytest's summary stays the last line.
    if os.environ.get("CSP_PYTEST_HARD_EXIT", "1") == "1":
        import sys as _sys

        _sys.stdout.flush()
        _sys.stderr.flush()
        os._exit(_exit_status["code"])
