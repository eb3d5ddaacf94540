"""Benchmarks (not part of the tests; bench/README.md). `python bench/run.py --preset ...` is
the entry point; its pieces, by job:

- run: the command line and the presets (PRESETS, SEED).
- scenarios: the scenarios of a preset (half build, refreshes, full build, no-op), the
  benchmark environment, the machine description, the headline figures.
- landing: generate a preset's landing zone once, expose drops through symlinks.
- floor: the DuckDB-alone floor for the usage events (embedded script, measured subprocess).
- measure: wall time and peak process-tree RSS of a subprocess, load average, directory sizes.
- dagster_events: per-step stats and event-log counts of a run in the Dagster instance.
- dbt_results: run_results.json / manifest parsing of a run's dbt step.
- report: the terminal figures and BENCHMARKS.md, rendered from bench/results/*.json.
- health_validation, spark_vs_duckdb: separate scripts (health plausibility, Spark vs DuckDB).
"""
