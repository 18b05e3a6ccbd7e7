"""Text for people: money with currency and thousands separators, days, percentages, tables.

Pure functions (no widgets), shared by every app so the same number reads the
same everywhere.

>>> format_money(1234567.891, "USD")
'$1,234,567.89'
>>> format_money(-5, "EUR", decimals=0)
'-€5'
>>> format_money(1500, "JPY")
'¥1,500'
>>> format_days(52.2839), format_percent(75.851), format_percent(None)
('52.3 days', '75.9 %', '–')
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

import pandas as pd

from rpmkit import money
from rpmkit.plots import currency_prefix

__all__ = [
    "MISSING",
    "format_days",
    "format_money",
    "format_percent",
    "html_table",
]

MISSING = "–"
"""Shown where a value is undefined (no sales, no open AR …)."""


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def format_money(value, currency: str, *, decimals: int | None = None) -> str:
    """An amount in currency units with its currency and thousands separators.

    ``decimals`` defaults to the currency's minor unit (2 for USD, 0 for JPY).
    """
    if _is_missing(value):
        return MISSING
    if decimals is None:
        decimals = money.CURRENCY_EXPONENTS.get(currency, 2)
    v = float(value)
    sign = "-" if v < 0 and round(abs(v), decimals) > 0 else ""
    return f"{sign}{currency_prefix(currency)}{abs(v):,.{decimals}f}"


def format_days(value, decimals: int = 1) -> str:
    """Days with one decimal: ``52.3 days``."""
    return MISSING if _is_missing(value) else f"{float(value):,.{decimals}f} days"


def format_percent(value, decimals: int = 1) -> str:
    """A percentage already multiplied by 100: ``75.9 %``."""
    return MISSING if _is_missing(value) else f"{float(value):,.{decimals}f} %"


_LEFT = ("text", "flag")


def _cell(value, kind: str, currency: str) -> str:
    if _is_missing(value) or (kind != "text" and pd.isna(value)):
        return MISSING
    if kind == "money":
        return format_money(value, currency)
    if kind == "money0":
        return format_money(value, currency, decimals=0)
    if kind == "int":
        return f"{int(value):,}"
    if kind == "days":
        return f"{int(value):,}"
    if kind == "date":
        return pd.Timestamp(value).date().isoformat()
    if kind == "percent":
        return format_percent(value)
    if kind == "flag":
        return "yes" if bool(value) else ""
    return str(value)


def html_table(
    frame: pd.DataFrame,
    *,
    kinds: dict[str, str] | None = None,
    currency: str = "USD",
    currency_column: str | None = None,
    labels: dict[str, str] | None = None,
    columns: list[str] | None = None,
    max_rows: int = 50,
    max_height: str | None = None,
    empty: str = "Nothing to show.",
) -> str:
    """A compact, escaped HTML table: numbers right-aligned, money with currency.

    ``kinds`` maps a column to ``money``, ``money0``, ``int``, ``days``,
    ``date``, ``percent``, ``flag`` (yes or blank) or ``text`` (default). Money
    uses ``currency``, or each row's value of ``currency_column``. ``columns``
    picks the columns shown (default: all). Only the first ``max_rows`` rows are
    shown; the download links carry them all. ``max_height`` (CSS, e.g.
    ``"232px"``) makes a long table scroll inside its box instead of pushing the
    page down.
    """
    kinds = kinds or {}
    labels = labels or {}
    if frame.empty:
        return f'<div class="rpm-empty">{html.escape(empty)}</div>'
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    shown = frame.head(max_rows)
    head = "".join(
        f'<th class="{"num" if kinds.get(c, "text") not in _LEFT else ""}">'
        f"{html.escape(labels.get(c, str(c)))}</th>"
        for c in cols
    )
    rows: list[str] = []
    for _, row in shown.iterrows():
        cur = str(row[currency_column]) if currency_column else currency
        cells: Iterable[str] = (
            f'<td class="{"num" if kinds.get(c, "text") not in _LEFT else ""}">'
            f"{html.escape(_cell(row[c], kinds.get(c, 'text'), cur))}</td>"
            for c in cols
        )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<div class="rpm-more">Showing {max_rows:,} of {len(frame):,} rows; '
        "download for all.</div>"
        if len(frame) > max_rows
        else ""
    )
    style = ""
    if max_height:
        style = f' style="max-height: {html.escape(max_height)}; overflow-y: auto"'
    return (
        f'<div class="rpm-scroll"{style}><table class="rpm-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )
