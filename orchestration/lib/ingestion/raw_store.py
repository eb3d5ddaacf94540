"""The raw layer: Parquet, one file per table and drop, replaced atomically.

    <raw>/<source>/<table>/drop_date=<YYYY-MM-DD>/data.parquet
    <raw>/<source>/<table>/drop_date=<YYYY-MM-DD>/_manifest.json
    <raw>/_rejects/<source>__<object>/drop_date=<YYYY-MM-DD>/data.parquet

Parquet keeps the raw layer engine-neutral: DuckDB, Spark or any other engine reads it as
external tables, and re-loading a drop rewrites exactly that drop's file (idempotent).

The manifest, written last (so a load killed half-way leaves none, or the previous one), is
what the raw layer remembers of a load: the landing files it read (name, size, mtime, sha256),
the record counts, and the earliest day its records are about. A drop whose landing files
differ from its manifest (a source re-exported the day) is a re-delivery: the next run reads
it again (`redelivered_drops`), and the warehouse reprocesses from its earliest day."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.lib.ingestion.contracts import OBJECTS, REJECTS_TABLE, RawObject
from orchestration.lib.ingestion.landing import is_complete, object_files
from orchestration.lib.ingestion.reader import ObjectBatch, read_object


def partition_path(raw_dir: Path, source: str, table: str, drop_date: str) -> Path:
    return Path(raw_dir) / source / table / f"drop_date={drop_date}" / "data.parquet"


def latest_loaded_drop(raw_dir: Path) -> str | None:
    """The newest drop date with at least one row in any object's main table: what the dbt
    macro as_of_date() computes as max(_drop_date) over the raw tables, found from the folder
    names and the newest files' Parquet footers instead of reading every file's metadata."""
    best: str | None = None
    for obj in OBJECTS:
        folder = Path(raw_dir) / obj.source / obj.table
        if not folder.is_dir():
            continue
        drops = sorted((p.name.split("=", 1)[1] for p in folder.glob("drop_date=*")), reverse=True)
        for d in drops:
            if best is not None and d <= best:
                break
            f = partition_path(raw_dir, obj.source, obj.table, d)
            if f.is_file() and pq.read_metadata(f).num_rows > 0:
                best = d
                break
    return best


def rejects_path(raw_dir: Path, obj: RawObject, drop_date: str) -> Path:
    return (Path(raw_dir) / REJECTS_TABLE / f"{obj.source}__{obj.name}" / f"drop_date={drop_date}"
            / "data.parquet")


def write_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


MANIFEST_NAME = "_manifest.json"   # leading underscore: Spark and Hive readers skip it


def manifest_path(raw_dir: Path, obj: RawObject, drop_date: str) -> Path:
    return partition_path(raw_dir, obj.source, obj.table, drop_date).with_name(MANIFEST_NAME)


def _stat_files(landing_dir: Path, files: list[Path]) -> list[dict]:
    out = []
    for f in files:
        st = f.stat()
        out.append({"name": str(f.relative_to(landing_dir)), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_manifest(raw_dir: Path, obj: RawObject, drop_date: str) -> dict | None:
    try:
        return json.loads(manifest_path(raw_dir, obj, drop_date).read_text())
    except (OSError, ValueError):
        return None


def loaded_drops(raw_dir: Path, obj: RawObject) -> list[str]:
    """Drops of an object the raw layer holds a complete load of (a manifest), sorted."""
    folder = Path(raw_dir) / obj.source / obj.table
    return sorted(p.parent.name.split("=", 1)[1] for p in folder.glob(f"drop_date=*/{MANIFEST_NAME}"))


def landing_changed(landing_dir: Path, raw_dir: Path, obj: RawObject, drop_date: str) -> str | None:
    """Why the landing files of a loaded drop differ from what was loaded, or None when they
    are the same (or the drop is not complete in the landing zone: a re-export still being
    written, or a drop the landing zone no longer keeps, is not a re-delivery).
    Names and sizes and mtimes first; when only those differ, the checksums decide (a file
    copied or touched with the same bytes is not a re-delivery)."""
    manifest = read_manifest(raw_dir, obj, drop_date)
    if manifest is None or not is_complete(landing_dir, obj.source, drop_date):
        return None
    files = object_files(landing_dir, obj, drop_date)
    now = _stat_files(landing_dir, files)
    before = manifest.get("files", [])
    if [(f["name"], f["size"], f["mtime_ns"]) for f in now] == [(f["name"], f["size"], f["mtime_ns"]) for f in before]:
        return None
    names_now, names_before = [f["name"] for f in now], [f["name"] for f in before]
    if names_now != names_before:
        return f"files {', '.join(names_before) or '-'} -> {', '.join(names_now) or '-'}"
    for f, cur, old in zip(files, now, before):
        if cur["size"] != old["size"] or _sha256(f) != old.get("sha256"):
            return f"{cur['name']} changed ({old['size']} -> {cur['size']} bytes)"
    return None


def redelivered_drops(landing_dir: Path, raw_dir: Path, obj: RawObject) -> dict[str, str]:
    """{drop date: what changed} for every loaded drop of `obj` whose landing files changed."""
    out = {}
    for d in loaded_drops(raw_dir, obj):
        why = landing_changed(landing_dir, raw_dir, obj, d)
        if why:
            out[d] = why
    return out


@dataclass
class LoadResult:
    obj: RawObject
    drop_date: str
    records: int
    loaded: int
    rejected: int
    reject_reasons: dict[str, int]
    first_day: str | None = None   # earliest day the loaded records are about (obj.time_column)


def _first_day(rows: pa.Table, column: str | None) -> str | None:
    if not column or column not in rows.column_names or rows.num_rows == 0:
        return None
    first = pc.min(rows.column(column)).as_py()
    if first is None:
        return None
    return (first.date() if isinstance(first, dt.datetime) else first).isoformat()


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0].split(" '")[0].split(" in ")[0].split(" at byte ")[0]


def load_drop(obj: RawObject, landing_dir: Path, raw_dir: Path, drop_date: str,
              loaded_at: dt.datetime | None = None) -> LoadResult:
    """Read one object of one complete drop and (re)write its raw and rejects partitions."""
    loaded_at = loaded_at or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    files = object_files(landing_dir, obj, drop_date)
    # what is read: stat and checksum before reading, so a file rewritten during the load
    # differs from its manifest and is read again next time
    fingerprint = [{**st, "sha256": _sha256(f)} for f, st in zip(files, _stat_files(landing_dir, files))]
    batch: ObjectBatch = read_object(obj, files, drop_date, loaded_at, rel_to=Path(landing_dir))
    write_atomic(batch.rows, partition_path(raw_dir, obj.source, obj.table, drop_date))
    for name, table in batch.children.items():
        write_atomic(table, partition_path(raw_dir, obj.source, name, drop_date))
    # a drop without rejects leaves no rejects file (a re-load removes the old one): the
    # rejects table then holds a file per drop that had any, not one per drop and object
    rejects_file = rejects_path(raw_dir, obj, drop_date)
    if batch.rejects.num_rows:
        write_atomic(batch.rejects, rejects_file)
    else:
        rejects_file.unlink(missing_ok=True)
    reasons: dict[str, int] = {}
    for r in batch.rejects.column("reason").to_pylist():
        k = _reason_kind(r)
        reasons[k] = reasons.get(k, 0) + 1
    result = LoadResult(obj, drop_date, batch.records, batch.loaded, batch.rejected, reasons,
                        _first_day(batch.rows, getattr(obj, "time_column", None)))
    manifest = {"source": obj.source, "object": obj.name, "drop_date": drop_date,
                "loaded_at": loaded_at.isoformat(), "files": fingerprint, "records": result.records,
                "loaded": result.loaded, "rejected": result.rejected, "first_day": result.first_day}
    write_text_atomic(json.dumps(manifest, indent=1), manifest_path(raw_dir, obj, drop_date))
    return result


def write_text_atomic(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
