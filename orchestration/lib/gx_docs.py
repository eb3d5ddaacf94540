"""Make a GX Data Docs site open offline, from file://.

GX 1.x writes pages whose <script>/<link>/<img> tags (and one CSS url()) point at CDNs
(jsDelivr, unpkg, cdnjs, code.jquery.com, stackpath/maxcdn, GX's S3 bucket). Offline the
index table stays empty (bootstrap-table never runs) and the pass/fail icons (font-awesome)
are missing. `localize_site(site_dir)`, run by `publication.validate_marts` right after
`context.build_data_docs(...)`:

- copies the vendored assets (orchestration/static/gx_docs/vendor/, refreshed by
  orchestration/static/gx_docs/fetch_assets.py; nothing is downloaded at run time) into
  `<site>/static/vendor/`;
- rewrites every remote *asset* URL of every HTML page (and of the site's own CSS files) to a
  relative path: <script src>, <link href> (stylesheets, icons...), <img>/<source>/<video>/
  <audio>/<iframe>/<embed>/<object> sources, CSS url(...) and @import (in <style> blocks and
  style attributes). Pages sit at different depths, so each path is relative to its page.
  The `integrity` / `crossorigin` attributes of a rewritten tag are dropped: a file:// page
  has an opaque origin, so Chromium refuses CORS-mode (crossorigin) loads of file:// scripts;
  the vendored bytes were checked against those SRI hashes when fetched (and by the tests);
- repairs local asset paths GX gets wrong (GX 1.x points the validation pages' favicon one
  directory too shallow) when the file exists under the site's static/;
- raises `UnvendoredAssetError` for a remote asset URL that is not vendored, and
  `MissingAssetError` for a local asset that does not exist: never leaves one silently.

Hyperlinks (<a href="https://greatexpectations.io">, GX's documentation links) are left alone:
they are navigation, not assets, and need no network to render the page.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote

ASSETS_DIR = Path(__file__).resolve().parents[1] / "static" / "gx_docs"
VENDOR_DIR = ASSETS_DIR / "vendor"
MANIFEST_PATH = ASSETS_DIR / "assets.json"
SITE_VENDOR = "static/vendor"  # where the vendored files go, relative to the site root

REMOTE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")  # http(s)://, //host, any scheme://
_NON_FILE = re.compile(r"^\s*(?:data:|blob:|javascript:|about:|mailto:|#)", re.I)

# tags whose attributes load a resource, and which attributes
ASSET_ATTRS = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
TAG = re.compile(r"<(" + "|".join(ASSET_ATTRS) + r""")\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.I | re.S)
ATTR = re.compile(r"""(\s)([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')]*?)\1\s*\)""", re.I)
CSS_IMPORT = re.compile(r"""@import\s+(["'])([^"']+)\1""", re.I)
# the parts of an HTML page that are CSS: <style> blocks and style="..." attributes
STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>)", re.I | re.S)
STYLE_ATTR = re.compile(r"""(\sstyle\s*=\s*)("[^"]*"|'[^']*')""", re.I)


class UnvendoredAssetError(RuntimeError):
    """A page loads a remote asset that is not in orchestration/static/gx_docs/assets.json."""


class MissingAssetError(RuntimeError):
    """A page loads a local asset that does not exist in the site."""


@dataclass
class LocalizeReport:
    pages: int = 0
    rewritten: dict[str, int] = field(default_factory=dict)  # remote URL -> occurrences
    repaired: dict[str, str] = field(default_factory=dict)  # broken local path -> fixed path


@cache
def load_manifest(path: str | None = None) -> dict[str, str]:
    """{remote URL (no query / fragment): target path relative to the site root}."""
    data = json.loads(Path(path or MANIFEST_PATH).read_text())
    mapping = {url: f"{SITE_VENDOR}/{rel}" for url, rel in data["vendor"].items()}
    mapping.update(data.get("gx_static", {}))
    return mapping


def _strip_query(url: str) -> str:
    return re.split(r"[?#]", url, maxsplit=1)[0]


def is_remote(url: str) -> bool:
    return bool(REMOTE.match(url))


def _relative(target: Path, start_dir: Path) -> str:
    return Path(os.path.relpath(target, start_dir)).as_posix()


class _Localizer:
    def __init__(self, site_dir: Path, manifest: dict[str, str], report: LocalizeReport):
        self.site = site_dir.resolve()
        self.manifest = manifest
        self.report = report
        self.unvendored: list[tuple[str, str]] = []  # (file, url)
        self.missing: list[tuple[str, str]] = []

    # one URL --------------------------------------------------------------------------------
    def url(self, url: str, base_dir: Path, where: str) -> str:
        raw = url.strip()
        if not raw or _NON_FILE.match(raw):
            return url
        if is_remote(raw):
            target = self.manifest.get(raw) or self.manifest.get(_strip_query(raw))
            if target is None:
                self.unvendored.append((where, raw))
                return url
            path = self.site / target
            if not path.is_file():
                self.missing.append((where, f"{raw} -> {target}"))
                return url
            self.report.rewritten[raw] = self.report.rewritten.get(raw, 0) + 1
            return _relative(path, base_dir)
        local = unquote(_strip_query(raw))
        if (base_dir / local).is_file():
            return url
        # GX gets some depths wrong (validation pages' favicon): ../../../static/x -> the
        # site's static/x, when that exists
        m = re.match(r"^(?:\./|\.\./)*(static/.+)$", local)
        if m and (self.site / m.group(1)).is_file():
            fixed = _relative(self.site / m.group(1), base_dir)
            self.report.repaired[raw] = fixed
            return fixed
        self.missing.append((where, raw))
        return url

    # CSS text (a .css file, a <style> block, a style attribute) -----------------------------
    def css(self, text: str, base_dir: Path, where: str) -> str:
        text = CSS_URL.sub(
            lambda m: f"url({m.group(1)}{self.url(m.group(2), base_dir, where)}{m.group(1)})", text)
        return CSS_IMPORT.sub(
            lambda m: f"@import {m.group(1)}{self.url(m.group(2), base_dir, where)}{m.group(1)}", text)

    # an HTML page -------------------------------------------------------------------------
    def tag(self, m: re.Match, base_dir: Path, where: str) -> str:
        tag = m.group(0)
        name = m.group(1).lower()
        changed = False

        def attr(a: re.Match) -> str:
            nonlocal changed
            key, value = a.group(2).lower(), a.group(3)
            if key not in ASSET_ATTRS[name] or value is None:
                return a.group(0)
            quote = value[0] if value[0] in "\"'" else ""
            inner = value[1:-1] if quote else value
            if key == "srcset":
                parts = []
                for candidate in inner.split(","):
                    bits = candidate.strip().split(None, 1)
                    if bits:
                        new = self.url(bits[0], base_dir, where)
                        changed |= new != bits[0]
                        parts.append(" ".join([new, *bits[1:]]))
                new_inner = ", ".join(parts)
            else:
                new_inner = self.url(inner, base_dir, where)
                changed |= new_inner != inner
            q = quote or '"'
            return f"{a.group(1)}{a.group(2)}={q}{new_inner}{q}"

        head, body = tag[: len(name) + 1], tag[len(name) + 1:]
        body = ATTR.sub(attr, body)
        if changed and is_remote_tag(tag):
            # SRI / CORS attributes make Chromium refuse the file:// load (see module doc)
            body = re.sub(r"""\s+(?:integrity|crossorigin)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""",
                          "", body, flags=re.I)
        return head + body

    def html(self, text: str, base_dir: Path, where: str) -> str:
        text = TAG.sub(lambda m: self.tag(m, base_dir, where), text)
        text = STYLE_BLOCK.sub(
            lambda m: m.group(1) + self.css(m.group(2), base_dir, where) + m.group(3), text)
        return STYLE_ATTR.sub(
            lambda m: m.group(1) + m.group(2)[0] + self.css(m.group(2)[1:-1], base_dir, where)
            + m.group(2)[0], text)


def is_remote_tag(tag: str) -> bool:
    return bool(re.search(r"""(?:src|href|data|poster)\s*=\s*["']?\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//""",
                          tag, re.I))


def install_vendor(site_dir: Path, vendor_dir: Path = VENDOR_DIR) -> Path:
    """Copy the vendored assets into <site>/static/vendor/ (replacing an older copy)."""
    if not vendor_dir.is_dir():
        raise MissingAssetError(f"vendored Data Docs assets not found at {vendor_dir} "
                                "(run orchestration/static/gx_docs/fetch_assets.py)")
    dest = Path(site_dir) / SITE_VENDOR
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(vendor_dir, dest)
    return dest


def localize_site(site_dir: str | os.PathLike, manifest: dict[str, str] | None = None,
                  vendor_dir: Path = VENDOR_DIR) -> LocalizeReport:
    """Make the Data Docs site under `site_dir` self-contained (see the module docstring).

    Idempotent. Raises UnvendoredAssetError / MissingAssetError (after rewriting what it
    could) when a page still needs the network or a file the site does not have."""
    site = Path(site_dir).resolve()
    manifest = load_manifest() if manifest is None else manifest
    install_vendor(site, vendor_dir)
    report = LocalizeReport()
    loc = _Localizer(site, manifest, report)
    vendor_root = site / SITE_VENDOR
    for path in sorted(site.rglob("*")):
        if not path.is_file() or vendor_root in path.parents:
            continue
        suffix = path.suffix.lower()
        if suffix not in (".html", ".htm", ".css"):
            continue
        where = path.relative_to(site).as_posix()
        text = path.read_text(encoding="utf-8")
        new = loc.html(text, path.parent, where) if suffix != ".css" else loc.css(text, path.parent, where)
        if suffix != ".css":
            report.pages += 1
        if new != text:
            path.write_text(new, encoding="utf-8")
    if loc.unvendored:
        urls = sorted({u for _, u in loc.unvendored})
        raise UnvendoredAssetError(
            f"{len(urls)} remote asset URL(s) in the Data Docs under {site} are not vendored "
            f"(add them to orchestration/static/gx_docs/fetch_assets.py and run it): "
            + "; ".join(f"{u} (in {next(w for w, x in loc.unvendored if x == u)})" for u in urls))
    if loc.missing:
        raise MissingAssetError(
            f"local assets missing in the Data Docs under {site}: "
            + "; ".join(f"{u} (in {w})" for w, u in loc.missing[:20]))
    return report
