"""The meaning of the published marts, as documented in dbt (models/marts/**/_*__models.yml).

`mart_descriptions` reads them from a dbt manifest, for publishers that cannot take the
comments from the warehouse itself (the Spark engine's exported Parquet marts carry none;
a PostgreSQL publisher can use it the same way).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from orchestration.lib.settings import DBT_PROJECT_DIR

DEFAULT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def mart_descriptions(
    manifest_path: str | os.PathLike = DEFAULT_MANIFEST,
) -> dict[str, tuple[str, dict[str, str]]]:
    """{model name: (model description, {column: description})} for the models of the
    manifest's marts layer (schema `marts`), whitespace-normalised; empty descriptions are
    left out. A missing manifest gives {}."""
    path = Path(manifest_path)
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model" or "marts" not in node.get("fqn", [])[:2]:
            continue
        columns = {
            name: _clean(col.get("description"))
            for name, col in (node.get("columns") or {}).items()
            if _clean(col.get("description"))
        }
        out[node["name"]] = (_clean(node.get("description")), columns)
    return out


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())
