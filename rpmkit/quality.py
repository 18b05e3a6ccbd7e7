"""Data-quality report of a load: what came in, what loaded, what was refused and why.

:func:`quality_report` turns a :class:`~rpmkit.io.LoadResult` into plain,
JSON-ready data (``rpmkit validate --format json`` prints it);
:func:`format_quality` renders it as readable text.

Money in the report is given twice: ``*_minor`` (integer minor units, exact)
and ``*_text`` (decimal text in the currency, for reading).

Examples
--------
>>> import tempfile, pathlib
>>> from rpmkit.io import load
>>> path = pathlib.Path(tempfile.mkdtemp()) / "ar.csv"
>>> _ = path.write_text(
...     "invoice_id,customer_id,invoice_date,due_date,amount,paid_date\\n"
...     "A1,C1,2024-01-05,2024-02-04,100.00,2024-02-01\\n"
...     "A2,C1,2024-01-09,2024-02-08,$50,\\n"
... )
>>> report = quality_report(load(path))
>>> report["tables"]["invoices"]["rejected"], report["rejects"]["by_reason"][0]["reason"]
(1, 'amount_not_number')
>>> print(format_quality(report).splitlines()[0])
Data quality: ...ar.csv (file)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.schema import REASONS, TABLES
from rpmkit.validation import isin

__all__ = ["format_quality", "quality_report"]

EXAMPLES = 3
"""How many example rejects the report keeps per reason."""


def _text(minor: int, currency: str) -> str:
    if money.is_known_currency(currency):
        return str(money.format_amounts(pd.Series([int(minor)]), currency).iloc[0])
    return ""


def _units(minor: int, currency: str) -> float | None:
    """Currency units as a JSON number (the exact value stays in ``*_minor``/``*_text``)."""
    return money.to_units(int(minor), currency) if money.is_known_currency(currency) else None


def _grouped(text: str) -> str:
    """``1234567.89`` → ``1,234,567.89`` for reading; the text stays exact."""
    if not text:
        return text
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    return f"{sign}{int(whole):,}" + (f".{frac}" if frac else "")


def _by_currency(amounts: pd.Series, currencies: pd.Series) -> dict[str, dict]:
    frame = pd.DataFrame(
        {
            "amount": pd.Series(amounts).to_numpy(dtype=np.int64),
            "currency": pd.Series(currencies).to_numpy(),
        }
    )
    sums = frame.groupby("currency", sort=True)["amount"].agg(["sum", "size"])
    return {
        str(cur): {
            "count": int(row["size"]),
            "amount": _units(row["sum"], cur),
            "amount_minor": int(row["sum"]),
            "amount_text": _text(row["sum"], cur),
        }
        for cur, row in sums.iterrows()
    }


def _date_range(frame: pd.DataFrame, column: str | None) -> list[str] | None:
    if not column or column not in frame.columns:
        return None
    d = frame[column].dropna()
    if d.empty:
        return None
    return [d.min().date().isoformat(), d.max().date().isoformat()]


def quality_report(result) -> dict:
    """Plain data describing one load: counts, control totals, rejects, orphans, open items.

    Keys: ``source, kind, preset, reporting_currency, reconciled, tables``
    (per table: input/loaded/rejected/skipped rows and the loaded date range),
    ``totals`` (the manifest's control totals with amounts as text too),
    ``rejects`` (reject rows, rejected input rows, and per reason: count,
    meaning and the first examples), ``duplicates_skipped``,
    ``orphan_payments`` (payments with no allocation and/or an unknown
    customer), ``unapplied_cash`` and ``open_items`` (per currency; open
    means not fully settled by anything in the ledger), ``date_formats``,
    ``ignored`` and ``notes``.
    """
    m = result.manifest
    ledger = result.ledger
    rej = result.rejects
    tables = {}
    for name, c in m.counts.items():
        entry = dict(c)
        if name in TABLES:
            entry["date_range"] = _date_range(getattr(ledger, name), TABLES[name].date)
        tables[name] = entry
    totals = []
    for row in m.totals:
        row = dict(row)
        for stage in ("input", "loaded", "rejected", "skipped"):
            row[f"{stage}_amount_text"] = _text(row[f"{stage}_amount"], row["currency"])
            row[f"{stage}_amount_units"] = _units(row[f"{stage}_amount"], row["currency"])
        totals.append(row)

    real = rej[rej["reason"] != "duplicate_exact"] if len(rej) else rej
    by_reason = []
    if len(real):
        for reason, group in real.groupby("reason", sort=False):
            rows = group[["table", "source", "line"]].drop_duplicates()
            examples = group.head(EXAMPLES)[
                ["table", "source", "line", "column", "value", "message"]
            ]
            by_reason.append(
                {
                    "reason": str(reason),
                    "meaning": REASONS.get(str(reason), ""),
                    "count": len(group),
                    "rows": len(rows),
                    "examples": [
                        {
                            k: (None if pd.isna(v) else (int(v) if k == "line" else str(v)))
                            for k, v in e.items()
                        }
                        for e in examples.to_dict("records")
                    ],
                }
            )
        by_reason.sort(key=lambda r: (-r["count"], r["reason"]))

    payments = ledger.payments
    allocated = ledger.allocations.groupby("payment_id", observed=True)["amount"].sum()
    alloc_per_payment = payments["payment_id"].map(allocated).fillna(0).to_numpy(dtype=np.int64)
    no_allocation = alloc_per_payment == 0
    known_customers = ledger.customers["customer_id"]
    cust = payments["customer_id"]
    unknown_customer = cust.isna().to_numpy() | ~isin(cust, known_customers)
    orphan = no_allocation | unknown_customer
    unapplied = payments["amount"].to_numpy(dtype=np.int64) - alloc_per_payment
    has_unapplied = unapplied > 0

    settled = ledger.settlement() if len(ledger.invoices) else None
    if settled is not None:
        open_rows = settled[settled["open_amount"] > 0]
        open_items = _by_currency(open_rows["open_amount"], open_rows["currency"])
    else:
        open_items = {}

    return {
        "source": m.source,
        "kind": m.kind,
        "preset": m.preset,
        "reporting_currency": m.reporting_currency,
        "reconciled": bool(m.reconciled),
        "tables": tables,
        "totals": totals,
        "rejects": {
            "reject_rows": int(len(real)),
            "rejected_input_rows": int(sum(c["rejected"] for c in m.counts.values())),
            "by_reason": by_reason,
        },
        "duplicates_skipped": int(sum(c["skipped"] for c in m.counts.values())),
        "duplicates_across_files": int(
            sum(c.get("deduplicated_across_files", 0) for c in m.counts.values())
        ),
        "orphan_payments": {
            "count": int(orphan.sum()),
            "no_allocation": int(no_allocation.sum()),
            "unknown_customer": int(unknown_customer.sum()),
            "by_currency": _by_currency(payments["amount"][orphan], payments["currency"][orphan]),
            "examples": payments.loc[orphan, "payment_id"].head(EXAMPLES).astype(str).tolist(),
        },
        "unapplied_cash": _by_currency(
            unapplied[has_unapplied], payments["currency"][has_unapplied]
        ),
        "open_items": open_items,
        "date_formats": dict(m.date_formats),
        "ignored": list(m.ignored),
        "notes": list(m.notes),
    }


def format_quality(report: dict) -> str:
    """The report of :func:`quality_report` as readable plain text."""
    out = [f"Data quality: {report['source']} ({report['kind']})"]
    if report.get("preset"):
        out.append(f"Preset: {report['preset']}")
    out.append(f"Reporting currency: {report['reporting_currency']}")
    out.append("")
    out.append(f"{'table':<13}{'input':>10}{'loaded':>10}{'rejected':>10}{'skipped':>9}  dates")
    for name, t in report["tables"].items():
        dates = t.get("date_range")
        span = f"{dates[0]} .. {dates[1]}" if dates else ""
        counts = f"{t['input']:>10,}{t['loaded']:>10,}{t['rejected']:>10,}{t['skipped']:>9,}"
        out.append(f"{name:<13}{counts}  {span}")
    out.append("")
    out.append("Control totals (input = loaded + rejected + skipped):")
    for row in report["totals"]:
        cur = row["currency"]
        flag = "ok" if row["balanced"] else "DOES NOT BALANCE"
        amounts = (
            f"{_grouped(row['input_amount_text'])} = {_grouped(row['loaded_amount_text'])} + "
            f"{_grouped(row['rejected_amount_text'])} + {_grouped(row['skipped_amount_text'])}"
            if cur != "?"
            else "amounts unknown"
        )
        extra = (
            f"; {row['input_unparsed']} row(s) without a readable amount"
            if row["input_unparsed"]
            else ""
        )
        out.append(
            f"  {row['table']:<12} {cur:<4} rows {row['input_rows']:,} = {row['loaded_rows']:,} + "
            f"{row['rejected_rows']:,} + {row['skipped_rows']:,}; {amounts}{extra}  [{flag}]"
        )
    out.append(f"Reconciled: {'yes' if report['reconciled'] else 'NO'}")
    rj = report["rejects"]
    out.append("")
    if rj["by_reason"]:
        out.append(
            f"Rejected input rows: {rj['rejected_input_rows']:,} ({rj['reject_rows']:,} problems)"
        )
        for r in rj["by_reason"]:
            out.append(f"  {r['reason']} x{r['count']:,}: {r['meaning']}")
            for e in r["examples"]:
                where = f"{e['source']}" + (f":{e['line']}" if e.get("line") is not None else "")
                out.append(f"      {where}  {e['message']}")
    else:
        out.append("Nothing rejected.")
    if report["duplicates_skipped"]:
        across = report.get("duplicates_across_files", 0)
        out.append(
            f"Exact duplicate rows skipped: {report['duplicates_skipped']:,}"
            + (f" ({across:,} repeated from another file)" if across else "")
        )
    op = report["orphan_payments"]
    if op["count"]:
        out.append(
            f"Orphan payments: {op['count']:,} ({op['no_allocation']:,} with no allocation, "
            f"{op['unknown_customer']:,} with no known customer)"
        )
    for cur, v in report["unapplied_cash"].items():
        out.append(
            f"Unapplied cash {cur}: {_grouped(v['amount_text'])} on {v['count']:,} payment(s)"
        )
    for cur, v in report["open_items"].items():
        out.append(
            f"Open items {cur}: {v['count']:,} invoice(s), {_grouped(v['amount_text'])} open"
        )
    for col, found in report.get("date_formats", {}).items():
        out.append(f"Dates {col}: {found}")
    if report.get("ignored"):
        out.append(f"Ignored: {', '.join(report['ignored'])}")
    for note in report.get("notes", []):
        out.append(f"Note: {note}")
    return "\n".join(out)
