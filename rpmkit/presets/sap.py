"""``sap-fbl5n``: SAP customer line items (transaction FBL5N), open and cleared.

Columns as FBL5N labels them (English log-on; ``Net due date`` and ``Net Due
Date`` both work): ``Customer, Company Code, Document Number, Document Type,
Document Date, Posting Date, Net due date, Amount in local currency, Local
Currency, Clearing Document, Clearing date, Reference, Assignment, Text``.
Amounts are signed (debit positive), possibly with a trailing minus and a
decimal comma (``1.234,56-``); declare ``decimal`` to match the export.

Line kinds (document types are options, defaults in brackets):

* invoice types [RV, DR], positive → invoices (``invoice_date`` = Document
  Date, ``due_date`` = Net due date); a document with several lines gives
  ``DOC#1``, ``DOC#2`` …;
* payment types [DZ], negative → one payment per document (its cash is the
  net of the document's payment lines, so a residual posted in the payment
  document is netted), ``payment_date`` = Posting Date;
* credit types [DG] negative, and negative invoice types (cancellations) →
  ``credit_note`` adjustments of the invoices they are cleared with;
* residual items: a line posted *by* a clearing document (its Document
  Number is some line's Clearing Document, e.g. an AB residual from F-32 or
  the residual in a payment document) continues the unsettled part of that
  clearing; it is ``_ignored`` as ``carried_forward`` (its amount stays open on
  the original invoices) and, when it is cleared later, what clears it is
  applied to those invoices;
* any other positive line (e.g. an AB transfer posting) → an invoice of its
  own; other negative lines → ``_ignored`` (``unsupported_entry``).

Allocations: the lines sharing a Clearing Document were cleared together.
Credit notes, then payments (each oldest first) are applied to the group's
invoices (oldest first) up to the part the clearing settled, dated at the
Clearing date. When a cleared group's credits fall short of its debits and no
residual explains it, the difference is a ``discount`` adjustment (cash
discount or a payment difference written off at clearing). Open credit memos
are ``_ignored`` as ``unapplied_credit``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rpmkit.presets.allocation import Slot, Source, allocate
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
    order_keys,
    parse_dates,
    parse_money,
    provenance,
    text,
    text_frame,
    usable_tables,
)

__all__ = ["PRESET"]

COLUMNS = (
    SourceColumn(
        "Customer", "Customer account number.", "customer_id", True, ("Account", "Customer Number")
    ),
    SourceColumn(
        "Company Code", "Company code (kept as an attribute).", "company_code", False, ("CoCd",)
    ),
    SourceColumn(
        "Document Number",
        "Accounting document number.",
        "invoice_id / payment_id / adjustment_id",
        True,
        ("DocumentNo", "Document No"),
    ),
    SourceColumn(
        "Document Type",
        "RV/DR invoice, DZ payment, DG credit memo, AB clearing.",
        "line kind",
        True,
        ("Type", "Doc. Type"),
    ),
    SourceColumn(
        "Document Date", "Document (billing) date.", "invoices.invoice_date", False, ("Doc. Date",)
    ),
    SourceColumn(
        "Posting Date",
        "Posting date.",
        "payments.payment_date, adjustments.date",
        True,
        ("Pstng Date",),
    ),
    SourceColumn(
        "Net due date",
        "Net due date (baseline date + terms).",
        "invoices.due_date",
        True,
        ("Net Due Date", "Net due dt"),
    ),
    SourceColumn(
        "Amount in local currency",
        "Signed amount, debit positive.",
        "amounts",
        True,
        ("Amount in LC", "Amt in loc.cur.", "Amount in Local Currency"),
    ),
    SourceColumn(
        "Local Currency", "Company code currency.", "currency", False, ("LCurr", "Currency")
    ),
    SourceColumn(
        "Clearing Document",
        "Document that cleared the line (blank: open).",
        "allocations",
        False,
        ("Clrng doc.", "Clearing Doc."),
    ),
    SourceColumn(
        "Clearing date",
        "Date the line was cleared.",
        "allocations.applied_date",
        False,
        ("Clearing", "Clearing Date"),
    ),
    SourceColumn("Reference", "Reference (XBLNR).", "attribute reference", False),
    SourceColumn("Assignment", "Assignment (ZUONR).", "attribute assignment", False),
    SourceColumn("Text", "Line item text.", "payments.remittance_text / adjustments.reason", False),
)


@dataclass
class _State:
    """Running amounts while clearing groups are processed."""

    invoice_left: dict[str, int] = field(default_factory=dict)
    pay_left: dict[str, int] = field(default_factory=dict)
    cn_left: dict[int, int] = field(default_factory=dict)
    carry_debit: dict[str, list[Slot]] = field(default_factory=dict)
    carry_credit: dict[str, list[Source]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    alloc: dict[tuple[str, str], list] = field(default_factory=dict)
    adj: list[dict] = field(default_factory=list)


def _frame(raw: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    parts = []
    usable, skipped = usable_tables(raw, COLUMNS, "sap-fbl5n")
    for _name, frame, col in usable:
        t = pd.DataFrame({c.name: text(frame, col[c.name]) for c in COLUMNS}, index=frame.index)
        t = t.assign(**provenance(frame))
        parts.append(t)
    return concat(parts), skipped


def convert(raw: dict[str, pd.DataFrame], options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    rows, skipped = _frame(raw)
    if rows.empty:
        return finish({IGNORED: skipped})
    decimal = options.get("decimal", ",")
    fmt = options.get("date_format")
    rep = options.get("reporting_currency", "EUR")
    inv_types = {t.upper() for t in options.get("invoice_types", ())}
    pay_types = {t.upper() for t in options.get("payment_types", ())}
    cr_types = {t.upper() for t in options.get("credit_types", ())}
    clr_types = {t.upper() for t in options.get("clearing_types", ())}
    ign: list[pd.DataFrame] = [skipped]
    # Clearing groups that lost a line: their imbalance is not a discount.
    dropped_groups: set[str] = set()

    def drop(mask, reason, message) -> None:
        nonlocal rows
        mask = pd.Series(mask, index=rows.index).fillna(False).astype(bool)
        if mask.any():
            dropped_groups.update(rows.loc[mask, "Clearing Document"])
            msg = message[mask] if isinstance(message, pd.Series) else message
            why = reason[mask] if isinstance(reason, pd.Series) else reason
            ign.append(ignored(rows[mask], why, msg))
            rows = rows[~mask]

    rows["currency"] = rows["Local Currency"].where(rows["Local Currency"] != "", rep)
    amount = rows["Amount in local currency"]
    minor, reason = parse_money(amount, rows["currency"], decimal)
    drop(
        reason.notna(),
        reason.astype(object).fillna(""),
        "amount " + amount.map(repr) + " could not be read",
    )
    rows = rows.assign(value=minor[rows.index].astype("int64"))
    drop(rows["value"] == 0, "amount_not_positive", "zero line")
    rows = rows.copy()
    rows["pos"] = range(len(rows))
    rows["type"] = rows["Document Type"].str.upper()
    rows["doc"] = rows["Document Number"]
    rows["clr"] = rows["Clearing Document"]
    rows["inv_date"] = rows["Document Date"].where(
        rows["Document Date"] != "", rows["Posting Date"]
    )
    rows["k_date"] = parse_dates(rows["inv_date"], fmt).pipe(order_keys)
    rows["k_post"] = parse_dates(rows["Posting Date"], fmt).pipe(order_keys)
    rows["k_due"] = parse_dates(rows["Net due date"], fmt).pipe(order_keys)
    rows["k_clr"] = parse_dates(rows["Clearing date"], fmt).pipe(order_keys)

    groups = set(rows.loc[rows["clr"] != "", "clr"])
    v, typ = rows["value"], rows["type"]
    posted_by_clearing = rows["doc"].isin(groups) & (rows["clr"] != rows["doc"])
    res_debit = (v > 0) & ~typ.isin(inv_types) & posted_by_clearing
    res_credit = (v < 0) & typ.isin(clr_types) & posted_by_clearing
    is_pay = (v < 0) & typ.isin(pay_types)
    is_cn = (v < 0) & (typ.isin(cr_types) | typ.isin(inv_types))
    is_inv = (v > 0) & ~res_debit
    other = ~(res_debit | res_credit | is_pay | is_cn | is_inv)
    drop(
        other,
        "unsupported_entry",
        "document type " + rows["Document Type"] + " with a credit amount is not a payment,"
        " credit memo or residual",
    )
    for name, mask in [
        ("res_debit", res_debit),
        ("res_credit", res_credit),
        ("is_pay", is_pay),
        ("is_cn", is_cn),
        ("is_inv", is_inv),
    ]:
        rows[name] = mask[rows.index]

    # Invoices (one per line; DOC#k when a document has several).
    inv = rows[rows["is_inv"]].sort_values(["k_due", "pos"], kind="stable")
    k = inv.groupby("doc", sort=False).cumcount() + 1
    n = inv.groupby("doc", sort=False)["pos"].transform("size")
    inv = inv.assign(invoice_id=inv["doc"].where(n == 1, inv["doc"] + "#" + k.astype(str)))
    inv = inv.sort_values("pos")
    rows["invoice_id"] = inv["invoice_id"].reindex(rows.index).fillna("")

    st = _State()
    st.invoice_left = dict(zip(inv["invoice_id"], inv["value"].astype(int), strict=True))
    pay_doc_lines = rows[
        (rows["is_pay"] | rows["res_debit"]) & rows["doc"].isin(rows.loc[rows["is_pay"], "doc"])
    ]
    cash = (-pay_doc_lines.groupby("doc", sort=False)["value"].sum()).astype(int)
    st.pay_left = dict(cash.items())
    credits = rows[rows["is_cn"]]
    st.cn_left = dict(zip(credits.index, (-credits["value"]).astype(int).tolist(), strict=True))
    # Plain records: clearing groups are many and small, pandas per group is slow.
    fields = ["doc", "value", "invoice_id", "k_date", "k_due", "k_post", "pos", "clr"]
    flags = ["is_inv", "res_debit", "is_cn", "is_pay", "res_credit"]
    recs = {
        i: r
        for i, r in zip(
            rows.index, rows[fields + flags].itertuples(index=False, name="Line"), strict=True
        )
    }
    members: dict[str, list[int]] = defaultdict(list)
    for i, r in recs.items():
        if r.clr:
            members[r.clr].append(i)
    r_plus_of = rows[rows["res_debit"]].groupby("doc")["value"].sum().astype(int).to_dict()
    cleared = rows[(rows["clr"] != "") & (rows["Clearing date"] != "")]
    applied_of = cleared.drop_duplicates("clr").set_index("clr")["Clearing date"].to_dict()

    def process(g: str) -> None:
        if g in st.done:
            return
        st.done.add(g)
        m = members.get(g)
        if not m:
            return
        slots: list[Slot] = []
        sources: list[Source] = []
        for i in m:
            r = recs[i]
            if r.is_inv:
                slots.append(
                    Slot(r.invoice_id, st.invoice_left[r.invoice_id], (r.k_date, r.k_due, r.pos))
                )
            elif r.res_debit:
                process(r.doc)
                need = int(r.value)
                for s in st.carry_debit.get(r.doc, []):
                    take = min(need, s.amount)
                    if take > 0:
                        slots.append(Slot(s.invoice_id, take, s.order))
                        s.amount -= take
                        need -= take
            elif r.is_cn:
                sources.append(Source(f"cn:{i}", st.cn_left[i], (0, r.k_post, r.pos), ("cn", i)))
            elif r.is_pay:
                cap = min(int(-r.value), st.pay_left.get(r.doc, 0))
                sources.append(Source(r.doc, cap, (1, r.k_post, r.pos), ("pay", i)))
            elif r.res_credit:
                process(r.doc)
                need = int(-r.value)
                for s in st.carry_credit.get(r.doc, []):
                    take = min(need, s.amount)
                    if take > 0:
                        sources.append(Source(s.doc_id, take, s.order, s.ref))
                        s.amount -= take
                        need -= take
        r_plus = r_plus_of.get(g, 0)
        total_debit = sum(s.amount for s in slots)
        applied_date = applied_of.get(g, "")
        for slot, src, amount in allocate(slots, sources, limit=max(total_debit - r_plus, 0)):
            st.invoice_left[slot.invoice_id] -= amount
            kind, line = src.ref
            if kind == "cn":
                st.cn_left[line] -= amount
                st.adj.append(
                    {
                        "line": line,
                        "invoice_id": slot.invoice_id,
                        "amount": amount,
                        "kind": "credit_note",
                    }
                )
            else:
                st.pay_left[src.doc_id] -= amount
                pair = (src.doc_id, slot.invoice_id)
                if pair in st.alloc:
                    st.alloc[pair][0] += amount
                else:
                    st.alloc[pair] = [amount, line, applied_date]
        left = [s for s in sorted(slots, key=lambda s: s.order) if s.amount > 0]
        unexplained = sum(s.amount for s in left) - r_plus
        if unexplained > 0 and g not in dropped_groups:
            first = m[0]
            for s in left:
                take = min(unexplained, s.amount)
                if take <= 0:
                    break
                s.amount -= take
                unexplained -= take
                st.invoice_left[s.invoice_id] -= take
                st.adj.append(
                    {
                        "line": first,
                        "invoice_id": s.invoice_id,
                        "amount": take,
                        "kind": "discount",
                        "id": f"{g}/{s.invoice_id}",
                        "date": applied_date,
                        "reason": f"difference at clearing {g}",
                    }
                )
        st.carry_debit[g] = [s for s in left if s.amount > 0]
        st.carry_credit[g] = [s for s in sources if s.amount > 0 and s.ref[0] == "pay"] + [
            s for s in sources if s.amount > 0 and s.ref[0] == "cn"
        ]

    for g in rows.loc[rows["clr"] != ""].sort_values(["k_clr", "clr"])["clr"].drop_duplicates():
        process(g)

    decimal_fmt = decimal
    invoices = text_frame(
        {
            "invoice_id": inv["invoice_id"],
            "customer_id": inv["Customer"],
            "invoice_date": inv["inv_date"],
            "due_date": inv["Net due date"],
            "amount": format_money(inv["value"], inv["currency"], decimal_fmt).set_axis(inv.index),
            "currency": inv["currency"],
            "document_type": inv["Document Type"],
            "posting_date": inv["Posting Date"],
            "company_code": inv["Company Code"],
            "reference": inv["Reference"],
            "assignment": inv["Assignment"],
            "text": inv["Text"],
            "_source": inv["_source"],
            "_line": inv["_line"],
        },
        inv.index,
    )
    pay = rows[rows["is_pay"]].drop_duplicates("doc")
    payments = text_frame(
        {
            "payment_id": pay["doc"],
            "payment_date": pay["Posting Date"],
            "amount": format_money(
                cash.reindex(pay["doc"]).tolist(), pay["currency"].tolist(), decimal_fmt
            ).tolist(),
            "currency": pay["currency"],
            "customer_id": pay["Customer"],
            "remittance_text": pay["Text"],
            "company_code": pay["Company Code"],
            "reference": pay["Reference"],
            "assignment": pay["Assignment"],
            "_source": pay["_source"],
            "_line": pay["_line"],
        },
        pay.index,
    )
    allocs = sorted(st.alloc.items(), key=lambda kv: recs[kv[1][1]].pos)
    at = rows.loc[[v[1] for _, v in allocs]]
    allocations = text_frame(
        {
            "payment_id": [p for (p, _i), _v in allocs],
            "invoice_id": [i for (_p, i), _v in allocs],
            "amount": format_money(
                [v[0] for _, v in allocs], at["currency"].tolist(), decimal_fmt
            ).tolist(),
            "applied_date": [v[2] for _, v in allocs],
            "_source": at["_source"].reset_index(drop=True),
            "_line": at["_line"].reset_index(drop=True),
        }
    )
    per_line = defaultdict(int)
    for a in st.adj:
        if a["kind"] == "credit_note":
            per_line[a["line"]] += 1
    at = rows.loc[[a["line"] for a in st.adj]]
    cn = [a["kind"] == "credit_note" for a in st.adj]
    adjustments = text_frame(
        {
            "adjustment_id": [
                d + ("" if per_line[a["line"]] == 1 else "/" + a["invoice_id"]) if c else a["id"]
                for a, c, d in zip(st.adj, cn, at["doc"], strict=True)
            ],
            "invoice_id": [a["invoice_id"] for a in st.adj],
            "date": [
                p if c else (a["date"] or p)
                for a, c, p in zip(st.adj, cn, at["Posting Date"], strict=True)
            ],
            "amount": format_money(
                [a["amount"] for a in st.adj], at["currency"].tolist(), decimal_fmt
            ).tolist(),
            "kind": [a["kind"] for a in st.adj],
            "reason": [
                t if c else a["reason"] for a, c, t in zip(st.adj, cn, at["Text"], strict=True)
            ],
            "_source": at["_source"].reset_index(drop=True),
            "_line": at["_line"].reset_index(drop=True),
        }
    )

    # Residual items: their amount is carried on the documents they continue.
    res = rows[rows["res_debit"] | rows["res_credit"]]
    if len(res):
        ign.append(
            ignored(
                res,
                "carried_forward",
                "residual item posted by clearing "
                + res["doc"]
                + "; its amount stays on the documents that clearing settled",
            )
        )
    cn_rows = rows[rows["is_cn"]]
    left = cn_rows[[st.cn_left[i] > 0 for i in cn_rows.index]]
    if len(left):
        rest = pd.Series([st.cn_left[i] for i in left.index], index=left.index)
        ign.append(
            ignored(
                left,
                "unapplied_credit",
                "credit memo "
                + left["doc"]
                + ": "
                + format_money(rest, left["currency"], decimal_fmt).set_axis(left.index)
                + " "
                + left["currency"]
                + " not cleared against an invoice",
            )
        )
    parties = pd.concat([inv, pay]).sort_values("pos")
    customers = customers_from(parties, "Customer")
    return finish(
        {
            "customers": customers,
            "invoices": invoices,
            "payments": payments,
            "allocations": allocations,
            "adjustments": adjustments,
            IGNORED: by_line(concat(ign)),
        }
    )


PRESET = Preset(
    name="sap-fbl5n",
    description=(
        "SAP FBL5N customer line items (open and cleared): RV/DR invoices, DZ payments, DG credit"
        " memos; lines sharing a clearing document give the allocations. German-style amounts"
        " (1.234,56-) and dates (31.12.2024) by default."
    ),
    source_columns=COLUMNS,
    options={
        "date_format": "%d.%m.%Y",
        "decimal": ",",
        "reporting_currency": "EUR",
        "header": 0,
        "invoice_types": ("RV", "DR"),
        "payment_types": ("DZ",),
        "credit_types": ("DG",),
        "clearing_types": ("AB",),
    },
    convert=convert,
    signature=(
        ("Customer", "Account"),
        ("Document Number", "DocumentNo"),
        ("Document Type", "Type"),
        ("Net due date", "Net due dt"),
        ("Amount in local currency", "Amount in LC", "Amt in loc.cur."),
        ("Clearing Document", "Clrng doc."),
    ),
)
