"""The landing zone on disk: which drops exist, which are complete, which file holds an object.

A drop folder of a source is complete when it holds the `_SUCCESS` marker AND a file for every
object of that source (the contract: "a drop holds a file for every object of its source"; an
object with nothing in it that day is an empty file, zero bytes allowed). A marked drop that
lacks an object's file is incomplete for that source: it is not read, the freshness check names
it with the missing object, and nothing is published as fresh for that day."""
from __future__ import annotations

import re
from pathlib import Path

from orchestration.lib.ingestion.contracts import OBJECTS, RawObject

SUCCESS_MARKER = "_SUCCESS"
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def drop_dir(landing: Path, source: str, drop_date: str) -> Path:
    return Path(landing) / source / drop_date


def object_pattern(obj: RawObject) -> str:
    """How an object's file is named in a drop folder, for messages."""
    return f"{obj.name}-*.parquet" if obj.file_format == "parquet" else f"{obj.name}.jsonl[.gz]"


def drop_problems(landing: Path, source: str, drop_date: str) -> list[str]:
    """Why a drop folder is not complete (empty list = complete)."""
    d = drop_dir(landing, source, drop_date)
    if not d.is_dir():
        return ["no drop folder"]
    if not (d / SUCCESS_MARKER).is_file():
        return [f"no {SUCCESS_MARKER} marker"]
    return [f"missing {object_pattern(o)}" for o in OBJECTS
            if o.source == source and not object_files(landing, o, drop_date)]


def is_complete(landing: Path, source: str, drop_date: str) -> bool:
    """A drop folder is complete when it holds the _SUCCESS marker and every object's file."""
    return not drop_problems(landing, source, drop_date)


def list_drops(landing: Path, source: str) -> tuple[list[str], list[str]]:
    """(complete, incomplete) drop dates of a source, sorted (see the module docstring)."""
    root = Path(landing) / source
    complete, incomplete = [], []
    if root.is_dir():
        for d in sorted(root.iterdir()):
            if d.is_dir() and _DATE_DIR.match(d.name):
                (incomplete if drop_problems(landing, source, d.name) else complete).append(d.name)
    return complete, incomplete


def complete_drops(landing: Path, sources) -> dict[str, list[str]]:
    return {s: list_drops(landing, s)[0] for s in sources}


def object_files(landing: Path, obj: RawObject, drop_date: str) -> list[Path]:
    """The files that hold an object in one drop (jsonl, jsonl.gz, or events-*.parquet)."""
    d = drop_dir(landing, obj.source, drop_date)
    if obj.file_format == "parquet":
        return sorted(d.glob(f"{obj.name}-*.parquet")) + sorted(d.glob(f"{obj.name}.parquet"))
    return sorted(p for p in (d / f"{obj.name}.jsonl", d / f"{obj.name}.jsonl.gz") if p.is_file())
