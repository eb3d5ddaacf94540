"""Read one object of one drop, validate every record against the contract, and split it
into typed raw rows and quarantined rejects (file, line, reason).

Rules beyond the field types (the same for JSONL and Parquet):
- ids (``Field.is_id``) are trimmed of leading/trailing whitespace (ID_WHITESPACE); an id
  that is empty after trimming counts as missing.
- plausibility (``TimeBounds``): a timestamp/unix/date field earlier than the source's first
  complete drop minus ``ingestion.plausibility.max_days_before_first_drop`` days, or an
  own-time field (``Field.own_time``) on a day later than the drop date plus
  ``ingestion.plausibility.max_days_after_drop`` days, quarantines the record
  ("implausible timestamp in 'created': 1970-01-01 00:00:00 (before 2014-01-02, 3650 days
  before the first billing drop)").
- JSONL lines are read as bytes: a line that is not valid UTF-8 is quarantined
  ("invalid UTF-8 at byte N", N the 0-based offset in the line; the record is decoded with
  backslashreplace), never repaired.
- a zero-byte file (any format) is an empty object: no records, no rejects.
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.lib.ingestion.contracts import ChildTable, Field, RawObject
from orchestration.lib.ingestion.landing import _DATE_DIR, is_complete
from orchestration.lib.settings import DBT_PROJECT_DIR, get_settings

MAX_RECORD_CHARS = 10_000

ARROW_TYPES = {
    "str": pa.string(), "currency": pa.string(), "int": pa.int64(), "bool": pa.bool_(),
    "float": pa.float64(), "unix": pa.timestamp("us"), "ts": pa.timestamp("us"),
    "date": pa.date32(),
}
META_SCHEMA = [("_drop_date", pa.date32()), ("_source_file", pa.string()),
               ("_source_line", pa.int64()), ("_loaded_at", pa.timestamp("us"))]
REJECT_SCHEMA = pa.schema([
    ("source", pa.string()), ("object", pa.string()), ("_drop_date", pa.date32()),
    ("_source_file", pa.string()), ("_source_line", pa.int64()), ("reason", pa.string()),
    ("record", pa.string()), ("_loaded_at", pa.timestamp("us")),
])


def object_schema(obj: RawObject) -> pa.Schema:
    cols = [(f.column, ARROW_TYPES[f.type]) for f in obj.fields]
    if obj.file_format == "jsonl":
        cols.append(("_extra", pa.string()))
    return pa.schema(cols + META_SCHEMA)


def child_schema(obj: RawObject, child: ChildTable) -> pa.Schema:
    parent = {f.column: ARROW_TYPES[f.type] for f in obj.fields}
    cols = [(c, parent[c]) for c in child.parent_columns] + [("_item_index", pa.int64())]
    cols += [(f.column, ARROW_TYPES[f.type]) for f in child.fields]
    return pa.schema(cols + META_SCHEMA)


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    with open(DBT_PROJECT_DIR / "seeds" / "currencies.csv") as f:
        return frozenset(row["currency"].lower() for row in csv.DictReader(f))


# trimmed from both ends of every id: Unicode whitespace (str.isspace) + zero-width space + BOM
ID_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "\u200b\ufeff"
TIME_TYPES = ("unix", "ts", "date")


@dataclass(frozen=True)
class TimeBounds:
    """The plausible time range of the records of one object in one drop.

    A time field before ``earliest`` (a day, from 00:00) is implausible; an own-time field on
    a day after ``latest`` is implausible (None: no upper bound). The notes explain the bound
    in the reject reason."""
    earliest: dt.date
    latest: dt.date | None
    earliest_note: str = ""
    latest_note: str = ""

    @classmethod
    def for_drop(cls, landing: Path, source: str, drop_date: str,
                 max_days_before_first_drop: int | None = None,
                 max_days_after_drop: int | None = None) -> TimeBounds:
        """Bounds from the source's first complete drop in `landing` (the drop itself when
        none is complete) and ingestion.plausibility.* (or the given numbers of days)."""
        settings = get_settings()
        before = (settings.plausibility_max_days_before_first_drop
                  if max_days_before_first_drop is None else max_days_before_first_drop)
        after = settings.plausibility_max_days_after_drop if max_days_after_drop is None else max_days_after_drop
        first = first_complete_drop(landing, source)
        anchor = min(first, drop_date) if first else drop_date
        drop = dt.date.fromisoformat(drop_date)
        return cls(
            earliest=dt.date.fromisoformat(anchor) - dt.timedelta(days=before),
            latest=drop + dt.timedelta(days=after),
            earliest_note=f"{before} days before the first {source} drop",
            latest_note=f"{after} day{'' if after == 1 else 's'} after the drop",
        )


def first_complete_drop(landing: Path, source: str) -> str | None:
    """The first complete drop of a source: list_drops(landing, source)[0][0], without
    checking the marker of every later drop."""
    root = Path(landing) / source
    if not root.is_dir():
        return None
    for d in sorted(p.name for p in root.iterdir() if _DATE_DIR.match(p.name)):
        if is_complete(landing, source, d):
            return d
    return None


def _fmt_time(v) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, dt.datetime) else v.isoformat()


def _check_plausible(fields, row: dict, bounds: TimeBounds | None) -> None:
    if bounds is None:
        return
    for f in fields:
        if f.type not in TIME_TYPES:
            continue
        v = row.get(f.column)
        if v is None:
            continue
        day = v.date() if isinstance(v, dt.datetime) else v
        kind = "date" if f.type == "date" else "timestamp"
        if day < bounds.earliest:
            raise Invalid(f"implausible {kind} in '{f.path}': {_fmt_time(v)} "
                          f"(before {bounds.earliest.isoformat()}, {bounds.earliest_note})")
        if f.own_time and bounds.latest is not None and day > bounds.latest:
            raise Invalid(f"implausible {kind} in '{f.path}': {_fmt_time(v)} "
                          f"(after {bounds.latest.isoformat()}, {bounds.latest_note})")


class Invalid(Exception):
    """A record that breaks the contract; the message is the quarantine reason."""


_MISSING = object()


def _get(record, path: str):
    cur = record
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _convert(f: Field, v):
    """Type-check and convert one value; raise Invalid with the reason."""
    t = f.type
    if t in ("str",):
        if not isinstance(v, str):
            raise Invalid(f"wrong type for '{f.path}': expected string, got {type(v).__name__}")
        out = v
        if f.is_id:
            out = v.strip(ID_WHITESPACE)
            if not out:
                return None          # a blank id is a missing id
    elif t == "currency":
        if not isinstance(v, str):
            raise Invalid(f"wrong type for '{f.path}': expected string, got {type(v).__name__}")
        out = v.lower()
        if out not in known_currencies():
            raise Invalid(f"unknown currency '{v}' in '{f.path}'")
    elif t == "int":
        if not _is_int(v):
            raise Invalid(f"wrong type for '{f.path}': expected integer, got {type(v).__name__}")
        out = v
    elif t == "bool":
        if not isinstance(v, bool):
            raise Invalid(f"wrong type for '{f.path}': expected boolean, got {type(v).__name__}")
        out = v
    elif t == "float":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise Invalid(f"wrong type for '{f.path}': expected number, got {type(v).__name__}")
        out = float(v)
    elif t == "unix":
        if not _is_int(v):
            raise Invalid(f"wrong type for '{f.path}': expected unix seconds, got {type(v).__name__}")
        try:
            out = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=v)
        except OverflowError:
            raise Invalid(f"out-of-range timestamp in '{f.path}': {v}") from None
    elif t == "ts":
        if not isinstance(v, str):
            raise Invalid(f"wrong type for '{f.path}': expected ISO-8601 string, got {type(v).__name__}")
        try:
            parsed = dt.datetime.fromisoformat(v)
        except ValueError:
            raise Invalid(f"unparseable timestamp in '{f.path}': {v!r}") from None
        if parsed.tzinfo is None:
            raise Invalid(f"timestamp without UTC offset in '{f.path}': {v!r}")
        out = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    elif t == "date":
        if not isinstance(v, str):
            raise Invalid(f"wrong type for '{f.path}': expected YYYY-MM-DD, got {type(v).__name__}")
        try:
            out = dt.date.fromisoformat(v)
        except ValueError:
            raise Invalid(f"unparseable date in '{f.path}': {v!r}") from None
    else:  # pragma: no cover - contract typo
        raise ValueError(f"unknown field type {t}")
    if f.choices is not None and out not in f.choices:
        raise Invalid(f"invalid value for '{f.path}': {out!r} (allowed: {', '.join(f.choices)})")
    if f.max_value is not None and not (f.min_value <= out <= f.max_value):
        raise Invalid(f"value out of range for '{f.path}': {out} (allowed {f.min_value:g}-{f.max_value:g})")
    if f.min_value is not None and out < f.min_value:
        if f.min_value == 0:
            kind = "negative amount" if "amount" in f.path else "negative value"
        else:
            kind = "value below minimum"
        raise Invalid(f"{kind} in '{f.path}': {out}")
    return out


def _extract(fields, record) -> dict:
    row = {}
    for f in fields:
        v = _get(record, f.path)
        if v is not _MISSING and v is not None:
            v = _convert(f, v)       # None for a blank id
        if v is _MISSING or v is None:
            if f.required:
                raise Invalid(f"missing required field '{f.path}'")
            row[f.column] = None
            continue
        row[f.column] = v
    return row


@dataclass
class ObjectBatch:
    """The result of reading one object of one drop."""
    obj: RawObject
    drop_date: str
    rows: pa.Table
    children: dict[str, pa.Table] = field(default_factory=dict)
    rejects: pa.Table = None
    records: int = 0          # records seen in the drop (lines / rows)

    @property
    def loaded(self) -> int:
        return self.rows.num_rows

    @property
    def rejected(self) -> int:
        return self.rejects.num_rows


def _open_bytes(path: Path):
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_jsonl(obj: RawObject, files: list[Path], drop_date: str, loaded_at: dt.datetime,
               rel_to: Path | None = None, bounds: TimeBounds | None = None) -> ObjectBatch:
    known_top = {f.path.split(".")[0] for f in obj.fields}
    rows: list[dict] = []
    children: dict[str, list[dict]] = {c.name: [] for c in obj.children}
    rejects: list[dict] = []
    drop = dt.date.fromisoformat(drop_date)
    records = 0
    for path in files:
        fname = str(path.relative_to(rel_to)) if rel_to else str(path)
        if path.stat().st_size == 0:
            continue                 # a zero-byte file is an empty object
        with _open_bytes(path) as fh:
            for lineno, raw_line in enumerate(fh, start=1):
                try:
                    text = raw_line.decode("utf-8").strip()
                    bad_utf8 = None
                except UnicodeDecodeError as e:
                    text = raw_line.decode("utf-8", errors="backslashreplace").strip()
                    bad_utf8 = e.start
                if not text:
                    continue
                records += 1
                meta = {"_drop_date": drop, "_source_file": fname, "_source_line": lineno,
                        "_loaded_at": loaded_at}
                try:
                    if bad_utf8 is not None:
                        raise Invalid(f"invalid UTF-8 at byte {bad_utf8}")
                    try:
                        record = orjson.loads(text)
                    except orjson.JSONDecodeError as e:
                        raise Invalid(f"invalid JSON: {e}") from None
                    if not isinstance(record, dict):
                        raise Invalid(f"invalid record: expected a JSON object, got {type(record).__name__}")
                    row = _extract(obj.fields, record)
                    _check_plausible(obj.fields, row, bounds)
                    kids = {}
                    for child in obj.children:
                        items = _get(record, child.path)
                        if items is _MISSING or items is None or not isinstance(items, list):
                            raise Invalid(f"missing required field '{child.path}' (a list)")
                        out = []
                        for i, item in enumerate(items):
                            try:
                                if not isinstance(item, dict):
                                    raise Invalid("expected an object")
                                crow = _extract(child.fields, item)
                            except Invalid as e:
                                raise Invalid(f"{child.path}[{i}]: {e}") from None
                            crow.update({c: row[c] for c in child.parent_columns})
                            crow["_item_index"] = i
                            crow.update(meta)
                            out.append(crow)
                        kids[child.name] = out
                except Invalid as e:
                    rejects.append({"source": obj.source, "object": obj.name, **meta,
                                    "reason": str(e), "record": text[:MAX_RECORD_CHARS]})
                    continue
                extra = {k: v for k, v in record.items() if k not in known_top}
                row["_extra"] = orjson.dumps(extra, option=orjson.OPT_SORT_KEYS).decode() if extra else None
                row.update(meta)
                rows.append(row)
                for name, out in kids.items():
                    children[name].extend(out)
    return ObjectBatch(
        obj=obj, drop_date=drop_date,
        rows=pa.Table.from_pylist(rows, schema=object_schema(obj)),
        children={c.name: pa.Table.from_pylist(children[c.name], schema=child_schema(obj, c))
                  for c in obj.children},
        rejects=pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA),
        records=records,
    )


_DUCK_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN",
               "ts": "TIMESTAMPTZ", "date": "DATE", "currency": "VARCHAR"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _plausibility_sql(f: Field, expr: str, bounds: TimeBounds) -> list[str]:
    """CASE branches doing _check_plausible on a DuckDB column expression."""
    kind, fmt = ("date", "%Y-%m-%d") if f.type == "date" else ("timestamp", "%Y-%m-%d %H:%M:%S")
    head = _lit(f"implausible {kind} in '{f.path}': ")
    value = f"strftime({expr}, '{fmt}')"
    out = [f"WHEN {expr} < DATE '{bounds.earliest.isoformat()}' THEN {head} || {value} || "
           + _lit(f" (before {bounds.earliest.isoformat()}, {bounds.earliest_note})")]
    if f.own_time and bounds.latest is not None:
        after = bounds.latest + dt.timedelta(days=1)
        out.append(f"WHEN {expr} >= DATE '{after.isoformat()}' THEN {head} || {value} || "
                   + _lit(f" (after {bounds.latest.isoformat()}, {bounds.latest_note})"))
    return out


def read_parquet(obj: RawObject, files: list[Path], drop_date: str, loaded_at: dt.datetime,
                 rel_to: Path | None = None, bounds: TimeBounds | None = None) -> ObjectBatch:
    """Validate Parquet rows in DuckDB: a missing/uncastable required value is quarantined.

    One streaming pass per file (typed columns, the reject reason and the file's row number,
    in file order); the raw text of rejected rows is read back only when the file has any."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        row_parts, rej_parts, records = [], [], 0
        for path in files:
            fname = str(path.relative_to(rel_to)) if rel_to else str(path)
            if path.stat().st_size == 0:
                continue             # a zero-byte file is an empty object
            rel = con.read_parquet(str(path), file_row_number=True)
            present = [c for c in rel.columns if c != "file_row_number"]
            con.register("src", rel)
            casts, checks, plausible = [], [], []
            for f in obj.fields:
                if f.path in present:
                    expr = f"TRY_CAST({_q(f.path)} AS {_DUCK_TYPES[f.type]})"
                    raw = _q(f.path)
                    if f.type == "ts":
                        expr = f"CAST(timezone('UTC', {expr}) AS TIMESTAMP)"
                    typed = expr
                    if f.is_id and f.type == "str":     # trimmed; blank counts as missing
                        expr = f"nullif(trim({expr}, {_lit(ID_WHITESPACE)}), '')"
                else:
                    expr, raw, typed = "NULL", "NULL", "NULL"
                casts.append(f"{expr} AS {_q(f.column)}")
                if f.required:
                    missing = f"{expr} IS NULL" if f.is_id and f.type == "str" else f"{raw} IS NULL"
                    checks.append(f"WHEN {missing} THEN 'missing required field ''{f.path}'''")
                checks.append(f"WHEN {raw} IS NOT NULL AND {typed} IS NULL "
                              f"THEN 'wrong type for ''{f.path}'': expected {f.type}'")
                if f.choices:
                    allowed = ", ".join("'" + c + "'" for c in f.choices)
                    checks.append(f"WHEN {expr} NOT IN ({allowed}) THEN 'invalid value for ''{f.path}'''")
                if bounds is not None and f.type in TIME_TYPES and f.path in present:
                    plausible += _plausibility_sql(f, expr, bounds)
            checks += plausible      # after every type check, as in read_jsonl
            reason = "CASE " + " ".join(checks) + " END" if checks else "CAST(NULL AS VARCHAR)"
            batch = con.sql(f"""
                SELECT {', '.join(casts)}, {reason} AS _reason,
                       CAST(file_row_number + 1 AS BIGINT) AS _source_line
                FROM src ORDER BY file_row_number""").to_arrow_table()
            records += batch.num_rows
            ok = pc.is_null(batch.column("_reason"))
            n_ok = pc.sum(pc.cast(ok, pa.int64())).as_py() or 0
            good = batch.filter(ok) if n_ok < batch.num_rows else batch
            n = good.num_rows
            names = [f.column for f in obj.fields] + ["_drop_date", "_source_file", "_source_line", "_loaded_at"]
            row_parts.append(pa.Table.from_arrays(
                [good.column(f.column) for f in obj.fields] + [
                    pa.array([dt.date.fromisoformat(drop_date)] * n, pa.date32()),
                    pa.array([fname] * n, pa.string()),
                    good.column("_source_line"),
                    pa.array([loaded_at] * n, pa.timestamp("us")),
                ], names=names))
            if n_ok < batch.num_rows:
                record = "struct_pack(" + ", ".join(f"{_q(c)} := {_q(c)}" for c in present) + ")"
                rej_parts.append(con.sql(f"""
                    SELECT ?::VARCHAR AS source, ?::VARCHAR AS object, ?::DATE AS _drop_date,
                           ?::VARCHAR AS _source_file,
                           CAST(file_row_number + 1 AS BIGINT) AS _source_line,
                           {reason} AS reason,
                           left(to_json({record})::VARCHAR, {MAX_RECORD_CHARS}) AS record,
                           ?::TIMESTAMP AS _loaded_at
                    FROM src WHERE ({reason}) IS NOT NULL ORDER BY file_row_number""",
                    params=[obj.source, obj.name, dt.date.fromisoformat(drop_date), fname, loaded_at],
                ).to_arrow_table())
            con.unregister("src")
    finally:
        con.close()
    schema = object_schema(obj)
    rows = (pa.concat_tables([t.cast(schema) for t in row_parts]) if row_parts
            else schema.empty_table())
    rejects = (pa.concat_tables([t.cast(REJECT_SCHEMA) for t in rej_parts]) if rej_parts
               else REJECT_SCHEMA.empty_table())
    return ObjectBatch(obj=obj, drop_date=drop_date, rows=rows, rejects=rejects, records=records)


_AUTO = "auto"


def read_object(obj: RawObject, files: list[Path], drop_date: str, loaded_at: dt.datetime,
                rel_to: Path | None = None, *, bounds: TimeBounds | None | str = _AUTO) -> ObjectBatch:
    """Read one object of one drop. `bounds` is the plausible time range: the default "auto"
    is TimeBounds.for_drop(rel_to, ...) with `rel_to` taken as the landing dir (as load_drop
    passes it), or no plausibility check without `rel_to`; None disables the check."""
    if isinstance(bounds, str):
        bounds = TimeBounds.for_drop(rel_to, obj.source, drop_date) if rel_to is not None else None
    reader = read_parquet if obj.file_format == "parquet" else read_jsonl
    return reader(obj, files, drop_date, loaded_at, rel_to, bounds)
