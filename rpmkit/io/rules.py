"""Rules across tables: references, currencies and over-settlement.

They run after every table has been checked on its own, parents before
children, so a row that points at a rejected parent is rejected too, with a
message naming the line the parent was rejected at (a *cascade*).
Over-settlement is decided in date order and greedily: an allocation or
adjustment is refused only when it would itself take the invoice (or the
payment) below zero after the ones accepted before it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.validation import LINE_COL, Checked, isin

__all__ = [
    "check_applied_dates",
    "check_currency_match",
    "check_reference",
    "lookup",
    "settle_invoices",
    "settle_payments",
]


def _ids(checked: Checked, col: str) -> pd.Series:
    return pd.Series(checked.typed[col], copy=False).reset_index(drop=True)


def unique_map(keys, values, keep: np.ndarray | None = None) -> pd.Series:
    """``values`` indexed by ``keys`` where both are present; keys with two values are left out."""
    keys = pd.Series(keys, copy=False).reset_index(drop=True)
    values = pd.Series(values, copy=False).reset_index(drop=True)
    ok = keys.notna().to_numpy() & values.notna().to_numpy()
    if keep is not None:
        ok &= keep
    if not ok.all():
        keys, values = keys[ok], values[ok]
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any():
        # Only the few repeated keys need the slow path: one value is fine, two are not.
        sub = pd.DataFrame({"k": keys[dup], "v": values[dup]}).drop_duplicates()
        single = sub[~sub["k"].duplicated(keep=False)]
        keys = pd.concat([keys[~dup], single["k"]], ignore_index=True)
        values = pd.concat([values[~dup], single["v"]], ignore_index=True)
    return pd.Series(values.array, index=pd.Index(keys.array))


def lookup(parent: Checked, key: str, value: str, rows: np.ndarray | None = None) -> pd.Series:
    """``{key: value}`` over ``rows`` of ``parent`` (default all), keys with one value only."""
    return unique_map(_ids(parent, key), parent.typed[value], rows)


def _rejected_at(parent: Checked, key: str) -> pd.Series:
    """For ids whose every copy was rejected: ``"line N (reason)"`` of the first copy."""
    ids = _ids(parent, key)
    rejected = parent.rejected() & ids.notna().to_numpy()
    if not rejected.any():
        return pd.Series([], dtype="string")
    first = parent.problems.first_reasons()
    pos = np.flatnonzero(rejected)
    frame = pd.DataFrame(
        {
            "id": ids.iloc[pos].to_numpy(),
            "line": parent.lines()[pos],
            "reason": first.reindex(pos).to_numpy(),
        }
    ).drop_duplicates("id")
    text = (
        f"{parent.name} line "
        + frame["line"].astype(str)
        + " ("
        + frame["reason"].astype(str)
        + ")"
    )
    return pd.Series(text.to_numpy(), index=pd.Index(frame["id"].to_numpy()), dtype="string")


def check_reference(
    child: Checked,
    col: str,
    parent: Checked | None,
    key: str,
    reason: str,
    *,
    noun: str,
    extra_known: pd.Index | None = None,
) -> None:
    """Reject child rows whose ``col`` is not an accepted ``parent`` key.

    Blank values are not checked (a required blank is already
    ``missing_value``). With no parent table at all every value is unknown,
    unless listed in ``extra_known``.
    """
    if col not in child.typed:
        return
    ids = _ids(child, col)
    present = ids.notna().to_numpy() & ~child.totals
    if parent is not None:
        accepted = _ids(parent, key)[parent.accepted()]
        known = isin(ids, accepted.dropna())
        rejected_at = _rejected_at(parent, key)
    else:
        known = np.zeros(len(ids), dtype=bool)
        rejected_at = pd.Series([], dtype="string")
    if extra_known is not None:
        known |= isin(ids, pd.Series(extra_known))
    bad = present & ~known
    if not bad.any():
        return
    pos = np.flatnonzero(bad)
    sub = ids.iloc[pos].reset_index(drop=True)
    where = sub.map(rejected_at).astype("string")
    table = parent.name if parent is not None else f"{noun}s"
    msg = (
        (noun + " '" + sub + "' was rejected at " + where)
        .fillna(noun + " '" + sub + f"' is not in {table}")
        .fillna(f"{noun} is not in {table}")
    )
    child.problems.add(pos, col, reason, msg.tolist(), ids)


def check_currency_match(child: Checked, col_a: pd.Series, col_b: pd.Series, what: str) -> None:
    """Reject rows where two resolved currencies are both known and differ."""
    a = pd.Series(col_a, copy=False).reset_index(drop=True).astype("string")
    b = pd.Series(col_b, copy=False).reset_index(drop=True).astype("string")
    bad = (a.notna() & b.notna() & (a != b)).fillna(False).to_numpy() & ~child.totals
    if bad.any():
        pos = np.flatnonzero(bad)
        msg = what + ": " + a.iloc[pos] + " vs " + b.iloc[pos]
        child.problems.add(pos, "currency", "currency_mismatch", msg.tolist(), a)


def check_applied_dates(
    child: Checked, col: str, reference: pd.Series, reason: str, message: str
) -> None:
    """Reject rows whose date ``col`` is before the ``reference`` date of the row.

    ``message`` names the reference (``"the payment date"``); the values are added.
    """
    if col not in child.typed:
        return
    own = np.asarray(child.typed[col], dtype="datetime64[ns]")
    ref = np.asarray(pd.Series(reference, copy=False).to_numpy(), dtype="datetime64[ns]")
    bad = ~np.isnat(own) & ~np.isnat(ref) & (own < ref) & ~child.totals
    if not bad.any():
        return
    pos = np.flatnonzero(bad)
    a = pd.Series(own[pos]).dt.strftime("%Y-%m-%d")
    b = pd.Series(ref[pos]).dt.strftime("%Y-%m-%d")
    text = col.replace("_", " ") + " " + a + " is before " + message + " " + b
    child.problems.add(pos, col, reason, text.tolist(), child.text[col])


def _fmt(minor: int, currency: str | None) -> str:
    if currency and money.is_known_currency(currency):
        return str(money.format_amounts(pd.Series([int(minor)]), currency).iloc[0]) + " " + currency
    return f"{int(minor)} minor units"


def _greedy(events: pd.DataFrame, limits: pd.Series) -> list[tuple[int, int, int]]:
    """Walk each over-drawn group in order; return (event id, limit, remaining) for refusals."""
    refused = []
    for group, ev in events.groupby("group", sort=False):
        remaining = int(limits[group])
        for eid, amount in zip(ev["eid"].to_numpy(), ev["amount"].to_numpy(), strict=True):
            if amount <= remaining:
                remaining -= int(amount)
            else:
                refused.append((int(eid), int(limits[group]), remaining))
    return refused


def settle_payments(alloc: Checked, payments: Checked, when: pd.Series) -> None:
    """``allocation_exceeds_payment``: allocations beyond the payment amount, in date order.

    ``when`` is each allocation's effective date (application date, else payment date).
    """
    acc = alloc.accepted()
    if not acc.any():
        return
    pos = np.flatnonzero(acc)
    pid = _ids(alloc, "payment_id").iloc[pos].to_numpy()
    amount = pd.Series(alloc.typed["amount"]).iloc[pos].to_numpy(dtype=np.int64)
    limits = lookup(payments, "payment_id", "amount", payments.accepted()).astype("int64")
    totals = pd.Series(amount).groupby(pid).sum()
    over = totals[totals > limits.reindex(totals.index).fillna(np.iinfo(np.int64).max)].index
    if len(over) == 0:
        return
    dates = pd.Series(when, copy=False).reset_index(drop=True).iloc[pos].to_numpy()
    events = pd.DataFrame(
        {"eid": pos, "group": pid, "amount": amount, "when": dates, "line": alloc.lines()[pos]}
    )
    events = events[events["group"].isin(over)].sort_values(
        ["group", "when", "line"], kind="stable"
    )
    currency = lookup(payments, "payment_id", "currency", payments.accepted())
    refused = _greedy(events, limits)
    by_eid = events.set_index("eid")
    rows, msgs = [], []
    for eid, limit, remaining in refused:
        p = by_eid.at[eid, "group"]
        cur = currency.get(p)
        rows.append(eid)
        msgs.append(
            f"allocating {_fmt(by_eid.at[eid, 'amount'], cur)} would take payment {p!r} "
            f"({_fmt(limit, cur)}) beyond its amount; {_fmt(remaining, cur)} left after "
            "earlier allocations"
        )
    alloc.problems.add(
        np.asarray(rows, dtype=np.int64),
        "amount",
        "allocation_exceeds_payment",
        msgs,
        alloc.text["amount"],
    )


def settle_invoices(
    invoices: Checked,
    alloc: Checked | None,
    alloc_dates: pd.Series | None,
    adjustments: Checked | None,
) -> None:
    """``allocation_exceeds_open`` / ``adjustment_exceeds_open``, in date order.

    Events on one invoice are taken by date (an allocation's application
    date, else its payment date; an adjustment's posting date), then
    allocations before adjustments, then by line. Only events still accepted
    take part.
    """
    parts = []
    for kind, checked, dates in (("alloc", alloc, alloc_dates), ("adj", adjustments, None)):
        if checked is None:
            continue
        acc = checked.accepted()
        if not acc.any():
            continue
        pos = np.flatnonzero(acc)
        if dates is None:
            dates = pd.Series(checked.typed["date"])
        parts.append(
            pd.DataFrame(
                {
                    "eid": pos,
                    "kind": kind,
                    "order": 0 if kind == "alloc" else 1,
                    "group": _ids(checked, "invoice_id").iloc[pos].to_numpy(),
                    "amount": pd.Series(checked.typed["amount"]).iloc[pos].to_numpy(dtype=np.int64),
                    "when": pd.Series(dates, copy=False)
                    .reset_index(drop=True)
                    .iloc[pos]
                    .to_numpy(),
                    "line": checked.lines()[pos],
                }
            )
        )
    if not parts:
        return
    events = pd.concat(parts, ignore_index=True)
    limits = lookup(invoices, "invoice_id", "amount", invoices.accepted()).astype("int64")
    totals = events.groupby("group")["amount"].sum()
    over = totals[totals > limits.reindex(totals.index).fillna(np.iinfo(np.int64).max)].index
    if len(over) == 0:
        return
    events = events[events["group"].isin(over)].sort_values(
        ["group", "when", "order", "line"], kind="stable"
    )
    events = events.assign(eid=np.arange(len(events)), src=events["eid"].to_numpy())
    currency = lookup(invoices, "invoice_id", "currency", invoices.accepted())
    refused = _greedy(events, limits)
    by_eid = events.set_index("eid")
    out: dict[str, tuple[list[int], list[str]]] = {"alloc": ([], []), "adj": ([], [])}
    for eid, limit, remaining in refused:
        row = by_eid.loc[eid]
        cur = currency.get(row["group"])
        what = "applying" if row["kind"] == "alloc" else "adjusting"
        out[row["kind"]][0].append(int(row["src"]))
        out[row["kind"]][1].append(
            f"{what} {_fmt(row['amount'], cur)} would take invoice {row['group']!r} "
            f"({_fmt(limit, cur)}) below zero; {_fmt(remaining, cur)} open after earlier "
            "settlements in date order"
        )
    if alloc is not None and out["alloc"][0]:
        alloc.problems.add(
            np.asarray(out["alloc"][0]),
            "amount",
            "allocation_exceeds_open",
            out["alloc"][1],
            alloc.text["amount"],
        )
    if adjustments is not None and out["adj"][0]:
        adjustments.problems.add(
            np.asarray(out["adj"][0]),
            "amount",
            "adjustment_exceeds_open",
            out["adj"][1],
            adjustments.text["amount"],
        )


def line_of(checked: Checked) -> np.ndarray:
    return checked.text[LINE_COL].to_numpy()
