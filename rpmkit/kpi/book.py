"""The ledger prepared once for fast KPI arithmetic, in reporting-currency minor units.

KPIs ask the same few questions many times (open AR at a date, sales in a
window, what settled an invoice by then), so :func:`book` turns a ledger into
flat numpy arrays once and caches them per ledger object:

* one row per invoice: day numbers of invoice and due dates, the amount in
  reporting minor units, customer and segment codes;
* one row per settlement event: the ledger's allocations in their order, then
  its adjustments in theirs (analyses rely on this order to go back to a
  row), each with its invoice row, effective day, kind and amount in reporting
  minor units;
* per invoice, the day it was fully settled.

Conversion keeps every identity exact. An invoice converts at the rate of its
invoice date; its settlement events convert *cumulatively* at the same rate
(event k takes ``round(cum_k × f) − round(cum_{k−1} × f)``), so a fully settled
invoice is exactly zero in the reporting currency, open AR equals invoiced minus
settled, and aging buckets sum to open AR to the minor unit.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rpmkit import keys
from rpmkit.ledger import Ledger

__all__ = ["Book", "EVENT_KINDS", "as_of_day", "book", "clear_cache", "day_number", "day_to_date"]

EVENT_KINDS = ("applied", "credit_note", "write_off", "discount", "deduction")
NEVER = np.iinfo(np.int64).max // 2
"""Day number standing for "not yet" (never settled, missing date)."""
_EPOCH = np.datetime64("1970-01-01", "D")


def day_number(dates) -> np.ndarray:
    """Dates as int64 day numbers since 1970-01-01 (``NaT`` → a very large sentinel)."""
    arr = pd.to_datetime(pd.Series(dates, copy=False)).to_numpy(dtype="datetime64[D]")
    out = (arr - _EPOCH).astype(np.int64)
    out[np.isnat(arr)] = NEVER
    return out


def as_of_day(ledger: Ledger, as_of) -> tuple[pd.Timestamp, int]:
    """The date a question is asked about (:meth:`Ledger.cut_date`) and its day number."""
    t = ledger.cut_date(as_of)
    return t, int(day_number(pd.Series([t]))[0])


def day_to_date(day: int) -> pd.Timestamp:
    return pd.Timestamp(_EPOCH + np.timedelta64(int(day), "D"))


@dataclass(frozen=True, eq=False)
class Book:
    """Invoice and settlement-event arrays of one ledger (see the module docstring)."""

    reporting_currency: str
    inv_day: np.ndarray
    due_day: np.ndarray
    amount: np.ndarray
    customer: np.ndarray
    customers: pd.Index
    segment: np.ndarray
    segments: pd.Index
    ev_inv: np.ndarray
    ev_day: np.ndarray
    ev_amount: np.ndarray
    ev_kind: np.ndarray
    settled: np.ndarray

    @property
    def n(self) -> int:
        return len(self.amount)

    def settled_by(self, day: int, kinds: tuple[str, ...] | None = None) -> np.ndarray:
        """Per invoice, reporting minor units settled by the end of ``day``."""
        mask = self.ev_day <= day
        if kinds is not None:
            mask &= np.isin(self.ev_kind, [EVENT_KINDS.index(k) for k in kinds])
        return keys.group_sum(self.ev_inv[mask], self.ev_amount[mask], self.n)

    def open_at(self, day: int) -> np.ndarray:
        """Per invoice, the open amount at the end of ``day`` (zero before it is issued)."""
        open_ = self.amount - self.settled_by(day)
        open_[self.inv_day > day] = 0
        return open_

    def ar_at(self, days: np.ndarray) -> np.ndarray:
        """Total open AR at the end of each day in ``days`` (cumulative invoiced − settled)."""
        days = np.asarray(days, dtype=np.int64)
        return _cumulative_at(self.inv_day, self.amount, days) - _cumulative_at(
            self.ev_day, self.ev_amount, days
        )

    def current_ar_at(self, day: int, grace_days: int = 0) -> int:
        """Open AR at the end of ``day`` that is not more than ``grace_days`` past due."""
        return int(self.open_at(day)[self.due_day + grace_days >= day].sum())

    def sales_between(self, start: int, end: int) -> int:
        """Credit sales: invoice amounts dated in ``[start, end]``."""
        sel = (self.inv_day >= start) & (self.inv_day <= end)
        return int(self.amount[sel].sum())

    def settled_between(self, start: int, end: int, kinds: tuple[str, ...]) -> int:
        """Settlement events of ``kinds`` dated in ``[start, end]``."""
        sel = (self.ev_day >= start) & (self.ev_day <= end)
        sel &= np.isin(self.ev_kind, [EVENT_KINDS.index(k) for k in kinds])
        return int(self.ev_amount[sel].sum())

    def settled_day(self) -> np.ndarray:
        """Per invoice, the day cumulative settlement reached the amount (sentinel if never)."""
        return self.settled


def _cumulative_at(day: np.ndarray, value: np.ndarray, at: np.ndarray) -> np.ndarray:
    order = np.argsort(day, kind="stable")
    cum = np.concatenate([[0], np.cumsum(value[order])])
    return cum[np.searchsorted(day[order], at, side="right")]


def _group_cumsum(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each new value of the (sorted) ``groups``."""
    if len(groups) == 0:
        return values.copy()
    cum = np.cumsum(values)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    offset = np.repeat(cum[starts] - values[starts], np.diff(np.r_[starts, len(groups)]))
    return cum - offset


def _segments(ledger: Ledger, customer_codes: np.ndarray, customers: pd.Index):
    """Segment codes per invoice: the invoice's own segment, else its customer's.

    Resolved per distinct customer (thousands) rather than per invoice (millions).
    """
    inv = ledger.invoices
    master = keys.lookup(
        pd.Series(customers), ledger.customers["customer_id"], ledger.customers["segment"]
    )
    per_customer = master.astype("str").fillna("(none)").to_numpy(dtype=object)
    own = inv["segment"].notna().to_numpy()
    if not own.any():
        codes, segments = pd.factorize(per_customer)
        return codes[customer_codes] if len(customer_codes) else codes[:0], segments
    labels = per_customer[customer_codes]
    labels[own] = inv["segment"].to_numpy(dtype=object)[own]
    return pd.factorize(labels)


def _convert(minor: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``round(minor × factor)``, touching only the rows in another currency."""
    foreign = np.flatnonzero(factor != 1.0)
    if len(foreign) == 0:
        return minor
    out = minor.copy()
    out[foreign] = np.rint(minor[foreign] * factor[foreign]).astype(np.int64)
    return out


def _build(ledger: Ledger) -> Book:
    inv = ledger.invoices
    factor = ledger.fx_factors(inv["currency"], inv["invoice_date"])
    raw = inv["amount"].to_numpy(dtype=np.int64)
    amount = _convert(raw, factor)

    alloc = ledger.allocations
    adj = ledger.adjustments
    links = ledger.links()
    ev_inv = np.concatenate([links["alloc_invoice"], links["adj_invoice"]])
    if (ev_inv < 0).any():
        raise ValueError("settlement events refer to invoices the ledger does not have")
    inv_day = day_number(inv["invoice_date"])
    ev_day = np.concatenate([day_number(ledger.allocation_dates()), day_number(adj["date"])])
    ev_day = np.maximum(ev_day, inv_day[ev_inv]) if len(ev_inv) else ev_day
    kind_codes = {k: i for i, k in enumerate(EVENT_KINDS)}
    ev_kind = np.concatenate(
        [
            np.zeros(len(alloc), dtype=np.int8),
            adj["kind"].map(kind_codes).to_numpy(dtype=np.int8),
        ]
    )
    ev_doc = np.concatenate(
        [alloc["amount"].to_numpy(dtype=np.int64), adj["amount"].to_numpy(dtype=np.int64)]
    )
    # Telescoping conversion: each event is the change in the rounded cumulative amount.
    order = np.lexsort((ev_kind, ev_day, ev_inv))
    cum_doc = _group_cumsum(ev_inv[order], ev_doc[order])
    f = factor[ev_inv[order]]
    cum_rep = _convert(cum_doc, f)
    prev = np.r_[0, cum_rep[:-1]]
    first = np.r_[True, ev_inv[order][1:] != ev_inv[order][:-1]] if len(order) else order
    ev_rep = np.empty_like(ev_doc)
    ev_rep[order] = cum_rep - np.where(first, 0, prev)
    # The day each invoice was fully settled: its first event whose running total
    # reaches the amount (events are in invoice, day, kind order here).
    settled = np.full(len(inv), NEVER, dtype=np.int64)
    inv_sorted = ev_inv[order]
    done = np.flatnonzero(cum_rep >= amount[inv_sorted])
    if len(done):
        firsts = done[np.r_[True, inv_sorted[done][1:] != inv_sorted[done][:-1]]]
        settled[inv_sorted[firsts]] = ev_day[order][firsts]

    customer_codes, customers = pd.factorize(inv["customer_id"])
    segment_codes, segments = _segments(ledger, customer_codes, pd.Index(customers))
    return Book(
        reporting_currency=ledger.reporting_currency,
        inv_day=inv_day,
        due_day=day_number(inv["due_date"]),
        amount=amount,
        customer=customer_codes,
        customers=pd.Index(customers),
        segment=segment_codes,
        segments=pd.Index(segments),
        ev_inv=ev_inv,
        ev_day=ev_day,
        ev_amount=ev_rep,
        ev_kind=ev_kind,
        settled=settled,
    )


_CACHE: weakref.WeakKeyDictionary[Ledger, Book] = weakref.WeakKeyDictionary()


def book(ledger: Ledger) -> Book:
    """The prepared arrays of ``ledger``, built once per ledger object."""
    cached = _CACHE.get(ledger)
    if cached is None:
        cached = _build(ledger)
        _CACHE[ledger] = cached
    return cached


def clear_cache() -> None:
    """Forget every prepared book (benchmarks use it to time the full preparation)."""
    _CACHE.clear()
