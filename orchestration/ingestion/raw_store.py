"""The raw layer: Parquet, one file per table and drop, replaced atomically.

    <raw>/<source>/<table>/drop_date=<YYYY-MM-DD>/data.parquet
    <raw>/_rejects/<source>__<object>/drop_date=<YYYY-MM-DD>/data.parquet

Parquet keeps the raw layer engine-neutral: DuckDB, Spark or any other engine reads it as
external tables, and re-loading a drop rewrites exactly that drop's file (idempotent)."""
from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .contracts import OBJECTS, REJECTS_TABLE, RawObject
from .landing import object_files
from .reader import ObjectBatch, read_object


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


@dataclass
class LoadResult:
    obj: RawObject
    drop_date: str
    records: int
    loaded: int
    rejected: int
    reject_reasons: dict[str, int]


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0].split(" '")[0].split(" in ")[0]


def load_drop(obj: RawObject, landing_dir: Path, raw_dir: Path, drop_date: str,
              loaded_at: dt.datetime | None = None) -> LoadResult:
    """Read one object of one complete drop and (re)write its raw and rejects partitions."""
    loaded_at = loaded_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    files = object_files(landing_dir, obj, drop_date)
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
    return LoadResult(obj, drop_date, batch.records, batch.loaded, batch.rejected, reasons)
