"""``flat``: the flat invoice form, with its headers normalised.

One row per invoice: ``invoice_id, customer_id, invoice_date, due_date,
amount`` and optionally ``currency, paid_date, disputed``; every other column
is kept as an invoice attribute. Headers are put in snake case
(``"Invoice Date"``, ``"InvoiceDate"`` → ``invoice_date``) and a few common
spellings are recognised (``invoice_number`` → ``invoice_id``). Values are
passed through untouched: the loader parses them.
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
    ignored,
    snake,
)
from rpmkit.schema import FLAT_INVOICE, TABLES

__all__ = ["ALIASES", "PRESET", "normalise_headers"]

ALIASES: dict[str, str] = {
    "invoice_number": "invoice_id",
    "invoice_no": "invoice_id",
    "invoice_num": "invoice_id",
    "customer_number": "customer_id",
    "customer_no": "customer_id",
    "customer_num": "customer_id",
    "net_due_date": "due_date",
    "invoice_amount": "amount",
    "currency_code": "currency",
    "settled_date": "paid_date",
    "date_paid": "paid_date",
    "is_disputed": "disputed",
}
"""Other spellings (after snake-casing) of canonical flat columns."""


def normalise_headers(frame: pd.DataFrame, canonical: tuple[str, ...]) -> pd.DataFrame:
    """Rename headers to snake case and canonical names, never creating a clash.

    A header whose normalised name is already taken (by an exact canonical
    header or an earlier column) keeps its original name, so no column is lost.
    """
    names = [c for c in frame.columns if c not in PROVENANCE]
    snaked = {c: snake(c) for c in names}
    target = {c: (s if s in canonical else ALIASES.get(s, s)) for c, s in snaked.items()}
    # An exact canonical header wins over an alias of the same name.
    exact = {s for c, s in snaked.items() if s in canonical}
    taken: set[str] = set(PROVENANCE)
    rename: dict[str, str] = {}
    for c in names:
        t = target[c]
        alias_lost = snaked[c] not in canonical and t in exact
        if t in taken or alias_lost or not t:
            rename[c] = c
        else:
            rename[c] = t
        taken.add(rename[c])
    return frame.rename(columns=rename)


def convert(raw: dict[str, pd.DataFrame], options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    flat_names = FLAT_INVOICE.names
    out: dict[str, pd.DataFrame] = {}
    skipped = []
    others = [k for k in raw if k != "flat" and k not in TABLES]
    flat_key = "flat" if "flat" in raw else (others[0] if len(others) == 1 else None)
    for name, frame in raw.items():
        if name == flat_key:
            out["flat"] = normalise_headers(frame, flat_names)
        elif name in TABLES:
            out[name] = normalise_headers(frame, TABLES[name].names)
        else:
            skipped.append(
                ignored(
                    frame,
                    "unsupported_entry",
                    f"table {name!r} is not the flat invoice form or a canonical table",
                )
            )
    return finish({**out, IGNORED: concat(skipped)})


COLUMNS = (
    SourceColumn(
        "invoice_id",
        "Invoice number, unique.",
        "invoices.invoice_id",
        True,
        ("invoice_number", "invoice_no", "invoice_num"),
    ),
    SourceColumn(
        "customer_id",
        "Billed customer's account.",
        "invoices.customer_id",
        True,
        ("customer_number", "customer_no", "customer_num"),
    ),
    SourceColumn("invoice_date", "Document date.", "invoices.invoice_date"),
    SourceColumn("due_date", "Net due date.", "invoices.due_date", True, ("net_due_date",)),
    SourceColumn("amount", "Gross amount billed.", "invoices.amount", True, ("invoice_amount",)),
    SourceColumn(
        "currency",
        "ISO 4217 code; the reporting currency when absent.",
        "invoices.currency",
        False,
        ("currency_code",),
    ),
    SourceColumn(
        "paid_date",
        "Date fully settled; blank while open.",
        "payments.payment_date",
        False,
        ("settled_date", "date_paid"),
    ),
    SourceColumn(
        "disputed",
        "Whether the invoice was disputed (yes/no).",
        "invoices.disputed",
        False,
        ("is_disputed",),
    ),
)


PRESET = Preset(
    name="flat",
    description=(
        "The flat invoice form: one row per invoice with its settlement date. Headers are "
        "normalised to snake case and common spellings; values pass through unchanged."
    ),
    source_columns=COLUMNS,
    options={"date_format": None, "decimal": ".", "reporting_currency": "USD", "header": 0},
    convert=convert,
    signature=tuple((c.name, *c.aliases) for c in COLUMNS if c.required),
)
