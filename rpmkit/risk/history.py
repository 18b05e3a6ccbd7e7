"""As-of lookups over a customer's history, and per-invoice facts the features read.

:class:`AsOf` answers "the sum of these values over the customer's rows dated
strictly before day ``d``" for any number of ``(customer, d)`` queries with one
sort, one cumulative sum and two binary searches per query.

Examples
--------
>>> import numpy as np
>>> t = AsOf(np.array([0, 0, 1]), np.array([1, 5, 2]), 10, np.array([1.0, 2.0, 4.0]))
>>> [s.tolist() for s in t.sums(*t.bounds(np.array([0, 0, 1]), np.array([5, 6, 3])))]
[[1.0, 3.0, 4.0]]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rpmkit import keys
from rpmkit.kpi.book import NEVER, Book, day_number
from rpmkit.ledger import Ledger

__all__ = [
    "AsOf",
    "channel",
    "days_since",
    "dispute_counts",
    "disputed_ever",
    "own_dispute",
    "paperless_days_log",
]


class AsOf:
    """Per-customer sums of values over rows dated strictly before a query day.

    ``day`` values are relative day numbers in ``[0, span)``; ``bounds`` gives
    each query's slice of the sorted rows (``lo`` its customer's first row,
    ``hi`` one past its last row before the query day), ``sums`` the sums.

    Rows and queries are keyed ``customer × span + day``; one sort and one
    cumulative sum answer any number of queries with two binary searches each.
    """

    def __init__(self, cust: np.ndarray, day: np.ndarray, span: int, *values: np.ndarray):
        key = cust.astype(np.int64) * span + day
        order = np.argsort(key, kind="stable")
        self.key = key[order]
        self.span = span
        self.cum = [np.r_[0.0, np.cumsum(v[order], dtype=np.float64)] for v in values]

    def bounds(self, qcust: np.ndarray, qday: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        base = qcust.astype(np.int64) * self.span
        lo = np.searchsorted(self.key, base, side="left")
        hi = np.searchsorted(self.key, base + qday, side="left")
        return lo, hi

    def sums(self, lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray]:
        return [c[hi] - c[lo] for c in self.cum]


def days_since(
    table: AsOf, prev: np.ndarray, has: np.ndarray, q: np.ndarray, base: np.ndarray
) -> np.ndarray:
    """Days from a customer's latest row before the query day (``prev``) to that day."""
    if not len(table.key):
        return np.zeros(len(q), dtype=np.int64)
    return np.where(has, q - (table.key[prev] - base), 0)


def dispute_counts(
    ledger: Ledger,
    b: Book,
    span: int,
    rel: Callable[[np.ndarray], np.ndarray],
    sday: np.ndarray,
    qcust: np.ndarray,
    q: np.ndarray,
) -> np.ndarray:
    """Disputes the customer had raised before the query day."""
    out = np.zeros(len(qcust))
    d = ledger.disputes
    if len(d):
        pos = keys.positions(d["invoice_id"], ledger.invoices["invoice_id"])
        ok = pos >= 0
        opened = rel(day_number(d["opened_date"])[ok])
        table = AsOf(b.customer[pos[ok]], opened, span, np.ones(int(ok.sum())))
        out += table.sums(*table.bounds(qcust, q))[0]
    elif "disputed" in ledger.invoices.columns:
        # An undated flag is only known once the flagged invoice has been settled.
        flag = ledger.invoices["disputed"].fillna(False).to_numpy(dtype=bool)
        table = AsOf(b.customer, sday, span, flag.astype(float))
        out += table.sums(*table.bounds(qcust, q))[0]
    return out


def disputed_ever(
    ledger: Ledger, b: Book, rel: Callable[[np.ndarray], np.ndarray], sday: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per invoice: 1.0 when disputed, and the day from which that is known.

    A dispute in the disputes table is known from its opening; an undated flag only
    once the invoice is settled (the caller takes the later of this day and the
    settlement day, so a disputed invoice counts only among settled ones).
    """
    flag = np.zeros(b.n)
    day = np.zeros(b.n, dtype=np.int64)
    d = ledger.disputes
    if len(d):
        pos = keys.positions(d["invoice_id"], ledger.invoices["invoice_id"])
        ok = pos >= 0
        opened = rel(day_number(d["opened_date"])[ok])
        flag[pos[ok]] = 1.0
        # the first dispute of an invoice dates it
        first = np.full(b.n, np.iinfo(np.int64).max)
        np.minimum.at(first, pos[ok], opened)
        day = np.where(flag > 0, first, 0)
    elif "disputed" in ledger.invoices.columns:
        flag = ledger.invoices["disputed"].fillna(False).to_numpy(dtype=float)
        day = sday
    return flag, day


def paperless_days_log(ledger: Ledger, b: Book, qcust: np.ndarray, qday: np.ndarray) -> np.ndarray:
    """log(1 + days the customer has been paperless on the query day), 0 before or unknown.

    Reads a ``paperless_date`` customer attribute (the date the customer switched
    to electronic bills); a date after the query day reads as 0, so the future
    switch is never seen.
    """
    cust = ledger.customers
    if "paperless_date" not in cust.columns or not len(qcust):
        return np.zeros(len(qcust))
    dates = pd.to_datetime(cust["paperless_date"], errors="coerce")
    pos = keys.positions(pd.Series(np.asarray(b.customers, dtype=object)), cust["customer_id"])
    pday = np.full(len(b.customers), NEVER)
    ok = pos >= 0
    pday[ok] = day_number(dates.iloc[pos[ok]])
    days = qday - pday[qcust]
    return np.log1p(np.where((pday[qcust] < NEVER) & (days >= 0), days, 0).astype(float))


def own_dispute(ledger: Ledger, b: Book, undated_flag: bool) -> np.ndarray:
    """1.0 for invoices disputed on or before their own invoice date (or by an undated flag)."""
    if undated_flag and "disputed" in ledger.invoices.columns:
        return ledger.invoices["disputed"].fillna(False).to_numpy(dtype=float)
    out = np.zeros(b.n)
    d = ledger.disputes
    if len(d):
        pos = keys.positions(d["invoice_id"], ledger.invoices["invoice_id"])
        ok = pos >= 0
        early = day_number(d["opened_date"])[ok] <= b.inv_day[pos[ok]]
        out[pos[ok][early]] = 1.0
    return out


def channel(ledger: Ledger) -> np.ndarray:
    """1.0 for invoices delivered electronically."""
    return (ledger.invoices["channel"] == "electronic").fillna(False).to_numpy(dtype=float)
