"""The day's reminders, dunning letters and statements of account, as files: nothing is sent.

From a fitted :class:`~rpmkit.worklist.rank.Worklist`, :func:`write_letters`
writes, into a folder:

* ``letters/<customer>.html`` — one letter per action, its tone set by the
  dunning level (0 courtesy … 4 escalation), listing the customer's covered
  open items with due dates, days overdue and amounts, and a payment-link
  placeholder;
* ``statements/<customer>.html`` — a statement of account with aging buckets
  and every open item;
* ``mailmerge.csv`` — one row per customer for a mail-merge or e-mail tool
  (formula-safe for spreadsheets).

Every value that comes from the ledger is HTML-escaped before it enters a
template; file names keep only letters, digits, ``-`` and ``_``. The HTML is
print-ready (a browser's "Save as PDF" makes the PDF).

Examples
--------
>>> tone("Acme <b>", 3)["subject"]
'Final demand: overdue invoices on account Acme &lt;b&gt;'
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.plots.core import currency_prefix
from rpmkit.templates import load

__all__ = ["AGING_BUCKETS", "money_text", "tone", "write_letters"]

AGING_BUCKETS = (
    ("current", -(10**9), 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91+", 91, 10**9),
)

_TONES = {
    0: (
        "Friendly reminder: invoices falling due on account {name}",
        "This is a courtesy note: the invoices below fall due shortly.",
        "If payment is already on its way, thank you and please disregard this note.",
    ),
    1: (
        "Reminder: overdue invoices on account {name}",
        "Our records show the invoices below as past their due date.",
        "Please arrange payment at your earliest convenience, "
        "or tell us if anything is holding it up.",
    ),
    2: (
        "Second notice: overdue invoices on account {name}",
        "Despite our earlier reminder, the invoices below remain unpaid.",
        "Please pay within 7 days or contact us today to agree a payment date.",
    ),
    3: (
        "Final demand: overdue invoices on account {name}",
        "The invoices below are seriously overdue and further deliveries on credit are on hold.",
        "Unless we receive payment within 7 days we will pass the account to collections.",
    ),
    4: (
        "Notice of escalation: account {name}",
        "The invoices below remain unpaid after repeated reminders.",
        "The account is being referred for collection. Pay now to avoid further action.",
    ),
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def money_text(value: float, currency: str) -> str:
    """An amount with its currency and thousands separators: ``$1,234.50``."""
    decimals = money.CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if value < 0 else ""
    return f"{sign}{currency_prefix(currency)}{abs(float(value)):,.{decimals}f}"


def tone(name: str, level: int) -> dict[str, str]:
    """Subject, opening and request sentences for a dunning ``level`` (escaped)."""
    if level not in _TONES:
        raise ValueError(f"dunning level must be in 0–4, got {level!r}")
    subject, opening, request = _TONES[level]
    return {
        "subject": html.escape(subject.format(name=name)),
        "opening": html.escape(opening),
        "request": html.escape(request),
    }


def _file_name(customer_id: str) -> str:
    return (_SAFE_NAME.sub("_", str(customer_id)).strip("_") or "customer")[:80]


def _cell_safe(value) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _rows(items: pd.DataFrame) -> str:
    e = html.escape
    return "\n".join(
        f"<tr><td>{e(str(i))}</td><td>{pd.Timestamp(d).date()}</td><td>{pd.Timestamp(u).date()}</td>"
        f'<td class="num">{max(int(p), 0)}</td><td class="num">{e(money_text(a, c))}</td></tr>'
        for i, d, u, p, a, c in zip(
            items["invoice_id"],
            items["invoice_date"],
            items["due_date"],
            items["days_past_due"],
            items["open_amount_doc"],
            items["currency"],
            strict=True,
        )
    )


def _total(items: pd.DataFrame) -> str:
    per = items.groupby("currency")["open_amount_doc"].sum()
    return html.escape(" + ".join(money_text(v, str(c)) for c, v in per.items()))


def write_letters(
    worklist,
    folder: str | Path,
    *,
    sender: str = "Accounts Receivable",
    payment_link: str = "https://pay.example.com/{customer_id}",
) -> pd.DataFrame:
    """Write letters, statements and ``mailmerge.csv`` for the worklist's actions.

    Parameters
    ----------
    worklist
        A fitted :class:`~rpmkit.worklist.rank.Worklist` (its ``actions_`` after capacity).
    folder
        Output folder (created if needed).
    sender
        Signature and header line.
    payment_link
        A link placeholder; ``{customer_id}`` is replaced (URL-quoted) per customer.

    Returns
    -------
    DataFrame
        The mail-merge rows (also written to ``mailmerge.csv``).
    """
    from urllib.parse import quote

    out = Path(folder)
    (out / "letters").mkdir(parents=True, exist_ok=True)
    (out / "statements").mkdir(parents=True, exist_ok=True)
    letter_t, statement_t = load("letter"), load("statement")
    items = worklist.items_
    covered_steps = worklist.policy.step_index(
        items["days_past_due"].to_numpy(),
        items["segment"].astype(str).to_numpy(dtype=object),
        items["open_amount"].to_numpy(float),
    )
    date = str(worklist.as_of_.date())
    e = html.escape
    merge = []
    by_customer = {c: g for c, g in items.groupby("customer_id", sort=False)}
    for row in worklist.actions_.itertuples(index=False):  # one file per action: a day's work
        cust = str(row.customer_id)
        all_items = by_customer[row.customer_id].sort_values("due_date")
        mask = (all_items["excluded"] == "").to_numpy() & (
            covered_steps[all_items.index.to_numpy()] >= 0
        )
        mine = all_items[mask]
        name = getattr(row, "name", None)
        name = cust if name is None or pd.isna(name) else str(name)
        link = e(payment_link.replace("{customer_id}", quote(cust, safe="")))
        fname = _file_name(cust)
        common = {
            "sender": e(sender),
            "date": date,
            "customer_name": e(name),
            "customer_id": e(cust),
            "payment_link": link,
        }
        letter = letter_t.substitute(
            **common,
            **tone(name, int(row.level)),
            greeting="Dear " + e(name) + ",",
            rows=_rows(mine),
            total=_total(mine),
            closing="Kind regards,",
        )
        (out / "letters" / f"{fname}.html").write_text(letter, encoding="utf-8")
        statement = statement_t.substitute(
            **common,
            aging_head="".join(f'<th class="num">{b}</th>' for b, _, _ in AGING_BUCKETS),
            aging_row=_aging_cells(all_items),
            rows=_rows(all_items),
            total=_total(all_items),
        )
        (out / "statements" / f"{fname}.html").write_text(statement, encoding="utf-8")
        merge.append(
            {
                "customer_id": cust,
                "name": name,
                "step": row.step,
                "action": row.action,
                "level": int(row.level),
                "subject": html.unescape(tone(name, int(row.level))["subject"]),
                "invoices": len(mine),
                "open_amount": round(float(row.open_amount), 2),
                "max_days_past_due": int(row.max_days_past_due),
                "letter_file": f"letters/{fname}.html",
                "statement_file": f"statements/{fname}.html",
                "payment_link": html.unescape(link),
            }
        )
    frame = pd.DataFrame(merge)
    with open(out / "mailmerge.csv", "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(frame.columns if len(frame) else ["customer_id"])
        for values in frame.itertuples(index=False):
            writer.writerow([_cell_safe(v) for v in values])
    return frame


def _aging_cells(items: pd.DataFrame) -> str:
    dpd = items["days_past_due"].to_numpy()
    cells = []
    for _, lo, hi in AGING_BUCKETS:
        part = items[(dpd >= lo) & (dpd <= hi)]
        cells.append(f'<td class="num">{_total(part) if len(part) else "–"}</td>')
    return "".join(cells)
