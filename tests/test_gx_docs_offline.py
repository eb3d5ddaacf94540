"""GX Data Docs open offline, from file://: no page loads a remote script, stylesheet, font or
image (orchestration/lib/gx_docs.py rewrites them to the vendored copies in
orchestration/static/gx_docs/vendor/), every local asset exists, and headless Chromium with the
network blocked renders the JavaScript-built tables and the font-awesome pass/fail icons.
Screenshots go to artifacts/gx_docs/ (not committed, like artifacts/ui/)."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from helpers.publication_warehouse import CORRUPTIONS, MART_NAMES, build_warehouse, corrupt  # noqa: E402
from orchestration.defs.checks.gx import outcome_metadata  # noqa: E402
from orchestration.lib import gx_docs  # noqa: E402
from orchestration.lib.validation import validate_marts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "gx_docs"
FAILING_MART = CORRUPTIONS["grr_above_1"][1]
REMOTE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")


# ---------------------------------------------------------------------------------------------
# A real site, through the project's own code path (one mart fails: both icons are on it)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("gx_docs_offline")
    warehouse = build_warehouse(base / "warehouse.duckdb")
    corrupt(warehouse, CORRUPTIONS["grr_above_1"][0])
    outcomes = validate_marts(warehouse, base / "docs", "run-offline", marts=MART_NAMES)
    site = base / "docs" / "run-offline"
    assert (site / "index.html").is_file()
    return {"site": site, "outcomes": outcomes}


# ---------------------------------------------------------------------------------------------
# What a page loads (stdlib HTML parser: independent of gx_docs' own regexes)
# ---------------------------------------------------------------------------------------------
ASSET_ATTRS = {"script": ("src",), "link": ("href",), "img": ("src", "srcset"),
               "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",),
               "track": ("src",), "iframe": ("src",), "embed": ("src",), "object": ("data",),
               "input": ("src",)}
CSS_REFS = re.compile(r"""url\(\s*["']?([^"')]*?)["']?\s*\)|@import\s+["']([^"']+)["']""", re.I)


def css_refs(css: str) -> list[str]:
    return [a or b for a, b in CSS_REFS.findall(css) if (a or b)]


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []  # (what, url)
        self.integrity: list[tuple[str, str]] = []
        self._style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ASSET_ATTRS.get(tag, ()):
            value = attrs.get(name)
            if not value:
                continue
            urls = [c.strip().split()[0] for c in value.split(",") if c.strip()] if name == "srcset" else [value]
            for url in urls:
                self.refs.append((f"<{tag} {name}> (rel={attrs.get('rel')})", url))
        if attrs.get("integrity"):
            self.integrity.append((attrs.get("src") or attrs.get("href") or "", attrs["integrity"]))
        if attrs.get("style"):
            self.refs += [("style attribute", u) for u in css_refs(attrs["style"])]
        self._style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._style = False

    def handle_data(self, data):
        if self._style:
            self.refs += [("<style>", u) for u in css_refs(data)]


def page_assets(path: Path) -> _Assets:
    parser = _Assets()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def is_file_ref(url: str) -> bool:
    return not re.match(r"^\s*(data:|blob:|javascript:|about:|#)", url, re.I)


def local_target(base_dir: Path, url: str) -> Path:
    return (base_dir / unquote(urlsplit(url).path)).resolve()


def test_data_docs_load_no_remote_asset_and_every_local_asset_exists(built):
    site = built["site"]
    pages = sorted(site.rglob("*.html"))
    stylesheets = sorted(site.rglob("*.css"))
    assert len(pages) >= 1 + 2 * len(built["outcomes"]), "index + a validation and a suite page per mart"
    remote, missing, checked = [], [], 0
    vendored_loaded: set[str] = set()
    for path in pages:
        refs = page_assets(path).refs
        scripts = [u for w, u in refs if w.startswith("<script")]
        assert len(scripts) >= 9, f"{path.name}: GX's scripts are gone? {scripts}"
        for what, url in refs:
            if not is_file_ref(url):
                continue
            if REMOTE.match(url):
                remote.append(f"{path.relative_to(site)}: {what} {url}")
                continue
            target = local_target(path.parent, url)
            checked += 1
            if not target.is_file():
                missing.append(f"{path.relative_to(site)}: {what} {url}")
            elif site / "static" / "vendor" in target.parents:
                vendored_loaded.add(target.name)
    for path in stylesheets:  # the vendored CSS too: font-awesome's webfonts
        for url in css_refs(path.read_text(encoding="utf-8")):
            if not is_file_ref(url):
                continue
            if REMOTE.match(url):
                remote.append(f"{path.relative_to(site)}: url() {url}")
            elif not local_target(path.parent, url).is_file():
                missing.append(f"{path.relative_to(site)}: url() {url}")
            else:
                checked += 1
    assert not remote, "remote assets:\n" + "\n".join(remote)
    assert not missing, "missing local assets:\n" + "\n".join(missing)
    assert checked > 100
    for needed in ("jquery.min.js", "bootstrap.min.js", "bootstrap.min.css", "bootstrap-table.min.js",
                   "all.min.css", "vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "popper.min.js"):
        assert needed in vendored_loaded, f"no page loads the vendored {needed}"
    fonts = {p.name for p in (site / "static" / "vendor").rglob("*.woff2")}
    assert {"fa-solid-900.woff2", "fa-regular-400.woff2"} <= fonts


def test_every_mart_links_its_validation_page_and_metadata_has_file_urls(built):
    from dagster import PathMetadataValue, UrlMetadataValue

    for mart, outcome in built["outcomes"].items():
        assert outcome.success == (mart != FAILING_MART), (mart, outcome.summary())
        page = Path(outcome.data_docs_path)
        assert page.is_file() and page.suffix == ".html" and f"validations/{mart}/" in page.as_posix()
        md = outcome_metadata(outcome)
        assert isinstance(md["data_docs"], PathMetadataValue) and md["data_docs"].value == str(page)
        assert isinstance(md["data_docs_index"], PathMetadataValue)
        for key, target in (("data_docs_url", page), ("data_docs_index_url", Path(outcome.data_docs_index))):
            url = md[key]
            assert isinstance(url, UrlMetadataValue), key
            assert url.value.startswith("file:///") and url.value.endswith(".html")
            assert Path(unquote(urlsplit(url.value).path)) == target.resolve()


def test_vendored_files_are_the_bytes_gx_pins_with_sri(built):
    """GX declares SRI hashes for some CDN files: the vendored copies must match them (the
    rewritten tags drop the attribute, file:// cannot do CORS)."""
    import great_expectations

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    declared = re.findall(r"""src="([^"]+)"\s+integrity="([^"]+)\"""", (templates / "js_script_imports.j2").read_text())
    assert len(declared) >= 2
    manifest = gx_docs.load_manifest()
    for url, integrity in declared:
        target = built["site"] / manifest[url]
        algo, expected = integrity.split("-", 1)
        assert base64.b64encode(hashlib.new(algo, target.read_bytes()).digest()).decode() == expected, url
    for path in built["site"].rglob("*.html"):
        assert not page_assets(path).integrity, f"{path.name} keeps an SRI attribute on a file:// asset"


def test_every_remote_asset_in_gx_templates_is_vendored():
    """Catches a GX upgrade that links a new CDN file, also on pages this project does not
    build (profiling results)."""
    import great_expectations

    view = Path(great_expectations.__file__).parent / "render" / "view"
    manifest = gx_docs.load_manifest()
    found = set()
    for path in [*view.joinpath("templates").glob("*.j2"), *view.joinpath("static").rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"""<(?:script|link|img)\b[^>]*?(?:src|href)=["'](https?://[^"'{}]+)["']""", text))
        found |= {u for u in css_refs(text) if REMOTE.match(u)}
    assert len(found) >= 15
    missing = sorted(u for u in found if u not in manifest and u.split("?")[0] not in manifest)
    assert not missing, f"not vendored: {missing}"


def test_unvendored_remote_asset_fails_loudly_and_links_are_left_alone(tmp_path):
    site = tmp_path / "site"
    page = site / "validations" / "m" / "page.html"
    page.parent.mkdir(parents=True)
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "favicon.ico").write_bytes(b"ico")
    (site / "static" / "images" / "logo-long.png").write_bytes(b"png")  # GX writes it
    page.write_text(
        '<html><head><script src="https://code.jquery.com/jquery-3.7.1.min.js" '
        'integrity="sha384-x" crossorigin="anonymous"></script>'
        '<link rel="shortcut icon" href="../../../../static/images/favicon.ico"/>'
        "<style>.a { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
        "full_logo_dark.png') }</style></head>"
        '<body><a href="https://greatexpectations.io">GX</a></body></html>')
    report = gx_docs.localize_site(site)
    text = page.read_text()
    assert '<script src="../../static/vendor/jquery-3.7.1/dist/jquery.min.js"></script>' in text
    assert "url('../../static/images/logo-long.png')" in text
    assert 'href="../../static/images/favicon.ico"' in text, "GX's too-shallow path repaired"
    assert report.repaired == {"../../../../static/images/favicon.ico": "../../static/images/favicon.ico"}
    assert '<a href="https://greatexpectations.io">' in text, "hyperlinks are not assets"
    assert (site / "static" / "vendor" / "jquery-3.7.1" / "LICENSE.txt").is_file()
    assert gx_docs.localize_site(site).rewritten == {}, "idempotent"
    assert page.read_text() == text

    page.write_text(text.replace(
        "</head>", '<link rel="stylesheet" href="//cdn.example.com/new.css">'
        "<style>@import url(https://fonts.googleapis.com/css?family=X);</style>"
        '<img srcset="https://cdn.example.com/a.png 2x"></head>'))
    with pytest.raises(gx_docs.UnvendoredAssetError) as err:
        gx_docs.localize_site(site)
    for url in ("//cdn.example.com/new.css", "https://fonts.googleapis.com/css?family=X",
                "https://cdn.example.com/a.png"):
        assert url in str(err.value)

    page.write_text(text.replace("</head>", '<script src="../../static/nope.js"></script></head>'))
    with pytest.raises(gx_docs.MissingAssetError, match="nope.js"):
        gx_docs.localize_site(site)


# ---------------------------------------------------------------------------------------------
# Headless Chromium, file://, network blocked
# ---------------------------------------------------------------------------------------------
def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def chromium(args: list[str], profile: Path, timeout: int = 120) -> str:
    cmd = [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--window-size=1400,1000",
           "--virtual-time-budget=15000",
           # no network: every request to a host fails (a CDN URL left in a page cannot load)
           "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of pixel bytes) of an 8-bit RGB/RGBA non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


def assert_not_blank(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 1000, f"no screenshot at {path}"
    width, bpp, rows = png_pixels(path)
    colors, inked = set(), 0
    for row in rows[::4]:
        for x in range(0, width * bpp, 4 * bpp):
            px = row[x:x + 3]
            colors.add(px)
            inked += px != b"\xff\xff\xff"
    assert len(colors) > 20, f"{path.name}: {len(colors)} colours, looks blank"
    assert inked > 0.02 * (len(rows) // 4) * (width // 4), f"{path.name}: almost all white"


# appended to a copy of a real page (same folder, so the same relative asset paths): writes the
# state of the font-awesome faces (once the fonts in use have loaded or failed) and which of the
# page's libraries are defined (so each <script> loaded and ran) into the DOM
FONT_PROBE = """<script>
window.addEventListener("load", function () {
  document.fonts.ready.then(function () {
    var faces = [];
    document.fonts.forEach(function (f) { faces.push([f.family.replace(/["']/g, ""), String(f.weight), f.status]); });
    var icon = document.querySelector("i.fas, i.fa");
    var before = icon ? getComputedStyle(icon, "::before") : null;
    var out = document.createElement("pre");
    out.id = "font-probe";
    out.textContent = JSON.stringify({faces: faces, icon: icon ? icon.className : null,
      content: before ? before.content : null, family: before ? before.fontFamily : null,
      solid: document.fonts.check('900 16px "Font Awesome 6 Free"'),
      scripts: {jquery: !!window.jQuery, popper: !!window.Popper,
        bootstrap: !!(window.jQuery && jQuery.fn.modal && jQuery.fn.tab),
        bootstrapTable: !!(window.jQuery && jQuery.fn.bootstrapTable),
        filterControl: !!(window.jQuery && jQuery.fn.bootstrapTable &&
          jQuery.fn.bootstrapTable.defaults.filterControl !== undefined),
        datepicker: !!(window.jQuery && jQuery.fn.datepicker),
        vega: !!window.vega, vegaLite: !!window.vegaLite, vegaEmbed: !!window.vegaEmbed}});
    document.body.appendChild(out);
  });
});
</script>"""


def font_probe(page: Path, profile: Path) -> dict:
    probe = page.with_name("_font_probe_" + page.name)
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", FONT_PROBE + "</body>"))
    try:
        dom = chromium(["--dump-dom", probe.as_uri()], profile)
    finally:
        probe.unlink()
    m = re.search(r'<pre id="font-probe">(.*?)</pre>', dom, re.S)
    assert m, f"the probe script did not run: {dom[-2000:]}"
    import html

    return json.loads(html.unescape(m.group(1)))


@pytest.mark.browser
@pytest.mark.slow
def test_data_docs_render_offline_in_headless_chromium(built, tmp_path):
    if chromium_path() is None:
        pytest.skip("headless Chromium not found: install the Debian package `chromium` "
                    "(apt-get install -y chromium) or set CHROMIUM=/path/to/chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    site, profile = built["site"], tmp_path / "chromium-profile"
    index = site / "index.html"
    marts = list(built["outcomes"])

    # the index table is empty in the HTML file: bootstrap-table (jQuery) fills it from JSON
    source = index.read_text()
    assert '<tr class="clickable-row"' not in source
    dom = chromium(["--dump-dom", index.as_uri()], profile)
    rows = re.findall(r'<tr class="clickable-row" data-href="(validations/[^"]+)"[^>]*>(.*?)</tr>', dom, re.S)
    suites = re.findall(r'<tr class="clickable-row" data-href="expectations/([^"/]+)\.html"', dom)
    assert sorted(suites) == sorted(marts), "the Expectation Suites tab"
    assert sorted(re.search(r"validations/([^/]+)/", href).group(1) for href, _ in rows) == sorted(marts), dom[-3000:]
    for href, body in rows:
        mart = re.search(r"validations/([^/]+)/", href).group(1)
        assert (site / href).is_file(), href
        if mart == FAILING_MART:
            assert "fa-times" in body and "text-danger" in body, body
        else:
            assert "fa-check-circle" in body and "text-success" in body, body

    # control: the same page with jQuery from its CDN renders nothing (the network is blocked,
    # so the rows above came from the vendored files)
    manifest = gx_docs.load_manifest()
    jquery_cdn = next(u for u, p in manifest.items() if p.endswith("jquery.min.js"))
    control = site / "_control_cdn_jquery.html"
    control.write_text(source.replace(manifest[jquery_cdn], jquery_cdn))
    try:
        assert jquery_cdn in control.read_text()
        control_dom = chromium(["--dump-dom", control.as_uri()], profile)
    finally:
        control.unlink()
    assert "<body" in control_dom and '<tr class="clickable-row"' not in control_dom

    # a failing validation page: bootstrap-table wraps the results tables; the failed
    # expectation is there with its fail icon
    page = Path(built["outcomes"][FAILING_MART].data_docs_path)
    assert 'class="bootstrap-table' not in page.read_text()
    vdom = chromium(["--dump-dom", page.as_uri()], profile)
    assert vdom.count('class="bootstrap-table') >= 1, vdom[-3000:]
    assert re.search(r'class="fixed-table-container', vdom)
    assert re.search(r'<i class="fas fa-times text-danger', vdom), "fail icon"
    assert re.search(r'<i class="fas fa-check-circle text-success', vdom), "pass icon"
    assert "grr" in vdom

    # the icon font itself: loaded from the vendored woff2, and applied to the icons; and every
    # library the page links loaded and ran (an SRI attribute left on a file:// script blocks it)
    for probed in (index, page):
        state = font_probe(probed, profile)
        solid = [s for fam, w, s in state["faces"] if fam == "Font Awesome 6 Free" and w == "900"]
        assert solid == ["loaded"], (probed.name, state)
        assert state["solid"] is True and "Font Awesome 6 Free" in state["family"], state
        assert state["content"] not in (None, "none", "normal", '""'), state
        assert state["scripts"] == {k: True for k in state["scripts"]}, (probed.name, state["scripts"])

    for name, url in (("index.png", index.as_uri()), (f"validation_{FAILING_MART}.png", page.as_uri())):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        chromium([f"--screenshot={shot}", url], profile)
        assert_not_blank(shot)
