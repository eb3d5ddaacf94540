"""`csp docs` / `make docs`: the dbt docs as one HTML file that opens offline (dbt's
`static_index.html`), and where the newest GX Data Docs are.

dbt's catalog (column types, row counts) needs the warehouse. The docs never open the file
the pipeline writes: DuckDB allows one writer or many readers, so even a short read could make
a run that starts at that moment fail on the lock. They read a copy, made while no process
holds a lock on the warehouse (checked with F_GETLK, which takes no lock). While a run writes
it, the docs are generated without the catalog, and say so.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.lib.settings import DBT_PROJECT_DIR, get_settings


def lock_holder(path: Path) -> int | None:
    """The pid holding a lock on `path` (a DuckDB process has it open), else None. Takes no lock."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        res = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        l_type, _, _, _, pid = struct.unpack("hhqqi4x", res)
        return pid if l_type != fcntl.F_UNLCK else None
    finally:
        os.close(fd)


def _copy_warehouse(src: Path, dest_dir: Path) -> Path | None:
    """A copy of the warehouse (and its WAL) taken while no process holds it, else None."""
    if not src.exists() or lock_holder(src) is not None:
        return None
    dest = dest_dir / src.name
    shutil.copy2(src, dest)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, dest.with_name(dest.name + ".wal"))
    if lock_holder(src) is not None:   # a run started while copying: the copy may be torn
        return None
    return dest


def generate_docs(out: Path | None = None, say=print) -> int:
    from orchestration.lib.engines import DBT_TARGET, dbt_env, on_spark

    settings = get_settings()
    out = Path(out or settings.data_dir / "docs" / "dbt").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="csp-docs-") as tmp:
        env = {**os.environ, **dbt_env()}
        args = [str(Path(sys.executable).parent / "dbt"), "docs", "generate", "--static", "--quiet",
                "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                "--target", DBT_TARGET, "--target-path", str(out)]
        copy = None if on_spark() else _copy_warehouse(settings.warehouse_path, Path(tmp))
        if copy is not None:
            env["CSP_WAREHOUSE_PATH"] = str(copy)
            note = "with the catalog (column types, row counts) of a copy of the warehouse"
        else:
            holder = None if on_spark() else lock_holder(settings.warehouse_path)
            if holder is not None:
                note = (f"WITHOUT the catalog: a run is writing the warehouse (pid {holder}); run `make docs` "
                        "again when it has ended for column types and row counts")
            elif on_spark():
                note = "without the catalog (the Spark warehouse is not read here)"
            else:
                note = f"without the catalog: no warehouse yet at {settings.warehouse_path} (run `make run` first)"
            env["CSP_WAREHOUSE_PATH"] = str(Path(tmp) / "empty.duckdb")
            args.append("--empty-catalog")
        proc = subprocess.run(args, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    if proc.returncode != 0:
        say("dbt docs generate failed:", *(proc.stdout + proc.stderr).strip().splitlines()[-20:])
        return 2
    page = out / "static_index.html"
    say(f"dbt docs: {page} ({note}).",
        "  One self-contained HTML file: open it in a browser, no server needed "
        "(`dbt docs serve --target-path ...` serves the same docs).")
    gx_root = settings.data_dir / "gx_docs"
    sites = sorted(gx_root.glob("*/index.html"), key=lambda p: p.stat().st_mtime)
    if sites:
        say(f"GX Data Docs of the newest validation: {sites[-1]}")
    else:
        say(f"GX Data Docs: none yet (each build writes them under {gx_root}/<run id>/)")
    return 0
