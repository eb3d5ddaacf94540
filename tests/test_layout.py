"""The layout the README describes: orchestration/lib/ is plain Python (no Dagster, nothing
from the Dagster side), orchestration/defs/ holds the definitions, and no module or model
grows past what a reader can hold in their head."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "orchestration" / "lib"
MAX_MODULE_LINES = 500
MAX_MODEL_LINES = 250


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


@pytest.mark.parametrize("path", sorted(LIB.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_imports_no_dagster(path):
    bad = sorted(m for m in _imports(path)
                 if m.split(".")[0] in ("dagster", "dagster_dbt", "dagster_webserver")
                 or m.startswith(("orchestration.defs", "orchestration.runs", "orchestration.cli",
                                  "orchestration.definitions")))
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: library code must not depend on Dagster"


def test_the_library_loads_without_dagster():
    """Importing every library module in a fresh interpreter does not import Dagster."""
    import subprocess
    import sys

    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                     for p in LIB.rglob("*.py") if p.name != "__main__.py")
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dagster_dbt')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_python_module_and_no_dbt_model_is_too_long():
    long_modules = [f"{p.relative_to(ROOT)}: {n}" for p in sorted((ROOT / "orchestration").rglob("*.py"))
                    if "static" not in p.parts and (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    long_models = [f"{p.relative_to(ROOT)}: {n}" for p in sorted((ROOT / "dbt_project" / "models").rglob("*.sql"))
                   if (n := len(p.read_text().splitlines())) > MAX_MODEL_LINES]
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines: {long_modules}"
    assert not long_models, f"models over {MAX_MODEL_LINES} lines: {long_models}"


CRONS = ["30 6 * * *", "15 * * * *", "*/5 * * * *", "0 0 1 * *", "0 9 * * mon-fri", "0 0 * jan,jul *",
         "0 6 * * 0", "0 6 * * 7", "5-10/2 1,2 * * *", "@daily", "@hourly", "0 0 29 2 *",
         "30 25 * * *", "60 * * * *", "* * * *", "* * * * * *", "0 0 31 2 *", "0 0 30 2 *", "a b c d e",
         "0 0 0 * *", "0 0 * 13 *", "0 0 * * 8", "*/0 * * * *", "10-5 * * * *", "@every5m", ""]


@pytest.mark.parametrize("cron", CRONS)
def test_config_cron_check_agrees_with_dagster(cron):
    """csp validate-config accepts exactly the cron expressions Dagster's schedules accept."""
    from dagster._utils.schedules import is_valid_cron_string

    from orchestration.lib.config_schema import _cron

    try:
        _cron(cron)
        ours = True
    except ValueError:
        ours = False
    assert ours == is_valid_cron_string(cron)
