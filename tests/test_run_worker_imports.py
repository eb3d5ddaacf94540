"""The run worker the daemon's code server starts for each run (a multiprocessing "spawn" child
of `python -m dagster api grpc`, whose __main__ has neither __spec__ nor __file__, like a
`python -c` process) can import the project's definitions: with pyspark installed (the spark
extra), Great Expectations' import of pyspark.sql.connect ended such a process with status 0
before the run's first step (orchestration/__init__.py)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pyspark") is None,
                                reason="only an installed pyspark (the spark extra) ends such processes")

IMPORTS = ("import orchestration.defs.checks.gx, orchestration.lib.validation\n"
           "import great_expectations.compatibility.pyspark\n")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}


def test_a_python_c_process_survives_the_great_expectations_import():
    out = subprocess.run([sys.executable, "-c", IMPORTS + "print('imported', flush=True)\n"], cwd=ROOT,
                         env=_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "imported" in out.stdout, out.stdout + out.stderr[-3000:]
    assert "Skipping doctests" not in out.stderr


def test_a_spawned_child_of_a_package_main_survives_it(tmp_path):
    """As the code server starts a run worker: a "spawn" child of `python -m package` does not
    re-import `package.__main__`, so its __main__ is the bare stub."""
    pkg = tmp_path / "spawner"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "work.py").write_text("def child(q):\n" + "".join(f"    {line}\n" for line in IMPORTS.splitlines())
                                 + "    q.put('imported')\n")
    (pkg / "__main__.py").write_text(
        "import multiprocessing\n"
        "from spawner.work import child\n"
        "ctx = multiprocessing.get_context('spawn')\n"
        "q = ctx.Queue()\n"
        "p = ctx.Process(target=child, args=(q,))\n"
        "p.start()\n"
        "p.join(300)\n"
        "print(p.exitcode, q.get(timeout=5) if not q.empty() else 'nothing', flush=True)\n")
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(tmp_path)])
    out = subprocess.run([sys.executable, "-m", "spawner"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=400)
    assert out.stdout.split() == ["0", "imported"], out.stdout + out.stderr[-3000:]
