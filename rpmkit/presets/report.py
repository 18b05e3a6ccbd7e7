"""Report exports (QuickBooks, Xero): titles above the header, an as-of line, subtotals.

The loader hands such files over as a grid (preset option ``header=None``:
every line a row, positional columns ``c0, c1, …``) or, from a reader that
took the title line as the header, as an ordinary frame; :func:`read_report`
accepts both, finds the real header and the report date, and marks the title
lines as ``_ignored``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from rpmkit.presets.base import (
    PROVENANCE,
    MissingColumnsError,
    as_text,
    by_line,
    concat,
    ignored,
    key,
    provenance,
)

__all__ = ["Report", "find_report_date", "iso_dates", "read_report"]

_LONG_DATE_FORMATS = (
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
)


def find_report_date(lines: Iterable[str], preferred: str | None = None) -> pd.Timestamp | None:
    """The date in a report's ``As of …`` / ``As at …`` line, or ``None``.

    >>> find_report_date(["A/R Aging Detail", "As of December 31, 2023"])
    Timestamp('2023-12-31 00:00:00')
    >>> find_report_date(["As at 31 March 2024"])
    Timestamp('2024-03-31 00:00:00')
    """
    formats = ((preferred,) if preferred else ()) + _LONG_DATE_FORMATS
    for line in lines:
        m = re.search(r"\bas\s+(?:of|at)\b[:\s]*(.+)$", str(line).strip(), flags=re.IGNORECASE)
        if not m:
            continue
        found = m.group(1).strip().strip('"').strip()
        for fmt in formats:
            ts = pd.to_datetime(found, format=fmt, errors="coerce")
            if pd.notna(ts):
                return pd.Timestamp(ts).normalize()
    return None


# Names readers give to columns without a header (pandas, the rpmkit loader).
_UNNAMED = re.compile(r"^(Unnamed: \d+(_level_\d+)?|column_\d+)$")


def grid(frame: pd.DataFrame) -> pd.DataFrame:
    """A raw frame as positional rows of cells ``c0, c1, …`` with provenance.

    Report exports (QuickBooks, Xero) put titles above the real header. The
    loader may hand them over as a grid (``options["header"] = None``:
    positional column names) or read the first line as the header; either
    way this gives every line as a row, the header line included, so the
    preset can find the real header and the report date itself.
    """
    cols = [c for c in frame.columns if c not in PROVENANCE]
    body = pd.DataFrame({f"c{i}": as_text(frame[c]) for i, c in enumerate(cols)}, index=frame.index)
    body = body.assign(**provenance(frame))
    positional = all(re.fullmatch(r"c?\d+", str(c)) for c in cols)
    if positional:
        return by_line(body).reset_index(drop=True)
    lines = pd.to_numeric(frame["_line"], errors="coerce") if "_line" in frame else pd.Series([])
    first = int(lines.min()) - 1 if len(lines.dropna()) else 1
    header = {f"c{i}": ("" if _UNNAMED.match(str(c)) else str(c)) for i, c in enumerate(cols)}
    source = frame["_source"].iloc[0] if "_source" in frame and len(frame) else ""
    top = pd.DataFrame([{**header, "_source": source, "_line": max(first, 1)}])
    out = pd.concat([top, by_line(body)], ignore_index=True)
    for c in PROVENANCE:
        if c in frame and (
            isinstance(frame[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_integer_dtype(frame[c].dtype)
        ):
            out[c] = out[c].astype(frame[c].dtype)
    return out


def cells(row: pd.Series) -> list[str]:
    """The non-provenance cells of a grid row, stripped."""
    return [str(v).strip() for k, v in row.items() if k not in PROVENANCE]


def find_header(g: pd.DataFrame, signature: Sequence[tuple[str, ...]]) -> int | None:
    """Position of the first grid row holding every signature column, else ``None``."""
    for pos in range(len(g)):
        have = {key(c) for c in cells(g.iloc[pos]) if c}
        if all(any(key(s) in have for s in alts) for alts in signature):
            return pos
    return None


def header_frame(g: pd.DataFrame, pos: int) -> pd.DataFrame:
    """The grid rows after the header at ``pos``, with the header's names as columns."""
    names = cells(g.iloc[pos])
    body = g.iloc[pos + 1 :]
    rename, seen = {}, set()
    for i, n in enumerate(names):
        label = n or f"_blank{i}"
        while label in seen:
            label += "_"
        seen.add(label)
        rename[f"c{i}"] = label
    return body.rename(columns=rename)


# ------------------------------------------------------- report exports

_ISO_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S")


def parse_any_date(values: pd.Series, fmt: str | None) -> pd.Series:
    """Date text in ``fmt``, or ISO (as spreadsheets hand over real date cells)."""
    s = pd.Series(values, copy=False).astype(str).str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    for f in ((fmt,) if fmt else ()) + _ISO_FORMATS:
        todo = out.isna() & (s != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(s[todo], format=f, errors="coerce")
    return out


def iso_dates(values: pd.Series, fmt: str | None) -> pd.Series:
    """Date text normalised to ISO; text that is not a date is left as it was."""
    parsed = parse_any_date(values, fmt)
    iso = parsed.dt.strftime("%Y-%m-%d")
    return iso.where(parsed.notna(), pd.Series(values, copy=False).astype(str).str.strip())


@dataclass
class Report:
    """A report export split into its parts.

    ``body`` holds the rows after the header with the header's names as
    columns; ``skipped`` the ``_ignored`` rows for titles above the header
    (and whole sheets without one); ``as_of`` the date of the ``As of``/``As
    at`` line, when there is one.
    """

    body: pd.DataFrame
    skipped: pd.DataFrame
    as_of: pd.Timestamp | None


def read_report(
    raw: Mapping[str, pd.DataFrame],
    signature: Sequence[tuple[str, ...]],
    preset: str,
    date_format: str | None = None,
) -> Report:
    """Find the header row of a report export in every raw frame and split it."""
    bodies, skipped, preamble = [], [], []
    found = False
    for name, frame in raw.items():
        g = grid(frame)
        pos = find_header(g, signature)
        if pos is None:
            if len(frame):
                skipped.append(
                    ignored(frame, "report_line", f"sheet {name!r} has no report header")
                )
            continue
        found = True
        above = g.iloc[:pos]
        preamble += [" ".join(c for c in cells(r) if c) for _, r in above.iterrows()]
        real = above[
            pd.to_numeric(above["_line"], errors="coerce").isin(
                pd.to_numeric(frame["_line"], errors="coerce") if "_line" in frame else []
            )
        ]
        if len(real):
            skipped.append(ignored(real, "report_line", "report title line"))
        header_line = g.iloc[pos]
        if "_line" in frame and str(header_line["_line"]) in set(frame["_line"].astype(str)):
            skipped.append(ignored(g.iloc[[pos]], "report_line", "report column header"))
        bodies.append(header_frame(g, pos))
    if not found:
        raise MissingColumnsError(
            preset, ", ".join(raw) or "(none)", [alts[0] for alts in signature]
        )
    return Report(concat(bodies), concat(skipped), find_report_date(preamble, date_format))
