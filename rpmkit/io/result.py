"""What a load returns: the ledger, the rejects and the manifest that explains them."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from rpmkit.ledger import Ledger

__all__ = ["REJECT_COLUMNS", "LoadError", "LoadResult", "Manifest", "empty_rejects"]

REJECT_COLUMNS = ("table", "source", "line", "column", "reason", "message", "value", "record")
"""Columns of the rejects frame, and the keys of every :attr:`LoadError.problems` item."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def empty_rejects() -> pd.DataFrame:
    """A rejects frame with no rows."""
    frame = pd.DataFrame({c: pd.Series([], dtype="string") for c in REJECT_COLUMNS})
    frame["line"] = pd.Series([], dtype="Int64")
    return frame


class LoadError(ValueError):
    """The source cannot be loaded at all: every file-level problem, reported at once.

    ``problems`` is a list of dicts with the rejects columns (``table, source,
    line, column, reason, message, value, record``); ``reason`` is a code
    from :data:`rpmkit.schema.REASONS` such as ``empty_file``,
    ``header_only``, ``missing_column``, ``duplicate_header`` or
    ``unreadable_file``.
    """

    def __init__(self, problems: list[dict]):
        self.problems = [{c: p.get(c) for c in REJECT_COLUMNS} for p in problems]
        lines = [
            f"- {p['source'] or '(source)'}"
            + (f" [{p['table']}]" if p.get("table") else "")
            + f": {p['reason']}: {p['message']}"
            for p in self.problems
        ]
        super().__init__("cannot load:\n" + "\n".join(lines))

    @property
    def reasons(self) -> list[str]:
        return [p["reason"] for p in self.problems]


@dataclass
class Manifest:
    """How a ledger was loaded, enough to reproduce and audit it.

    ``totals`` holds one dict per (table, currency) with ``input_*``,
    ``loaded_*``, ``rejected_*`` and ``skipped_*`` ``rows`` / ``amount`` (minor
    units) / ``unparsed`` (rows whose amount could not be read) and
    ``balanced``; ``reconciled`` is True when every one balances:
    input = loaded + rejected + skipped, in rows, amounts and unparsed rows.
    """

    source: str
    kind: str
    sources: list[dict] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    preset: str | None = None
    options: dict = field(default_factory=dict)
    mapping: dict = field(default_factory=dict)
    reporting_currency: str = "USD"
    reporting_currency_from: str = "default"
    date_formats: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    totals: list[dict] = field(default_factory=list)
    reconciled: bool = True
    notes: list[str] = field(default_factory=list)
    versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready data."""
        return json.loads(json.dumps(asdict(self), default=_jsonable))

    def to_json(self, path: str | Path | None = None) -> str:
        """The manifest as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def totals_frame(self) -> pd.DataFrame:
        """The control totals as a DataFrame (one row per table and currency)."""
        return pd.DataFrame(self.totals)

    def summary(self) -> str:
        """A few readable lines: what was read, what loaded, and whether it reconciles."""
        out = [f"source: {self.source} ({self.kind})"]
        if self.preset:
            out.append(f"preset: {self.preset}")
        for s in self.sources:
            bits = [s.get("source", "")]
            for k in ("encoding", "delimiter", "date_system"):
                if s.get(k) is not None:
                    bits.append(f"{k}={s[k]!r}")
            out.append("  read " + ", ".join(bits))
        if self.ignored:
            out.append(f"  ignored: {', '.join(self.ignored)}")
        out.append(
            f"reporting currency: {self.reporting_currency} ({self.reporting_currency_from})"
        )
        for col, found in self.date_formats.items():
            out.append(f"dates {col}: {found}")
        out.append("table           input  loaded  rejected  skipped")
        for t, c in self.counts.items():
            out.append(
                f"{t:<14} {c['input']:>6} {c['loaded']:>7} {c['rejected']:>9} {c['skipped']:>8}"
            )
        from rpmkit import money

        for row in self.totals:
            cur = row["currency"]

            def fmt(minor: int, cur: str = cur) -> str:
                if money.is_known_currency(cur):
                    return str(money.format_amounts(pd.Series([minor]), cur).iloc[0])
                return "-"

            out.append(
                f"  {row['table']} {cur}: input {row['input_rows']} rows {fmt(row['input_amount'])}"
                f" = loaded {row['loaded_rows']} {fmt(row['loaded_amount'])}"
                f" + rejected {row['rejected_rows']} {fmt(row['rejected_amount'])}"
                f" + skipped {row['skipped_rows']} {fmt(row['skipped_amount'])}"
                + (
                    f" ({row['input_unparsed']} without a readable amount)"
                    if row["input_unparsed"]
                    else ""
                )
                + ("" if row["balanced"] else "  ** DOES NOT BALANCE **")
            )
        out.append("reconciled: " + ("yes" if self.reconciled else "NO"))
        out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)


def _jsonable(value):
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def versions() -> dict:
    """Versions of rpmkit, Python and the libraries that shape a load."""
    import numpy as np
    import pyarrow as pa

    from rpmkit import __version__

    return {
        "rpmkit": __version__,
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
    }


def neutralise(value):
    """Text a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass
class LoadResult:
    """The outcome of :func:`rpmkit.load`: ``ledger``, ``rejects`` and ``manifest``.

    ``rejects`` has one row per (input row, problem): ``table, source, line,
    column, reason, message, value, record`` (``record`` is the raw row as
    JSON text). Exact duplicates appear with reason ``duplicate_exact``: they
    are skipped, not rejected, and the control totals count them apart.
    """

    ledger: Ledger
    rejects: pd.DataFrame
    manifest: Manifest

    def __iter__(self):
        return iter((self.ledger, self.rejects, self.manifest))

    @property
    def ok(self) -> bool:
        """True when nothing was rejected and the control totals reconcile."""
        rejected = sum(c["rejected"] for c in self.manifest.counts.values())
        return rejected == 0 and self.manifest.reconciled

    def write_rejects(self, path: str | Path) -> Path:
        """Write the rejects as CSV that is safe to open in Excel.

        UTF-8 with a byte-order mark (so Excel reads accents right); every
        text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
        return gets a leading ``'`` so a spreadsheet never runs it as a formula.
        """
        path = Path(path)
        frame = self.rejects.copy()
        for c in frame.columns:
            if c == "line":
                continue
            frame[c] = frame[c].astype(object).map(neutralise)
        # CRLF rows (what Excel writes) also make the csv module quote cells holding a CR.
        frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        return path

    def __repr__(self) -> str:
        n = len(self.rejects)
        return (
            f"LoadResult({self.ledger!r}, {n} reject row(s), "
            f"reconciled={'yes' if self.manifest.reconciled else 'NO'})"
        )
