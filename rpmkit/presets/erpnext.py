"""``erpnext``: ERPNext's *Payment Ledger Entry* export (v14 and later).

The Payment Ledger holds one row per effect of a voucher on a receivable:
``amount`` is positive when the voucher raises the customer's balance and
negative when it lowers it; ``against_voucher_no`` names the document the row
settles (the voucher itself when it is not applied to anything).

* Sales Invoice (or debit Journal Entry) rows against themselves → invoices.
* Payment Entry / Journal Entry rows with a negative amount → one payment per
  voucher; the rows against an invoice → allocations; rows against the
  voucher itself are its unallocated part (cash on account).
* Return Sales Invoices (credit notes, negative) against an invoice →
  ``credit_note`` adjustments of that invoice.
* ``delinked = 1`` rows (cancelled documents, undone reconciliations) →
  ``_ignored`` (``cancelled_entry``); other rows the model cannot hold
  (refunds, credit notes not applied to any invoice, other parties) →
  ``_ignored`` with their reason.

Rows with the same voucher, against-voucher and currency are netted first
(a reconciliation that was redone leaves a row and its reversal); a pair that
nets to zero is ``_ignored`` as ``cancelled_entry``. Headers may be field
names (``posting_date``) or labels (``Posting Date``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
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
    provenance,
    text,
    text_frame,
    usable_tables,
)

__all__ = ["PRESET"]

COLUMNS = (
    SourceColumn("posting_date", "Posting date of the voucher.", "document dates"),
    SourceColumn("account_type", "Receivable or Payable; only Receivable is read.", "", False),
    SourceColumn("party_type", "Customer or Supplier; only Customer is read.", "", False),
    SourceColumn("party", "Customer id.", "customer_id"),
    SourceColumn("voucher_type", "Sales Invoice, Payment Entry, Journal Entry …", "row kind"),
    SourceColumn("voucher_no", "Voucher number.", "invoice_id / payment_id / adjustment_id"),
    SourceColumn("against_voucher_type", "Type of the document settled.", "", False),
    SourceColumn(
        "against_voucher_no",
        "Document the row settles (itself when unapplied).",
        "allocations.invoice_id / adjustments.invoice_id",
    ),
    SourceColumn("amount", "Signed amount in company currency (+ raises the balance).", "amounts"),
    SourceColumn(
        "account_currency",
        "Currency of the receivable account.",
        "currency",
        False,
        ("Currency", "Account Currency"),
    ),
    SourceColumn(
        "amount_in_account_currency",
        "Signed amount in the account currency; preferred over amount when present.",
        "amounts",
        False,
    ),
    SourceColumn(
        "due_date", "Due date (invoices); posting date when blank.", "invoices.due_date", False
    ),
    SourceColumn(
        "delinked",
        "1 when the row no longer counts (cancelled / unlinked).",
        "",
        False,
        ("DeLinked",),
    ),
    SourceColumn("company", "Company.", "attribute", False),
    SourceColumn("remarks", "Free text.", "payments.remittance_text / adjustments.reason", False),
)

_TRUE = {"1", "yes", "true", "y"}


def convert(raw: dict[str, pd.DataFrame], options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    parts = []
    ignored_parts = []
    usable, skipped = usable_tables(raw, COLUMNS, "erpnext")
    ignored_parts.append(skipped)
    for _name, frame, col in usable:
        t = pd.DataFrame({c.name: text(frame, col[c.name]) for c in COLUMNS}, index=frame.index)
        t = t.assign(**provenance(frame))
        t["has_aiac"] = col["amount_in_account_currency"] is not None
        parts.append(t)
    rows = concat(parts)
    if rows.empty:
        return finish({IGNORED: skipped})
    rep = options.get("reporting_currency", "USD")
    decimal = options.get("decimal", ".")
    invoice_types = {v.casefold() for v in options.get("invoice_voucher_types", ())}
    payment_types = {v.casefold() for v in options.get("payment_voucher_types", ())}
    credit_types = {v.casefold() for v in options.get("credit_voucher_types", ())}

    def drop(mask: pd.Series, reason: str | pd.Series, message: str | pd.Series) -> None:
        nonlocal rows
        if mask.any():
            msg = message[mask] if isinstance(message, pd.Series) else message
            why = reason[mask] if isinstance(reason, pd.Series) else reason
            ignored_parts.append(ignored(rows[mask], why, msg))
            rows = rows[~mask]

    drop(
        rows["delinked"].str.casefold().isin(_TRUE),
        "cancelled_entry",
        "delinked = 1: the voucher was cancelled or the link undone",
    )
    other_account = (rows["account_type"] != "") & (
        rows["account_type"].str.casefold() != "receivable"
    )
    other_party = (rows["party_type"] != "") & (rows["party_type"].str.casefold() != "customer")
    drop(
        other_account | other_party,
        "not_receivable",
        "not a customer receivable row: " + rows["party_type"] + " / " + rows["account_type"],
    )

    rows = rows.copy()
    rows["currency"] = rows["account_currency"].where(rows["account_currency"] != "", rep)
    use_aiac = rows["has_aiac"].astype(str).eq("True") & (rows["amount_in_account_currency"] != "")
    amount_text = rows["amount_in_account_currency"].where(use_aiac, rows["amount"])
    minor, reason = parse_money(amount_text, rows["currency"], decimal)
    bad = reason.notna()
    drop(
        bad,
        reason.astype(object).where(bad, ""),
        "amount " + amount_text.map(repr) + " could not be read",
    )
    rows["minor"] = minor[rows.index].astype("int64")
    rows["against"] = rows["against_voucher_no"].where(
        rows["against_voucher_no"] != "", rows["voucher_no"]
    )
    rows["pos"] = range(len(rows))

    keys = ["voucher_type", "voucher_no", "against", "currency"]
    net = rows.groupby(keys, sort=False)["minor"].transform("sum")
    first = rows.groupby(keys, sort=False)["pos"].transform("min") == rows["pos"]
    drop(
        net == 0,
        "cancelled_entry",
        "nets to zero with other rows of " + rows["voucher_no"] + " against " + rows["against"],
    )
    net = net[rows.index]
    first = first[rows.index]
    pairs = rows[first].assign(net=net[first])
    vt = pairs["voucher_type"].str.casefold()
    own = pairs["against"] == pairs["voucher_no"]
    is_invoice = (pairs["net"] > 0) & own & vt.isin(invoice_types)
    is_payment = (pairs["net"] < 0) & vt.isin(payment_types)
    is_credit = (pairs["net"] < 0) & ~own & vt.isin(credit_types) & ~is_payment
    unapplied_credit = (pairs["net"] < 0) & own & vt.isin(credit_types) & ~is_payment
    rest = ~(is_invoice | is_payment | is_credit | unapplied_credit)

    ig_pairs = [
        ignored(
            pairs[unapplied_credit],
            "unapplied_credit",
            "credit note "
            + pairs.loc[unapplied_credit, "voucher_no"]
            + " is not applied to an invoice",
        ),
        ignored(
            pairs[rest],
            "unsupported_entry",
            pairs.loc[rest, "voucher_type"]
            + " "
            + pairs.loc[rest, "voucher_no"]
            + " with amount sign "
            + pd.Series(
                np.where(pairs.loc[rest, "net"] > 0, "+", "-"), index=pairs.index[rest], dtype=str
            )
            + " against "
            + pairs.loc[rest, "against"]
            + " (a refund, reversal or debit against another document)",
        ),
    ]

    inv = pairs[is_invoice]
    invoices = text_frame(
        {
            "invoice_id": inv["voucher_no"],
            "customer_id": inv["party"],
            "invoice_date": inv["posting_date"],
            "due_date": inv["due_date"].where(inv["due_date"] != "", inv["posting_date"]),
            "amount": format_money(inv["net"], inv["currency"], decimal).set_axis(inv.index),
            "currency": inv["currency"],
            "voucher_type": inv["voucher_type"],
            "company": inv["company"],
            "_source": inv["_source"],
            "_line": inv["_line"],
        },
        inv.index,
    )

    pay = pairs[is_payment].copy()
    pay["abs"] = -pay["net"]
    # The payment row carries the voucher's own (unallocated) row when it has
    # one, else its first row; the allocations carry theirs.
    pay["head_order"] = np.where(pay["against"] == pay["voucher_no"], -1, pay["pos"])
    by_voucher = pay.groupby(["voucher_no", "currency"], sort=False)
    heads = pay[by_voucher["head_order"].transform("min") == pay["head_order"]]
    heads = heads.sort_values("pos")
    totals = by_voucher["abs"].sum()
    head_totals = [
        int(totals[(v, c)]) for v, c in zip(heads["voucher_no"], heads["currency"], strict=True)
    ]
    multi_cur = heads["voucher_no"].duplicated(keep=False)
    payments = text_frame(
        {
            "payment_id": heads["voucher_no"].where(
                ~multi_cur, heads["voucher_no"] + "#" + heads["currency"]
            ),
            "payment_date": heads["posting_date"],
            "amount": format_money(head_totals, heads["currency"].tolist(), decimal).tolist(),
            "currency": heads["currency"],
            "customer_id": heads["party"],
            "remittance_text": heads["remarks"],
            "voucher_type": heads["voucher_type"],
            "_source": heads["_source"],
            "_line": heads["_line"],
        },
        heads.index,
    )
    pay_id = dict(
        zip(
            zip(heads["voucher_no"], heads["currency"], strict=True),
            payments["payment_id"],
            strict=True,
        )
    )
    applied = pay[pay["against"] != pay["voucher_no"]]
    allocations = text_frame(
        {
            "payment_id": [
                pay_id[(v, c)]
                for v, c in zip(applied["voucher_no"], applied["currency"], strict=True)
            ],
            "invoice_id": applied["against"].tolist(),
            "amount": format_money(applied["abs"], applied["currency"], decimal).tolist(),
            "applied_date": applied["posting_date"].tolist(),
            "_source": applied["_source"].tolist(),
            "_line": applied["_line"].tolist(),
        }
    )

    cn = pairs[is_credit]
    n_targets = cn.groupby("voucher_no")["against"].transform("nunique")
    adjustments = text_frame(
        {
            "adjustment_id": cn["voucher_no"].where(
                n_targets == 1, cn["voucher_no"] + "/" + cn["against"]
            ),
            "invoice_id": cn["against"],
            "date": cn["posting_date"],
            "amount": format_money(-cn["net"], cn["currency"], decimal).set_axis(cn.index),
            "kind": "credit_note",
            "reason": cn["remarks"],
            "_source": cn["_source"],
            "_line": cn["_line"],
        },
        cn.index,
    )

    parties = pd.concat(
        [inv[["party", "_source", "_line", "pos"]], pay[["party", "_source", "_line", "pos"]]]
    ).sort_values("pos")
    customers = customers_from(parties, "party")
    return finish(
        {
            "customers": customers,
            "invoices": invoices,
            "payments": payments,
            "allocations": allocations,
            "adjustments": adjustments,
            IGNORED: by_line(concat([*ignored_parts, *ig_pairs])),
        }
    )


PRESET = Preset(
    name="erpnext",
    description=(
        "ERPNext Payment Ledger Entry export (v14+): invoices, payments with their allocations,"
        " credit notes as credit_note adjustments; delinked rows are ignored with a reason."
    ),
    source_columns=COLUMNS,
    options={
        "date_format": "%Y-%m-%d",
        "decimal": ".",
        "reporting_currency": "USD",
        "header": 0,
        "invoice_voucher_types": ("Sales Invoice", "Journal Entry"),
        "payment_voucher_types": ("Payment Entry", "Journal Entry"),
        "credit_voucher_types": ("Sales Invoice",),
    },
    convert=convert,
    signature=(
        ("voucher_type",),
        ("voucher_no",),
        ("against_voucher_no",),
        ("party",),
        ("amount",),
        ("posting_date",),
    ),
)
