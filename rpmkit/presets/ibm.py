"""``ibm-ar``: the IBM Watson Analytics "Accounts Receivable" sample.

Source: ``WA_Fn-UseC_-Accounts-Receivable.csv`` (2,466 invoices of 100
customers, 2012–2013, every one settled). One row per invoice:

========================  =====================================================
``countryCode``           customer's country code (391, 406, 770, 818, 897)
``customerID``            customer account, e.g. ``0379-NEVHP``
``PaperlessDate``         date the customer switched to electronic bills (M/D/YYYY)
``invoiceNumber``         invoice number
``InvoiceDate``           invoice date (M/D/YYYY)
``DueDate``               due date (M/D/YYYY; always invoice date + 30)
``InvoiceAmount``         amount billed; currency not stated (USD assumed)
``Disputed``              ``Yes`` / ``No``
``SettledDate``           date paid in full (M/D/YYYY)
``PaperlessBill``         ``Paper`` / ``Electronic``: how the invoice was sent
``DaysToSettle``          SettledDate − InvoiceDate (derived outcome)
``DaysLate``              max(0, SettledDate − DueDate) (derived outcome)
========================  =====================================================

Output: ``"flat"`` (one row per invoice) and ``"customers"`` (``country``,
and ``paperless_date`` as an ISO date attribute).
``DaysToSettle`` and ``DaysLate`` are kept as invoice attributes
``days_to_settle`` / ``days_late`` because they are in the source, but they
are computed from the settlement date: never use them as features when
predicting payment behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from rpmkit.presets.base import (
    IGNORED,
    PROVENANCE,
    Preset,
    SourceColumn,
    concat,
    finish,
    provenance,
    text,
    text_frame,
    usable_tables,
)
from rpmkit.presets.report import iso_dates

__all__ = ["PRESET", "LEAKY_COLUMNS"]

LEAKY_COLUMNS = ("days_to_settle", "days_late")
"""Invoice attributes computed from the settlement date: outcomes, never features."""

COLUMNS = (
    SourceColumn("countryCode", "Customer's country code.", "customers.country"),
    SourceColumn("customerID", "Customer account.", "invoices.customer_id"),
    SourceColumn(
        "PaperlessDate", "Date the customer went paperless.", "customers.paperless_date (attribute)"
    ),
    SourceColumn("invoiceNumber", "Invoice number.", "invoices.invoice_id"),
    SourceColumn("InvoiceDate", "Invoice date, M/D/YYYY.", "invoices.invoice_date"),
    SourceColumn("DueDate", "Due date, M/D/YYYY.", "invoices.due_date"),
    SourceColumn("InvoiceAmount", "Amount billed (USD assumed).", "invoices.amount"),
    SourceColumn("Disputed", "Yes/No: the customer disputed the invoice.", "flat.disputed"),
    SourceColumn("SettledDate", "Date paid in full, M/D/YYYY.", "flat.paid_date"),
    SourceColumn("PaperlessBill", "Paper/Electronic delivery.", "invoices.channel"),
    SourceColumn(
        "DaysToSettle",
        "SettledDate − InvoiceDate: derived outcome, never a feature.",
        "invoices.days_to_settle (attribute)",
        False,
    ),
    SourceColumn(
        "DaysLate",
        "max(0, SettledDate − DueDate): derived outcome, never a feature.",
        "invoices.days_late (attribute)",
        False,
    ),
)

_DISPUTED = {"yes": "true", "no": "false"}
_CHANNEL = {"paper": "paper", "electronic": "electronic"}


def _recode(values: pd.Series, codes: Mapping[str, str]) -> pd.Series:
    """Known codes recoded; anything else left as is so the loader rejects it."""
    return values.map(lambda v: codes.get(v.casefold(), v))


def convert(raw: dict[str, pd.DataFrame], options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    currency = options.get("currency", options.get("reporting_currency", "USD"))
    flats, customers = [], []
    usable, skipped = usable_tables(raw, COLUMNS, "ibm-ar")
    for _name, frame, col in usable:
        t = {c.name: text(frame, col[c.name]) for c in COLUMNS}
        flat = {
            "invoice_id": t["invoiceNumber"],
            "customer_id": t["customerID"],
            "invoice_date": t["InvoiceDate"],
            "due_date": t["DueDate"],
            "amount": t["InvoiceAmount"],
            "currency": currency,
            "paid_date": t["SettledDate"],
            "disputed": _recode(t["Disputed"], _DISPUTED),
            "channel": _recode(t["PaperlessBill"], _CHANNEL),
        }
        if col["DaysToSettle"] is not None:
            flat["days_to_settle"] = t["DaysToSettle"]
        if col["DaysLate"] is not None:
            flat["days_late"] = t["DaysLate"]
        flats.append(text_frame({**flat, **provenance(frame)}, frame.index))
        cust = text_frame(
            {
                "customer_id": t["customerID"],
                "country": t["countryCode"],
                # An attribute the loader does not parse: ISO text, unambiguous.
                "paperless_date": iso_dates(t["PaperlessDate"], options.get("date_format")),
                **provenance(frame),
            },
            frame.index,
        )
        customers.append(cust)
    cust = concat(customers)
    # One row per distinct customer record; a customer whose country or
    # paperless date differs between rows keeps both versions, so the loader
    # reports the conflict instead of this preset picking one.
    if len(cust):
        values = [c for c in cust.columns if c not in PROVENANCE]
        cust = cust.drop_duplicates(subset=values, keep="first").reset_index(drop=True)
    return finish({"flat": concat(flats), "customers": cust, IGNORED: skipped})


PRESET = Preset(
    name="ibm-ar",
    description=(
        "IBM Watson Analytics Accounts Receivable sample (WA_Fn-UseC_-Accounts-Receivable.csv):"
        " one settled invoice per row, dates M/D/YYYY, currency USD assumed. Gives the flat"
        " form plus a customer master (country, paperless_date)."
    ),
    source_columns=COLUMNS,
    options={
        "date_format": "%m/%d/%Y",
        "decimal": ".",
        "reporting_currency": "USD",
        "currency": "USD",
        "header": 0,
    },
    convert=convert,
    signature=(
        ("countryCode",),
        ("customerID",),
        ("invoiceNumber",),
        ("InvoiceDate",),
        ("DueDate",),
        ("InvoiceAmount",),
        ("SettledDate",),
    ),
)
