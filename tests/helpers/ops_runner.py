"""Subprocess entry point for the operations tests (a script, not `python -c`: with pyspark
installed, GX's import of pyspark.sql.connect exits a `-c` process). Environment:
DAGSTER_HOME, CSP_LANDING_DIR, CSP_DATA_DIR.

    python tests/helpers/ops_runner.py backfill 2024-01-01 2024-01-04
    python tests/helpers/ops_runner.py daily 2024-01-02
"""
import sys
from pathlib import Path

# run as a script: make `helpers` (tests/) and `orchestration` (the project root) importable
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from orchestration.cli.backfill import backfill, run_partition  # noqa: E402

MODULE = "helpers.ops_definitions"

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "backfill":
        run_id, ok = backfill(sys.argv[2], sys.argv[3], module=MODULE)
    else:
        run_id, ok = run_partition(sys.argv[2], module=MODULE)
    print(f"RUN {run_id} {'SUCCESS' if ok else 'FAILURE'}", flush=True)
    sys.exit(0 if ok else 1)
