"""Collection activities on overdue invoices: reminders, calls, letters, agency, promises.

A step happens at due date + N days (moved to a business day) when the
invoice is still open then and not in an open dispute (collectors hold
dunning on disputed items). Calls may end in a promise to pay; a promise is
``kept`` when the invoice is settled in full by the promised date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit.synth import calendar, text
from rpmkit.synth.customers import Customers
from rpmkit.synth.params import SynthParams
from rpmkit.synth.sales import Invoices
from rpmkit.synth.settlement import Settlement

OUTCOMES = (
    "sent", "placed", "contacted", "left_message", "no_answer", "promise_to_pay", "kept", "broken",
)  # fmt: skip
SENT, PLACED, CONTACTED, PROMISE, KEPT, BROKEN = 0, 1, 2, 5, 6, 7
_FAR = np.datetime64("2999-12-31", "D")


def _events(inv: Invoices, s: Settlement) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(invoice, date, amount) of every recorded settlement part."""
    return (
        np.concatenate([s.lines.invoice, s.adjustments.invoice]),
        np.concatenate([s.lines.date, s.adjustments.date]),
        np.concatenate([s.lines.applied, s.adjustments.amount]).astype(np.float64),
    )


def settled_dates(inv: Invoices, events) -> np.ndarray:
    """Day each invoice was settled in full (far future while open at the end)."""
    ev_inv, ev_date, ev_amount = events
    total = np.bincount(ev_inv, ev_amount, minlength=inv.n)
    last = np.full(inv.n, np.datetime64("1900-01-01", "D"))
    np.maximum.at(last, ev_inv, ev_date)
    return np.where(np.rint(total).astype(np.int64) >= inv.amount, last, _FAR)


def activities(
    p: SynthParams, c: Customers, inv: Invoices, s: Settlement, rng: np.random.Generator
) -> pd.DataFrame:
    end = calendar.as_day(p.end_date.date())
    events = _events(inv, s)
    ev_inv, ev_date, ev_amount = events
    settled = settled_dates(inv, events)
    in_dispute_from = np.full(inv.n, _FAR)
    in_dispute_to = np.full(inv.n, _FAR)
    d = s.disputes
    in_dispute_from[d.invoice] = d.opened
    in_dispute_to[d.invoice] = np.where(np.isnat(d.resolved), _FAR, d.resolved)

    steps = sorted(
        [(days, "reminder") for days in p.reminder_days]
        + [(days, "call") for days in p.call_days]
        + [(days, "letter") for days in p.letter_days]
        + [(days, "agency") for days in p.agency_days]
    )
    rows = []
    for days, kind in steps:
        when = calendar.forward(inv.due + days)
        candidates = np.flatnonzero(
            (when <= end) & (settled > when) & ~((in_dispute_from <= when) & (when < in_dispute_to))
        )
        if kind in ("call", "agency"):
            rate = p.call_rate if kind == "call" else p.agency_rate
            candidates = candidates[rng.random(len(candidates)) < rate]
        idx, date = candidates, when[candidates]
        row = {"invoice": idx, "date": date, "kind": kind}
        if kind == "call":
            row.update(_call(p, inv, idx, date, settled, end, ev_inv, ev_date, ev_amount, rng))
        else:
            row["outcome"] = np.full(len(idx), PLACED if kind == "agency" else SENT)
        rows.append(row)
        if kind == "call":
            rows.append(row.pop("promise"))
    return _frame(c, inv, rows)


def _call(p, inv, idx, date, settled, end, ev_inv, ev_date, ev_amount, rng) -> dict:
    n = len(idx)
    u_promise, u_outcome, u_honest, u_days = (rng.random(n) for _ in range(4))
    promise = u_promise < p.promise_rate
    outcome = np.where(promise, PROMISE, CONTACTED + (u_outcome * 3).astype(np.int64))

    # Open amount at the call: the invoice minus every part settled by then.
    at = np.full(inv.n, np.datetime64("NaT"), dtype="datetime64[D]")
    at[idx] = date
    counted = ev_date <= at[ev_inv]  # NaT compares False: other invoices drop out
    paid = np.bincount(ev_inv[counted], ev_amount[counted], minlength=inv.n)
    open_amount = inv.amount[idx] - np.rint(paid[idx]).astype(np.int64)

    soon = settled[idx] <= date + 30
    honest = soon & (u_honest < p.promise_honest_share)
    promised = np.where(
        honest,
        calendar.add_business_days(np.minimum(settled[idx], end + 30), (u_days * 4).astype(int)),
        calendar.add_business_days(date, 3 + (u_days * 12).astype(np.int64)),
    )
    kept = np.where(promised > end, -1, np.where(settled[idx] <= promised, KEPT, BROKEN))
    p_idx = np.flatnonzero(promise)
    return {
        "outcome": outcome,
        "promise": {
            "invoice": idx[p_idx],
            "date": date[p_idx],
            "kind": "promise_to_pay",
            "outcome": kept[p_idx],
            "promised_date": promised[p_idx],
            "promised_amount": open_amount[p_idx],
        },
    }


def _frame(c: Customers, inv: Invoices, rows: list[dict]) -> pd.DataFrame:
    invoice = np.concatenate([r["invoice"] for r in rows])
    date = np.concatenate([r["date"] for r in rows])
    kinds = ("reminder", "call", "letter", "agency", "promise_to_pay")
    kind = np.concatenate([np.full(len(r["invoice"]), kinds.index(r["kind"])) for r in rows])
    outcome = np.concatenate([r["outcome"] for r in rows])
    nat = np.datetime64("NaT", "D")
    promised_date = np.concatenate(
        [r.get("promised_date", np.full(len(r["invoice"]), nat)) for r in rows]
    )
    promised_amount = np.concatenate(
        [r.get("promised_amount", np.full(len(r["invoice"]), -1)) for r in rows]
    )
    customer = inv.customer[invoice]
    order = np.lexsort((kind, invoice, customer, date))
    invoice, date, kind = invoice[order], date[order], kind[order]
    customer, outcome = customer[order], outcome[order]
    amount = pd.array(promised_amount[order], dtype="Int64")
    amount[promised_amount[order] < 0] = pd.NA
    rows.clear()  # the per-step arrays are no longer needed
    n = len(order)
    return pd.DataFrame(
        {
            "activity_id": text.series(text.ids("ACT-", np.arange(1, n + 1), text.id_width(n, 7))),
            "date": text.dates(date),
            "customer_id": text.series(text.rows(c.ids, customer)),
            "kind": text.series(text.take(kinds, kind)),
            "invoice_id": text.series(text.rows(inv.ids, invoice)),
            "outcome": text.series(text.take(OUTCOMES, outcome)),
            "promised_date": text.dates(promised_date[order]),
            "promised_amount": amount,
        }
    )
