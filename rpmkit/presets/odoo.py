"""``odoo``: Odoo journal items (``account.move.line``) of the receivable account.

Export the *Journal Items* list filtered on the receivable account with the
columns ``Date, Journal Entry, Partner, Account, Label, Due Date, Debit,
Credit, Amount in Currency, Currency, Matching Number`` (Odoo 17 calls the
last one ``Matching #``). Lines are classified by their journal entry's
sequence prefix (the part of ``INV/2024/00012`` before the first ``/``,
trailing digits dropped):

* debit lines of any entry that is not a payment or credit note (``INV/…``,
  opening ``MISC/…`` balances) → invoices; an entry with several receivable
  debit lines (instalment terms) gives one invoice per line, ``INV/…#1``, ``#2``;
* credit lines of bank/cash/payment entries (``BNK1/…``, ``PBNK1/…``,
  ``CSH1/…``) → payments, one per entry;
* credit lines of credit notes (``RINV/…``) → ``credit_note`` adjustments of
  the invoices they are matched with;
* lines sharing a matching number were reconciled together: their payments
  and credit notes are applied to the group's invoices, credit notes first,
  then payments, each oldest first, invoices oldest first, in exact minor
  units. A bare ``P`` (Odoo 16's mark for "partially matched", with no group
  id) matches nothing.

Amounts: ``Amount in Currency`` in ``Currency`` when both are filled,
otherwise ``Debit − Credit`` in ``options["company_currency"]`` (the
reporting currency unless set). Exchange-difference lines (zero in the
document currency) and refunds paid out are ``_ignored`` with a reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
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

__all__ = ["PRESET", "journal_code"]

COLUMNS = (
    SourceColumn("Date", "Accounting date of the journal entry.", "document dates"),
    SourceColumn(
        "Journal Entry",
        "Entry name, e.g. INV/2024/00012.",
        "invoice_id / payment_id / adjustment_id",
        True,
        ("Move", "move_id", "Entry"),
    ),
    SourceColumn(
        "Partner", "Customer (display name).", "customer_id", True, ("partner_id", "Customer")
    ),
    SourceColumn(
        "Account", "Receivable account (not used for mapping).", "", False, ("account_id",)
    ),
    SourceColumn(
        "Label", "Line label.", "payments.remittance_text / adjustments.reason", False, ("Name",)
    ),
    SourceColumn(
        "Due Date", "Due date of the line.", "invoices.due_date", False, ("date_maturity",)
    ),
    SourceColumn("Debit", "Debit in company currency.", "amounts"),
    SourceColumn("Credit", "Credit in company currency.", "amounts"),
    SourceColumn(
        "Amount in Currency",
        "Signed amount in the line's currency.",
        "amounts",
        False,
        ("amount_currency",),
    ),
    SourceColumn(
        "Currency", "Currency of Amount in Currency.", "currency", False, ("currency_id",)
    ),
    SourceColumn(
        "Matching Number",
        "Reconciliation group (full or P<id> partial).",
        "allocations",
        False,
        ("Matching #", "Matching", "matching_number"),
    ),
    SourceColumn(
        "Journal", "Journal name (not used: the entry prefix decides).", "", False, ("journal_id",)
    ),
)


def journal_code(move: str) -> str:
    """The sequence prefix of an entry name: ``"PBNK1/2024/00003"`` → ``"PBNK"``.

    >>> journal_code("INV/2024/00012"), journal_code("BNK1/2024/0007"), journal_code("x")
    ('INV', 'BNK', 'X')
    """
    head = str(move).split("/", 1)[0].strip().upper()
    return re.sub(r"\d+$", "", head)


def _frame(raw: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, bool, pd.DataFrame]:
    parts = []
    has_aic = False
    usable, skipped = usable_tables(raw, COLUMNS, "odoo")
    for _name, frame, col in usable:
        has_aic = has_aic or (col["Amount in Currency"] is not None and col["Currency"] is not None)
        t = pd.DataFrame({c.name: text(frame, col[c.name]) for c in COLUMNS}, index=frame.index)
        t = t.assign(**provenance(frame))
        parts.append(t)
    return concat(parts), has_aic, skipped


def convert(raw: dict[str, pd.DataFrame], options: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    rows, has_aic, skipped = _frame(raw)
    if rows.empty:
        return finish({IGNORED: skipped})
    company = options.get("company_currency") or options.get("reporting_currency", "USD")
    decimal = options.get("decimal", ".")
    fmt = options.get("date_format")
    pay_codes = {c.upper() for c in options.get("payment_journals", ())}
    cn_codes = {c.upper() for c in options.get("credit_note_journals", ())}
    ign: list[pd.DataFrame] = [skipped]

    def drop(mask, reason, message) -> None:
        nonlocal rows
        mask = pd.Series(mask, index=rows.index).fillna(False).astype(bool)
        if mask.any():
            msg = message[mask] if isinstance(message, pd.Series) else message
            why = reason[mask] if isinstance(reason, pd.Series) else reason
            ign.append(ignored(rows[mask], why, msg))
            rows = rows[~mask]

    # Company-currency balance; a blank debit or credit counts as zero.
    debit, r_d = parse_money(rows["Debit"].replace("", "0"), company, decimal)
    credit, r_c = parse_money(rows["Credit"].replace("", "0"), company, decimal)
    reason = r_d.where(r_d.notna(), r_c)
    both_blank = (rows["Debit"] == "") & (rows["Credit"] == "")
    reason = reason.where(~both_blank, "amount_missing")
    drop(
        reason.notna(),
        reason.astype(object).fillna(""),
        "debit/credit "
        + rows["Debit"].map(repr)
        + " / "
        + rows["Credit"].map(repr)
        + " could not be read",
    )
    rows = rows.assign(balance=(debit - credit)[rows.index].astype("int64"))

    foreign = has_aic & (rows["Currency"] != "") & (rows["Amount in Currency"] != "")
    rows["currency"] = rows["Currency"].where(foreign, company)
    aic, r_a = parse_money(
        rows["Amount in Currency"].where(foreign, "0"), rows["currency"], decimal
    )
    drop(
        foreign & r_a.notna(),
        r_a.astype(object).fillna(""),
        "amount in currency " + rows["Amount in Currency"].map(repr) + " could not be read",
    )
    aic = aic[rows.index]
    foreign = foreign[rows.index]
    exch = foreign & (aic == 0) & (rows["currency"] != company)
    drop(exch, "unsupported_entry", "exchange difference: no amount in " + rows["currency"])
    aic, foreign = aic[rows.index], foreign[rows.index]
    value = aic.where(foreign & (aic != 0), rows["balance"]).astype("int64")
    rows = rows.assign(value=value)
    rows["currency"] = rows["currency"].where(foreign & (aic != 0), company)
    drop(rows["value"] == 0, "amount_not_positive", "zero line")

    rows = rows.copy()
    rows["pos"] = range(len(rows))
    rows["code"] = rows["Journal Entry"].map(journal_code)
    rows["date"] = parse_dates(rows["Date"], fmt)
    rows["due"] = parse_dates(rows["Due Date"], fmt)
    is_pay_j = rows["code"].isin(pay_codes)
    is_cn_j = rows["code"].isin(cn_codes)
    is_invoice = (rows["value"] > 0) & ~is_pay_j & ~is_cn_j
    is_payment = (rows["value"] < 0) & is_pay_j
    is_credit = (rows["value"] < 0) & is_cn_j
    other = ~(is_invoice | is_payment | is_credit)
    what = pd.Series("a credit line outside payment and credit-note journals", index=rows.index)
    what = what.where(
        ~((rows["value"] > 0) & is_pay_j), "a refund paid out (debit in a payment journal)"
    )
    what = what.where(~((rows["value"] > 0) & is_cn_j), "a debit on a credit note")
    drop(other, "unsupported_entry", rows["Journal Entry"] + ": " + what)
    is_invoice, is_payment, is_credit = (m[rows.index] for m in (is_invoice, is_payment, is_credit))

    # Invoices: one per receivable debit line; instalments get #1, #2 … by due date.
    inv = rows[is_invoice].sort_values(["due", "pos"], kind="stable")
    k = inv.groupby("Journal Entry", sort=False).cumcount() + 1
    n = inv.groupby("Journal Entry", sort=False)["pos"].transform("size")
    inv = inv.assign(
        invoice_id=inv["Journal Entry"].where(n == 1, inv["Journal Entry"] + "#" + k.astype(str))
    )
    inv = inv.sort_values("pos")

    # Payments: one per (entry, currency).
    pay = rows[is_payment].copy()
    pay["abs"] = -pay["value"]
    heads = pay.drop_duplicates(["Journal Entry", "currency"])
    multi = heads["Journal Entry"].duplicated(keep=False)
    heads = heads.assign(
        payment_id=heads["Journal Entry"].where(
            ~multi, heads["Journal Entry"] + "#" + heads["currency"]
        )
    )
    pid = dict(
        zip(
            zip(heads["Journal Entry"], heads["currency"], strict=True),
            heads["payment_id"],
            strict=True,
        )
    )
    pay["payment_id"] = [
        pid[(m, c)] for m, c in zip(pay["Journal Entry"], pay["currency"], strict=True)
    ]
    totals = pay.groupby("payment_id", sort=False)["abs"].sum()

    cn = rows[is_credit].copy()
    cn["abs"] = -cn["value"]

    # Apply within matching groups.
    match = rows["Matching Number"]
    grouped = (match != "") & (match.str.upper() != "P")
    alloc: dict[tuple[str, str], list] = {}
    adj: list[dict] = []
    cn_left = dict(zip(cn.index, cn["abs"].astype(int).tolist(), strict=True))
    group_of = match.where(grouped, "")
    k_date = order_keys(rows["date"])
    k_due = order_keys(rows["due"])
    # Plain lists per group: groups are many and small, pandas per group is slow.
    groups: dict[tuple[str, str], tuple[list[Slot], list[Source]]] = defaultdict(lambda: ([], []))
    for frame, kind in ((inv, "inv"), (cn, "cn"), (pay, "pay")):
        sel = frame[group_of[frame.index] != ""]
        ids = sel["invoice_id"] if kind == "inv" else sel.get("payment_id", sel.index)
        amounts = sel["value"] if kind == "inv" else sel["abs"]
        for i, g, cur, ident, amount, kd, ku, pos in zip(
            sel.index,
            group_of[sel.index],
            sel["currency"],
            ids if kind != "cn" else sel.index,
            amounts.astype(int).tolist(),
            k_date[sel.index],
            k_due[sel.index],
            sel["pos"],
            strict=True,
        ):
            slots, sources = groups[(g, cur)]
            if kind == "inv":
                slots.append(Slot(ident, amount, (kd, ku, pos)))
            elif kind == "cn":
                sources.append(Source(i, amount, (0, kd, pos), "cn"))
            else:
                sources.append(Source(ident, amount, (1, kd, pos), i))
    for (_group, cur), (slots, sources) in groups.items():
        for slot, src, amount in allocate(slots, sources):
            if src.ref == "cn":
                cn_left[src.doc_id] -= amount
                adj.append(
                    {
                        "line": src.doc_id,
                        "invoice_id": slot.invoice_id,
                        "amount": amount,
                        "currency": cur,
                    }
                )
            else:
                keyp = (src.doc_id, slot.invoice_id)
                if keyp in alloc:
                    alloc[keyp][0] += amount
                else:
                    alloc[keyp] = [amount, src.ref, cur]

    invoices = text_frame(
        {
            "invoice_id": inv["invoice_id"],
            "customer_id": inv["Partner"],
            "invoice_date": inv["Date"],
            "due_date": inv["Due Date"].where(inv["Due Date"] != "", inv["Date"]),
            "amount": format_money(inv["value"], inv["currency"], decimal).set_axis(inv.index),
            "currency": inv["currency"],
            "label": inv["Label"],
            "journal_entry": inv["Journal Entry"],
            "_source": inv["_source"],
            "_line": inv["_line"],
        },
        inv.index,
    )
    payments = text_frame(
        {
            "payment_id": heads["payment_id"],
            "payment_date": heads["Date"],
            "amount": format_money(
                totals[heads["payment_id"]].tolist(), heads["currency"].tolist(), decimal
            ).tolist(),
            "currency": heads["currency"],
            "customer_id": heads["Partner"],
            "remittance_text": heads["Label"],
            "_source": heads["_source"],
            "_line": heads["_line"],
        },
        heads.index,
    )
    pos_of = rows["pos"].to_dict()
    alloc_rows = sorted(alloc.items(), key=lambda kv: pos_of[kv[1][1]])
    at = rows.loc[[v[1] for _, v in alloc_rows]]
    allocations = text_frame(
        {
            "payment_id": [p for (p, _), _v in alloc_rows],
            "invoice_id": [i for (_, i), _v in alloc_rows],
            "amount": format_money(
                [v[0] for _, v in alloc_rows], [v[2] for _, v in alloc_rows], decimal
            ).tolist(),
            # The reconciliation date is not in the export: blank = the payment date.
            "applied_date": "",
            "_source": at["_source"].reset_index(drop=True),
            "_line": at["_line"].reset_index(drop=True),
        }
    )
    per_line = defaultdict(int)
    for a in adj:
        per_line[a["line"]] += 1
    at = cn.loc[[a["line"] for a in adj]]
    adjustments = text_frame(
        {
            "adjustment_id": [
                move + ("" if per_line[a["line"]] == 1 else "/" + a["invoice_id"])
                for a, move in zip(adj, at["Journal Entry"], strict=True)
            ],
            "invoice_id": [a["invoice_id"] for a in adj],
            "date": at["Date"].tolist(),
            "amount": format_money(
                [a["amount"] for a in adj], [a["currency"] for a in adj], decimal
            ).tolist(),
            "kind": "credit_note",
            "reason": at["Label"].tolist(),
            "_source": at["_source"].reset_index(drop=True),
            "_line": at["_line"].reset_index(drop=True),
        }
    )
    left = cn[[cn_left[i] > 0 for i in cn.index]]
    if len(left):
        rest = pd.Series([cn_left[i] for i in left.index], index=left.index)
        ign.append(
            ignored(
                left,
                "unapplied_credit",
                "credit note "
                + left["Journal Entry"]
                + ": "
                + format_money(rest, left["currency"], decimal).set_axis(left.index)
                + " "
                + left["currency"]
                + " not matched with an invoice",
            )
        )
    parties = pd.concat([inv, heads]).sort_values("pos")
    customers = customers_from(parties, "Partner")
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
    name="odoo",
    description=(
        "Odoo journal items (account.move.line) of the receivable account: invoice debit lines,"
        " payment credit lines, RINV credit notes; matching numbers give the allocations."
    ),
    source_columns=COLUMNS,
    options={
        "date_format": "%Y-%m-%d",
        "decimal": ".",
        "reporting_currency": "USD",
        "company_currency": None,
        "header": 0,
        "payment_journals": (
            "BNK",
            "PBNK",
            "CSH",
            "PCSH",
            "BANK",
            "CASH",
            "PAY",
            "PREC",
            "CUST.IN",
        ),
        "credit_note_journals": ("RINV",),
    },
    convert=convert,
    signature=(
        ("Journal Entry", "Move"),
        ("Partner",),
        ("Debit",),
        ("Credit",),
        ("Matching Number", "Matching #", "Matching"),
    ),
)
