"""Read any tabular source as text, keeping where every row came from.

Each reader returns :class:`RawTable` objects: a frame of Arrow-backed string
columns under the source's own headers, plus ``_source`` (the source name as
given, ``#sheet`` or ``#table`` appended) and ``_line`` (the row number a
spreadsheet would show: the header is line 1, so the first data row is line 2;
database tables and Parquet files are numbered the same way, as if exported
with a header).

Typed columns become text *exactly*: dates as ISO ``YYYY-MM-DD`` (a time of
day is kept so validation can refuse it), decimals as their exact digits,
integers as digits, floats as their shortest round-trip text with ``.0`` kept
on whole numbers (so an identifier that went through a float is recognisable),
Excel cells as described in :func:`rpmkit.io.excel.excel_cell_text`. Nothing is parsed here.

Parquet and database columns of dates (``date32``, midnight timestamps),
decimals and integers are kept typed instead (an Arrow-backed column): text
of millions of dates and amounts costs memory and time, and validation reads
them directly with the same outcome as their text. Their text, exactly as
above, is made only where it is needed (:func:`text_series`,
:func:`text_frame`): the values and records quoted in the rejects.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io as _stdio
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from rpmkit.validation import LINE_COL, SOURCE_COL

__all__ = [
    "RawTable",
    "arrow_to_text",
    "is_typed",
    "read_csv",
    "read_duckdb",
    "read_parquet",
    "read_sql",
    "sniff_delimiter",
    "text_frame",
    "text_series",
]

STRING = pd.StringDtype("pyarrow")
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class RawTable:
    """One table of a source, as text.

    ``name`` is what a preset sees as the key (file stem, sheet or table
    name); ``info`` goes to the manifest; ``problems`` are file-level problems
    (dicts with the rejects columns); ``row_problems`` are rows the reader
    could not split into the header's columns (rejected, never dropped);
    ``parts`` holds the tables it was stacked from (see :mod:`rpmkit.io.parts`).
    """

    name: str
    source: str
    frame: pd.DataFrame
    headers: list[str]
    info: dict = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)
    row_problems: list[dict] = field(default_factory=list)
    parts: list[RawTable] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        """The sources the rows come from: the parts' when stacked from several files."""
        return [p.source for p in self.parts] or [self.source]


def file_problem(
    source: str, reason: str, message: str, *, table: str = "", column: str = "", value: str = ""
) -> dict:
    """A file-level problem with the columns of the rejects frame."""
    return {
        "table": table,
        "source": source,
        "line": None,
        "column": column,
        "reason": reason,
        "message": message,
        "value": value,
        "record": None,
    }


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 hex digest and size in bytes of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


# --------------------------------------------------------------------------- frames
def _frame(
    columns: dict[str, pa.ChunkedArray | pa.Array], source: str, lines: np.ndarray
) -> pd.DataFrame:
    n = len(lines)
    data = {}
    for name, arr in columns.items():
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            data[name] = pd.Series(pd.array(arr, dtype=STRING), copy=False)
        else:
            # A typed column kept as it was read (see _keep_typed); text is made on demand.
            data[name] = pd.Series(pd.array(arr, dtype=pd.ArrowDtype(arr.type)), copy=False)
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    frame[SOURCE_COL] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[source])
    frame[LINE_COL] = np.asarray(lines, dtype=np.int64)
    return frame


def _unique_headers(
    headers: list[str], source: str, problems: list[dict]
) -> tuple[list[str], list[bool]]:
    """Blank headers become ``column_N``; repeated ones are reported (and made unique)."""
    out: list[str] = []
    generated: list[bool] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(headers, start=1):
        name = (h or "").strip()
        gen = False
        if not name:
            name, gen = f"column_{i}", True
        if name in seen:
            problems.append(
                file_problem(
                    source,
                    "duplicate_header",
                    f"the header {name!r} appears in columns {seen[name]} and {i}; "
                    "rename one so each column has its own header",
                    column=name,
                    value=name,
                )
            )
            name = f"{name} ({i})"
        seen.setdefault(name, i)
        out.append(name)
        generated.append(gen)
    return out, generated


def _drop_empty_generated(
    frame: pd.DataFrame, headers: list[str], generated: list[bool], info: dict
) -> list[str]:
    """Unnamed columns with no values at all (trailing separators) are dropped and noted."""
    dropped = []
    for h, gen in zip(list(headers), generated, strict=True):
        if gen and frame[h].isna().all() | (frame[h].fillna("").str.strip() == "").all():
            del frame[h]
            dropped.append(h)
    if dropped:
        info["dropped_empty_columns"] = dropped
    return [h for h in headers if h not in dropped]


# --------------------------------------------------------------------------- CSV
def _decode(data: bytes, declared: str | None) -> tuple[bytes, str]:
    """UTF-8 bytes for pyarrow, and the encoding that was found or declared."""
    if declared:
        enc = declared.lower().replace("_", "-")
        if enc in ("utf-8", "utf8"):
            return data.removeprefix(b"\xef\xbb\xbf"), "utf-8"
        return data.decode(declared).lstrip("\ufeff").encode("utf-8"), declared
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8"), "utf-16"
    return data, "utf-8"


def _fallback(data: bytes) -> tuple[bytes, str]:
    try:
        return data.decode("cp1252").encode("utf-8"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1").encode("utf-8"), "latin-1"


def _first_record(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return next(reader, [])
    except csv.Error:
        # Only the field count is taken from here (pyarrow reads the header itself), so a
        # header the csv module refuses (a huge field, a stray quote) is split plainly.
        lines = text.splitlines()
        return lines[0].split(delimiter) if lines else []


def sniff_delimiter(header_line: str) -> str:
    """The most frequent of ``,`` ``;`` tab ``|`` outside quotes in the header line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(
    path: Path,
    *,
    source: str,
    name: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    grid: bool = False,
) -> RawTable:
    """Read a delimited text file with every column as a string.

    Encoding: a UTF-8 or UTF-16 byte-order mark wins, else UTF-8, else
    cp1252 (latin-1 when cp1252 cannot decode it either), unless declared.
    Delimiter: declared, or sniffed from the header line. Blank lines are
    not rows (but keep their line numbers); rows with too few or too many
    fields are returned in ``row_problems`` as ``wrong_field_count``.

    ``grid=True``: no header; every record is a row (line 1 included) with
    positional columns ``c0, c1, …`` padded to the widest record.
    """
    sha, size = file_digest(path)
    info: dict = {"kind": "csv", "path": source, "sha256": sha, "bytes": size}
    data = path.read_bytes()
    problems: list[dict] = []
    try:
        utf8, enc = _decode(data, encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        problems.append(
            file_problem(
                source,
                "unreadable_file",
                f"cannot decode as {encoding or 'its byte-order mark declares'}: {exc}",
            )
        )
        return RawTable(name, source, pd.DataFrame(), [], info, problems)
    if not utf8.strip():
        info["encoding"] = enc
        problems.append(file_problem(source, "empty_file", "the file is empty"))
        return RawTable(name, source, pd.DataFrame(), [], info, problems)
    head = utf8[: 1 << 16]
    try:
        head_text = head.decode("utf-8")
    except UnicodeDecodeError:
        head_text = None
    if head_text is None and not encoding:
        # Cut inside a multi-byte character or not UTF-8 at all: check the whole file once.
        try:
            utf8.decode("utf-8")
        except UnicodeDecodeError:
            utf8, enc = _fallback(data)
        head_text = utf8[: 1 << 16].decode("utf-8", errors="ignore")
    assert head_text is not None
    first_line = head_text.splitlines()[0] if head_text.splitlines() else ""
    delim = delimiter or sniff_delimiter(first_line)
    info.update({"encoding": enc, "delimiter": delim})
    if grid:
        try:
            utf8.decode("utf-8")
        except UnicodeDecodeError:
            utf8, info["encoding"] = _fallback(data)
        return _grid_csv(utf8, delim, name, source, info)
    header = _first_record(head_text, delim)
    ncols = max(len(header), 1)
    gen_names = [f"c{i}" for i in range(ncols)]
    bad_rows: list = []

    def on_invalid(row) -> str:
        bad_rows.append(row)
        return "skip"

    def attempt(buf: bytes, threads: bool) -> pa.Table:
        bad_rows.clear()
        return pacsv.read_csv(
            pa.BufferReader(buf),
            read_options=pacsv.ReadOptions(
                column_names=gen_names, use_threads=threads, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(gen_names, pa.string()),
                # Blank cells are missing: null in Arrow, so typed casts skip them.
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )

    try:
        try:
            table = attempt(utf8, True)
        except pa.ArrowInvalid as exc:
            if "UTF8" not in str(exc) or encoding:
                raise
            utf8, enc = _fallback(data)
            table = attempt(utf8, True)
        if bad_rows and any(r.number is None for r in bad_rows):
            table = attempt(utf8, False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        problems.append(
            file_problem(source, "unreadable_file", f"cannot read as delimited text: {exc}")
        )
        return RawTable(name, source, pd.DataFrame(), [], info, problems)
    info.update({"encoding": enc, "delimiter": delim})

    # Record numbers (header = 1) of the rows pyarrow kept, skipping the invalid ones.
    total = table.num_rows + len(bad_rows)
    bad_numbers = np.array(sorted(r.number for r in bad_rows), dtype=np.int64)
    numbers = np.arange(1, total + 1, dtype=np.int64)
    if len(bad_numbers):
        numbers = numbers[~np.isin(numbers, bad_numbers)]
    header_row = table.slice(0, 1).to_pylist()
    header_vals = [header_row[0][c] for c in gen_names] if header_row else header
    headers, generated = _unique_headers(header_vals, source, problems)
    body = table.slice(1)
    lines = numbers[1:]
    frame = _frame(dict(zip(headers, body.columns, strict=True)), source, lines)
    headers = _drop_empty_generated(frame, headers, generated, info)
    row_problems = [
        {
            "line": int(r.number),
            "text": r.text,
            "message": f"the row has {r.actual_columns} fields, "
            f"the header has {r.expected_columns}",
        }
        for r in bad_rows
        if r.number != 1
    ]
    return RawTable(name, source, frame, headers, info, problems, row_problems)


def _grid_csv(utf8: bytes, delim: str, name: str, source: str, info: dict) -> RawTable:
    """Every record of a (small) report export as a row of positional cells."""
    try:
        records = list(
            csv.reader(_stdio.StringIO(utf8.decode("utf-8"), newline=""), delimiter=delim)
        )
    except csv.Error as exc:
        problem = file_problem(source, "unreadable_file", f"cannot read as delimited text: {exc}")
        return RawTable(name, source, pd.DataFrame(), [], info, [problem])
    width = max((len(r) for r in records), default=0)
    cols = {
        f"c{j}": pa.array([r[j] if j < len(r) else None for r in records], type=pa.string())
        for j in range(width)
    }
    frame = _frame(cols, source, np.arange(1, len(records) + 1, dtype=np.int64))
    info["grid"] = True
    return RawTable(name, source, frame, list(cols), info)


# --------------------------------------------------------------------------- Arrow types
def arrow_to_text(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A typed Arrow column as exact text (see the module docstring)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = pc.cast(arr, t.value_type)
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "true", "false")
    if pa.types.is_integer(t) or pa.types.is_decimal(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_floating(t):
        arr = pc.cast(arr, pa.float64())
        nan = pc.is_nan(arr)
        arr = pc.if_else(nan, pa.scalar(None, pa.float64()), arr)
        text = pc.cast(arr, pa.string())
        whole = pc.match_substring_regex(text, r"^-?\d+$")
        return pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    if pa.types.is_date(t):
        # A cast gives ISO text and is an order of magnitude faster than strftime.
        return pc.cast(pc.cast(arr, pa.date32()), pa.string())
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            arr = pc.local_timestamp(arr)
        text = pc.cast(pc.cast(arr, pa.timestamp(t.unit)), pa.string())
        return pc.replace_substring_regex(text, r" 00:00:00(\.0+)?$", "")
    if pa.types.is_time(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return pc.cast(arr, pa.string())
    return pc.cast(arr, pa.string())


def _midnight_dates(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array | None:
    """A timestamp column as ``date32`` when every value is a midnight (else None).

    Its text is then the same either way (``arrow_to_text`` drops a midnight time).
    """
    t = arr.type
    try:
        if t.tz is not None:
            arr = pc.local_timestamp(arr)
        naive = pc.cast(arr, pa.timestamp(t.unit))
        days = pc.cast(naive, pa.date32())
        if pc.all(pc.equal(pc.cast(days, pa.timestamp(t.unit)), naive)).as_py() is False:
            return None
        span = pc.min_max(days)
        lo, hi = span["min"].as_py(), span["max"].as_py()
        if lo is None or (lo >= dt.date(1, 1, 1) and hi <= dt.date(9999, 12, 31)):
            return days
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    return None


def _keep_typed(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array | None:
    """The column unconverted when the loader can parse it without text, else None.

    Dates (``date32``, midnight timestamps) and exact numbers (``decimal128``
    with a scale of 0 to 18, integers) stay typed: validation reads them
    directly and makes text only for the rows it quotes in the rejects, with
    exactly the text :func:`arrow_to_text` gives. Everything else becomes text.
    """
    t = arr.type
    if pa.types.is_date32(t):
        return arr
    if pa.types.is_timestamp(t):
        return _midnight_dates(arr)
    if pa.types.is_decimal128(t) and 0 <= t.scale <= 18:
        return arr
    if pa.types.is_integer(t):
        return arr
    return None


def text_series(values) -> pd.Series:
    """A frame column as text: typed (Arrow) columns through :func:`arrow_to_text`."""
    s = pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.ArrowDtype) and not (
        pa.types.is_string(s.dtype.pyarrow_dtype) or pa.types.is_large_string(s.dtype.pyarrow_dtype)
    ):
        text = arrow_to_text(s.array._pa_array)
        return pd.Series(pd.array(text, dtype=STRING), index=s.index, name=s.name, copy=False)
    return s


def is_typed(values) -> bool:
    """True for a frame column kept typed by the reader (not text)."""
    dtype = getattr(values, "dtype", None)
    return isinstance(dtype, pd.ArrowDtype) and not (
        pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    )


def text_frame(frame: pd.DataFrame, keep=()) -> pd.DataFrame:
    """``frame`` with every typed column but those in ``keep`` made text."""
    typed = [c for c in frame.columns if c not in keep and is_typed(frame[c])]
    if not typed:
        return frame
    return frame.assign(**{c: text_series(frame[c]) for c in typed})


def _arrow_table_to_raw(
    table: pa.Table, *, name: str, source: str, info: dict, typed: bool = True
) -> RawTable:
    problems: list[dict] = []
    headers, _ = _unique_headers([str(c) for c in table.column_names], source, problems)
    cols = {}
    for h, col in zip(headers, table.columns, strict=True):
        kept = _keep_typed(col) if typed else None
        if kept is not None:
            cols[h] = kept
            continue
        try:
            cols[h] = arrow_to_text(col)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            problems.append(
                file_problem(
                    source,
                    "unreadable_file",
                    f"column {h!r} ({col.type}) cannot be read as text: {exc}",
                )
            )
            cols[h] = pa.nulls(len(col), pa.string())
    lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    frame = _frame(cols, source, lines)
    info.setdefault("rows", table.num_rows)
    info["types"] = {h: str(c.type) for h, c in zip(headers, table.columns, strict=True)}
    return RawTable(name, source, frame, headers, info, problems)


def read_parquet(path: Path, *, source: str, name: str) -> RawTable:
    """Read a Parquet file; typed columns become exact text."""
    import pyarrow.parquet as pq

    sha, size = file_digest(path)
    info = {"kind": "parquet", "path": source, "sha256": sha, "bytes": size}
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        return RawTable(
            name,
            source,
            pd.DataFrame(),
            [],
            info,
            [file_problem(source, "unreadable_file", f"cannot read as Parquet: {exc}")],
        )
    if table.num_columns == 0:
        return RawTable(
            name,
            source,
            pd.DataFrame(),
            [],
            info,
            [file_problem(source, "empty_file", "the Parquet file has no columns")],
        )
    return _arrow_table_to_raw(table, name=name, source=source, info=info)


# --------------------------------------------------------------------------- databases
def _python_text(value) -> str | None:
    """A database value of a column with mixed types as text (floats keep ``.0``)."""
    from rpmkit.io.excel import excel_cell_text

    if isinstance(value, float) and not (math.isnan(value) or math.isinf(value)):
        return repr(value)
    return excel_cell_text(value)


def _arrow_of(rel) -> pa.Table:
    for attr in ("to_arrow_table", "fetch_arrow_table"):
        if hasattr(rel, attr):
            return getattr(rel, attr)()
    res = rel.arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def duckdb_tables(con) -> list[tuple[str, str]]:
    """Base tables of a DuckDB database as ``(schema, table)`` pairs."""
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' ORDER BY table_schema, table_name"
    ).fetchall()
    return [(str(s), str(t)) for s, t in rows]


def _duckdb_ident(part: str) -> str:
    """One identifier as a DuckDB quoted identifier (``"`` doubled), never as SQL text."""
    return '"' + part.replace('"', '""') + '"'


def read_duckdb(con, table: tuple[str, str], *, db_source: str, name: str, info: dict) -> RawTable:
    """Read one DuckDB table, a ``(schema, table)`` pair listed by :func:`duckdb_tables`.

    The pair is checked against the database's own list again, and each part
    is quoted as an identifier, so a table named ``x"; DROP TABLE y; --`` is
    read as the table of that name, and a name the database does not list is
    refused (``ValueError``).
    """
    if tuple(table) not in set(duckdb_tables(con)):
        raise ValueError(f"no table {table[1]!r} in schema {table[0]!r}")
    schema, bare = table
    source = f"{db_source}#{name}"
    arrow = _arrow_of(con.table(f"{_duckdb_ident(schema)}.{_duckdb_ident(bare)}"))
    return _arrow_table_to_raw(
        arrow, name=name, source=source, info={**info, "kind": "duckdb", "table": name}
    )


def read_sql(
    engine,
    table: str,
    *,
    schema: str | None,
    db_source: str,
    name: str,
    info: dict,
    batch_rows: int = 100_000,
) -> RawTable:
    """Read one table through SQLAlchemy, values converted to text exactly.

    ``table`` must be a name the database's inspector listed; identifiers are
    quoted by SQLAlchemy and no user text is ever put into SQL. Rows come in
    primary-key order when the table has one, else in the database's order.
    """
    import sqlalchemy as sa

    insp = sa.inspect(engine)
    if table not in insp.get_table_names(schema=schema):
        # Names are identifiers the database listed, never text a user typed.
        raise ValueError(f"no table {table!r} in the database")
    cols = [c["name"] for c in insp.get_columns(table, schema=schema)]
    pk = insp.get_pk_constraint(table, schema=schema).get("constrained_columns") or []
    q = sa.quoted_name
    tbl = sa.table(q(table, True), *[sa.column(q(c, True)) for c in cols], schema=schema)
    stmt = sa.select(*[tbl.c[c] for c in cols])
    if pk:
        stmt = stmt.order_by(*[tbl.c[c] for c in pk])
    source = f"{db_source}#{table}"
    chunks: list[list[list]] = [[] for _ in cols]
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(stmt)
        while batch := result.fetchmany(batch_rows):
            for j in range(len(cols)):
                chunks[j].extend(r[j] for r in batch)
    arrays = {}
    for c, values in zip(cols, chunks, strict=True):
        try:
            arrays[c] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays[c] = pa.array([_python_text(v) for v in values], type=pa.string())
    arrow = pa.table(arrays) if arrays else pa.table({})
    info = {**info, "kind": "sql", "table": table, "ordered_by": pk or None}
    return _arrow_table_to_raw(arrow, name=name, source=source, info=info)
