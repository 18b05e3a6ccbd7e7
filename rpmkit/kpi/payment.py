"""Payment behaviour: average days to pay, days beyond terms and the payment-method mix.

Which invoices count, and which date is their payment date:

* an invoice counts in a period when it became **fully settled** in the period
  (the day its cumulative payments, credit notes, discounts, deductions and
  write-offs reached its amount: :meth:`rpmkit.kpi.book.Book.settled_day`),
  which is the membership :func:`rpmkit.kpi.add` ``method="invoice"`` uses;
* it must have been **paid**: at least some cash applied to it and **no
  write-off**. A written-off invoice was not paid, and an invoice cleared by
  credit notes alone had nothing paid, so both are left out (and counted in the
  components);
* its **payment date** is the day its cash settlement completed: the latest
  cash allocation on or before the day it was fully settled. A credit note that
  closes the last cents a week after the cheque does not make the customer a
  week slower.

Days to pay = payment date − invoice date; days beyond terms = payment date −
due date (negative when early). Count-weighted means give every invoice the
same weight; amount-weighted means weight by the invoice amount in reporting
minor units (each invoice converted at its invoice-date rate, see
:mod:`rpmkit.kpi.book`). Nothing dated after ``as_of`` counts.

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> flat = pd.DataFrame(
...     {
...         "invoice_id": ["A", "B"],
...         "customer_id": ["C1", "C2"],
...         "invoice_date": pd.to_datetime(["2024-05-01", "2024-05-20"]),
...         "due_date": pd.to_datetime(["2024-05-31", "2024-06-19"]),
...         "amount": [10_000, 30_000],
...         "paid_date": pd.to_datetime(["2024-06-10", "2024-06-14"]),
...     }
... )
>>> ledger = Ledger.from_flat(flat)
>>> days_to_pay(ledger, "2024-06-30")  # (40 + 25) / 2
<days_to_pay [count] = 32.50 days>
>>> days_to_pay(ledger, "2024-06-30", weight="amount").value  # (40×100 + 25×300) / 400
28.75
>>> days_beyond_terms(ledger, "2024-06-30").value  # (10 − 5) / 2
2.5
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.keys import group_sum
from rpmkit.kpi.base import KpiValue, Period, period_bounds
from rpmkit.kpi.book import EVENT_KINDS, NEVER, Book, book, day_number
from rpmkit.ledger import Ledger, to_date

__all__ = ["PaidInvoices", "days_beyond_terms", "days_to_pay", "paid_invoices", "payment_mix"]

Weight = Literal["count", "amount"]
By = Literal["customer", "segment"] | None

"""Day-number sentinel for "never" (the same as :mod:`rpmkit.kpi.book` uses)."""

_CASH = EVENT_KINDS.index("applied")
_WRITE_OFF = EVENT_KINDS.index("write_off")
UNKNOWN = "(unknown)"


def _day(value) -> int:
    return int(day_number(pd.Series([to_date(value)]))[0])


def _units(minor, currency: str) -> float:
    return float(minor) / 10 ** money.exponent(currency)


# ------------------------------------------------------------ paid invoices
@dataclass(frozen=True, eq=False)
class PaidInvoices:
    """Per invoice of a :class:`~rpmkit.kpi.book.Book`: whether and when it was paid.

    ``settled`` is the day it was fully settled (``NEVER`` while open);
    ``paid`` marks invoices settled with some cash and no write-off;
    ``pay_day`` is the day the cash settlement completed (``NEVER`` unless
    ``paid``); ``written_off`` and ``credit_only`` mark the settled invoices
    left out; ``last_cash_event`` is the index into the book's events of the
    allocation that completed the cash settlement (-1 if none).
    """

    settled: np.ndarray
    paid: np.ndarray
    pay_day: np.ndarray
    written_off: np.ndarray
    credit_only: np.ndarray
    last_cash_event: np.ndarray


_PAID: weakref.WeakKeyDictionary[Book, PaidInvoices] = weakref.WeakKeyDictionary()


def paid_invoices(b: Book) -> PaidInvoices:
    """Which invoices of ``b`` were paid and on which day (see the module docstring).

    Computed once per book and cached; vectorised over all invoices and events.
    """
    cached = _PAID.get(b)
    if cached is not None:
        return cached
    settled = b.settled_day()
    is_settled = settled < NEVER
    by_then = b.ev_day <= settled[b.ev_inv]
    written = np.zeros(b.n, dtype=bool)
    written[b.ev_inv[by_then & (b.ev_kind == _WRITE_OFF)]] = True
    cash = np.flatnonzero(by_then & (b.ev_kind == _CASH))
    # the completing cash event: latest day, then largest amount, then last recorded
    # (three scatter passes instead of a sort: this runs on every event of the ledger)
    inv = b.ev_inv[cash]
    last_day = np.full(b.n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_day, inv, b.ev_day[cash])
    cash = cash[b.ev_day[cash] == last_day[inv]]
    inv = b.ev_inv[cash]
    largest = np.full(b.n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(largest, inv, b.ev_amount[cash])
    cash = cash[b.ev_amount[cash] == largest[inv]]
    last_event = np.full(b.n, -1, dtype=np.int64)
    np.maximum.at(last_event, b.ev_inv[cash], cash)
    has_cash = last_event >= 0
    paid = is_settled & has_cash & ~written
    pay_day = np.full(b.n, NEVER, dtype=np.int64)
    pay_day[paid] = b.ev_day[last_event[paid]]
    result = PaidInvoices(
        settled=settled,
        paid=paid,
        pay_day=pay_day,
        written_off=is_settled & written,
        credit_only=is_settled & ~has_cash & ~written,
        last_cash_event=np.where(paid, last_event, -1),
    )
    _PAID[b] = result
    return result


def _in_period(values: np.ndarray, p: Period) -> np.ndarray:
    return (values >= _day(p.start)) & (values <= _day(p.end))


def _dot(days: np.ndarray, weights: np.ndarray) -> int | float:
    """``Σ days × weights``: exact in int64 unless that could overflow, then float64."""
    if len(days) == 0:
        return 0
    bound = float(np.abs(weights).sum(dtype=np.float64)) * float(np.abs(days).max())
    if bound < 2**62:
        return int((days * weights).sum())
    return float((days.astype(np.float64) * weights).sum())


def _weighted(days: np.ndarray, weights: np.ndarray) -> float | None:
    total = int(weights.sum())
    return None if total <= 0 else _dot(days, weights) / total


def _group_means(
    codes: np.ndarray, labels, days: np.ndarray, weights: np.ndarray, currency: str
) -> pd.DataFrame:
    """Per group: invoices, amount (currency units), count- and amount-weighted mean days."""
    size = len(labels)
    n = np.bincount(codes, minlength=size)
    amount = np.bincount(codes, weights=weights, minlength=size)
    days_sum = np.bincount(codes, weights=days, minlength=size)
    weighted = np.bincount(codes, weights=days * weights.astype(np.float64), minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame(
            {
                "invoices": n,
                "amount": amount / 10 ** money.exponent(currency),
                "count_weighted": np.where(n > 0, days_sum / n, np.nan),
                "amount_weighted": np.where(amount > 0, weighted / amount, np.nan),
            },
            index=pd.Index(labels),
        )
    return frame[frame["invoices"] > 0]


def _days_kpi(
    name: str,
    ledger: Ledger,
    as_of,
    period: str | int,
    weight: Weight,
    by: By,
    reference: Literal["invoice", "due"],
) -> KpiValue | pd.DataFrame:
    if weight not in ("count", "amount"):
        raise ValueError(f"weight must be 'count' or 'amount', got {weight!r}")
    p = period_bounds(as_of, period)
    b = book(ledger)
    paid = paid_invoices(b)
    settled_in = _in_period(paid.settled, p)
    sel = settled_in & paid.paid
    start = b.inv_day if reference == "invoice" else b.due_day
    days = (paid.pay_day - start)[sel]
    amounts = b.amount[sel]
    if by is not None:
        if by == "customer":
            codes, labels = b.customer[sel], b.customers
        elif by == "segment":
            codes, labels = b.segment[sel], b.segments
        else:
            raise ValueError(f"by must be None, 'customer' or 'segment'; got {by!r}")
        frame = _group_means(codes, labels, days, amounts, ledger.reporting_currency)
        frame.index.name = by
        return frame.sort_index()
    count_mean = None if len(days) == 0 else int(days.sum()) / len(days)
    amount_mean = _weighted(days, amounts)
    value = count_mean if weight == "count" else amount_mean
    comps = {
        "period_start": p.start.date().isoformat(),
        "period_end": p.end.date().isoformat(),
        "D": p.days,
        "n": int(sel.sum()),
        "amount": _units(amounts.sum(), ledger.reporting_currency),
        "count_weighted": count_mean,
        "amount_weighted": amount_mean,
        "median": float(np.median(days)) if len(days) else None,
        "excluded_written_off": int((settled_in & paid.written_off).sum()),
        "excluded_credit_only": int((settled_in & paid.credit_only).sum()),
    }
    if reference == "due":
        comps["late_share"] = float((days > 0).mean() * 100) if len(days) else None
    return KpiValue(
        name,
        value,
        comps,
        unit="days",
        method=weight,
        note="" if value is not None else "no invoice was paid in the period",
    )


def days_to_pay(
    ledger: Ledger,
    as_of,
    period: str | int = "month",
    *,
    weight: Weight = "count",
    by: By = None,
) -> KpiValue | pd.DataFrame:
    """Average days from invoice date to payment over invoices paid in the period.

    Parameters
    ----------
    ledger
        The ledger; only what is dated on or before ``as_of`` counts.
    as_of, period
        The period ending at ``as_of`` (``"month"``, ``"quarter"``, ``"year"``
        or a number of days, see :func:`rpmkit.kpi.period_bounds`).
    weight
        ``"count"`` (each invoice counts once) or ``"amount"`` (weighted by the
        invoice amount in reporting currency).
    by
        ``None`` for one :class:`~rpmkit.kpi.KpiValue`; ``"customer"`` or
        ``"segment"`` for a DataFrame indexed by the group with columns
        ``invoices``, ``amount`` (reporting currency units), ``count_weighted``
        and ``amount_weighted`` (mean days).

    Returns
    -------
    KpiValue or pandas.DataFrame
        The value (``None`` when nothing was paid) with components ``n``,
        ``amount``, both means, ``median`` and the settled invoices left out
        (``excluded_written_off``, ``excluded_credit_only``).

    Notes
    -----
    Paid = fully settled in the period, with cash and without write-off; the
    payment date is the day the cash settlement completed (module docstring).
    """
    return _days_kpi("days_to_pay", ledger, as_of, period, weight, by, "invoice")


def days_beyond_terms(
    ledger: Ledger,
    as_of,
    period: str | int = "month",
    *,
    weight: Weight = "count",
    by: By = None,
) -> KpiValue | pd.DataFrame:
    """Average days from due date to payment (negative when early) over invoices paid in the period.

    Same parameters, membership and result shape as :func:`days_to_pay`; the
    components add ``late_share``, the percentage of the paid invoices paid
    after their due date. Unlike ``add(method="invoice")`` early payments are
    not floored at zero, so this is the signed average.
    """
    return _days_kpi("days_beyond_terms", ledger, as_of, period, weight, by, "due")


# ----------------------------------------------------------------- the mix
def _labels(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, labels = pd.factorize(values.astype("string").fillna(UNKNOWN), sort=True)
    return codes, pd.Index(labels)


def _days_table(
    codes: np.ndarray,
    labels: pd.Index,
    pay_days: np.ndarray,
    inv_days: np.ndarray,
    due_days: np.ndarray,
    amounts: np.ndarray,
    currency: str,
    name: str,
) -> pd.DataFrame:
    to_pay = _group_means(codes, labels, pay_days - inv_days, amounts, currency)
    beyond = _group_means(codes, labels, pay_days - due_days, amounts, currency)
    frame = pd.DataFrame(
        {
            "invoices": to_pay["invoices"],
            "amount": to_pay["amount"],
            "days_to_pay": to_pay["count_weighted"],
            "days_to_pay_amount_weighted": to_pay["amount_weighted"],
            "days_beyond_terms": beyond["count_weighted"],
            "days_beyond_terms_amount_weighted": beyond["amount_weighted"],
        }
    )
    frame.index.name = name
    return frame.sort_values("invoices", ascending=False, kind="stable")


def payment_mix(ledger: Ledger, as_of, period: str | int = "month") -> dict[str, pd.DataFrame]:
    """How customers paid in the period: receipts by method, days to pay by method and channel.

    Returns
    -------
    dict of pandas.DataFrame
        ``"receipts"``: payments dated in the period by ``method`` with
        ``payments`` (count), ``amount`` (reporting currency units, each
        payment at its own date's rate), ``count_share`` and ``amount_share``
        (percent). ``"by_method"``: invoices paid in the period (as in
        :func:`days_to_pay`) by the method of the payment that completed their
        cash settlement, with ``invoices``, ``amount`` and count- and
        amount-weighted ``days_to_pay`` and ``days_beyond_terms``.
        ``"by_channel"``: the same by the invoice's ``channel``
        (paper/electronic). Blank methods and channels show as ``(unknown)``.
    """
    p = period_bounds(as_of, period)
    currency = ledger.reporting_currency
    pay = ledger.payments
    in_period = (pay["payment_date"] >= p.start) & (pay["payment_date"] <= p.end)
    part = pay[in_period]
    amounts = ledger.to_reporting(part["amount"], part["currency"], part["payment_date"])
    codes, labels = _labels(part["method"])
    counts = np.bincount(codes, minlength=len(labels))
    totals = group_sum(codes, amounts.to_numpy(), len(labels))
    receipts = pd.DataFrame(
        {
            "payments": counts,
            "amount": totals / 10 ** money.exponent(currency),
            "count_share": counts / max(counts.sum(), 1) * 100,
            "amount_share": totals / max(int(totals.sum()), 1) * 100,
        },
        index=pd.Index(labels, name="method"),
    ).sort_values("amount", ascending=False, kind="stable")

    b = book(ledger)
    paid = paid_invoices(b)
    sel = np.flatnonzero(_in_period(paid.settled, p) & paid.paid)
    args = (paid.pay_day[sel], b.inv_day[sel], b.due_day[sel], b.amount[sel], currency)
    # events are the ledger's allocations in order, then its adjustments (rpmkit.kpi.book)
    pay_row = ledger.links()["alloc_payment"][paid.last_cash_event[sel]]
    methods = np.r_[pay["method"].astype(object).to_numpy(), [None]]
    completing = pd.Series(methods[np.where(pay_row >= 0, pay_row, -1)], dtype=object)
    m_codes, m_labels = _labels(completing)
    c_codes, c_labels = _labels(ledger.invoices["channel"].iloc[sel].reset_index(drop=True))
    return {
        "receipts": receipts,
        "by_method": _days_table(m_codes, m_labels, *args, "method"),
        "by_channel": _days_table(c_codes, c_labels, *args, "channel"),
    }
