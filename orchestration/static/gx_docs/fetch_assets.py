#!/usr/bin/env python3
"""Refresh the vendored Data Docs assets (run by hand, never at run time).

GX 1.x renders its Data Docs pages with <script>/<link> tags pointing at CDNs (jsDelivr, unpkg,
cdnjs, code.jquery.com, stackpath/maxcdn). `orchestration/gx_docs.py` rewrites those URLs to
the copies kept next to this script (`vendor/`), so the pages open offline from file://.

This script downloads exactly the files listed in ASSETS, at the versions GX links, from the
npm registry with the ordinary client (`npm view` / `npm pack`, which checks each tarball's
integrity), plus every file a vendored stylesheet references with url(...) (font-awesome's
webfonts) and each package's license. It rewrites `vendor/` and `assets.json` (the URL ->
file map that gx_docs.py reads). Needs `npm` on PATH and access to registry.npmjs.org.

    python orchestration/static/gx_docs/fetch_assets.py          # refresh vendor/ + assets.json
    python orchestration/static/gx_docs/fetch_assets.py --check  # only print what GX links now

When GX is upgraded: build a site (`make test` does), run the offline test
(tests/test_gx_docs_offline.py); it fails naming any remote asset URL that is not in ASSETS.
Add it here (URL, npm package, version or range, file in the package), run this script,
commit vendor/ and assets.json.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
MANIFEST = HERE / "assets.json"

# (URL exactly as GX 1.x links it, npm package, version or range as in the URL, file in package,
#  the Subresource Integrity hash GX's template declares for it, if any)
ASSETS: list[tuple[str, str, str, str, str | None]] = [
    ("https://cdn.jsdelivr.net/npm/vega@5", "vega", "5", "build/vega.min.js", None),
    ("https://cdn.jsdelivr.net/npm/vega-lite@5", "vega-lite", "5", "build/vega-lite.min.js", None),
    ("https://cdn.jsdelivr.net/npm/vega-embed@6", "vega-embed", "6", "build/vega-embed.min.js", None),
    ("https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css",
     "@fortawesome/fontawesome-free", "6.6.0", "css/all.min.css", None),
    ("https://code.jquery.com/jquery-3.7.1.min.js", "jquery", "3.7.1", "dist/jquery.min.js", None),
    ("https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js", "popper.js", "1.12.9",
     "dist/umd/popper.min.js", "sha384-ApNbgh9B+Y1QKtv3Rn7W3mgPxhU9K/ScQsAP7hUibX39j7fakFPskvXusvfa0b4Q"),
    ("https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js", "bootstrap", "4.3.1",
     "dist/js/bootstrap.min.js", "sha384-JjSmVgyd0p3pXB1rRibZUAYoIIy6OrQ6VrjIEaFf/nJGzIxFDsf4x0xIM+B07jRM"),
    ("https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css", "bootstrap", "4.3.1",
     "dist/css/bootstrap.min.css", None),
    ("https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js", "bootstrap-table", "1.19.1",
     "dist/bootstrap-table.min.js", None),
    ("https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css", "bootstrap-table", "1.19.1",
     "dist/bootstrap-table.min.css", None),
    ("https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
     "bootstrap-table", "1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js", None),
    # the index page links the minified filter-control CSS, the other pages the plain one: both
    # are served by the minified file (same rules)
    ("https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
     "bootstrap-table", "1.19.0", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css", None),
    ("https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
     "bootstrap-table", "1.19.0", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css", None),
    ("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js",
     "bootstrap-datepicker", "1.9.0", "dist/js/bootstrap-datepicker.min.js", None),
    ("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css",
     "bootstrap-datepicker", "1.9.0", "dist/css/bootstrap-datepicker.min.css", None),
    ("https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
     "@forevolve/bootstrap-dark", "1.1.0", "dist/css/bootstrap-prefers-dark.min.css", None),
]

# Images GX links on its S3 bucket (not on npm): served by the copies GX itself ships and
# writes into every site's static/images/ (the GX wheel has no full_logo_dark.png: the
# navbar's CSS background logo falls back to the same long logo). Paths relative to the site.
GX_STATIC = {
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png":
        "static/images/logo-long.png",
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png":
        "static/images/logo-long.png",
}

# packages whose npm tarball has no license file: take it from a package of the same monorepo
# that it depends on (vega/vega: every package carries the repository's BSD-3-Clause LICENSE)
LICENSE_FROM_DEPENDENCY = {"vega": "vega-runtime"}
# packages with no license file anywhere: their vendored file's header states the license
# (popper.js 1.12.9: "Distributed under the MIT License"); it is written out as LICENSE.txt
LICENSE_IN_HEADER = {"popper.js"}

LICENSE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENSE-MIT", "license", "license.md")
CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


def npm(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["npm", *args], check=True, capture_output=True, text=True, cwd=cwd).stdout


def resolve(package: str, spec: str) -> str:
    """The version a CDN serves for `package@spec` (the highest non-prerelease match)."""
    out = json.loads(npm("view", f"{package}@{spec}", "version", "--json"))
    versions = out if isinstance(out, list) else [out]

    def key(v: str):
        return tuple(int(x) for x in v.split("."))

    return max((v for v in versions if re.fullmatch(r"\d+\.\d+\.\d+", v)), key=key)


def sri(data: bytes, algorithm: str = "sha384") -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def vendor_dir_name(package: str, version: str) -> str:
    return f"{package.split('/')[-1]}-{version}"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        for url, package, spec, file, _ in ASSETS:
            print(f"{url}\n    -> npm {package}@{resolve(package, spec)} {file}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="gx_docs_assets_"))
    try:
        tarballs: dict[tuple[str, str], tarfile.TarFile] = {}
        packages: dict[str, dict] = {}
        urls: dict[str, str] = {}
        files: dict[str, bytes] = {}  # vendor-relative path -> bytes

        integrities: dict[tuple[str, str], str] = {}

        def pack(package: str, version: str) -> tarfile.TarFile:
            if (package, version) not in tarballs:
                info = json.loads(npm("pack", f"{package}@{version}", "--json",
                                      "--pack-destination", str(work), cwd=work))[0]
                tarballs[(package, version)] = tarfile.open(work / info["filename"])
                integrities[(package, version)] = info["integrity"]
            return tarballs[(package, version)]

        def open_package(package: str, version: str) -> tarfile.TarFile:
            name = vendor_dir_name(package, version)
            if name not in packages:
                pack(package, version)
                members = tarballs[(package, version)].getnames()
                licenses = [m for m in members if PurePosixPath(m).name in LICENSE_NAMES
                            and PurePosixPath(m).parent == PurePosixPath("package")]
                packages[name] = {"npm": f"{package}@{version}",
                                  "integrity": integrities[(package, version)],
                                  "license": json.load(tarballs[(package, version)].extractfile(
                                      "package/package.json")).get("license")}
                source = tarballs[(package, version)]
                if not licenses and package in LICENSE_FROM_DEPENDENCY:
                    dep = LICENSE_FROM_DEPENDENCY[package]
                    deps = json.load(source.extractfile("package/package.json"))["dependencies"]
                    dep_version = resolve(dep, deps[dep])
                    source = pack(dep, dep_version)
                    licenses = [m for m in source.getnames() if m == "package/LICENSE"]
                    packages[name]["license_from"] = f"{dep}@{dep_version}"
                if not licenses and package in LICENSE_IN_HEADER:
                    packages[name]["license_files"] = ["LICENSE.txt"]
                    return tarballs[(package, version)]
                if not licenses:
                    raise SystemExit(f"{package}@{version}: no license file in the tarball")
                for m in licenses:
                    files[f"{name}/{PurePosixPath(m).name}"] = source.extractfile(m).read()
                packages[name]["license_files"] = [PurePosixPath(m).name for m in licenses]
            return tarballs[(package, version)]

        def extract(package: str, version: str, file: str) -> bytes:
            tar = open_package(package, version)
            data = tar.extractfile(f"package/{file}").read()
            rel = f"{vendor_dir_name(package, version)}/{file}"
            files[rel] = data
            if package in LICENSE_IN_HEADER:
                header = re.match(rb"\s*/\*(.*?)\*/", data, re.S)
                if not header or b"License" not in header.group(1):
                    raise SystemExit(f"{rel}: no license header")
                files[f"{vendor_dir_name(package, version)}/LICENSE.txt"] = (
                    f"{package}@{version} ships no license file; its package.json says "
                    f"license: {packages[vendor_dir_name(package, version)]['license']}. "
                    f"The header of {file}:\n\n".encode() + header.group(1).strip() + b"\n")
            if file.endswith(".css"):  # the fonts / images the stylesheet loads
                for _, ref in CSS_URL.findall(data.decode("utf-8")):
                    if ref.startswith(("data:", "#")):
                        continue
                    if re.match(r"^(https?:)?//", ref):
                        raise SystemExit(f"{rel} loads a remote URL: {ref}")
                    target = PurePosixPath(file).parent / ref.split("?")[0].split("#")[0]
                    parts: list[str] = []
                    for p in target.parts:
                        parts.pop() if p == ".." else parts.append(p)
                    extract(package, version, "/".join(parts))
            return data

        for url, package, spec, file, integrity in ASSETS:
            version = resolve(package, spec)
            data = extract(package, version, file)
            if integrity and sri(data, integrity.split("-")[0]) != integrity:
                raise SystemExit(f"{package}@{version} {file} does not match the SRI hash GX declares for {url}")
            urls[url] = f"{vendor_dir_name(package, version)}/{file}"
            print(f"{url}\n    -> vendor/{urls[url]} ({len(data):,} bytes)")

        if VENDOR.exists():
            shutil.rmtree(VENDOR)
        for rel, data in sorted(files.items()):
            path = VENDOR / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        MANIFEST.write_text(json.dumps({
            "comment": "Generated by fetch_assets.py: remote asset URL in GX Data Docs -> vendored "
                       "file (vendor/, copied to <site>/static/vendor/) or GX's own static file "
                       "(site-relative). Do not edit by hand.",
            "vendor": urls,
            "gx_static": GX_STATIC,
            "packages": packages,
        }, indent=2, sort_keys=True) + "\n")
        total = sum(len(d) for d in files.values())
        print(f"{len(files)} files, {total:,} bytes in {VENDOR.relative_to(HERE.parent.parent.parent)}")
        return 0
    finally:
        for tar in tarballs.values() if "tarballs" in locals() else ():
            tar.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
