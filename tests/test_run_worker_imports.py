"""The run worker the daemon's code server starts (a multiprocessing "spawn" child, whose
__main__ has neither __spec__ nor __file__, like a `python -c` process) can import the project's
definitions: with pyspark installed, Great Expectations' import of pyspark.sql.connect used to
end such a process with status 0 before the run's first step (orchestration/__init__.py)."""
import importlib.util
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

needs_pyspark = pytest.mark.skipif(importlib.util.find_spec("pyspark") is None,
                                   reason="only pyspark (the spark extra) ends such processes")

IMPORT = ("import orchestration.checks.gx_checks, orchestration.publication\n"
          "import great_expectations.compatibility.pyspark\n"
          "print('imported', flush=True)\n")


@needs_pyspark
def test_a_main_without_spec_or_file_survives_the_great_expectations_import():
    out = subprocess.run([sys.executable, "-c", IMPORT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "imported" in out.stdout, out.stdout + out.stderr[-3000:]
    assert "Skipping doctests" not in out.stderr


def _child(queue):
    import great_expectations.compatibility.pyspark  # noqa: F401

    import orchestration  # noqa: F401
    queue.put("imported")


def test_a_spawned_child_of_a_module_process_survives_it(tmp_path):
    """As Dagster's code server (`python -m dagster api grpc`) starts each run worker."""
    script = tmp_path / "spawner.py"
    script.write_text(
        "import multiprocessing, sys\n"
        "def child(q):\n"
        "    import orchestration.checks.gx_checks\n"
        "    import great_expectations.compatibility.pyspark\n"
        "    q.put('imported')\n"
        "if __name__ == '__main__':\n"
        "    ctx = multiprocessing.get_context('spawn')\n"
        "    q = ctx.Queue()\n"
        "    p = ctx.Process(target=child, args=(q,))\n"
        "    p.start(); p.join(300)\n"
        "    print(p.exitcode, q.get(timeout=5) if not q.empty() else 'nothing', flush=True)\n")
    # run as a module (-m), so the spawned child's __main__ is the bare stub
    out = subprocess.run([sys.executable, "-m", "spawner"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=400, env={**__import__("os").environ,
                                           "PYTHONPATH": f"{ROOT}:{tmp_path}"})
    assert out.stdout.split() == ["0", "imported"], out.stdout + out.stderr[-3000:]
