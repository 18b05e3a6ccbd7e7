"""The one definition of every ledger table: columns, kinds, keys and reason codes.

Everything that reads, writes or checks a table takes its column names from
here (``INVOICES.amount`` style constants via :data:`TABLES`), so a rename is
one edit. In memory:

* ids, codes and free text are pandas strings (Arrow-backed);
* dates are ``datetime64[us]`` at midnight (calendar dates, no time zone);
* money is ``int64`` minor units of the row's ``currency`` (see :mod:`rpmkit.money`);
* flags are nullable booleans, counts nullable ``Int64``, rates ``float64``.

The reason codes in :data:`REASONS` are a stable public contract: tests,
rejects files and downstream tooling match on them, so codes are only ever
added, never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "ADJUSTMENT_KINDS",
    "ACTIVITY_KINDS",
    "FLAT_INVOICE",
    "PAYMENT_METHODS",
    "REASONS",
    "TABLES",
    "TABLE_ORDER",
    "Column",
    "Table",
    "empty_frame",
    "dtype_for",
]

Kind = Literal["id", "date", "money", "currency", "text", "enum", "int", "bool", "rate"]

# pandas' default string dtype (Arrow-backed, NaN for missing): frames users build
# themselves merge and compare with ours without casts.
ID_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)
TEXT_DTYPE = ID_DTYPE
# pandas' default resolution for parsed dates.
DATE_DTYPE = "datetime64[us]"
MONEY_DTYPE = "int64"

ADJUSTMENT_KINDS = ("credit_note", "write_off", "discount", "deduction")
ACTIVITY_KINDS = ("reminder", "call", "letter", "sms", "email", "agency", "promise_to_pay")
PAYMENT_METHODS = ("ach", "wire", "card", "check", "other")
CHANNELS = ("paper", "electronic")


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    ``kind`` decides parsing and the in-memory dtype; ``values`` lists the
    allowed codes of an ``enum``; ``doc`` is the data-dictionary line.
    """

    name: str
    kind: Kind
    required: bool = False
    doc: str = ""
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, primary key and the columns that carry meaning."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date: str | None = None
    doc: str = ""
    references: dict[str, str] = field(default_factory=dict)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def money(self) -> str | None:
        return next((c.name for c in self.columns if c.kind == "money"), None)


def _c(name: str, kind: Kind, required: bool = False, doc: str = "", values=()) -> Column:
    return Column(name, kind, required, doc, tuple(values))


CUSTOMERS = Table(
    "customers",
    (
        _c("customer_id", "id", True, "Customer account number, unique."),
        _c("name", "text", doc="Legal or trading name."),
        _c("segment", "text", doc="Customer segment, e.g. enterprise / mid_market / smb."),
        _c("country", "text", doc="ISO 3166 country code or the source's country code."),
        _c("currency", "currency", doc="Billing currency (ISO 4217)."),
        _c("credit_limit", "money", doc="Credit limit in the customer's currency."),
        _c("terms_days", "int", doc="Standard payment terms in days (Net N)."),
        _c("created_date", "date", doc="Date the account was opened."),
    ),
    key=("customer_id",),
    date="created_date",
    doc="The customer master: one row per account.",
)

INVOICES = Table(
    "invoices",
    (
        _c("invoice_id", "id", True, "Invoice number, unique."),
        _c("customer_id", "id", True, "Billed customer."),
        _c("invoice_date", "date", True, "Document date; credit sales are counted on it."),
        _c("due_date", "date", True, "Net due date; on or after invoice_date."),
        _c("amount", "money", True, "Gross amount billed (> 0)."),
        _c("currency", "currency", True, "ISO 4217 code of amount."),
        _c("terms", "text", doc="Payment terms code, e.g. NET30 or 2/10 NET30."),
        _c("po_number", "text", doc="Customer purchase-order reference."),
        _c("channel", "enum", doc="How the invoice was delivered.", values=CHANNELS),
        _c("segment", "text", doc="Segment at invoice time, when it differs from the master."),
    ),
    key=("invoice_id",),
    date="invoice_date",
    doc="Receivables documents billed to customers.",
    references={"customer_id": "customers"},
)

PAYMENTS = Table(
    "payments",
    (
        _c("payment_id", "id", True, "Receipt identifier, unique."),
        _c("payment_date", "date", True, "Value date of the receipt."),
        _c("amount", "money", True, "Amount received (> 0)."),
        _c("currency", "currency", True, "ISO 4217 code of amount."),
        _c("customer_id", "id", doc="Paying customer; blank before cash application."),
        _c("payer_name", "text", doc="Name on the bank statement."),
        _c("method", "enum", doc="Payment method.", values=PAYMENT_METHODS),
        _c("remittance_text", "text", doc="Free-text remittance advice as received."),
    ),
    key=("payment_id",),
    date="payment_date",
    doc="Cash received. Any part not allocated to invoices is unapplied cash.",
)

ALLOCATIONS = Table(
    "allocations",
    (
        _c("payment_id", "id", True, "Payment applied."),
        _c("invoice_id", "id", True, "Invoice it settles."),
        _c("amount", "money", True, "Amount applied, in the payment's and invoice's currency."),
        _c("applied_date", "date", doc="Date of application; the payment date when blank."),
    ),
    key=("payment_id", "invoice_id"),
    date="applied_date",
    doc="Cash application: which payment settles which invoice, and by how much.",
    references={"payment_id": "payments", "invoice_id": "invoices"},
)

ADJUSTMENTS = Table(
    "adjustments",
    (
        _c("adjustment_id", "id", True, "Adjustment document number, unique."),
        _c("invoice_id", "id", True, "Invoice whose open amount it reduces."),
        _c("date", "date", True, "Posting date."),
        _c("amount", "money", True, "Reduction of the invoice's open amount (> 0)."),
        _c("kind", "enum", True, "What the reduction is.", values=ADJUSTMENT_KINDS),
        _c("reason", "text", doc="Reason text or code."),
    ),
    key=("adjustment_id",),
    date="date",
    doc="Credit notes, write-offs, discounts taken and deductions, each against one invoice.",
    references={"invoice_id": "invoices"},
)

DISPUTES = Table(
    "disputes",
    (
        _c("dispute_id", "id", True, "Dispute case number, unique."),
        _c("invoice_id", "id", True, "Disputed invoice."),
        _c("opened_date", "date", True, "Date the customer raised it."),
        _c("amount", "money", True, "Amount in dispute (> 0), in the invoice's currency."),
        _c("resolved_date", "date", doc="Date closed; blank while open."),
        _c("reason_code", "text", doc="Why the customer disputes (pricing, quantity, ...)."),
        _c("outcome", "text", doc="credit_note, rejected or partially_accepted."),
    ),
    key=("dispute_id",),
    date="opened_date",
    doc="Customer disputes against invoices.",
    references={"invoice_id": "invoices"},
)

ACTIVITIES = Table(
    "activities",
    (
        _c("activity_id", "id", True, "Activity identifier, unique."),
        _c("date", "date", True, "Date performed."),
        _c("customer_id", "id", True, "Customer contacted."),
        _c("kind", "enum", True, "What was done.", values=ACTIVITY_KINDS),
        _c("invoice_id", "id", doc="Invoice concerned, when specific."),
        _c("outcome", "text", doc="Result, e.g. kept / broken for a promise to pay."),
        _c("promised_date", "date", doc="Date promised (promise_to_pay)."),
        _c("promised_amount", "money", doc="Amount promised, in the invoice's currency."),
    ),
    key=("activity_id",),
    date="date",
    doc="Collection activities: reminders, calls, letters, promises to pay.",
    references={"customer_id": "customers"},
)

FX_RATES = Table(
    "fx_rates",
    (
        _c("date", "date", True, "Rate date; a rate holds until the next one."),
        _c("currency", "currency", True, "Currency converted from."),
        _c("rate", "rate", True, "Units of reporting currency per unit of currency (> 0)."),
    ),
    key=("date", "currency"),
    date="date",
    doc="Exchange rates into the reporting currency.",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        CUSTOMERS,
        INVOICES,
        PAYMENTS,
        ALLOCATIONS,
        ADJUSTMENTS,
        DISPUTES,
        ACTIVITIES,
        FX_RATES,
    )
}
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

FLAT_INVOICE = Table(
    "flat",
    (
        *INVOICES.columns[:5],
        _c("currency", "currency", False, "ISO 4217 code; the reporting currency when absent."),
        _c("paid_date", "date", doc="Date the invoice was fully settled; blank while open."),
        _c("disputed", "bool", doc="True when the invoice was disputed."),
        *INVOICES.columns[6:],
    ),
    key=("invoice_id",),
    date="invoice_date",
    doc="One row per invoice with its settlement date: the common export shape.",
)


def dtype_for(kind: Kind):
    """In-memory dtype of a column kind."""
    return {
        "id": ID_DTYPE,
        "text": TEXT_DTYPE,
        "enum": TEXT_DTYPE,
        "currency": TEXT_DTYPE,
        "date": DATE_DTYPE,
        "money": MONEY_DTYPE,
        "int": "Int64",
        "bool": "boolean",
        "rate": "float64",
    }[kind]


def empty_frame(table: str | Table, *, optional: bool = True) -> pd.DataFrame:
    """An empty frame with the table's columns and dtypes.

    Money columns that are optional are nullable (``Int64``) so a missing
    credit limit is ``<NA>``, never zero.
    """
    spec = TABLES[table] if isinstance(table, str) else table
    cols = {}
    for c in spec.columns:
        if c.required or optional:
            dtype = dtype_for(c.kind)
            if c.kind == "money" and not c.required:
                dtype = "Int64"
            cols[c.name] = pd.Series([], dtype=dtype)
    return pd.DataFrame(cols)


REASONS: dict[str, str] = {
    # file level
    "empty_file": "the file is empty",
    "header_only": "the file has a header but no data rows",
    "missing_column": "a required column is missing",
    "duplicate_header": "two columns have the same header",
    "unreadable_file": "the file could not be read in the declared or detected format",
    # values
    "missing_value": "a required value is blank",
    "bad_date": "not a date in the declared or detected format",
    "ambiguous_date": "day and month cannot be told apart; declare date_format",
    "excel_serial_date": "an Excel serial number instead of a date; declare the date system",
    "amount_missing": "the amount is blank",
    "amount_not_number": "the amount contains text or symbols",
    "amount_decimal_comma": "the amount uses a decimal comma; declare decimal=','",
    "amount_ambiguous_separator": "the amount's separator could be thousands or decimals",
    "amount_scientific": "the amount is in scientific notation and may have lost digits",
    "amount_too_many_decimals": "more decimals than the currency's minor unit allows",
    "amount_out_of_range": "the amount is too large to be a ledger amount",
    "amount_not_positive": "the amount must be greater than zero",
    "unknown_currency": "not an ISO 4217 currency code",
    "id_float": "an identifier that arrived as a decimal number (e.g. 1234.0)",
    "id_scientific": "an identifier in scientific notation: digits were lost",
    "bad_enum": "not one of the allowed codes for this column",
    "bad_number": "not a number",
    "bad_bool": "not a yes/no value",
    "totals_row": "a totals or summary row, not a document",
    # rows and keys
    "duplicate_exact": "an exact repeat of an earlier row (skipped, counted)",
    "duplicate_conflict": "the same key as another row with different values",
    "due_before_invoice": "the due date is before the invoice date",
    "unknown_customer": "the customer is not in the customer master",
    "unknown_invoice": "the invoice is not in the ledger",
    "unknown_payment": "the payment is not in the ledger",
    "currency_mismatch": "the currency differs from the document it refers to",
    "allocation_exceeds_open": "applying it would take the invoice below zero",
    "allocation_exceeds_payment": "allocations exceed the payment amount",
    "adjustment_exceeds_open": "the adjustment would take the invoice below zero",
    "applied_before_payment": "applied before the payment was received",
    "dated_before_invoice": "dated before the invoice it settles",
    "resolved_before_opened": "resolved before it was opened",
    "paid_before_invoice": "the paid date is before the invoice date",
    "fx_rate_missing": "no exchange rate on or before the document date",
    # added with rpmkit.load (io/validation)
    "duplicate_table": "two files or sheets provide the same table",
    "missing_table": "the source has no table the ledger can use",
    "bad_option": "an option, mapping or preset is invalid",
    "wrong_field_count": "the row has more or fewer fields than the header",
    "excel_error": "a spreadsheet error value (#N/A, #REF!, ...) instead of a value",
    "id_precision_lost": "an identifier stored as a number of over 15 digits: digits were lost",
    "date_has_time": "a date with a time of day other than midnight",
    "rate_not_positive": "the exchange rate must be greater than zero",
}
"""Stable reject reason codes and their one-line meaning."""
