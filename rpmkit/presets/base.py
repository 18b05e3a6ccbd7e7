"""What every preset shares: the :class:`Preset` record and the text helpers presets use.

A preset turns the tables of one external format into canonical *text*
tables. It never parses for keeps: dates and amounts leave it as text in the
notation its ``options`` declare, and :func:`rpmkit.load` parses and
validates them at the boundary. When a preset must compute (sum the lines of
a payment, apply payments to invoices) it works in exact integer minor units
through :mod:`rpmkit.money` and writes the result back as text in the same
notation.

Provenance: every raw frame carries ``_source`` and ``_line``; every output
row derived from an input row carries them unchanged. A row built from
several input rows (a payment from its lines, a customer from its invoices)
carries the first contributing row's. Input rows a preset cannot use go to
an ``"_ignored"`` frame (``_source, _line, reason, message``) that the
loader turns into rejects, so nothing disappears silently.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rpmkit import money

__all__ = [
    "IGNORED",
    "IGNORED_COLUMNS",
    "PROVENANCE",
    "REASONS",
    "MissingColumnsError",
    "Preset",
    "SourceColumn",
]

PROVENANCE = ("_source", "_line")
IGNORED = "_ignored"
IGNORED_COLUMNS = ("_source", "_line", "reason", "message")

REASONS: dict[str, str] = {
    "report_line": "a report title, heading or blank line, not a document",
    "cancelled_entry": "a cancelled, de-linked or fully reversed entry; it moves no balance",
    "not_receivable": "not a customer receivable line (another account or party type)",
    "unsupported_entry": "a kind of entry the preset cannot map onto the canonical tables",
    "unapplied_credit": "a credit not applied to any invoice; canonical credits reduce one invoice",
    "carried_forward": "a residual item: its amount is carried by the document it continues",
}
"""Reason codes presets use in ``_ignored`` beyond :data:`rpmkit.schema.REASONS`.

Presets also use the schema's own codes where one fits (``totals_row``,
``amount_not_number`` and the other amount codes, ``amount_not_positive``).
"""


class MissingColumnsError(ValueError):
    """The source lacks columns the preset needs (the loader's ``missing_column``)."""

    def __init__(self, preset: str, table: str, missing: Sequence[str]):
        self.preset = preset
        self.table = table
        self.missing = tuple(missing)
        super().__init__(
            f"preset {preset!r}: table {table!r} has no column for {', '.join(missing)}"
        )


@dataclass(frozen=True)
class SourceColumn:
    """One external column a preset reads.

    ``name`` is the header as the source writes it; ``aliases`` are other
    spellings accepted (headers are compared ignoring case, spaces and
    punctuation); ``maps_to`` names the canonical destination.
    """

    name: str
    meaning: str
    maps_to: str = ""
    required: bool = True
    aliases: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


Convert = Callable[[dict[str, pd.DataFrame], Mapping[str, Any]], dict[str, pd.DataFrame]]


@dataclass(frozen=True)
class Preset:
    """How one external format maps onto the canonical tables.

    Parameters
    ----------
    name
        Registry name, e.g. ``"ibm-ar"``.
    description
        One paragraph: what the source is and what comes out.
    source_columns
        The external columns read, with their meaning and destination.
    options
        Loader options: ``date_format`` (``strptime`` format of every date
        the output carries, ``None`` = let the loader detect it),
        ``decimal`` (``"."`` or ``","``), ``reporting_currency``, ``header``
        (``0``: the first line is the header; ``None``: the preset finds
        the header itself and wants every line), plus preset-specific keys.
        Change them with :meth:`with_options`, never in place.
    convert
        ``convert(raw, options) -> tables``; call :meth:`transform` instead.
    signature
        Headers that identify the format for :func:`rpmkit.presets.detect`:
        each entry is a tuple of accepted spellings of one column.
    """

    name: str
    description: str
    source_columns: tuple[SourceColumn, ...]
    options: dict[str, Any]
    convert: Convert = field(repr=False, compare=False)
    signature: tuple[tuple[str, ...], ...] = ()

    def transform(self, raw: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Canonical text tables (plus ``"_ignored"``) from the source's raw text tables."""
        return self.convert(dict(raw), self.options)

    def with_options(self, **changes: Any) -> Preset:
        """A copy with some options changed (``transform`` honours them)."""
        return dataclasses.replace(self, options={**self.options, **changes})

    def matches(self, headers: Iterable[str]) -> bool:
        """True when every signature column is among ``headers``."""
        if not self.signature:
            return False
        have = {key(h) for h in headers}
        return all(any(key(s) in have for s in alts) for alts in self.signature)

    def describe(self) -> pd.DataFrame:
        """The source columns as a table: column, meaning, maps_to, required."""
        return pd.DataFrame(
            [
                {
                    "column": c.name,
                    "meaning": c.meaning,
                    "maps_to": c.maps_to,
                    "required": c.required,
                }
                for c in self.source_columns
            ]
        )


# ---------------------------------------------------------------- headers


def key(name: object) -> str:
    """A header's comparison key: lower case, letters and digits only.

    >>> key("Net due date"), key("NET_DUE_DATE"), key("Matching #")
    ('netduedate', 'netduedate', 'matching')
    """
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def snake(name: object) -> str:
    """A header in snake case: ``"InvoiceDate"``, ``"Invoice Date"`` → ``"invoice_date"``.

    >>> [snake(h) for h in ["customerID", "Due Date", "DaysToSettle", " amount "]]
    ['customer_id', 'due_date', 'days_to_settle', 'amount']
    """
    s = str(name).strip()
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^0-9A-Za-z]+", "_", s).strip("_")
    return s.lower()


def resolve(
    frame: pd.DataFrame, columns: Sequence[SourceColumn], preset: str, table: str
) -> dict[str, str | None]:
    """Map each source column to the frame's actual header (``None`` when optional and absent).

    Raises :class:`MissingColumnsError` naming every required column not found.
    """
    by_key: dict[str, str] = {}
    for c in frame.columns:
        by_key.setdefault(key(c), c)
    found: dict[str, str | None] = {}
    missing = []
    for col in columns:
        hit = next((by_key[key(s)] for s in col.spellings if key(s) in by_key), None)
        if hit is None and col.required:
            missing.append(col.name)
        found[col.name] = hit
    if missing:
        raise MissingColumnsError(preset, table, missing)
    return found


def usable_tables(
    raw: Mapping[str, pd.DataFrame], columns: Sequence[SourceColumn], preset: str
) -> tuple[list[tuple[str, pd.DataFrame, dict[str, str | None]]], pd.DataFrame]:
    """The raw tables that have the preset's columns, and ``_ignored`` rows for the others.

    A workbook may carry other sheets (notes, a summary): their rows are
    ignored with a reason. Raises :class:`MissingColumnsError` (for the first
    table) when no table has the columns.
    """
    usable, skipped, first_error = [], [], None
    for name, frame in raw.items():
        try:
            usable.append((name, frame, resolve(frame, columns, preset, name)))
        except MissingColumnsError as exc:
            first_error = first_error or exc
            if len(frame):
                msg = f"table {name!r} lacks {', '.join(exc.missing)}: not a {preset} export"
                skipped.append(ignored(frame, "unsupported_entry", msg))
    if not usable and first_error is not None:
        raise first_error
    return usable, concat(skipped)


# ------------------------------------------------------------ text frames


def text(frame: pd.DataFrame, column: str | None) -> pd.Series:
    """A column as stripped text ("" where blank or absent)."""
    if column is None:
        return pd.Series("", index=frame.index, dtype=str)
    return frame[column].astype(str).fillna("").str.strip()


def as_text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str)


def text_frame(columns: Mapping[str, Any], index: pd.Index | None = None) -> pd.DataFrame:
    """A frame of text columns; scalars broadcast, missing values become "".

    The provenance columns keep their values and dtype (``_line`` stays a number).
    """
    out = pd.DataFrame(dict(columns), index=index)
    for c in out.columns:
        if c not in PROVENANCE:
            out[c] = as_text(out[c])
    return out.reset_index(drop=True)


def provenance(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The ``_source``/``_line`` columns of a frame, values untouched."""
    out = {}
    for c in PROVENANCE:
        out[c] = frame[c] if c in frame.columns else pd.Series(pd.NA, index=frame.index)
    return out


def customers_from(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """The customer table of a preset: each distinct non-blank ``column`` value once.

    Each customer keeps the provenance of the first row naming it, in ``rows`` order.
    """
    parties = rows[rows[column] != ""].drop_duplicates(column)
    return text_frame({"customer_id": parties[column], **provenance(parties)}, parties.index)


def ignored(rows: pd.DataFrame, reason: str | pd.Series, message: str | pd.Series) -> pd.DataFrame:
    """``_ignored`` rows for some input rows: provenance, reason code, message."""
    return text_frame({**provenance(rows), "reason": reason, "message": message}, rows.index)


def concat(frames: Iterable[pd.DataFrame | None], columns: Sequence[str] = ()) -> pd.DataFrame:
    """Concatenate text frames (empty frame with ``columns`` when there are none)."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype=str) for c in columns})
    out = pd.concat(frames, ignore_index=True)
    for c in out.columns:
        if c not in PROVENANCE:
            out[c] = as_text(out[c])
    return out


def finish(tables: Mapping[str, pd.DataFrame | None]) -> dict[str, pd.DataFrame]:
    """Drop empty outputs (an empty ``_ignored`` included), keep the rest in order."""
    return {k: v for k, v in tables.items() if v is not None and len(v)}


def by_line(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in source order (``_source`` then numeric ``_line``)."""
    if frame.empty or "_line" not in frame.columns:
        return frame
    order = pd.to_numeric(frame["_line"], errors="coerce")
    out = frame.assign(_order=order, _src=frame["_source"].astype(str))
    out = out.sort_values(["_src", "_order"], kind="stable")
    return out.drop(columns=["_order", "_src"]).reset_index(drop=True)


# ------------------------------------------------------------- amounts

_SYMBOLS = r"[$€£¥₹\u00a0]|\b[A-Z]{3}\b"


def parse_money(
    values: pd.Series, currencies: pd.Series | str, decimal: str = "."
) -> tuple[pd.Series, pd.Series]:
    """Signed amount text to minor units, accepting report notations.

    On top of :func:`rpmkit.money.parse_amounts`: a trailing minus (SAP
    ``1.234,56-``), parentheses for negatives (``(12.50)``), currency symbols
    or codes around the number (``$1,234.56``, ``EUR 5``). Returns ``(minor,
    reason)`` like ``parse_amounts``.

    >>> m, r = parse_money(pd.Series(["1.234,56-", "(2,50)", "€ 3"]), "EUR", decimal=",")
    >>> m.tolist(), r.tolist()
    ([-123456, -250, 300], [None, None, None])
    """
    s = pd.Series(values, copy=False).astype(str).fillna("")
    s = s.str.replace(_SYMBOLS, "", regex=True).str.strip()
    paren = s.str.match(r"^\(.*\)$")
    s = s.where(~paren, "-" + s.str.slice(1, -1).str.strip())
    trailing = s.str.match(r"^[^-+]*\d[-]$")
    s = s.where(~trailing, "-" + s.str.slice(0, -1).str.strip())
    s = s.str.replace(r"^([+-])\s+", r"\1", regex=True)
    return money.parse_amounts(s, currencies, decimal=decimal)


def format_money(
    minor: pd.Series | Sequence[int], currencies: pd.Series | str, decimal: str = "."
) -> pd.Series:
    """Minor units to plain decimal text in the declared notation (``1234,56`` for ``","``)."""
    s = pd.Series(minor, dtype="Int64")
    cur = (
        currencies if isinstance(currencies, str) else pd.Series(currencies).reset_index(drop=True)
    )
    out = money.format_amounts(s.reset_index(drop=True), cur).astype(object)
    out = out.where(out.notna(), "").astype(str)
    if decimal == ",":
        out = out.str.replace(".", ",", regex=False)
    return out


# --------------------------------------------------------------- dates


def parse_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    """Date text to ``datetime64`` (``NaT`` where blank or not in ``fmt``)."""
    s = pd.Series(values, copy=False).astype(str).str.strip()
    if fmt is None:
        return pd.to_datetime(s, errors="coerce", format="ISO8601")
    return pd.to_datetime(s, errors="coerce", format=fmt)


def order_keys(dates: pd.Series) -> pd.Series:
    """Dates as sortable integers (nanoseconds; missing dates sort last)."""
    d = pd.Series(dates, copy=False).astype("datetime64[ns]")
    keys = d.to_numpy().view(np.int64).copy()
    keys[d.isna().to_numpy()] = np.iinfo(np.int64).max
    return pd.Series(keys, index=d.index)
