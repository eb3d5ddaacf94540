"""The customer-success data platform's orchestration package."""
import sys as _sys


def _give_main_a_spec() -> None:
    """Keep pyspark from ending the run worker.

    pyspark.sql.connect (imported by Great Expectations when pyspark is installed, the `spark`
    extra) takes a __main__ module with neither __spec__ nor __file__ for a doctest run and exits
    the process with status 0 ("Skipping doctests: ..."). That __main__ is what a `python -c`
    process has, and what a multiprocessing "spawn" child of a `python -m` process keeps: the
    run worker Dagster's code server starts for every run the daemon launches (`make serve`,
    `make dev`, the systemd units). Such a run would end silently before its first step. A spec
    named "__main__" says "not a doctest" and changes nothing else: multiprocessing children
    of this process skip re-importing a main module named "__main__", as they do now.
    """
    main = _sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or hasattr(main, "__file__") \
            or hasattr(_sys, "ps1"):
        return
    from importlib.machinery import ModuleSpec

    main.__spec__ = ModuleSpec("__main__", None)


_give_main_a_spec()
