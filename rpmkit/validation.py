"""Validation at the boundary: text columns in, typed columns and reasons out.

Everything here is vectorised over whole columns (Arrow compute and numpy); a
Python loop only ever runs over the *rejected* rows or over a handful of
columns, never over every row, so a 10-million-row table validates in seconds.

The pieces:

* parsers — :func:`parse_ids`, :func:`parse_dates`, :func:`parse_money`,
  :func:`parse_currency`, :func:`parse_enum`, :func:`parse_bool`,
  :func:`parse_int`, :func:`parse_rate`. Each takes a text column and returns
  the typed values plus ``{reason: mask}`` for the values it refused;
* :class:`Problems` — collects (row, column, reason, message, value) for one
  table; a row may collect several, it is rejected once;
* :func:`check_table` — applies the parsers and the one-table rules of
  :mod:`rpmkit.schema` (required values, positive amounts, due dates after
  invoice dates, duplicate keys, totals rows) and returns a :class:`Checked`.

Cross-table rules (references, over-settlement) live in :mod:`rpmkit.io.rules`.

Examples
--------
>>> import pandas as pd
>>> text = pd.Series(["2024-01-31", "31/01/2024", "05/01/2024", "45000", ""], dtype="string")
>>> parsed = parse_dates(text)
>>> parsed.dates[:2].astype("datetime64[D]").astype(str).tolist()
['2024-01-31', '2024-01-31']
>>> parsed.detected
'%d/%m/%Y'
>>> sorted(parsed.errors)
['excel_serial_date']
>>> ids, errors = parse_ids(pd.Series(["A-1", "12345.0", "1.2E+5"], dtype="string"))
>>> {reason: mask.nonzero()[0].tolist() for reason, mask in errors.items()}
{'id_float': [1], 'id_scientific': [2]}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rpmkit import money
from rpmkit.schema import REASONS, Table

__all__ = [
    "EXCEL_ERRORS",
    "Checked",
    "DateParse",
    "Problems",
    "blank_mask",
    "check_table",
    "duplicate_keys",
    "isin",
    "parse_bool",
    "parse_currency",
    "parse_dates",
    "parse_enum",
    "parse_ids",
    "parse_int",
    "parse_money",
    "parse_rate",
    "report_silent_missing",
    "text_array",
    "totals_rows",
]

SOURCE_COL = "_source"
LINE_COL = "_line"

EXCEL_ERRORS = (
    "#N/A",
    "#REF!",
    "#DIV/0!",
    "#VALUE!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#BUSY!",
    "#UNKNOWN!",
    "#GETTING_DATA",
)
"""Error values a spreadsheet writes into a cell instead of a value."""

SERIAL_FORMATS = {"excel1900": 1, "excel1904": 2}
"""``date_format`` values that declare Excel serial day numbers (and which date system)."""

Masks = dict[str, np.ndarray]
_STR = pd.StringDtype("pyarrow")


# --------------------------------------------------------------------------- text helpers
def text_array(values) -> pa.ChunkedArray:
    """A column as an Arrow string array with surrounding blanks trimmed.

    Arrow arrays are taken as already trimmed (``check_table`` trims each column
    once and hands the result to every parser); anything else is trimmed here.
    """
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values if _is_text_type(values.type) else _arrow_text(values)
    s = pd.Series(values, copy=False)
    if _typed(s):
        return _arrow_text(s.array._pa_array)
    if not isinstance(s.dtype, pd.StringDtype) or s.dtype.storage != "pyarrow":
        s = s.astype(pd.StringDtype("pyarrow"))
    arr = pa.chunked_array([pa.array(s.array)]) if len(s) == 0 else s.array._pa_array
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.large_string())
    # Trimming copies the column; most columns have nothing to trim, so look first.
    if _has_outer_space(arr):
        arr = pc.utf8_trim_whitespace(arr)
    return arr


def _is_text_type(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _typed(values) -> bool:
    """A column the reader kept typed (an Arrow date, decimal or integer), not text."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return not _is_text_type(values.type)
    dtype = getattr(values, "dtype", None)
    return isinstance(dtype, pd.ArrowDtype) and not _is_text_type(dtype.pyarrow_dtype)


def _arrow_text(arr):
    """A typed Arrow column as the exact text the readers would have made of it."""
    from rpmkit.io.readers import arrow_to_text

    return arrow_to_text(arr)


def column_array(values):
    """A column for the parsers: a typed Arrow column as it is, anything else as trimmed text."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values if _typed(values) else text_array(values)
    s = pd.Series(values, copy=False)
    return s.array._pa_array if _typed(s) else text_array(s)


def _has_outer_space(arr) -> bool:
    """True when some value starts or ends with whitespace (cheaper than a regex)."""
    for edge in (pc.utf8_slice_codeunits(arr, 0, 1), pc.utf8_slice_codeunits(arr, -1)):
        if pc.any(pc.utf8_is_space(edge)).as_py():
            return True
    return False


def isin(values, allowed) -> np.ndarray:
    """``values`` (strings) found in ``allowed``, as a numpy mask; missing values are False.

    Arrow's hash lookup: much faster than ``Series.isin`` on Arrow-backed strings.
    """
    arr = values if isinstance(values, pa.ChunkedArray | pa.Array) else text_array(values)
    if isinstance(allowed, pa.ChunkedArray | pa.Array):
        value_set = allowed
    else:
        s = pd.Series(allowed, copy=False)
        value_set = pa.array(s.astype(_STR).array) if len(s) else pa.array([], pa.large_string())
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    if not pa.types.is_large_string(value_set.type):
        value_set = pc.cast(value_set, pa.large_string())
    if not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.large_string())
    return _np(pc.is_in(arr, value_set=value_set, skip_nulls=True))


def _np(mask) -> np.ndarray:
    """An Arrow boolean result as a numpy bool array (nulls are False)."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _match(arr, pattern: str) -> np.ndarray:
    return _np(pc.match_substring_regex(arr, pattern))


def blank_mask(values) -> np.ndarray:
    """True where a value is missing or only blanks."""
    if _typed(values):
        arr = values if isinstance(values, pa.ChunkedArray | pa.Array) else values.array._pa_array
        return _np(pc.is_null(arr))
    arr = text_array(values)
    return _np(pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True))


def _string_series(arr) -> pd.Series:
    return pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow")))


# --------------------------------------------------------------------------- problems
@dataclass
class Problems:
    """Rejects found in one table, held as blocks of row positions until the end.

    ``add`` takes a boolean mask (or positions) over the table's rows, the
    column concerned, a reason code from :data:`rpmkit.schema.REASONS`, a
    message (text, or a function of the offending values giving one message
    per row) and the full column of values (the offending ones are kept).
    """

    table: str
    n: int
    blocks: list[pd.DataFrame] = field(default_factory=list)

    def add(
        self,
        rows,
        column: str,
        reason: str,
        message: str | Callable[[pd.Series], pd.Series] | Sequence[str],
        values=None,
    ) -> None:
        if reason not in REASONS:
            raise KeyError(f"unknown reason code {reason!r}")
        rows = np.asarray(rows)
        positions = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)
        if len(positions) == 0:
            return
        if values is None:
            vals = pd.Series([None] * len(positions), dtype=pd.StringDtype("pyarrow"))
        elif isinstance(values, str):
            vals = pd.Series([values] * len(positions), dtype=pd.StringDtype("pyarrow"))
        elif _typed(values):
            arr = (
                values if isinstance(values, pa.ChunkedArray | pa.Array) else values.array._pa_array
            )
            vals = _string_series(_arrow_text(arr.take(pa.array(positions))))
        else:
            full = pd.Series(values, copy=False)
            vals = full.iloc[positions].astype(pd.StringDtype("pyarrow")).reset_index(drop=True)
        if callable(message):
            msg = pd.Series(message(vals.fillna("")), dtype=pd.StringDtype("pyarrow"))
            msg = msg.reset_index(drop=True)
        elif isinstance(message, str):
            msg = pd.Series([message] * len(positions), dtype=pd.StringDtype("pyarrow"))
        else:
            msg = pd.Series(list(message), dtype=pd.StringDtype("pyarrow"))
        self.blocks.append(
            pd.DataFrame(
                {
                    "row": positions,
                    "column": pd.Series([column] * len(positions), dtype="string"),
                    "reason": pd.Series([reason] * len(positions), dtype="string"),
                    "message": msg,
                    "value": vals,
                }
            )
        )

    def mask(self) -> np.ndarray:
        """True for every row with at least one problem."""
        out = np.zeros(self.n, dtype=bool)
        for b in self.blocks:
            out[b["row"].to_numpy()] = True
        return out

    def frame(self) -> pd.DataFrame:
        """All problems: ``row, column, reason, message, value``, in detection order."""
        if not self.blocks:
            return pd.DataFrame(
                {
                    "row": pd.Series([], dtype="int64"),
                    "column": pd.Series([], dtype="string"),
                    "reason": pd.Series([], dtype="string"),
                    "message": pd.Series([], dtype="string"),
                    "value": pd.Series([], dtype="string"),
                }
            )
        return pd.concat(self.blocks, ignore_index=True)

    def first_reasons(self) -> pd.Series:
        """The first reason found for each rejected row, indexed by row position."""
        f = self.frame()
        return f.drop_duplicates("row").set_index("row")["reason"]


def _quoted(prefix: str, suffix: str) -> Callable[[pd.Series], pd.Series]:
    return lambda v: prefix + "'" + v + "'" + suffix


# --------------------------------------------------------------------------- ids
_ID_FLOAT = r"^[+-]?\d+\.\d+$"
# One pass over every id finds the few that could be either of the two below.
_ID_NUMBERISH = r"^[+-]?\d+(?:\.\d+(?:[eE][+-]?\d{1,3})?|[eE][+-]?\d{1,3})$"
_ID_SCIENTIFIC = r"^[+-]?\d+(\.\d+)?[eE][+-]?\d{1,3}$"
_EXCEL_DIGITS = 15


def parse_ids(values) -> tuple[pd.Series, Masks]:
    """Identifiers as trimmed strings, refusing ones a spreadsheet or float has damaged.

    ``12345.0`` or any decimal number → ``id_float``; ``1.2E+5`` → ``id_scientific``;
    a float-looking number with more than 15 significant digits (what Excel
    keeps) → ``id_precision_lost``. Blank values come back missing, not refused.
    """
    arr = text_array(values)
    errors: Masks = {}
    numeric = _match(arr, _ID_NUMBERISH)
    floaty = sci = numeric
    if numeric.any():
        floaty = _match(arr, _ID_FLOAT)
        sci = _match(arr, _ID_SCIENTIFIC)
        digits = pc.utf8_length(pc.replace_substring_regex(arr, r"[eE].*$|[^0-9]", ""))
        leading = pc.utf8_length(pc.replace_substring_regex(arr, r"^[+-]?0*", ""))
        many = np.asarray(
            pc.fill_null(pc.min_element_wise(digits, leading), 0).to_numpy(zero_copy_only=False)
        )
        int_part = pc.utf8_length(pc.replace_substring_regex(arr, r"^[+-]?0*|\..*$", ""))
        int_digits = np.asarray(pc.fill_null(int_part, 0).to_numpy(zero_copy_only=False))
        lost = (floaty & (int_digits > _EXCEL_DIGITS)) | (sci & (many > _EXCEL_DIGITS))
        errors["id_precision_lost"] = lost
        errors["id_float"] = floaty & ~lost
        errors["id_scientific"] = sci & ~lost
    ids = _string_series(arr)
    blank = blank_mask(arr)
    if blank.sum() != arr.null_count:
        ids[blank] = pd.NA
    return ids, {k: v for k, v in errors.items() if v.any()}


# --------------------------------------------------------------------------- dates
@dataclass
class DateParse:
    """What :func:`parse_dates` made of a column.

    ``dates`` is ``datetime64[ns]`` (``NaT`` where missing or refused);
    ``errors`` maps reason codes to masks; ``detected`` is the day/month
    order found in the column (``"%d/%m/%Y"`` or ``"%m/%d/%Y"``) when the
    column needed and showed one; ``serials`` counts Excel serial numbers
    converted with a declared or workbook date system.
    """

    dates: np.ndarray
    missing: np.ndarray
    errors: Masks
    detected: str | None = None
    evidence: int = 0
    serials: int = 0
    mixed: bool = False


def _ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar dates from year, month, day arrays; ``valid`` is False for impossible dates."""
    y = y.astype(np.int64)
    m = m.astype(np.int64)
    d = d.astype(np.int64)
    ok = (y >= 1800) & (y <= 2200) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    ys = np.where(ok, y, 1970)
    ms = np.where(ok, m, 1)
    ds = np.where(ok, d, 1)
    month = ((ys - 1970) * 12 + (ms - 1)).astype("datetime64[M]")
    day = month.astype("datetime64[D]") + (ds - 1).astype("timedelta64[D]")
    ok &= day.astype("datetime64[M]") == month
    return np.where(ok, day, np.datetime64("NaT")).astype("datetime64[ns]"), ok


def _ints(arr, field_name: str) -> np.ndarray:
    col = pc.struct_field(arr, field_name)
    return np.asarray(
        pc.fill_null(pc.cast(pc.fill_null(col, "0"), pa.int64()), 0).to_numpy(zero_copy_only=False)
    )


_ISO = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?P<t>[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?Z?$"
)
_MIDNIGHT = r"^[ T]0{1,2}:00(:00(\.0+)?)?$"
_YMD_SLASH = r"^(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})$"
_DMY = (
    r"^(?P<a>\d{1,2})(?P<s>[/.-])(?P<b>\d{1,2})[/.-](?P<y>\d{4})"
    r"(?P<t>[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_SERIAL = r"^\d{5}(\.\d+)?$"
_SERIAL_EPOCHS = {
    1: np.datetime64("1899-12-30", "D"),
    2: np.datetime64("1904-01-01", "D"),
}


def _serial_dates(text: pa.Array, system: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Excel serial day numbers to dates; returns (dates, ok, has_time)."""
    num = np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    whole = np.floor(num)
    has_time = num != whole
    days = whole.astype(np.int64)
    base = np.where(system == 2, _SERIAL_EPOCHS[2], _SERIAL_EPOCHS[1])
    # 1900 system: serial 60 is the fictitious 1900-02-29 and serials below it run one day
    # later than the plain offset (the Lotus 1-2-3 leap-year bug Excel keeps).
    lotus = (system != 2) & (days < 61)
    dates = base + days.astype("timedelta64[D]") + lotus.astype("timedelta64[D]")
    ok = (days > 0) & ~((system != 2) & (days == 60))
    return dates.astype("datetime64[ns]"), ok, has_time


def parse_dates(
    values,
    *,
    date_format: str | None = None,
    systems: np.ndarray | None = None,
) -> DateParse:
    """Parse calendar dates, refusing whatever would need a guess.

    Accepted without any declaration: ISO ``YYYY-MM-DD`` (a time of exactly
    midnight may follow), ``YYYY/MM/DD``, and ``d/m/Y`` or ``m/d/Y`` (``/``,
    ``.`` or ``-``) when the column itself proves the order — a first part
    above 12 proves day-first, a second part above 12 month-first. Without
    proof, values whose day and month differ and are both ≤ 12 are refused
    ``ambiguous_date``. Five-digit numbers are Excel serial days: refused
    ``excel_serial_date`` unless ``date_format`` is ``excel1900``/``excel1904``
    or the row came from a workbook, whose date system ``systems`` gives per
    row (0 = none, 1 = 1900, 2 = 1904). A time of day other than midnight is
    refused ``date_has_time``.

    ``date_format`` may be a ``strptime`` format used for every non-ISO value.

    A typed ``date32`` column (from Parquet or a database) is read without
    text; the result is the same as for its ISO text.
    """
    if _typed(values):
        typed = values if isinstance(values, pa.ChunkedArray | pa.Array) else values.array._pa_array
        if pa.types.is_date32(typed.type):
            try:
                ns = pc.cast(typed, pa.timestamp("ns"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass  # out of the datetime64[ns] range: the text path says which and why
            else:
                dates = np.asarray(ns.to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
                return DateParse(dates, _np(pc.is_null(typed)), {})
    arr = text_array(values)
    n = len(arr)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    missing = _np(pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True))
    errors: Masks = {}
    try:
        # Fast path: every present value is a valid strict ISO date (Arrow's cast checks both).
        empty = missing.sum() != arr.null_count
        blanks_as_null = (
            pc.if_else(pa.array(missing), pa.scalar(None, arr.type), arr) if empty else arr
        )
        strict = pc.cast(pc.cast(blanks_as_null, pa.date32()), pa.timestamp("ns"))
        dates = np.asarray(strict.to_numpy(zero_copy_only=False), dtype="datetime64[ns]")
        return DateParse(dates, missing, errors)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    result = DateParse(dates, missing, errors)

    def flag(reason: str, positions: np.ndarray) -> None:
        if len(positions):
            m = errors.setdefault(reason, np.zeros(n, dtype=bool))
            m[positions] = True

    todo = np.flatnonzero(~missing)
    if len(todo) == 0:
        return result

    # ISO dates, the fast path every clean file takes.
    sub = arr if len(todo) == n else arr.take(pa.array(todo))
    iso = pc.extract_regex(sub, _ISO)
    is_iso = _np(pc.is_valid(iso))
    if is_iso.any():
        d, ok = _ymd(_ints(iso, "y"), _ints(iso, "m"), _ints(iso, "d"))
        t = pc.struct_field(iso, "t")
        timed = _np(pc.greater(pc.utf8_length(pc.fill_null(t, "")), 0))
        midnight = _match(pc.fill_null(t, ""), _MIDNIGHT)
        has_time = is_iso & timed & ~midnight
        good = is_iso & ok & ~has_time
        dates[todo[good]] = d[good]
        flag("bad_date", todo[is_iso & ~ok])
        flag("date_has_time", todo[is_iso & ok & has_time])
    todo = todo[~is_iso]
    if len(todo) == 0:
        return result
    sub = arr.take(pa.array(todo))

    # Excel serial day numbers.
    serial = (
        _match(sub, _SERIAL)
        if date_format not in SERIAL_FORMATS
        else _match(sub, r"^\d{1,6}(\.\d+)?$")
    )
    if serial.any():
        if date_format in SERIAL_FORMATS:
            system = np.full(int(serial.sum()), SERIAL_FORMATS[date_format])
        elif systems is not None:
            system = np.asarray(systems)[todo[serial]]
        else:
            system = np.zeros(int(serial.sum()), dtype=np.int64)
        known = system > 0
        d, ok, has_time = _serial_dates(sub.filter(pa.array(serial)), system)
        pos = todo[serial]
        good = known & ok & ~has_time
        dates[pos[good]] = d[good]
        result.serials = int(good.sum())
        flag("excel_serial_date", pos[~known])
        flag("bad_date", pos[known & ~ok])
        flag("date_has_time", pos[known & ok & has_time])
    todo = todo[~serial]
    sub = sub.filter(pa.array(~serial))
    if len(todo) == 0:
        return result

    if date_format and date_format not in SERIAL_FORMATS:
        parsed = pd.to_datetime(
            pd.Series(sub.to_pandas(types_mapper=pd.ArrowDtype)).astype(object),
            format=date_format,
            errors="coerce",
        )
        p = parsed.to_numpy(dtype="datetime64[ns]")
        ok = ~np.isnat(p)
        midnight = ok & (p == p.astype("datetime64[D]"))
        dates[todo[midnight]] = p[midnight]
        flag("bad_date", todo[~ok])
        flag("date_has_time", todo[ok & ~midnight])
        return result

    # Year first with slashes or dots: unambiguous.
    ymd = pc.extract_regex(sub, _YMD_SLASH)
    is_ymd = _np(pc.is_valid(ymd))
    if is_ymd.any():
        d, ok = _ymd(_ints(ymd, "y"), _ints(ymd, "m"), _ints(ymd, "d"))
        dates[todo[is_ymd & ok]] = d[is_ymd & ok]
        flag("bad_date", todo[is_ymd & ~ok])

    # Day and month in either order: decided by the column's own evidence.
    dmy = pc.extract_regex(sub, _DMY)
    is_dmy = _np(pc.is_valid(dmy)) & ~is_ymd
    if is_dmy.any():
        a, b, y = _ints(dmy, "a"), _ints(dmy, "b"), _ints(dmy, "y")
        t = pc.fill_null(pc.struct_field(dmy, "t"), "")
        has_time = _np(pc.greater(pc.utf8_length(t), 0)) & ~_match(t, _MIDNIGHT)
        day_first = is_dmy & (a > 12) & (b <= 12)
        month_first = is_dmy & (b > 12) & (a <= 12)
        if day_first.any() and month_first.any():
            order = None
            result.mixed = True
        elif day_first.any():
            order = "d"
        elif month_first.any():
            order = "m"
        else:
            order = None
        sep = pc.struct_field(dmy, "s").filter(pa.array(is_dmy))[0].as_py()
        if order == "d":
            d, ok = _ymd(y, b, a)
            result.detected = f"%d{sep}%m{sep}%Y"
            result.evidence = int(day_first.sum())
            unclear = np.zeros(len(a), dtype=bool)
        elif order == "m":
            d, ok = _ymd(y, a, b)
            result.detected = f"%m{sep}%d{sep}%Y"
            result.evidence = int(month_first.sum())
            unclear = np.zeros(len(a), dtype=bool)
        else:
            d, ok = _ymd(y, a, b)
            # Equal parts read the same either way; proof one way or the other was
            # either absent or contradicted, so everything else needs a declaration.
            unclear = is_dmy & (a != b)
            if result.mixed:
                unclear = is_dmy & (a != b)
        good = is_dmy & ok & ~unclear & ~has_time
        dates[todo[good]] = d[good]
        flag("ambiguous_date", todo[is_dmy & unclear])
        flag("date_has_time", todo[is_dmy & ~unclear & ok & has_time])
        flag("bad_date", todo[is_dmy & ~unclear & ~ok])
    flag("bad_date", todo[~is_ymd & ~is_dmy])
    return result


# --------------------------------------------------------------------------- money, codes
def parse_money(
    values, currencies: pd.Series | str, *, decimal: str = ".", required: bool = True
) -> tuple[pd.Series, Masks]:
    """Amount text to ``Int64`` minor units via :func:`rpmkit.money.parse_amounts`.

    Where the row's currency is itself unknown or missing, the amount is only
    checked for syntax (its currency has been or will be reported on its own),
    and left missing. Blank optional amounts are missing, not refused.
    """
    if isinstance(values, pa.ChunkedArray | pa.Array):
        if _typed(values):
            s = pd.Series(pd.array(values, dtype=pd.ArrowDtype(values.type)), copy=False)
        else:
            s = _string_series(values)
    else:
        s = pd.Series(values, copy=False).reset_index(drop=True)
    if isinstance(currencies, str):
        cur = currencies
        known = np.full(len(s), money.is_known_currency(currencies))
    else:
        cur_arr = text_array(pd.Series(currencies, copy=False).reset_index(drop=True).astype(_STR))
        known = _np(pc.is_in(cur_arr, pa.array(list(money.CURRENCY_EXPONENTS))))
        distinct = pc.unique(cur_arr)
        # One currency for every row: parse_amounts is much faster given a code.
        single = known.all() and len(distinct) == 1
        cur = distinct[0].as_py() if single else _string_series(cur_arr)
    minor, reason = money.parse_amounts(s, cur if known.all() else "CLF", decimal=decimal)
    if not known.all():
        if known.any():
            good_minor, good_reason = money.parse_amounts(s, cur, decimal=decimal)
            minor = minor.where(~known, good_minor)  # type: ignore[arg-type]
            reason = reason.where(~known, good_reason)
        syntax_only = (
            ~known
            & reason.isin(
                ["amount_too_many_decimals", "amount_out_of_range", "unknown_currency"]
            ).to_numpy()
        )
        reason = reason.where(~syntax_only, None)
        minor = minor.where(known, pd.NA)
    errors: Masks = {}
    r = reason.to_numpy(dtype=object)
    present = pd.notna(r)
    if present.any():
        codes = pd.Series(r[present]).value_counts().index
        for code in codes:
            m = r == code
            if code == "amount_missing" and not required:
                continue
            errors[str(code)] = m
    return minor, errors


def _normalised(arr, normalise: Callable):
    """``normalise(arr)``, or ``arr`` itself when that would change no value.

    Codes repeat: normalising the few distinct values first tells whether a
    new copy of the whole column is needed at all (usually not).
    """
    distinct = pc.unique(arr)
    if pc.all(pc.equal(normalise(distinct), distinct)).as_py() is False:
        return normalise(arr)
    return arr


def parse_currency(values) -> tuple[pd.Series, Masks]:
    """ISO 4217 codes, upper-cased and trimmed; unknown codes → ``unknown_currency``."""
    arr = _normalised(text_array(values), pc.utf8_upper)
    codes = _string_series(arr)
    blank = blank_mask(arr)
    if blank.sum() != arr.null_count:
        codes[blank] = pd.NA
    known = isin(arr, list(money.CURRENCY_EXPONENTS))
    return codes, {"unknown_currency": ~blank & ~known}


def parse_enum(values, allowed: Sequence[str]) -> tuple[pd.Series, Masks]:
    """Codes lower-cased with blanks, spaces and hyphens as underscores; others → ``bad_enum``."""
    arr = _normalised(
        text_array(values),
        lambda a: pc.replace_substring_regex(pc.utf8_lower(a), r"[\s\-]+", "_"),
    )
    codes = _string_series(arr)
    blank = blank_mask(arr)
    codes[blank] = pd.NA
    ok = isin(arr, list(allowed))
    return codes, {"bad_enum": ~blank & ~ok}


_TRUE = ("true", "t", "yes", "y", "1", "x")
_FALSE = ("false", "f", "no", "n", "0")


def parse_bool(values) -> tuple[pd.Series, Masks]:
    """Yes/no values (true/false, yes/no, y/n, t/f, 1/0, x) → nullable booleans."""
    arr = pc.utf8_lower(text_array(values))
    t = _np(pc.is_in(arr, pa.array(_TRUE)))
    f = _np(pc.is_in(arr, pa.array(_FALSE)))
    blank = blank_mask(arr)
    out = pd.array(t, dtype="boolean")
    out[~t & ~f] = pd.NA
    return pd.Series(out), {"bad_bool": ~blank & ~t & ~f}


def parse_int(values) -> tuple[pd.Series, Masks]:
    """Whole numbers (``30``, ``30.0``) → ``Int64``; anything else → ``bad_number``."""
    arr = text_array(values)
    ok = _match(arr, r"^[+-]?\d{1,15}(\.0*)?$")
    blank = blank_mask(arr)
    clean = pc.if_else(pa.array(ok), pc.replace_substring_regex(arr, r"\.0*$", ""), "0")
    nums = pd.array(pc.cast(clean, pa.int64()).to_numpy(zero_copy_only=False), dtype="Int64")
    nums[~ok] = pd.NA
    return pd.Series(nums), {"bad_number": ~blank & ~ok}


def parse_rate(values, *, decimal: str = ".") -> tuple[pd.Series, Masks]:
    """Positive decimal numbers (exchange rates) → ``float64``."""
    arr = text_array(values)
    if decimal == ",":
        arr = pc.replace_substring(pc.replace_substring(arr, ".", ""), ",", ".")
    ok = _match(arr, r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
    blank = blank_mask(arr)
    nums = np.asarray(
        pc.cast(pc.if_else(pa.array(ok), arr, "nan"), pa.float64()).to_numpy(zero_copy_only=False)
    )
    positive = ok & (nums > 0)
    return pd.Series(np.where(positive, nums, np.nan)), {
        "bad_number": ~blank & ~ok,
        "rate_not_positive": ok & ~positive,
    }


# --------------------------------------------------------------------------- rows
# The whole cell must be the label: "Total", "Totals:", "Grand total", "Sub-total",
# "Total USD", "Total for Acme Ltd" — but not a name such as "Total Tools Ltd".
_TOTAL_WORD = r"(?i)^\s*(?:grand\s*|sub\s*-?\s*)?totals?\b"
_TOTAL_LABEL = (
    r"(?i)^\s*(?:grand\s*|sub\s*-?\s*)?totals?\s*:?\s*"
    r"(?:(?:for|of)\b.*|[a-z]{3}\s*:?)?\s*$"
)


def totals_rows(frame: pd.DataFrame, key: Sequence[str]) -> np.ndarray:
    """Rows holding a ``Total`` / ``Grand total`` / ``Subtotal`` label and no key of their own.

    With a blank key, any cell starting with the word (``Total receivables``)
    marks the row. The label may also sit in the key column itself (exports
    often write ``Total`` under the document numbers); there the whole cell
    must be the label (``Total``, ``Total USD``, ``Total for Acme``), so a key
    such as ``Total Tools Ltd`` stays a key.
    """
    cols = [c for c in key if c in frame.columns]
    out = np.zeros(len(frame), dtype=bool)
    if not cols or frame.empty:
        return out
    # Only rows whose key is blank or a label can qualify: find those first (two passes
    # over the key), then look for the label in the other cells of those few rows.
    candidate = np.ones(len(frame), dtype=bool)
    key_label = {}
    any_label = np.zeros(len(frame), dtype=bool)
    for c in cols:
        arr = text_array(frame[c])
        key_label[c] = _match(arr, _TOTAL_LABEL)
        any_label |= key_label[c]
        candidate &= blank_mask(arr) | key_label[c]
    if not candidate.any():
        return out
    pos = np.flatnonzero(candidate)
    sub = frame.iloc[pos]
    labelled = any_label[pos]
    for c in sub.columns:
        if c not in (SOURCE_COL, LINE_COL, *cols):
            labelled |= _match(text_array(sub[c]), _TOTAL_WORD)
    out[pos[labelled]] = True
    return out


def duplicate_keys(
    frame: pd.DataFrame, key: Sequence[str], active: np.ndarray
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Exact repeats and conflicting duplicates among the ``active`` rows.

    Returns ``(exact, conflict, others)``: ``exact`` marks later copies of a
    row identical to an earlier one (skipped and counted); ``conflict`` marks
    every remaining row whose key is shared by a row with different values;
    ``others`` gives, for those rows, the other lines with the same key.
    """
    n = len(frame)
    exact = np.zeros(n, dtype=bool)
    conflict = np.zeros(n, dtype=bool)
    others = pd.Series([], dtype="string")
    cols = [c for c in key if c in frame.columns]
    if not cols or n == 0:
        return exact, conflict, others
    arrays = {c: text_array(frame[c]) for c in cols}
    keys = pd.DataFrame({c: _string_series(a) for c, a in arrays.items()})
    usable = active.copy()
    for a in arrays.values():
        usable &= ~blank_mask(a)
    single = keys[cols[0]] if len(cols) == 1 else keys
    dup = single.duplicated(keep=False).to_numpy() & usable
    # A key shared only with inactive rows (blank, totals) is not a duplicate.
    if not dup.any():
        return exact, conflict, others
    pos = np.flatnonzero(dup)
    sub = frame.iloc[pos].drop(columns=[SOURCE_COL, LINE_COL], errors="ignore")
    sub_keys = keys.iloc[pos].reset_index(drop=True)
    multi = sub_keys.assign(_n=1).groupby(cols, sort=False)["_n"].transform("size").to_numpy() > 1
    sub_pos = pos[multi]
    sub = sub.iloc[multi]
    sub_keys = sub_keys.iloc[multi].reset_index(drop=True)
    sub = sub.reset_index(drop=True)
    values = pd.DataFrame(
        {c: _string_series(text_array(sub[c])) if _typed(sub[c]) else sub[c] for c in sub.columns}
    ).astype(pd.StringDtype("pyarrow"))
    repeat = values.duplicated(keep="first").to_numpy()
    exact[sub_pos[repeat]] = True
    remaining = sub_keys[~repeat].reset_index(drop=True)
    rem_pos = sub_pos[~repeat]
    size = remaining.assign(_n=1).groupby(cols, sort=False)["_n"].transform("size").to_numpy()
    clash = size > 1
    conflict[rem_pos[clash]] = True
    if clash.any():
        lines = frame[LINE_COL].to_numpy() if LINE_COL in frame.columns else np.arange(n) + 2
        c_keys = remaining[clash].reset_index(drop=True)
        c_lines = lines[rem_pos[clash]]
        if SOURCE_COL in frame.columns:
            c_src = frame[SOURCE_COL].iloc[rem_pos[clash]].astype(str).to_numpy()
        else:
            c_src = np.full(len(c_lines), "", dtype=object)
        group = c_keys.groupby(cols, sort=False).ngroup().to_numpy()
        places = pd.Series(list(zip(c_src, c_lines, strict=True))).groupby(group).agg(list)
        text = []
        for g, src, own in zip(group, c_src, c_lines, strict=True):
            # Copies in another file (parts of one table) are named with their file.
            rest = [
                str(ln) if s == src else f"{ln} of {s}"
                for s, ln in places[g]
                if (s, ln) != (src, own)
            ]
            text.append(", ".join(rest))
        others = pd.Series(text, index=rem_pos[clash], dtype="string")
    return exact, conflict, others


# --------------------------------------------------------------------------- one table
@dataclass
class Checked:
    """One table after :func:`check_table`.

    ``text`` is the canonical text frame (with ``_source``/``_line``);
    ``typed`` maps canonical columns to parsed values (positional, same
    length); ``problems`` holds every reject; ``skipped`` marks exact
    duplicates; ``totals`` marks totals rows; ``dates`` holds date-format
    findings per column for the manifest.
    """

    name: str
    spec: Table
    text: pd.DataFrame
    typed: dict[str, object]
    problems: Problems
    skipped: np.ndarray
    totals: np.ndarray
    dates: dict[str, dict] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.text)

    def rejected(self) -> np.ndarray:
        """Rows with at least one problem (exact duplicates are skipped, not rejected)."""
        return self.problems.mask() & ~self.skipped

    def accepted(self) -> np.ndarray:
        """Rows that load."""
        return ~self.problems.mask() & ~self.skipped

    def lines(self) -> np.ndarray:
        return self.text[LINE_COL].to_numpy()


def _display(column: str) -> str:
    return column.replace("_", " ")


def check_table(
    spec: Table,
    frame: pd.DataFrame,
    *,
    name: str | None = None,
    money_currency: pd.Series | str | None = None,
    reporting_currency: str = "USD",
    decimal: str = ".",
    date_format: str | None = None,
    systems: np.ndarray | None = None,
) -> Checked:
    """Parse and check one canonical table given as text.

    ``frame`` holds canonical column names (optional ones may be absent),
    extra columns, and ``_source``/``_line``. ``money_currency`` is the
    currency of the table's money column when the table has no currency of its
    own (allocations: the payment's; adjustments and disputes: the invoice's);
    tables with a ``currency`` column use it, and fall back to
    ``reporting_currency`` where a customer's currency is blank.
    """
    n = len(frame)
    label = name or spec.name
    problems = Problems(label, n)
    typed: dict[str, object] = {}
    info: dict[str, dict] = {}
    totals = totals_rows(frame, spec.key)
    problems.add(
        totals,
        spec.key[0],
        "totals_row",
        "a totals or summary row, not a document; remove it or leave it, it is not loaded",
        frame[spec.key[0]] if spec.key[0] in frame.columns else None,
    )
    active = ~totals
    present = [c for c in spec.columns if c.name in frame.columns]

    # Spreadsheet error values, one reject per cell; the cell is not parsed further.
    error_cells: dict[str, np.ndarray] = {}
    # Typed dates and amounts are parsed as they are; every other column as trimmed text.
    trimmed = {
        col.name: column_array(frame[col.name])
        if col.kind in ("date", "money")
        else text_array(frame[col.name])
        for col in present
    }
    for col in present:
        arr = trimmed[col.name]
        if _typed(arr):
            error_cells[col.name] = np.zeros(n, dtype=bool)
            continue
        err = _np(pc.is_in(arr, pa.array(EXCEL_ERRORS))) & active
        if err.any():
            problems.add(
                err,
                col.name,
                "excel_error",
                _quoted(f"{_display(col.name)} holds the spreadsheet error ", ""),
                frame[col.name],
            )
        error_cells[col.name] = err

    def report(col_name: str, errors: Masks, messages: dict[str, Callable | str]) -> None:
        for reason, mask in errors.items():
            m = mask & active & ~error_cells.get(col_name, False)
            if m.any():
                msg = messages.get(reason) or _quoted(
                    f"{_display(col_name)} ", f": {REASONS[reason]}"
                )
                problems.add(m, col_name, reason, msg, frame[col_name])

    # Required values (money reports its own blanks as amount_missing).
    for col in spec.columns:
        if not col.required or col.kind == "money":
            continue
        if col.name not in frame.columns:
            continue
        blank = blank_mask(trimmed[col.name]) & active
        problems.add(blank, col.name, "missing_value", f"{_display(col.name)} is blank")

    order = sorted(present, key=lambda c: c.kind == "money")
    blank_currency = np.ones(n, dtype=bool)
    for col in order:
        text = trimmed[col.name]
        kind = col.kind
        if kind == "id":
            typed[col.name], errors = parse_ids(text)
            report(col.name, errors, {})
        elif kind == "date":
            parsed = parse_dates(text, date_format=date_format, systems=systems)
            typed[col.name] = parsed.dates
            report(
                col.name,
                parsed.errors,
                {
                    "ambiguous_date": _quoted(
                        f"{_display(col.name)} ",
                        (
                            " is ambiguous: this column mixes day-first and month-first dates; "
                            "declare date_format (e.g. '%d/%m/%Y')"
                        )
                        if parsed.mixed
                        else (
                            " could be day/month or month/day and nothing in the column tells; "
                            "declare date_format (e.g. '%d/%m/%Y')"
                        ),
                    ),
                    "excel_serial_date": _quoted(
                        f"{_display(col.name)} ",
                        " looks like an Excel serial day number; declare "
                        "date_format='excel1900' (or 'excel1904') to read it",
                    ),
                    "bad_date": _quoted(
                        f"{_display(col.name)} ",
                        f" is not a date in the declared format {date_format!r} "
                        "(nor ISO YYYY-MM-DD)"
                        if date_format
                        else " is not a date (ISO YYYY-MM-DD expected, or declare date_format)",
                    ),
                    "date_has_time": _quoted(
                        f"{_display(col.name)} ", " has a time of day; dates must be calendar dates"
                    ),
                },
            )
            found = {}
            if parsed.detected:
                found = {"detected": parsed.detected, "evidence_rows": parsed.evidence}
            if parsed.mixed:
                found["mixed_orders"] = True
            if parsed.serials:
                found["excel_serials_converted"] = parsed.serials
            if date_format:
                found["declared"] = date_format
            if found:
                info[col.name] = found
        elif kind == "currency":
            codes, errors = parse_currency(text)
            # Unknown codes are reported here and count as no currency from now on.
            if errors["unknown_currency"].any():
                codes[errors["unknown_currency"]] = pd.NA
            typed[col.name] = codes
            report(col.name, errors, {})
            if col.name == "currency":
                blank_currency = blank_mask(text)
        elif kind == "enum":
            typed[col.name], errors = parse_enum(text, col.values)
            report(
                col.name,
                errors,
                {
                    "bad_enum": _quoted(
                        f"{_display(col.name)} ", f" is not one of {', '.join(col.values)}"
                    )
                },
            )
        elif kind == "bool":
            typed[col.name], errors = parse_bool(text)
            report(col.name, errors, {})
        elif kind == "int":
            typed[col.name], errors = parse_int(text)
            report(col.name, errors, {})
        elif kind == "rate":
            typed[col.name], errors = parse_rate(text, decimal=decimal)
            report(col.name, errors, {})
        elif kind == "money":
            cur = _money_currency(spec, typed, money_currency, reporting_currency, blank_currency)
            typed[col.name], errors = parse_money(text, cur, decimal=decimal, required=col.required)
            report(
                col.name,
                errors,
                {
                    "amount_decimal_comma": _quoted(
                        f"{_display(col.name)} ", " uses a decimal comma; declare decimal=','"
                    ),
                    "amount_missing": f"{_display(col.name)} is blank",
                },
            )
            minor = typed[col.name]
            not_positive = np.asarray((minor <= 0).fillna(False), dtype=bool) & active
            if col.name != "credit_limit":
                problems.add(
                    not_positive,
                    col.name,
                    "amount_not_positive",
                    _quoted(f"{_display(col.name)} ", " must be greater than zero"),
                    frame[col.name],
                )
        else:  # text
            v = frame[col.name]
            raw = _arrow_text(v.array._pa_array) if _typed(v) else v.array
            typed[col.name] = pd.Series(pd.array(raw, dtype=_STR))

    if (
        "currency" in frame.columns
        and spec.name in ("flat",)
        and not spec.column("currency").required
    ):
        # An optional currency column that is present must be filled: a blank is not a guess.
        blank = blank_mask(trimmed["currency"]) & active
        problems.add(blank, "currency", "missing_value", "currency is blank")
    _row_rules(spec, label, frame, typed, problems, active)
    exact, conflict, others = duplicate_keys(frame, spec.key, active)
    if conflict.any():
        key_text = _key_text(frame, spec.key)
        pos = np.flatnonzero(conflict)
        problems.add(
            pos,
            "+".join(spec.key),
            "duplicate_conflict",
            [
                f"{'+'.join(spec.key)} {k!r} also on line(s) {o} with different values"
                for k, o in zip(key_text.iloc[pos], others.loc[pos], strict=True)
            ],
            key_text,
        )
    return Checked(label, spec, frame, typed, problems, exact, totals, info)


def report_silent_missing(checked: Checked) -> None:
    """Safety net, run after every rule: a required value that parsed to nothing is a reject.

    Every parser reports why it refused a value, and amounts whose currency
    is unknown are refused through their currency or their parent; this makes
    sure no row can reach the ledger with a required value missing even if a
    rule above were wrong.
    """
    flagged = checked.problems.mask()
    active = ~checked.totals & ~flagged & ~checked.skipped
    for col in checked.spec.columns:
        if col.required and col.name in checked.typed:
            v = checked.typed[col.name]
            if isinstance(v, np.ndarray) and v.dtype.kind == "M":
                na = np.isnat(v)
            else:
                na = np.asarray(pd.isna(pd.Series(v, copy=False)), dtype=bool)
            checked.problems.add(
                na & active, col.name, "missing_value", f"{_display(col.name)} is missing"
            )


def _key_text(frame: pd.DataFrame, key: Sequence[str]) -> pd.Series:
    cols = [c for c in key if c in frame.columns]
    out = _string_series(text_array(frame[cols[0]])).fillna("")
    for c in cols[1:]:
        out = out + "+" + _string_series(text_array(frame[c])).fillna("")
    return out


def _money_currency(spec, typed, money_currency, reporting_currency, blank_currency):
    if money_currency is not None:
        return money_currency
    if "currency" in typed:
        cur = typed["currency"]
        if spec.name == "customers":
            # A blank customer currency means the reporting currency; an unknown one, none.
            return cur.mask(blank_currency, reporting_currency)
        return cur
    return reporting_currency


def _row_rules(spec, label, frame, typed, problems: Problems, active) -> None:
    """Rules across columns of one row."""

    def before(later: str, earlier: str, reason: str, message: str) -> None:
        if later in typed and earlier in typed:
            a = np.asarray(typed[later])
            b = np.asarray(typed[earlier])
            bad = ~np.isnat(a) & ~np.isnat(b) & (a < b) & active
            if not bad.any():
                return
            pos = np.flatnonzero(bad)
            first = pd.Series(a[pos]).dt.strftime("%Y-%m-%d")
            second = pd.Series(b[pos]).dt.strftime("%Y-%m-%d")
            text = f"{_display(later)} " + first + f" is before the {_display(earlier)} " + second
            problems.add(pos, later, reason, text.tolist(), frame[later])

    if spec.name in ("invoices", "flat"):
        before(
            "due_date",
            "invoice_date",
            "due_before_invoice",
            "due date is before the invoice date",
        )
    if spec.name == "flat":
        before(
            "paid_date",
            "invoice_date",
            "paid_before_invoice",
            "paid date is before the invoice date",
        )
    if spec.name == "disputes":
        before(
            "resolved_date",
            "opened_date",
            "resolved_before_opened",
            "resolved date is before the opened date",
        )
