"""`csp`, the operator's command line (main.py), its console output (console.py), `csp docs`
(docs.py) and the `python -m orchestration.cli.backfill` alias (backfill.py). It drives the
Dagster instance; what it reads of past runs is in orchestration/runs/."""
