"""From event records to the canonical ledger, the per-order outcomes and the daily series.

All money is int64 minor units of the scenario's currency; a simulation day
``d`` is the calendar date ``start + d``, and an event at simulation time
``t`` is dated ``start + floor(t)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from rpmkit import money
from rpmkit.keys import group_sum
from rpmkit.kpi.aging import DEFAULT_CUTOFFS, bucket_labels
from rpmkit.ledger import Ledger
from rpmkit.sim import records as rec
from rpmkit.sim.orders import Orders
from rpmkit.sim.params import Scenario
from rpmkit.synth import text

__all__ = ["DAILY_COLUMNS", "daily_columns", "daily_frame", "ledger", "orders_frame", "settlement"]

SETTLING = (rec.PAYMENT, rec.DISCOUNT, rec.CREDIT_NOTE, rec.WRITE_OFF)

DAILY_COLUMNS: dict[str, str] = {
    "sales": "invoices issued that day (minor units)",
    "receipts": "cash received that day, agency recoveries included (minor units)",
    "open_ar": "open AR at the end of the day (minor units)",
    **{
        label: f"open AR in aging bucket {label} (days past due) at the end of the day"
        for label in bucket_labels(DEFAULT_CUTOFFS)
    },
    "disputes_open": "disputes open at the end of the day",
    "write_offs": "amounts written off that day (minor units)",
    "credit_notes": "credit notes from upheld disputes that day (minor units)",
    "discount_cost": "early-payment discounts taken that day (minor units)",
    "agency_fees": "agency fees on recoveries that day (minor units)",
    "dunning_cost": "cost of dunning steps and calls made that day (minor units)",
    "lost_sales": "orders blocked by the credit policy that day (minor units)",
    "lost_orders": "number of orders blocked that day",
    "calls": "calls started that day",
    "collector_utilisation": "handling time of calls started that day / collector hours",
    "queue_length": "calls waiting at the end of the day",
}
"""Columns of :func:`daily_frame` (after ``date``) and their meaning."""


def _dates(start: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    return (np.datetime64(start.date(), "D") + days).astype("datetime64[us]")


def _ids(prefix: str, n: int, width: int = 7) -> pa.Array:
    return text.ids(prefix, np.arange(1, n + 1), text.id_width(n, width))


def settlement(o: Orders, log: rec.Log) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per order: accepted, settled amount (minor units) and the time of the settling
    event that closed it (NaN while open)."""
    accepted = np.zeros(o.n, dtype=bool)
    accepted[log.order[log.kind == rec.ISSUE]] = True
    m = log.mask(*SETTLING)
    settled = np.full(o.n, -np.inf)
    np.maximum.at(settled, log.order[m], log.time[m])  # the last settling event
    # an order is settled when its settling events sum to its amount
    paid = group_sum(log.order[m], log.amount[m], o.n)
    settled[(paid < o.amount) | np.isinf(settled)] = np.nan
    return accepted, paid, settled


def orders_frame(o: Orders, log: rec.Log) -> pd.DataFrame:
    """One row per order: identity, pre-drawn natural payment time, acceptance and settlement."""
    accepted, paid, settled = settlement(o, log)
    return pd.DataFrame(
        {
            "invoice_id": text.series(o.ids),
            "customer_id": text.series(text.rows(o.customer_ids, o.customer)),
            "segment": text.series(text.take(o.segment_names, o.segment)),
            "issue_time": o.issue,
            "due_time": o.due,
            "amount": o.amount,
            "natural_time": o.natural,
            "accepted": accepted,
            "settled_amount": paid,
            "settled_time": settled,
        }
    )


def ledger(scenario: Scenario, o: Orders, log: rec.Log) -> Ledger:
    """The canonical ledger of the simulated invoices (see :class:`SimResult`)."""
    start, cur = scenario.start_date, scenario.currency
    day = log.day()
    inv = log.order[log.kind == rec.ISSUE]
    issue_day = np.floor(o.issue[inv]).astype(np.int64)
    due_day = np.floor(o.due[inv]).astype(np.int64)
    n_cust = len(o.customer_segment)
    net = np.array([s.net_days for s in scenario.sales])
    limits = pd.array(o.customer_limit, dtype="Int64")
    limits[o.customer_limit < 0] = pd.NA
    customers = pd.DataFrame(
        {
            "customer_id": text.series(o.customer_ids),
            "segment": text.series(text.take(o.segment_names, o.customer_segment)),
            "currency": cur,
            "credit_limit": limits,
            "terms_days": pd.array(net[o.customer_segment], dtype="Int64"),
        }
    )
    assert len(customers) == n_cust
    invoices = pd.DataFrame(
        {
            "invoice_id": text.series(text.rows(o.ids, inv)),
            "customer_id": text.series(text.rows(o.customer_ids, o.customer[inv])),
            "invoice_date": _dates(start, issue_day),
            "due_date": _dates(start, due_day),
            "amount": o.amount[inv],
            "currency": cur,
            "terms": text.series(text.take(o.terms_codes, o.terms[inv])),
            "segment": text.series(text.take(o.segment_names, o.segment[inv])),
        }
    )
    m = log.kind == rec.PAYMENT
    pay_inv, n_pay = log.order[m], int(m.sum())
    pay_ids = _ids("PAY-", n_pay)
    payments = pd.DataFrame(
        {
            "payment_id": text.series(pay_ids),
            "payment_date": _dates(start, day[m]),
            "amount": log.amount[m],
            "currency": cur,
            "customer_id": text.series(text.rows(o.customer_ids, o.customer[pay_inv])),
        }
    )
    allocations = pd.DataFrame(
        {
            "payment_id": text.series(pay_ids),
            "invoice_id": text.series(text.rows(o.ids, pay_inv)),
            "amount": log.amount[m],
            "applied_date": _dates(start, day[m]),
        }
    )
    return Ledger(
        customers=customers,
        invoices=invoices,
        payments=payments,
        allocations=allocations,
        adjustments=_adjustments(start, o, log, day),
        disputes=_disputes(start, o, log, day),
        activities=_activities(scenario, start, o, log, day),
        reporting_currency=cur,
    )


def _adjustments(start, o: Orders, log: rec.Log, day: np.ndarray) -> pd.DataFrame:
    kinds = {rec.DISCOUNT: "discount", rec.CREDIT_NOTE: "credit_note", rec.WRITE_OFF: "write_off"}
    prefixes = {rec.DISCOUNT: "DSC-", rec.CREDIT_NOTE: "CN-", rec.WRITE_OFF: "WO-"}
    frames = []
    for code, name in kinds.items():
        m = log.kind == code
        frames.append(
            pd.DataFrame(
                {
                    "adjustment_id": text.series(_ids(prefixes[code], int(m.sum()), 6)),
                    "invoice_id": text.series(text.rows(o.ids, log.order[m])),
                    "date": _dates(start, day[m]),
                    "amount": log.amount[m],
                    "kind": name,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _disputes(start, o: Orders, log: rec.Log, day: np.ndarray) -> pd.DataFrame:
    opened = np.flatnonzero(log.kind == rec.DISPUTE_OPEN)
    closed = np.flatnonzero(log.kind == rec.DISPUTE_RESOLVED)
    # at most one dispute per invoice: join on the order row
    pos = pd.Index(log.order[closed]).get_indexer(log.order[opened])
    found = pos >= 0
    resolved = np.full(len(opened), np.datetime64("NaT"), dtype="datetime64[us]")
    resolved[found] = _dates(start, day[closed[pos[found]]])
    upheld = np.where(found, log.value[closed[np.maximum(pos, 0)]] if len(closed) else 0, -1)
    outcome = np.where(upheld == 1, 1, np.where(upheld == 0, 0, -1))
    return pd.DataFrame(
        {
            "dispute_id": text.series(_ids("DSP-", len(opened), 5)),
            "invoice_id": text.series(text.rows(o.ids, log.order[opened])),
            "opened_date": _dates(start, day[opened]),
            "amount": log.amount[opened],
            "resolved_date": resolved,
            "outcome": text.series(text.take(["rejected", "credit_note"], outcome)),
        }
    )


def _activities(scenario: Scenario, start, o: Orders, log: rec.Log, day) -> pd.DataFrame:
    m = log.mask(rec.DUNNING, rec.CALL, rec.AGENCY)
    channels = [s.channel for s in scenario.dunning] + ["call", "agency"]
    step = np.where(log.kind[m] == rec.DUNNING, log.value[m], len(channels) - 2).astype(np.int64)
    step[log.kind[m] == rec.AGENCY] = len(channels) - 1
    inv = log.order[m]
    return pd.DataFrame(
        {
            "activity_id": text.series(_ids("ACT-", int(m.sum()))),
            "date": _dates(start, day[m]),
            "customer_id": text.series(text.rows(o.customer_ids, o.customer[inv])),
            "kind": text.series(text.take(channels, step)),
            "invoice_id": text.series(text.rows(o.ids, inv)),
        }
    )


def _counted_from(first: np.ndarray, values: np.ndarray, days: int) -> np.ndarray:
    """Per day ``0..days-1``: the sum of the ``values[k]`` counted from day ``first[k]`` on."""
    first = np.maximum(first, 0)
    keep = first < days
    return np.cumsum(group_sum(first[keep], values[keep], days))


def _per_day(mask: np.ndarray, day: np.ndarray, values: np.ndarray, days: int) -> np.ndarray:
    d = day[mask]
    keep = (d >= 0) & (d < days)
    return group_sum(d[keep], np.asarray(values)[mask][keep], days)


def daily_frame(scenario: Scenario, o: Orders, log: rec.Log) -> pd.DataFrame:
    """One row per simulated day: ``date`` and the :data:`DAILY_COLUMNS`."""
    out = {"date": _dates(scenario.start_date, np.arange(scenario.horizon_days))}
    return pd.DataFrame(out | daily_columns(scenario, o, log))


def daily_columns(scenario: Scenario, o: Orders, log: rec.Log) -> dict[str, np.ndarray]:
    """The :data:`DAILY_COLUMNS` as arrays of ``horizon_days`` values, in that order."""
    h = scenario.horizon_days
    day = log.day()
    scale = 10 ** money.exponent(scenario.currency)
    issued = log.kind == rec.ISSUE
    settling = log.mask(*SETTLING)
    # amounts and counts by kind and day in one pass each (the per-kind series)
    inside = (day >= 0) & (day < h)
    cell = log.kind[inside] * h + day[inside]
    kinds = len(rec.EVENT_KINDS)
    amount = group_sum(cell, log.amount[inside], kinds * h).reshape(kinds, h)
    count = np.bincount(cell, minlength=kinds * h).reshape(kinds, h)
    out: dict[str, np.ndarray] = {}
    out["sales"] = amount[rec.ISSUE]
    out["receipts"] = amount[rec.PAYMENT]
    # Each invoice adds its amount from its issue day on; each settling event
    # takes its amount off from its own day on; within an aging bucket both
    # are clipped to the days the invoice spends in that bucket.
    rows = np.r_[log.order[issued], log.order[settling]]
    start_day = np.r_[day[issued], day[settling]]
    signed = np.r_[log.amount[issued], -log.amount[settling]]
    due_day = np.floor(o.due[rows]).astype(np.int64)
    # open AR more than c days past due, for each cut-off c; a bucket is the
    # difference of the curves at its two ends
    out["open_ar"] = _counted_from(start_day, signed, h)
    past = [
        _counted_from(np.maximum(start_day, due_day + c + 1), signed, h) for c in DEFAULT_CUTOFFS
    ]
    curves = [out["open_ar"], *past]
    for k, label in enumerate(bucket_labels(DEFAULT_CUTOFFS)):
        out[label] = curves[k] - curves[k + 1] if k + 1 < len(curves) else curves[k]
    op, cl = log.kind == rec.DISPUTE_OPEN, log.kind == rec.DISPUTE_RESOLVED
    n_disp = np.r_[np.ones(op.sum(), dtype=np.int64), -np.ones(cl.sum(), dtype=np.int64)]
    out["disputes_open"] = _counted_from(np.r_[day[op], day[cl]], n_disp, h)
    out["write_offs"] = amount[rec.WRITE_OFF]
    out["credit_notes"] = amount[rec.CREDIT_NOTE]
    out["discount_cost"] = amount[rec.DISCOUNT]
    out["agency_fees"] = amount[rec.AGENCY_FEE]
    steps = scenario.dunning
    step_cost = np.rint(np.array([s.cost for s in steps] + [0.0]) * scale).astype(np.int64)
    call_cost = int(round(scenario.collectors.cost_per_call * scale))
    dunned = log.kind == rec.DUNNING
    cost = np.zeros(len(log.kind), dtype=np.int64)
    cost[dunned] = step_cost[log.value[dunned].astype(np.int64)]
    calls = log.kind == rec.CALL
    # a call's step is not in its record: charge the call rate only
    cost[calls] = call_cost
    out["dunning_cost"] = _per_day(dunned | calls, day, cost, h)
    out["lost_sales"] = amount[rec.LOST_SALE]
    out["lost_orders"] = count[rec.LOST_SALE]
    out["calls"] = count[rec.CALL]
    c = scenario.collectors
    hours = c.count * c.hours_per_day / 24.0
    d = day[calls]
    keep = (d >= 0) & (d < h)
    busy = np.bincount(d[keep], weights=log.duration[calls][keep], minlength=h)[:h]
    out["collector_utilisation"] = busy / hours if hours > 0 else np.zeros(h)
    queued = np.sort(log.time[log.kind == rec.CALL_QUEUED])
    left = np.sort(log.time[log.mask(rec.CALL, rec.CALL_DROPPED)])
    ends = np.arange(1, h + 1, dtype=float)
    out["queue_length"] = np.searchsorted(queued, ends, side="left") - np.searchsorted(
        left, ends, side="left"
    )
    return out
