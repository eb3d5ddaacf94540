"""Keep the documentation honest: docs/metric_index.md lists every published mart; every
relative link in docs/*.md points at a file that exists; every `#Lnn` anchor lies within its
file, and when the link text is a single `code` span, that text is on line nn (so a link that
drifts after an edit fails here, not in a reader's browser); and nothing in the repository
still cites the unpublished spec folder (the docs/ pages replace it)."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from orchestration.lib.serving import PUBLISHED_MARTS

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
INDEX = DOCS / "metric_index.md"
# [text](target) where target is not a URL, a mail link or a pure #anchor
LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
SKIP_DIRS = {".venv", ".git", "node_modules", "__pycache__", ".pytest_cache", "target",
             "dbt_packages", "data", ".dagster_home"}
SPEC_CITATION = "shared" + "/spec"   # split so this file does not cite it itself


def doc_links() -> list[tuple[Path, int, str, str]]:
    """(doc, line number, link text, target) of every relative link in docs/*.md."""
    out = []
    for doc in sorted(DOCS.glob("*.md")):
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            for text, target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue
                out.append((doc, n, text, target))
    return out


def test_there_are_docs_and_links():
    assert INDEX.is_file()
    assert len(doc_links()) > 50


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_every_published_mart_is_in_the_index(mart):
    text = INDEX.read_text(encoding="utf-8")
    assert f"## {mart}\n" in text, f"docs/metric_index.md has no section for {mart}"
    assert f"[`{mart}`](#{mart})" in text, f"docs/metric_index.md's mart table lacks {mart}"


def test_relative_links_point_to_existing_files_and_lines():
    problems = []
    for doc, n, text, target in doc_links():
        where = f"{doc.relative_to(REPO)}:{n}: [{text}]({target})"
        path_part, _, anchor = target.partition("#")
        path = (doc.parent / unquote(path_part)).resolve()
        if not path.exists():
            problems.append(f"{where}: {path_part} does not exist")
            continue
        if not anchor:
            continue
        m = re.fullmatch(r"L(\d+)(?:-L(\d+))?", anchor)
        if not m:
            continue                      # a heading anchor: not checked
        if not path.is_file():
            problems.append(f"{where}: #{anchor} on a folder")
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if not 1 <= first <= last <= len(lines):
            problems.append(f"{where}: #{anchor} outside the file's {len(lines)} lines")
            continue
        code = re.fullmatch(r"`([^`]+)`", text)
        if code and not any(code.group(1) in lines[i - 1] for i in range(first, last + 1)):
            problems.append(f"{where}: line {first} does not contain {code.group(1)!r}: "
                            f"{lines[first - 1].strip()!r}")
    assert not problems, "\n".join(problems)


def test_no_file_cites_the_unpublished_spec():
    hits = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if rel.parts[0] in SKIP_DIRS or rel.parts[:2] == ("orchestration", "static"):
            continue
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts) or not path.is_file():
            continue   # (an egg-info copies the README of its last install)
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for n, line in enumerate(text.splitlines(), start=1):
            if SPEC_CITATION in line:
                hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, ("cite docs/source_contract.md or docs/metrics.md instead:\n"
                      + "\n".join(hits))
