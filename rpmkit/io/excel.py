"""Read Excel workbooks (``.xlsx``) as text, refusing what would make parsing unbounded.

Workbooks are opened read-only with the values Excel saved (``data_only``):
formulas are never evaluated. Before openpyxl sees a file, its zip members
are summed, and a workbook inflating past :data:`MAX_UNZIPPED` bytes at more
than :data:`MAX_ZIP_RATIO` times its packed size is refused; a sheet's declared
dimension is not trusted. Whatever openpyxl raises on a damaged part becomes an
``unreadable_file`` problem (:func:`workbook_problem`).

Examples
--------
>>> import datetime as dt
>>> [excel_cell_text(v) for v in (12345.0, 0.1, dt.datetime(2024, 1, 5), True, None)]
['12345', '0.1', '2024-01-05', 'true', None]
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from rpmkit.io.readers import (
    RawTable,
    _drop_empty_generated,
    _frame,
    _unique_headers,
    file_problem,
)

__all__ = [
    "MAX_UNZIPPED",
    "MAX_ZIP_RATIO",
    "excel_cell_text",
    "open_workbook",
    "read_excel",
    "workbook_problem",
    "workbook_system",
]


def excel_cell_text(value) -> str | None:
    """One Excel cell as text.

    Whole numbers with at most 15 digits (all Excel keeps) → their digits;
    other numbers → shortest round-trip text (``0.1``, ``1234567890123456.0``,
    ``1.2345678901234568e+17``: validation refuses those in identifiers);
    date cells → ISO dates (with the time when it is not midnight); booleans
    → ``true``/``false``; error cells keep their text (``#N/A``), which
    validation refuses as ``excel_error``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


# A workbook whose members inflate past this, at more than MAX_ZIP_RATIO times their
# compressed size, is refused before parsing: real sheets compress about 5-15 times.
MAX_UNZIPPED = 64 << 20
MAX_ZIP_RATIO = 100


def open_workbook(path: Path):
    """Open an ``.xlsx`` read-only with cached values, refusing zip bombs.

    Raises ``ValueError`` (or whatever ``zipfile``/``openpyxl`` raise on a
    damaged file); :func:`workbook_problem` turns any of them into a problem.
    """
    import zipfile

    import openpyxl

    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        unzipped = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos)
    if unzipped > MAX_UNZIPPED and unzipped > MAX_ZIP_RATIO * max(packed, 1):
        raise ValueError(
            f"its parts inflate to {unzipped:,} bytes from {packed:,} "
            f"(over {MAX_ZIP_RATIO} times): refused as a likely zip bomb"
        )
    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def workbook_problem(source: str, exc: BaseException) -> dict:
    """The ``unreadable_file`` problem for a workbook that cannot be opened or read."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return file_problem(source, "unreadable_file", f"cannot read the workbook: {detail[:300]}")


def workbook_system(wb) -> int:
    """1 for the 1900 date system, 2 for 1904."""
    return 2 if getattr(wb, "epoch", None) == dt.datetime(1904, 1, 1) else 1


def read_excel(
    wb, sheet: str, *, path_source: str, name: str, info: dict, grid: bool = False
) -> RawTable:
    """Read one worksheet as text: the first non-empty row is the header.

    ``grid=True``: no header; every non-empty row with positional columns ``c0, c1, …``.
    """
    source = f"{path_source}#{sheet}"
    system = 1904 if workbook_system(wb) == 2 else 1900
    info = {**info, "kind": "excel", "sheet": sheet, "date_system": system}
    try:
        return _read_sheet(wb, sheet, source, name, info, grid)
    except Exception as exc:
        # openpyxl parses the sheet lazily, so a damaged part surfaces here as any of a
        # dozen exception types (XML ParseError, KeyError, ValueError, zip errors...).
        return RawTable(name, source, pd.DataFrame(), [], info, [workbook_problem(source, exc)])


def _read_sheet(wb, sheet: str, source: str, name: str, info: dict, grid: bool) -> RawTable:
    ws = wb[sheet]
    if hasattr(ws, "reset_dimensions"):
        # The sheet's declared size is not trusted: A1:XFD1048576 would pad every row.
        ws.reset_dimensions()
    rows = ws.iter_rows(min_row=1, values_only=True)
    if grid:
        records, lines = [], []
        for i, row in enumerate(rows, start=1):
            if row and any(v is not None for v in row):
                records.append([excel_cell_text(v) for v in row])
                lines.append(i)
        width = max((len(r) for r in records), default=0)
        cols = {
            f"c{j}": pa.array([r[j] if j < len(r) else None for r in records], type=pa.string())
            for j in range(width)
        }
        info["grid"] = True
        frame = _frame(cols, source, np.asarray(lines, dtype=np.int64))
        return RawTable(name, source, frame, list(cols), info)
    header: list | None = None
    header_line = 0
    columns: list[list] = []
    lines: list[int] = []
    for i, row in enumerate(rows, start=1):
        if header is None:
            if row and any(v is not None and str(v).strip() for v in row):
                header = [excel_cell_text(v) or "" for v in row]
                while header and not header[-1].strip():
                    header.pop()
                header_line = i
                columns = [[] for _ in header]
            continue
        if not row or all(v is None for v in row):
            continue
        vals = list(row)
        if len(vals) > len(columns) and any(v is not None for v in vals[len(columns) :]):
            for _ in range(len(vals) - len(columns)):
                columns.append([None] * len(lines))
                header.append("")
        for j, col in enumerate(columns):
            col.append(excel_cell_text(vals[j]) if j < len(vals) else None)
        lines.append(i)
    problems: list[dict] = []
    if header is None:
        problems.append(file_problem(source, "empty_file", f"the sheet {sheet!r} is empty"))
        return RawTable(name, source, pd.DataFrame(), [], info, problems)
    info["header_line"] = header_line
    headers, generated = _unique_headers(header, source, problems)
    cols = {h: pa.array(c, type=pa.string()) for h, c in zip(headers, columns, strict=True)}
    frame = _frame(cols, source, np.asarray(lines, dtype=np.int64))
    headers = _drop_empty_generated(frame, headers, generated, info)
    info["rows"] = len(frame)
    return RawTable(name, source, frame, headers, info, problems)
