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
import pyarrow as pa

from rpmkit import keys as arrow_keys
from rpmkit import money
from rpmkit.validation import LINE_COL, Checked, isin

__all__ = [
    "check_applied_dates",
    "check_currency_match",
    "check_reference",
    "lookup",
    "map_ids",
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


def map_ids(ids, table: pd.Series) -> pd.Series:
    """``ids.map(table)`` for a table indexed by string keys, through Arrow's hash kernels.

    Dates come back as ``datetime64[ns]`` (``NaT`` where unknown), anything
    else with the table's dtype (missing where unknown).
    """
    ids = pd.Series(ids, copy=False).reset_index(drop=True)
    table = pd.Series(table, copy=False)
    n = len(ids)
    if len(table) == 0 or n == 0:
        if table.dtype.kind == "M":
            return pd.Series(np.full(n, np.datetime64("NaT", "ns")))
        return pd.Series(pd.array([pd.NA] * n, dtype=table.dtype))
    pos = arrow_keys.positions(ids, pd.Series(table.index, copy=False))
    found = pos >= 0
    if table.dtype.kind == "M":
        vals = table.to_numpy(dtype="datetime64[ns]")
        return pd.Series(np.where(found, vals[np.maximum(pos, 0)], np.datetime64("NaT", "ns")))
    arr = getattr(table.array, "_pa_array", None)
    if arr is not None:
        taken = arr.take(pa.array(pos, mask=~found))
        return pd.Series(pd.array(taken, dtype=table.dtype), copy=False)
    out = table.iloc[np.maximum(pos, 0)].reset_index(drop=True)
    if not found.all():
        out = out.astype(object).where(found, None).astype(table.dtype)
    return out


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


def _greedy(
    group: np.ndarray, amount: np.ndarray, limits: np.ndarray
) -> list[tuple[int, int, int]]:
    """Walk each over-drawn group in order; return (event position, limit, remaining) for refusals.

    ``group`` (sorted, so each group's events are together and in order) indexes ``limits``.
    """
    refused = []
    if len(group) == 0:
        return refused
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        limit = int(limits[group[a]])
        remaining = limit
        for i, amt in enumerate(amount[a:b].tolist(), start=a):
            if amt <= remaining:
                remaining -= amt
            else:
                refused.append((i, limit, remaining))
    return refused


def _over_drawn(group: np.ndarray, amount: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Events whose group's accepted total goes beyond its limit (group -1: no limit)."""
    known = group >= 0
    totals = arrow_keys.group_sum(
        np.where(known, group, 0), np.where(known, amount, 0), len(limits)
    )
    over = totals > limits
    return known & over[np.maximum(group, 0)]


def settle_payments(alloc: Checked, payments: Checked, when: pd.Series) -> None:
    """``allocation_exceeds_payment``: allocations beyond the payment amount, in date order.

    ``when`` is each allocation's effective date (application date, else payment date).
    """
    acc = alloc.accepted()
    if not acc.any():
        return
    pos = np.flatnonzero(acc)
    pid = _ids(alloc, "payment_id").iloc[pos].reset_index(drop=True)
    amount = pd.Series(alloc.typed["amount"]).iloc[pos].to_numpy(dtype=np.int64)
    limits = lookup(payments, "payment_id", "amount", payments.accepted()).astype("int64")
    group = arrow_keys.positions(pid, pd.Series(limits.index, copy=False))
    limit_values = limits.to_numpy(dtype=np.int64)
    over = _over_drawn(group, amount, limit_values)
    if not over.any():
        return
    sel = np.flatnonzero(over)
    dates = pd.Series(when, copy=False).reset_index(drop=True).to_numpy(dtype="datetime64[ns]")
    e_pos, e_group, e_amount = pos[sel], group[sel], amount[sel]
    e_when, e_line = dates[e_pos].astype(np.int64), alloc.lines()[e_pos]
    # NaT sorts last, as it does in pandas' sort_values.
    e_when = np.where(np.isnat(dates[e_pos]), np.iinfo(np.int64).max, e_when)
    order = np.lexsort((e_line, e_when, e_group))
    e_pos, e_group, e_amount = e_pos[order], e_group[order], e_amount[order]
    currency = lookup(payments, "payment_id", "currency", payments.accepted())
    refused = _greedy(e_group, e_amount, limit_values)
    rows, msgs = [], []
    for i, limit, remaining in refused:
        p = limits.index[e_group[i]]
        cur = currency.get(p)
        rows.append(int(e_pos[i]))
        msgs.append(
            f"allocating {_fmt(e_amount[i], cur)} would take payment {p!r} "
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
    limits = None
    parts = []
    for order, checked, dates in ((0, alloc, alloc_dates), (1, adjustments, None)):
        if checked is None:
            continue
        acc = checked.accepted()
        if not acc.any():
            continue
        if limits is None:
            limits = lookup(invoices, "invoice_id", "amount", invoices.accepted()).astype("int64")
            limit_keys = pd.Series(limits.index, copy=False)
        pos = np.flatnonzero(acc)
        if dates is None:
            dates = checked.typed["date"]
        when = pd.Series(dates, copy=False).reset_index(drop=True).to_numpy(dtype="datetime64[ns]")
        ids = _ids(checked, "invoice_id").iloc[pos].reset_index(drop=True)
        parts.append(
            (
                np.full(len(pos), order, dtype=np.int8),
                pos,
                arrow_keys.positions(ids, limit_keys),
                pd.Series(checked.typed["amount"]).iloc[pos].to_numpy(dtype=np.int64),
                when[pos],
                checked.lines()[pos],
            )
        )
    if not parts:
        return
    kind, src, group, amount, when, line = (np.concatenate(x) for x in zip(*parts, strict=True))
    limit_values = limits.to_numpy(dtype=np.int64)
    over = _over_drawn(group, amount, limit_values)
    if not over.any():
        return
    sel = np.flatnonzero(over)
    kind, src, group, amount, when, line = (x[sel] for x in (kind, src, group, amount, when, line))
    when_key = np.where(np.isnat(when), np.iinfo(np.int64).max, when.astype(np.int64))
    order = np.lexsort((line, kind, when_key, group))
    kind, src, group, amount = kind[order], src[order], group[order], amount[order]
    currency = lookup(invoices, "invoice_id", "currency", invoices.accepted())
    refused = _greedy(group, amount, limit_values)
    out: dict[int, tuple[list[int], list[str]]] = {0: ([], []), 1: ([], [])}
    for i, limit, remaining in refused:
        inv = limits.index[group[i]]
        cur = currency.get(inv)
        what = "applying" if kind[i] == 0 else "adjusting"
        out[int(kind[i])][0].append(int(src[i]))
        out[int(kind[i])][1].append(
            f"{what} {_fmt(amount[i], cur)} would take invoice {inv!r} "
            f"({_fmt(limit, cur)}) below zero; {_fmt(remaining, cur)} open after earlier "
            "settlements in date order"
        )
    if alloc is not None and out[0][0]:
        alloc.problems.add(
            np.asarray(out[0][0]),
            "amount",
            "allocation_exceeds_open",
            out[0][1],
            alloc.text["amount"],
        )
    if adjustments is not None and out[1][0]:
        adjustments.problems.add(
            np.asarray(out[1][0]),
            "amount",
            "adjustment_exceeds_open",
            out[1][1],
            adjustments.text["amount"],
        )


def line_of(checked: Checked) -> np.ndarray:
    return checked.text[LINE_COL].to_numpy()
