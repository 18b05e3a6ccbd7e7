"""``quickbooks``: QuickBooks Online *A/R Aging Detail* report export.

The export is a report, not a table: a few title lines (company, report
name, ``As of December 31, 2023``), the header ``Date, Transaction Type, Num,
Customer, Due Date, Amount, Open Balance`` (often after an unnamed first
column), then sections (``Current``, ``1 - 30 days past due`` …) each closed
by ``Total for …``, a final ``TOTAL`` and a timestamp footer.

It is a snapshot of open items at the as-of date, so it carries no payment
history:

* an invoice (any row with a positive open balance) → an invoice of
  ``Amount``; the part already settled, ``Amount − Open Balance``, becomes a
  payment ``paid:<Num>`` and its allocation, both dated at the as-of date:
  the real payment date is not in the report (it could also have been a
  credit memo);
* an unapplied payment (negative open balance) → a payment of the open
  balance on its own date (cash on account);
* an unapplied credit memo or credit journal entry → ``_ignored``
  (``unapplied_credit``);
* titles, section headings, blank lines and the footer → ``_ignored``
  (``report_line``); ``Total for …`` and ``TOTAL`` → ``_ignored`` (``totals_row``).

Dates are written ISO (``YYYY-MM-DD``): the source's ``%m/%d/%Y`` (or the
format in ``options["source_date_format"]``) is parsed here because the
as-of date has to be added. ``options["as_of"]`` (ISO) replaces the report's
own as-of line. Customers are identified by their QuickBooks display name.
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
    SourceColumn("Date", "Transaction date.", "invoices.invoice_date / payments.payment_date"),
    SourceColumn("Transaction Type", "Invoice, Payment, Credit Memo, Journal Entry …", "row kind"),
    SourceColumn("Num", "Transaction number.", "invoice_id / payment_id", True, ("No.", "Number")),
    SourceColumn("Customer", "Customer display name.", "customer_id", True, ("Name",)),
    SourceColumn("Due Date", "Due date.", "invoices.due_date"),
    SourceColumn("Amount", "Original amount of the transaction.", "invoices.amount"),
    SourceColumn(
        "Open Balance",
        "Amount still open at the as-of date.",
        "invoices.amount − payment",
        True,
        ("Balance", "Open balance"),
    ),
    SourceColumn("Currency", "Transaction currency (multicurrency companies).", "currency", False),
    SourceColumn("Past Due", "Days past due at the as-of date (not used).", "", False),
)
SIGNATURE = (("Transaction Type",), ("Num", "No."), ("Open Balance", "Balance"), ("Due Date",))


def convert(raw: dict[str, pd.DataFrame], options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    src_fmt = options.get("source_date_format")
    report = read_report(raw, SIGNATURE, "quickbooks", src_fmt)
    as_of = pd.Timestamp(options["as_of"]) if options.get("as_of") else report.as_of
    as_of_text = as_of.strftime("%Y-%m-%d") if as_of is not None else ""
    rep = options.get("reporting_currency", "USD")
    decimal = options.get("decimal", ".")
    body = report.body
    ign = [report.skipped]
    if body.empty:
        return finish({IGNORED: concat(ign)})
    col = resolve(body, COLUMNS, "quickbooks", "report")
    t = pd.DataFrame({c.name: text(body, col[c.name]) for c in COLUMNS}, index=body.index)
    t["_source"], t["_line"] = body["_source"], body["_line"]
    data_cols = [c for c in body.columns if c not in ("_source", "_line")]
    values = body[data_cols].astype(str).apply(lambda s: s.str.strip())
    nonblank = (values != "").sum(axis=1)
    first = values.apply(lambda r: next((v for v in r if v), ""), axis=1)

    blank = nonblank == 0
    starts_total = first.str.casefold().str.startswith("total")
    total = ~blank & starts_total & ((nonblank > 1) | (first.str.casefold() == "total"))
    txn = ~blank & ~total & (t["Transaction Type"] != "")
    heading = ~blank & ~total & ~txn & (nonblank == 1)
    odd = ~(blank | total | txn | heading)
    ign += [
        ignored(t[blank], "report_line", "blank line"),
        ignored(t[total], "totals_row", "subtotal: " + first[total]),
        ignored(t[heading], "report_line", "section heading or footer: " + first[heading]),
        ignored(t[odd], "unsupported_entry", "row without a transaction type"),
    ]
    rows = t[txn].copy()
    rows["currency"] = rows["Currency"].where(rows["Currency"] != "", rep)
    amount, r_amount = parse_money(rows["Amount"], rows["currency"], decimal)
    open_, r_open = parse_money(rows["Open Balance"], rows["currency"], decimal)
    reason = r_open.where(r_open.notna(), r_amount)
    bad = reason.notna()
    ign.append(
        ignored(
            rows[bad],
            reason[bad].astype(str),
            "amount "
            + rows.loc[bad, "Amount"].map(repr)
            + " / open balance "
            + rows.loc[bad, "Open Balance"].map(repr)
            + " could not be read",
        )
    )
    rows = rows[~bad].assign(amount=amount[~bad].astype("int64"), open=open_[~bad].astype("int64"))
    rows["date"] = iso_dates(rows["Date"], src_fmt)
    rows["due"] = iso_dates(rows["Due Date"], src_fmt)

    kind = rows["Transaction Type"].str.casefold()
    is_invoice = rows["open"] > 0
    is_payment = (rows["open"] < 0) & kind.str.contains("payment")
    is_credit = (rows["open"] < 0) & ~is_payment
    is_zero = rows["open"] == 0
    ign.append(
        ignored(
            rows[is_credit],
            "unapplied_credit",
            rows.loc[is_credit, "Transaction Type"]
            + " "
            + rows.loc[is_credit, "Num"]
            + " is not applied to an invoice",
        )
    )
    ign.append(ignored(rows[is_zero], "amount_not_positive", "nothing open on this row"))

    inv = rows[is_invoice]
    invoices = text_frame(
        {
            "invoice_id": inv["Num"],
            "customer_id": inv["Customer"],
            "invoice_date": inv["date"],
            "due_date": inv["due"],
            "amount": format_money(inv["amount"], inv["currency"], decimal).set_axis(inv.index),
            "currency": inv["currency"],
            "transaction_type": inv["Transaction Type"],
            "open_balance": format_money(inv["open"], inv["currency"], decimal).set_axis(inv.index),
            "_source": inv["_source"],
            "_line": inv["_line"],
        },
        inv.index,
    )
    # Without a number the invoice is rejected by the loader: no payment for it either.
    paid = inv[(inv["amount"] > inv["open"]) & (inv["Num"] != "")]
    paid_minor = paid["amount"] - paid["open"]
    paid_text = format_money(paid_minor, paid["currency"], decimal).set_axis(paid.index)
    paid_ids = "paid:" + paid["Num"]
    synthetic = text_frame(
        {
            "payment_id": paid_ids,
            "payment_date": as_of_text,
            "amount": paid_text,
            "currency": paid["currency"],
            "customer_id": paid["Customer"],
            "remittance_text": "settled before the report date "
            + (as_of_text or "(unknown)")
            + "; payment date not in the report",
            "_source": paid["_source"],
            "_line": paid["_line"],
        },
        paid.index,
    )
    pay = rows[is_payment]
    own_ids = pay["Num"].where(pay["Num"] != "", "payment@line" + pay["_line"].astype(str))
    cash = text_frame(
        {
            "payment_id": own_ids,
            "payment_date": pay["date"],
            "amount": format_money(-pay["open"], pay["currency"], decimal).set_axis(pay.index),
            "currency": pay["currency"],
            "customer_id": pay["Customer"],
            "remittance_text": "unapplied " + pay["Transaction Type"],
            "_source": pay["_source"],
            "_line": pay["_line"],
        },
        pay.index,
    )
    allocations = text_frame(
        {
            "payment_id": paid_ids,
            "invoice_id": paid["Num"],
            "amount": paid_text,
            "applied_date": as_of_text,
            "_source": paid["_source"],
            "_line": paid["_line"],
        },
        paid.index,
    )
    customers = customers_from(rows[is_invoice | is_payment], "Customer")
    return finish(
        {
            "customers": customers,
            "invoices": invoices,
            "payments": by_line(concat([synthetic, cash])).reset_index(drop=True),
            "allocations": allocations,
            IGNORED: by_line(concat(ign)).reset_index(drop=True),
        }
    )


PRESET = Preset(
    name="quickbooks",
    description=(
        "QuickBooks Online A/R Aging Detail export: an open-items snapshot. Invoices at their"
        " original amount; the part already paid becomes a payment dated at the report's as-of"
        " date; unapplied payments stay as cash on account; report lines are ignored."
    ),
    source_columns=COLUMNS,
    options={
        "date_format": "%Y-%m-%d",
        "source_date_format": "%m/%d/%Y",
        "decimal": ".",
        "reporting_currency": "USD",
        "header": None,
        "as_of": None,
    },
    convert=convert,
    signature=SIGNATURE,
)
