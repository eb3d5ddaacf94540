"""The one way the tests (and the benchmarks) run dbt: its CLI in a subprocess, against a
private raw layer / warehouse / target directory, with the project's profiles."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration.lib.settings import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).parent / "dbt")


def run_dbt(args: list[str], *, target_path: Path, raw: Path | None = None, warehouse: Path | None = None,
            project_dir: Path = DBT_PROJECT_DIR, profiles_dir: Path | None = None, target: str | None = None,
            log_path: Path | None = None, vars: dict | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None, check: bool = False, label: str = "") -> subprocess.CompletedProcess:
    """`dbt <args>` on `project_dir` (profiles from `profiles_dir`, default the project dir),
    artifacts in `target_path`, logs in `log_path` (default `target_path/logs`), `--target` and
    `--vars` when given. Environment: the caller's, CSP_RAW_DIR=`raw` and CSP_WAREHOUSE_PATH=
    `warehouse` when given, anonymous usage stats off, then `env` on top. Output is captured;
    with `check`, a non-zero exit raises AssertionError with the tail of the output (`label`
    is appended to the command in that message, e.g. " on Spark")."""
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    if raw is not None:
        full_env["CSP_RAW_DIR"] = str(raw)
    if warehouse is not None:
        full_env["CSP_WAREHOUSE_PATH"] = str(warehouse)
    full_env.update(env or {})
    target_path = Path(target_path)
    cmd = [DBT, *args]
    if target:
        cmd += ["--target", target]
    cmd += ["--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir or project_dir),
            "--target-path", str(target_path), "--log-path", str(log_path or target_path / "logs")]
    if vars:
        cmd += ["--vars", json.dumps(vars)]
    proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True,
                          cwd=str(cwd) if cwd is not None else None)
    if check and proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)}{label} failed:\n{proc.stdout[-8000:]}\n{proc.stderr[-3000:]}")
    return proc
