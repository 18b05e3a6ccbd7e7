"""Which source header is which canonical column, and the loading options.

A mapping is a dict, or a YAML file holding one::

    date_format: "%d/%m/%Y"        # or excel1900 / excel1904 for serial day numbers
    decimal: ","                   # amounts use a decimal comma
    delimiter: ";"                 # overrides sniffing
    encoding: cp1252               # overrides detection
    reporting_currency: EUR
    currency: EUR                  # the currency of every amount when the source has none
    tables: {invoices: AR_ITEMS}   # canonical table -> file stem, sheet or database table
    invoices:                      # canonical column -> source header
      invoice_id: Doc No
      due_date: Net due date

For a single flat file the column entries may sit at the top level
(``{invoice_id: "Doc No"}``); there a top-level ``currency`` that is an ISO
code is the constant currency, anything else the currency column's header.
Headers not mapped explicitly are recognised from common names
(:data:`SYNONYMS`), ignoring case, spaces, underscores and punctuation.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rpmkit.schema import FLAT_INVOICE, TABLES, Table

__all__ = [
    "OPTION_KEYS",
    "SYNONYMS",
    "Options",
    "normalise_header",
    "parse_mapping",
    "resolve_columns",
]

OPTION_KEYS = (
    "date_format",
    "decimal",
    "delimiter",
    "encoding",
    "reporting_currency",
    "currency",
    "tables",
    "sheet",
    "schema",
    "header",
)
"""Option names accepted in a mapping, from a preset or as keyword arguments of ``load``."""

# Normalised header spellings per canonical column, most specific first.
_COMMON = {
    "customer_id": "customerid customer customernumber customerno custno custid custnumber "
    "customercode custcode customeraccount accountnumber accountno account clientid client "
    "clientnumber debtor debtorid debtorno debtornumber soldto soldtoparty",
    "invoice_id": "invoiceid invoicenumber invoiceno invoicenum invoicenr invnumber invno "
    "invoice docno docnumber documentnumber documentno document billnumber billno invoiceref",
    "amount": "amount invoiceamount amt invamount documentamount grossamount originalamount",
    "currency": "currency curr currencycode ccy cur documentcurrency",
}
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "flat": {
        **{k: tuple(v.split()) for k, v in _COMMON.items()},
        "invoice_date": (
            "invoicedate",
            "docdate",
            "documentdate",
            "invdate",
            "billdate",
            "issuedate",
        ),
        "due_date": ("duedate", "netduedate", "paymentduedate", "due", "dueon"),
        "paid_date": (
            "paiddate",
            "settleddate",
            "paymentdate",
            "datepaid",
            "clearingdate",
            "cleareddate",
            "settlementdate",
        ),
        "disputed": ("disputed", "dispute", "indispute", "isdisputed"),
        "terms": ("terms", "paymentterms", "termscode"),
        "po_number": ("ponumber", "pono", "purchaseorder", "purchaseordernumber", "po"),
        "channel": ("channel", "deliverychannel"),
        "segment": ("segment", "customersegment"),
    },
    "customers": {
        "customer_id": tuple(_COMMON["customer_id"].split()),
        "name": ("name", "customername", "custname", "accountname"),
        "credit_limit": ("creditlimit", "limit"),
        "terms_days": ("termsdays", "paymenttermsdays", "netdays"),
        "created_date": ("createddate", "created", "opendate", "accountopened"),
    },
    "payments": {
        "payment_id": (
            "paymentid",
            "paymentnumber",
            "paymentno",
            "receiptid",
            "receiptnumber",
            "receiptno",
        ),
        "payment_date": ("paymentdate", "receiptdate", "valuedate", "date"),
        "amount": ("amount", "paymentamount", "amt", "receiptamount"),
        "currency": tuple(_COMMON["currency"].split()),
        "customer_id": tuple(_COMMON["customer_id"].split()),
        "payer_name": ("payername", "payer"),
        "method": ("method", "paymentmethod"),
        "remittance_text": ("remittancetext", "remittance"),
    },
}
SYNONYMS["invoices"] = {
    k: v for k, v in SYNONYMS["flat"].items() if k not in ("paid_date", "disputed")
}


def normalise_header(header: str) -> str:
    """Lower case, ``#`` read as "number", everything but letters and digits removed."""
    return re.sub(r"[^a-z0-9]", "", str(header).lower().replace("#", "number"))


@dataclass
class Options:
    """Effective loading options and per-table column mappings."""

    date_format: str | None = None
    decimal: str = "."
    delimiter: str | None = None
    encoding: str | None = None
    reporting_currency: str | None = None
    currency: str | None = None
    tables: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None
    schema: str | None = None
    header: int | None = 0
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in OPTION_KEYS if getattr(self, k) not in (None, {})}
        if out.get("decimal") == ".":
            del out["decimal"]
        if out.get("header") == 0:
            del out["header"]
        if self.extra:
            out["preset_options"] = dict(self.extra)
        return out


def parse_mapping(mapping) -> tuple[dict, dict[str, dict[str, str]], list[str]]:
    """Split a mapping (dict or YAML path) into options, column mappings and errors."""
    if mapping is None:
        return {}, {}, []
    if isinstance(mapping, str | Path):
        import yaml

        path = Path(mapping)
        try:
            mapping = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            return {}, {}, [f"cannot read the mapping file {str(mapping)!r}: {exc}"]
    if not isinstance(mapping, Mapping):
        return (
            {},
            {},
            [f"a mapping must be a dict or a YAML file of one, got {type(mapping).__name__}"],
        )
    options: dict = {}
    columns: dict[str, dict[str, str]] = {}
    errors: list[str] = []
    flat_names = set(FLAT_INVOICE.names)
    from rpmkit import money

    for key, value in mapping.items():
        if (
            key == "currency"
            and isinstance(value, str)
            and not money.is_known_currency(value.upper())
        ):
            # Top-level ``currency`` is the constant currency when it is an ISO code,
            # else (flat files) the header of the currency column.
            columns.setdefault("flat", {})[key] = value
        elif key in OPTION_KEYS:
            options[key] = value
        elif key in TABLES or key == "flat":
            if not isinstance(value, Mapping):
                errors.append(f"mapping for table {key!r} must be {{canonical_column: header}}")
                continue
            spec = FLAT_INVOICE if key == "flat" else TABLES[key]
            bad = [c for c in value if c not in spec.names]
            if bad:
                errors.append(
                    f"{key}: unknown canonical column(s) {', '.join(map(str, bad))}; "
                    f"columns are {', '.join(spec.names)}"
                )
            columns[key] = {str(k): str(v) for k, v in value.items() if k in spec.names}
        elif key in flat_names and isinstance(value, str):
            columns.setdefault("flat", {})[key] = value
        else:
            close = difflib.get_close_matches(str(key), [*OPTION_KEYS, *TABLES, *flat_names], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(f"unknown mapping key {key!r}{hint}")
    return options, columns, errors


def build_options(layers: list[dict], *, lenient: int = 0) -> tuple[Options, list[str]]:
    """Merge option dicts, later layers winning; check their values.

    The first ``lenient`` layers (a preset's options) may carry keys of their
    own; they are kept in ``extra``. ``header`` is the one option whose
    ``None`` means something (the preset wants every line as a row).
    """
    merged: dict = {}
    extra: dict = {}
    errors: list[str] = []
    for i, layer in enumerate(layers):
        for k, v in layer.items():
            if k == "header":
                merged[k] = v
                continue
            if v is None:
                continue
            if k not in OPTION_KEYS:
                if i < lenient:
                    extra[k] = v
                    continue
                close = difflib.get_close_matches(str(k), OPTION_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                errors.append(f"unknown option {k!r}{hint}")
                continue
            merged[k] = v
    opts = Options(**merged, extra=extra)
    if opts.decimal not in (".", ","):
        errors.append(f"decimal must be '.' or ',', got {opts.decimal!r}")
    if opts.delimiter is not None and (
        not isinstance(opts.delimiter, str) or len(opts.delimiter) != 1
    ):
        errors.append(f"delimiter must be one character, got {opts.delimiter!r}")
    if opts.date_format is not None and not isinstance(opts.date_format, str):
        errors.append(f"date_format must be text, got {opts.date_format!r}")
    if opts.tables and not isinstance(opts.tables, Mapping):
        errors.append("tables must map canonical table names to source table names")
    for k in ("reporting_currency", "currency"):
        v = getattr(opts, k)
        if v is not None:
            from rpmkit import money

            if not money.is_known_currency(str(v).upper()):
                errors.append(f"{k} {v!r} is not an ISO 4217 currency code")
            else:
                setattr(opts, k, str(v).upper())
    if opts.header not in (0, None):
        errors.append(f"header must be 0 (first line) or None (no header), got {opts.header!r}")
    return opts, errors


def resolve_columns(
    spec: Table,
    table: str,
    headers: list[str],
    explicit: Mapping[str, str] | None,
    *,
    not_required: frozenset[str] = frozenset(),
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Map canonical columns to headers.

    Returns ``(used, problems)``: ``used`` is ``{canonical: header}``;
    ``problems`` lists ``(column, reason, message)`` for missing required
    columns (with the closest header suggested) and mapped headers not found.
    """
    used: dict[str, str] = {}
    taken: set[str] = set()
    problems: list[tuple[str, str, str]] = []
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(normalise_header(h), h)
    for canon, header in (explicit or {}).items():
        hit = header if header in headers else by_norm.get(normalise_header(header))
        if hit is None:
            close = difflib.get_close_matches(header, headers, n=1, cutoff=0.5)
            hint = f"; closest is {close[0]!r}" if close else ""
            problems.append(
                (
                    canon,
                    "missing_column",
                    f"the mapping maps {canon} to {header!r}, which is not a header here; "
                    f"headers are: {', '.join(headers)}{hint}",
                )
            )
            continue
        used[canon] = hit
        taken.add(hit)
    synonyms = SYNONYMS.get(table, {})
    for col in spec.columns:
        if col.name in used:
            continue
        candidates = (normalise_header(col.name), *synonyms.get(col.name, ()))
        for cand in candidates:
            h = by_norm.get(cand)
            if h is not None and h not in taken:
                used[col.name] = h
                taken.add(h)
                break
    for col in spec.columns:
        if col.required and col.name not in used and col.name not in not_required:
            pool = [h for h in headers if h not in taken]
            close = difflib.get_close_matches(
                normalise_header(col.name), [normalise_header(h) for h in pool], n=1, cutoff=0.6
            )
            hint = ""
            if close:
                hint = f"; closest is {next(h for h in pool if normalise_header(h) == close[0])!r}"
            problems.append(
                (
                    col.name,
                    "missing_column",
                    f"required column {col.name!r} not found; headers are: "
                    f"{', '.join(headers) or '(none)'}{hint}; "
                    f"map it with mapping={{{col.name!r}: ...}}",
                )
            )
    return used, problems
