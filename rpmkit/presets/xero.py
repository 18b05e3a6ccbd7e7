"""``xero``: Xero *Aged Receivables Detail* report export.

Layout: title lines (``Aged Receivables Detail``, organisation, ``As at 31
March 2024``, ``Ageing by due date``), the header ``Invoice Date, Invoice
Number, [Invoice Reference], [Contact], Due Date, [Overdue], Total, Paid,
Credited, Due``, then per contact a heading row with the contact's name (when
there is no ``Contact`` column), its invoices and a ``Total <contact>`` row,
and a final ``Total``.

It is a snapshot of what is unpaid at the report date:

* each invoice → an invoice of ``Total``; what is no longer due
  (``Total − Due``) is split into the ``Credited`` part → a ``credit_note``
  adjustment ``credited:<number>`` and the rest (``Paid``) → a payment
  ``paid:<number>`` with its allocation, all dated at the report date
  (the real dates are not in the report), so each invoice's open amount is
  exactly the report's ``Due``;
* overpayments and prepayments (negative ``Due``, labelled as such) → a
  payment on account on their own date; other negative rows (credit notes
  not yet allocated) → ``_ignored`` (``unapplied_credit``);
* titles, contact headings and blank lines → ``_ignored`` (``report_line``);
  ``Total …`` rows → ``_ignored`` (``totals_row``).

Without ``Paid``/``Credited`` columns (the ageing-bucket layout) the invoice
amount is the outstanding ``Due`` (or ``Total``) and nothing is settled.
Dates are written ISO: the source's ``%d %b %Y`` (``options["source_date_format"]``)
is parsed here because the report date has to be added.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from rpmkit.presets.base import (
    IGNORED,
    Preset,
    SourceColumn,
    by_line,
    concat,
    customers_from,
    finish,
    format_money,
    ignored,
    parse_money,
    resolve,
    text,
    text_frame,
)
from rpmkit.presets.report import iso_dates, read_report

__all__ = ["PRESET"]

COLUMNS = (
    SourceColumn("Invoice Date", "Invoice date.", "invoices.invoice_date", True, ("Date",)),
    SourceColumn(
        "Invoice Number",
        "Invoice or credit note number.",
        "invoice_id",
        True,
        ("Number", "Invoice No"),
    ),
    SourceColumn(
        "Invoice Reference", "Customer reference.", "invoices.po_number", False, ("Reference",)
    ),
    SourceColumn(
        "Contact",
        "Customer name (else taken from the contact heading rows).",
        "customer_id",
        False,
        ("Contact Name", "Customer"),
    ),
    SourceColumn("Due Date", "Due date.", "invoices.due_date"),
    SourceColumn("Total", "Invoice total.", "invoices.amount", True, ("Invoice Total",)),
    SourceColumn("Paid", "Amount paid by the report date.", "payment paid:<number>", False),
    SourceColumn(
        "Credited", "Amount credited by the report date.", "adjustment credited:<number>", False
    ),
    SourceColumn(
        "Due",
        "Amount still due at the report date.",
        "open amount",
        False,
        ("Amount Due", "Outstanding", "Balance"),
    ),
    SourceColumn("Currency", "Invoice currency (multicurrency organisations).", "currency", False),
)
SIGNATURE = (
    ("Invoice Number", "Number"),
    ("Due Date",),
    ("Total", "Invoice Total"),
    ("Invoice Date",),
)
_ON_ACCOUNT = r"(?i)overpayment|prepayment"


def convert(raw: dict[str, pd.DataFrame], options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    src_fmt = options.get("source_date_format")
    report = read_report(raw, SIGNATURE, "xero", src_fmt)
    as_of = pd.Timestamp(options["as_of"]) if options.get("as_of") else report.as_of
    as_of_text = as_of.strftime("%Y-%m-%d") if as_of is not None else ""
    rep = options.get("reporting_currency", "USD")
    decimal = options.get("decimal", ".")
    body = report.body
    ign = [report.skipped]
    if body.empty:
        return finish({IGNORED: concat(ign)})
    col = resolve(body, COLUMNS, "xero", "report")
    t = pd.DataFrame({c.name: text(body, col[c.name]) for c in COLUMNS}, index=body.index)
    t["_source"], t["_line"] = body["_source"], body["_line"]
    data_cols = [c for c in body.columns if c not in ("_source", "_line")]
    values = body[data_cols].astype(str).apply(lambda s: s.str.strip())
    nonblank = (values != "").sum(axis=1)
    first = values.apply(lambda r: next((v for v in r if v), ""), axis=1)
    lower = first.str.casefold()

    blank = nonblank == 0
    total = ~blank & (
        (lower.str.startswith("total") & ((nonblank > 1) | (lower == "total")))
        | lower.str.startswith("percentage of total")
    )
    txn = ~blank & ~total & (t["Invoice Number"] != "") & (nonblank > 1)
    heading = ~blank & ~total & ~txn & (nonblank == 1)
    odd = ~(blank | total | txn | heading)
    # A contact heading names the customer of the rows under it.
    contact = first.where(heading).ffill().fillna("")
    t["customer"] = t["Contact"].where(t["Contact"] != "", contact)
    ign += [
        ignored(t[blank], "report_line", "blank line"),
        ignored(t[total], "totals_row", "total: " + first[total]),
        ignored(t[heading], "report_line", "contact heading: " + first[heading]),
        ignored(t[odd], "unsupported_entry", "row without an invoice number"),
    ]
    rows = t[txn].copy()
    rows["currency"] = rows["Currency"].where(rows["Currency"] != "", rep)
    has_split = col["Paid"] is not None or col["Credited"] is not None

    def money(name: str, blank_as_zero: bool = True):
        s = rows[name]
        if blank_as_zero:
            s = s.where(s != "", "0")
        return parse_money(s, rows["currency"], decimal)

    total_m, r_total = money("Total", blank_as_zero=False)
    paid_m, r_paid = money("Paid")
    cred_m, r_cred = money("Credited")
    due_text = rows["Due"]
    due_m, r_due = parse_money(due_text.where(due_text != "", "0"), rows["currency"], decimal)
    if col["Due"] is None:
        due_m, r_due = total_m - paid_m - cred_m, r_total
    reason = r_total.combine_first(r_paid).combine_first(r_cred).combine_first(r_due)
    bad = reason.notna()
    ign.append(
        ignored(
            rows[bad],
            reason[bad].astype(str),
            "amounts "
            + rows.loc[bad, "Total"].map(repr)
            + " / "
            + rows.loc[bad, "Due"].map(repr)
            + " could not be read",
        )
    )
    ok = ~bad
    rows = rows[ok].assign(
        total=total_m[ok].astype("int64"),
        paid=paid_m[ok].astype("int64"),
        credited=cred_m[ok].astype("int64"),
        due=due_m[ok].astype("int64"),
    )
    if not has_split:
        # Ageing-bucket layout: only the outstanding amount is known.
        rows["total"] = rows["due"].where(rows["due"] != 0, rows["total"])
    rows["date"] = iso_dates(rows["Invoice Date"], src_fmt)
    rows["due_date"] = iso_dates(rows["Due Date"], src_fmt)

    on_account = rows["Invoice Number"].str.contains(_ON_ACCOUNT) | rows[
        "Invoice Reference"
    ].str.contains(_ON_ACCOUNT)
    is_invoice = rows["due"] > 0
    is_cash = (rows["due"] < 0) & on_account
    is_credit = (rows["due"] < 0) & ~on_account
    is_zero = rows["due"] == 0
    ign.append(
        ignored(
            rows[is_credit],
            "unapplied_credit",
            rows.loc[is_credit, "Invoice Number"] + " is a credit not yet allocated",
        )
    )
    ign.append(ignored(rows[is_zero], "amount_not_positive", "nothing due on this row"))

    inv = rows[is_invoice].copy()
    settled = (inv["total"] - inv["due"]).clip(lower=0)
    inv["cn"] = inv["credited"].clip(lower=0).combine(settled, min)
    inv["pd"] = settled - inv["cn"]
    invoices = text_frame(
        {
            "invoice_id": inv["Invoice Number"],
            "customer_id": inv["customer"],
            "invoice_date": inv["date"],
            "due_date": inv["due_date"],
            "amount": format_money(inv["total"], inv["currency"], decimal).set_axis(inv.index),
            "currency": inv["currency"],
            "po_number": inv["Invoice Reference"],
            "_source": inv["_source"],
            "_line": inv["_line"],
        },
        inv.index,
    )
    paid = inv[inv["pd"] > 0]  # rows without a number are not transactions (see txn)
    paid_text = format_money(paid["pd"], paid["currency"], decimal).set_axis(paid.index)
    synthetic = text_frame(
        {
            "payment_id": "paid:" + paid["Invoice Number"],
            "payment_date": as_of_text,
            "amount": paid_text,
            "currency": paid["currency"],
            "customer_id": paid["customer"],
            "remittance_text": "paid by the report date "
            + (as_of_text or "(unknown)")
            + "; payment date not in the report",
            "_source": paid["_source"],
            "_line": paid["_line"],
        },
        paid.index,
    )
    cash_rows = rows[is_cash]
    cash = text_frame(
        {
            # "Overpayment" / "Prepayment" are labels, not numbers: add the line.
            "payment_id": cash_rows["Invoice Number"] + "@line" + cash_rows["_line"].astype(str),
            "payment_date": cash_rows["date"],
            "amount": format_money(-cash_rows["due"], cash_rows["currency"], decimal).set_axis(
                cash_rows.index
            ),
            "currency": cash_rows["currency"],
            "customer_id": cash_rows["customer"],
            "remittance_text": cash_rows["Invoice Number"],
            "_source": cash_rows["_source"],
            "_line": cash_rows["_line"],
        },
        cash_rows.index,
    )
    allocations = text_frame(
        {
            "payment_id": "paid:" + paid["Invoice Number"],
            "invoice_id": paid["Invoice Number"],
            "amount": paid_text,
            "applied_date": as_of_text,
            "_source": paid["_source"],
            "_line": paid["_line"],
        },
        paid.index,
    )
    cred = inv[inv["cn"] > 0]
    adjustments = text_frame(
        {
            "adjustment_id": "credited:" + cred["Invoice Number"],
            "invoice_id": cred["Invoice Number"],
            "date": as_of_text,
            "amount": format_money(cred["cn"], cred["currency"], decimal).set_axis(cred.index),
            "kind": "credit_note",
            "reason": "credited by the report date; credit note date not in the report",
            "_source": cred["_source"],
            "_line": cred["_line"],
        },
        cred.index,
    )
    customers = customers_from(rows[is_invoice | is_cash], "customer")
    return finish(
        {
            "customers": customers,
            "invoices": invoices,
            "payments": by_line(concat([synthetic, cash])).reset_index(drop=True),
            "allocations": allocations,
            "adjustments": adjustments,
            IGNORED: by_line(concat(ign)).reset_index(drop=True),
        }
    )


PRESET = Preset(
    name="xero",
    description=(
        "Xero Aged Receivables Detail export: an open-items snapshot. Invoices at their total;"
        " Paid becomes a payment and Credited a credit note, both dated at the report date;"
        " overpayments stay as cash on account; report lines are ignored."
    ),
    source_columns=COLUMNS,
    options={
        "date_format": "%Y-%m-%d",
        "source_date_format": "%d %b %Y",
        "decimal": ".",
        "reporting_currency": "USD",
        "header": None,
        "as_of": None,
    },
    convert=convert,
    signature=SIGNATURE,
)
