"""Simple forecasts to beat, on the same origins and the same knowledge as the model.

Each baseline is a plain callable ``baseline(view, weeks) -> np.ndarray`` returning
cash per week (reporting-currency units) for the ``weeks`` after ``view.cutoff``;
``view`` is the ledger as known at the origin (:meth:`rpmkit.ledger.Ledger.as_of`).

* :func:`due_date` — every open invoice paid in full on its due date (past-due
  ones in week 1); no new sales;
* :func:`customer_average` — every open invoice paid its customer's average days
  to pay after its invoice date (the book's average for a customer with no paid
  invoice; already overdue by that measure → week 1); no new sales;
* :func:`ets_receipts` — ETS (damped trend, seasonal with two years of history)
  on weekly receipts;
* :func:`seasonal_naive` — the same week a year earlier (the last week's
  receipts when there is less than a year of history).

Examples
--------
>>> import rpmkit
>>> view = rpmkit.load(rpmkit.config.sample_dir()).ledger.as_of("2024-06-30")
>>> due_date(view, 3).round(0).tolist()[0] > 0
True
>>> sorted(BASELINES)
['customer_average', 'due_date', 'ets_receipts', 'seasonal_naive']
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.forecast.sales import ets_point
from rpmkit.kpi.book import book, day_number
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger

__all__ = [
    "BASELINES",
    "customer_average",
    "due_date",
    "ets_receipts",
    "seasonal_naive",
    "weekly_receipts",
]


def _cutoff_day(view: Ledger) -> int:
    if view.cutoff is None:
        raise ValueError("baselines need a ledger view cut at the origin (ledger.as_of(date))")
    return int(day_number(pd.Series([view.cutoff]))[0])


def weekly_receipts(ledger: Ledger, day: int, weeks: int, forward: bool = False) -> np.ndarray:
    """Receipts per week (currency units): ``weeks`` weeks ending on ``day``, oldest first,
    or with ``forward`` the ``weeks`` weeks after it.

    Payments count on their payment date at the reporting-currency value of that day.
    """
    pay = ledger.payments
    pday = day_number(pay["payment_date"])
    idx = (pday - day - 1) // 7 if forward else weeks - 1 - (day - pday) // 7
    keep = (idx >= 0) & (idx < weeks) & (pday <= (day + 7 * weeks if forward else day))
    sel = pay[keep]
    minor = ledger.to_reporting(sel["amount"], sel["currency"], sel["payment_date"])
    totals = np.bincount(idx[keep], minor.to_numpy(dtype=np.float64), weeks)
    return totals / 10 ** money.exponent(ledger.reporting_currency)


def _history(view: Ledger, day: int) -> np.ndarray:
    first = int(day_number(view.payments["payment_date"]).min()) if len(view.payments) else day
    n = max(0, (day - first) // 7)  # full weeks only
    return weekly_receipts(view, day, n) if n else np.zeros(0)


def _open_to_weeks(view: Ledger, day: int, pay_day: np.ndarray, weeks: int) -> np.ndarray:
    b = book(view)
    open_ = b.amount - b.settled_by(day)
    keep = open_ > 0
    week = np.maximum((pay_day[keep] - day - 1) // 7, 0)
    inside = week < weeks
    totals = np.bincount(week[inside], open_[keep][inside].astype(np.float64), weeks)
    return totals / 10 ** money.exponent(view.reporting_currency)


def due_date(view: Ledger, weeks: int) -> np.ndarray:
    """Open items paid on their due date; overdue ones in week 1."""
    day = _cutoff_day(view)
    return _open_to_weeks(view, day, book(view).due_day, weeks)


def customer_average(view: Ledger, weeks: int) -> np.ndarray:
    """Open items paid their customer's average days to pay after issue."""
    day = _cutoff_day(view)
    b = book(view)
    paid = paid_invoices(b)
    sel = paid.paid
    days = (paid.pay_day[sel] - b.inv_day[sel]).astype(np.float64)
    overall = days.mean() if len(days) else 30.0
    n_cust = len(b.customers)
    count = np.bincount(b.customer[sel], minlength=n_cust)
    mean = np.bincount(b.customer[sel], days, n_cust) / np.maximum(count, 1)
    avg = np.where(count > 0, mean, overall)
    return _open_to_weeks(view, day, b.inv_day + np.rint(avg[b.customer]).astype(np.int64), weeks)


def ets_receipts(view: Ledger, weeks: int) -> np.ndarray:
    """ETS on weekly receipts."""
    day = _cutoff_day(view)
    return ets_point(_history(view, day), weeks)


def seasonal_naive(view: Ledger, weeks: int) -> np.ndarray:
    """Receipts of the same week one year (52 weeks) earlier."""
    day = _cutoff_day(view)
    hist = _history(view, day)
    if len(hist) < 52:
        return np.full(weeks, hist[-1] if len(hist) else 0.0)
    h = np.arange(weeks)
    # a horizon beyond 52 weeks would need the forecast itself: repeat the year
    return hist[len(hist) - 52 + (h % 52)]


BASELINES: dict[str, Callable[[Ledger, int], np.ndarray]] = {
    "due_date": due_date,
    "customer_average": customer_average,
    "ets_receipts": ets_receipts,
    "seasonal_naive": seasonal_naive,
}
"""The built-in baselines by name."""
