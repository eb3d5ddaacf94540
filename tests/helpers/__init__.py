"""Test helpers: harnesses, landing-zone and warehouse builders shared by the tests (and by
bench/). pyproject.toml's `[tool.pytest.ini_options] pythonpath = ["tests"]` makes this package
importable as `helpers` under pytest; scripts outside pytest put tests/ on sys.path.

- landing_builder: write a landing zone by hand (`Landing`, record builders customer / item /
  sub_event / fx, timestamps unix / utc).
- fixtures_revenue: the hand-built revenue landing zone (as-of 2024-04-15) whose figures the
  revenue, retention and renewal tests check.
- fixtures_health: the hand-built health landing zone (as-of 2024-06-30) of the health,
  lifecycle and alert tests.
- reference_metrics: `Reference`, the metrics recomputed in plain Python from a landing zone
  (parity with the dbt marts).
- dbt_runner: `run_dbt`, the one way the tests run dbt (CLI subprocess; raw layer, warehouse,
  project / profiles dir, target, target and log paths, vars, extra environment).
- pipeline_harness: `Pipeline` (ingestion + dbt on DuckDB under a tmp dir), `WarehouseReader`,
  `ingest_all`, `dbt`.
- spark_harness: `SparkPipeline`, the same dbt project on local Spark over an existing raw layer.
- mart_compare: mart-by-mart comparison of two builds (DuckDB warehouse vs Spark export).
- publication_warehouse: the small hand-built warehouse of the publication tests
  (`build_warehouse`, `PUBLISHED`), the `CORRUPTIONS` the GX suites must catch, `corrupt`, and
  `dagster_assets` (stand-in marts + GX checks + `serving_marts`).
- ops_site: `Site` (a Dagster home + data dir running helpers/ops_runner.py), `snapshot` of a
  serving DB, `RUNNER` (the runner script's path).
- ops_definitions: the operations tests' code location (module `helpers.ops_definitions`,
  attribute `defs`).
- ops_runner: subprocess script, `python tests/helpers/ops_runner.py backfill|daily ...`.
"""
