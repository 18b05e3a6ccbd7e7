"""Any KPI over a date range, by week, month, quarter or year, optionally by segment.

:func:`kpi_series` returns a tidy DataFrame: one row per period end (and
segment), with the KPI's value and the components it was computed from. The
value at each period end equals the point KPI called at that date (tests check
it), but the work is done once for all dates: open AR at every period end comes
from cumulative sums of invoices minus settlement events (the identity of
:meth:`Book.ar_at`), and "open AR at least k days past due at t" is a
cumulative sum too, keyed on ``max(invoice day, due day + k)`` for invoices and
``max(event day, due day + k)`` for settlement events. Sums are taken per day
with ``bincount``, so a series on ten million invoices costs a few linear
passes over the arrays, never one ``as_of`` per period.

>>> FREQUENCIES["month"], FREQUENCIES["week"]
(('ME', 'month'), ('W-SUN', 7))
>>> period_ends("2024-01-15", "2024-04-30", "month").strftime("%Y-%m-%d").tolist()
['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.keys import group_sum
from rpmkit.kpi.base import KpiValue, period_bounds
from rpmkit.kpi.book import EVENT_KINDS, NEVER, Book, book, day_number
from rpmkit.kpi.dso import MAX_COUNTBACK_MONTHS, cei_percent, countback_days, dso_standard
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger, to_date

__all__ = ["FREQUENCIES", "SERIES_KPIS", "kpi_series", "period_ends", "segment_book"]

Freq = Literal["week", "month", "quarter", "year"]

FREQUENCIES: dict[str, tuple[str, str | int]] = {
    "week": ("W-SUN", 7),
    "month": ("ME", "month"),
    "quarter": ("QE-DEC", "quarter"),
    "year": ("YE-DEC", "year"),
}
"""Per frequency: the pandas alias of its period ends and the KPI period it measures."""

SERIES_KPIS: dict[str, tuple[str, ...]] = {
    "dso": ("method",),
    "bpdso": ("method",),
    "add": ("method", "weight"),
    "cei": ("sales", "grace_days"),
    "pct_current": (),
    "pct_over_90": (),
    "at_risk_rate": (),
    "open_ar": (),
    "sales": (),
    "receipts": (),
    "bad_debt_ratio": (),
    "ar_turnover": (),
    "days_to_pay": ("weight",),
    "days_beyond_terms": ("weight",),
}
"""KPIs computed natively over a series, with the options each accepts (all accept ``period``)."""

_PERCENT = {"cei", "pct_current", "pct_over_90", "at_risk_rate", "bad_debt_ratio"}
_MONEY = {"open_ar", "sales", "receipts"}


def period_ends(start, end, freq: Freq = "month") -> pd.DatetimeIndex:
    """The period ends of ``freq`` falling in ``[start, end]`` (weeks end on Sunday)."""
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {', '.join(FREQUENCIES)}; got {freq!r}")
    start, end = to_date(start), to_date(end)
    if end < start:
        raise ValueError(f"end {end.date()} is before start {start.date()}")
    return pd.date_range(start, end, freq=FREQUENCIES[freq][0]).normalize()


# ------------------------------------------------------------ book views
def segment_book(b: Book, mask: np.ndarray) -> Book:
    """A :class:`~rpmkit.kpi.book.Book` restricted to the invoices where ``mask`` is True.

    Keeps their settlement events (renumbered) and the customer and segment
    codes, so group labels stay comparable with the full book.
    """
    mask = np.asarray(mask, dtype=bool)
    new_position = np.cumsum(mask) - 1
    keep = mask[b.ev_inv]
    return dataclasses.replace(
        b,
        inv_day=b.inv_day[mask],
        due_day=b.due_day[mask],
        amount=b.amount[mask],
        customer=b.customer[mask],
        segment=b.segment[mask],
        ev_inv=new_position[b.ev_inv[keep]],
        ev_day=b.ev_day[keep],
        ev_amount=b.ev_amount[keep],
        ev_kind=b.ev_kind[keep],
        settled=b.settled[mask],
    )


class _Cumulative:
    """``f(t) = Σ values[keys <= t]`` for many ``t`` at once, exact in int64.

    Keys are day numbers, so the values are summed per day (``bincount``, no
    sort) and cumulated; keys at or beyond the ``NEVER`` sentinel never count.
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        keep = keys < NEVER
        keys, values = keys[keep], np.asarray(values, dtype=np.int64)[keep]
        self.lo = int(keys.min()) if len(keys) else 0
        size = int(keys.max()) - self.lo + 1 if len(keys) else 1
        per_day = group_sum(keys - self.lo, values, size)
        self.cum = np.r_[np.int64(0), np.cumsum(per_day, dtype=np.int64)]

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return self.cum[np.clip(np.asarray(t) - self.lo + 1, 0, len(self.cum) - 1)]

    def between(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        return self(end) - self(start - 1)


class _Curves:
    """The cumulative curves of one book that every series KPI is built from."""

    def __init__(self, b: Book) -> None:
        self.b = b
        self._cache: dict[Any, _Cumulative] = {}

    def _get(self, key, build: Callable[[], tuple[np.ndarray, np.ndarray]]) -> _Cumulative:
        if key not in self._cache:
            self._cache[key] = _Cumulative(*build())
        return self._cache[key]

    def invoiced(self) -> _Cumulative:
        return self._get("invoiced", lambda: (self.b.inv_day, self.b.amount))

    def settled(self, kind: str | None = None) -> _Cumulative:
        b = self.b
        if kind is None:
            return self._get("settled", lambda: (b.ev_day, b.ev_amount))
        sel = b.ev_kind == EVENT_KINDS.index(kind)
        return self._get(("settled", kind), lambda: (b.ev_day[sel], b.ev_amount[sel]))

    def ar(self, t: np.ndarray) -> np.ndarray:
        return self.invoiced()(t) - self.settled()(t)

    def past_due(self, t: np.ndarray, k: int) -> np.ndarray:
        """Open AR at the end of each ``t`` with ``t − due_day >= k``."""
        b = self.b
        inv = self._get(("due", k), lambda: (np.maximum(b.inv_day, b.due_day + k), b.amount))
        ev = self._get(
            ("ev_due", k),
            lambda: (np.maximum(b.ev_day, b.due_day[b.ev_inv] + k), b.ev_amount),
        )
        return inv(t) - ev(t)

    def current(self, t: np.ndarray, grace_days: int = 0) -> np.ndarray:
        return self.ar(t) - self.past_due(t, grace_days + 1)

    def age_weighted(self, t: np.ndarray) -> np.ndarray:
        """``Σ open × (t − invoice day)`` at the end of each ``t``."""
        b = self.b
        base = int(b.inv_day.min()) if b.n else 0
        rel = b.inv_day - base
        inv = self._get("inv_age", lambda: (b.inv_day, b.amount * rel))
        ev = self._get("ev_age", lambda: (b.ev_day, b.ev_amount * rel[b.ev_inv]))
        return self.ar(t) * (t - base) - (inv(t) - ev(t))


# ----------------------------------------------------------------- the API
def kpi_series(
    ledger: Ledger,
    kpi: str | Callable[..., KpiValue],
    start,
    end,
    *,
    freq: Freq = "month",
    by: Literal["segment"] | None = None,
    **kpi_kwargs,
) -> pd.DataFrame:
    """A KPI at every period end of ``freq`` in ``[start, end]``, as a tidy DataFrame.

    Parameters
    ----------
    ledger
        The ledger; each value sees only what is dated on or before its period end.
    kpi
        A name of :data:`SERIES_KPIS` (``dso``, ``bpdso``, ``add``, ``cei``,
        ``pct_current``, ``pct_over_90``, ``at_risk_rate``, ``open_ar``,
        ``sales``, ``receipts``, ``bad_debt_ratio``, ``ar_turnover``,
        ``days_to_pay``, ``days_beyond_terms``), computed for all dates at once;
        or any callable ``f(ledger, as_of, period, **kpi_kwargs) -> KpiValue``,
        called once per period end (``by`` must then be None).
    start, end
        The range period ends are taken from.
    freq
        ``"week"`` (ending Sunday, 7-day periods), ``"month"``, ``"quarter"``
        or ``"year"`` (calendar periods).
    by
        ``None`` or ``"segment"`` (one row per segment and period end; the
        segment of an invoice as in :func:`rpmkit.kpi.aging`; a payment's
        segment is that of the first invoice it was applied to, else its
        customer's).
    **kpi_kwargs
        The KPI's options, as for the point function (``method``, ``weight``,
        ``sales``, ``grace_days``), and ``period`` to override the measurement
        period (e.g. monthly points of a quarterly DSO: ``period="quarter"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``period_start, period_end, [segment,] kpi, method, value,
        unit, D, AR_begin, AR_end, AR_cur, S`` (money in reporting currency
        units; ``value`` is NaN where the KPI is undefined), plus ``n`` for
        invoice-level KPIs.
    """
    ends = period_ends(start, end, freq)
    period = kpi_kwargs.pop("period", FREQUENCIES[freq][1])
    periods = [period_bounds(e, period) for e in ends]
    starts = pd.DatetimeIndex([p.start for p in periods])
    if callable(kpi):
        if by is not None:
            raise ValueError("a callable KPI cannot be split by segment; pass a KPI name")
        return _call_each(ledger, kpi, ends, starts, period, kpi_kwargs)
    if kpi not in SERIES_KPIS:
        raise ValueError(f"kpi must be one of {', '.join(SERIES_KPIS)} or a callable; got {kpi!r}")
    unknown = set(kpi_kwargs) - set(SERIES_KPIS[kpi])
    if unknown:
        raise TypeError(f"{kpi} does not take {', '.join(sorted(unknown))}")
    b = book(ledger)
    cash = _receipts(ledger, b) if kpi == "receipts" else None
    job = _Job(kpi, kpi_kwargs, period, ends, starts, ledger.reporting_currency)
    if by is None:
        return job.run(b, cash)
    if by != "segment":
        raise ValueError(f"by must be None or 'segment', got {by!r}")
    frames = []
    for label in sorted(b.segments):
        code = b.segments.get_loc(label)
        part = cash if cash is None else tuple(x[cash[2] == label] for x in cash)
        frame = job.run(segment_book(b, b.segment == code), part)
        frame.insert(2, "segment", label)
        frames.append(frame)
    if cash is not None:  # payments of segments that have no invoices
        for label in sorted(set(cash[2]) - set(b.segments)):
            empty = segment_book(b, np.zeros(b.n, dtype=bool))
            frame = job.run(empty, tuple(x[cash[2] == label] for x in cash))
            frame.insert(2, "segment", label)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _call_each(ledger, kpi, ends, starts, period, kwargs) -> pd.DataFrame:
    rows = []
    for s, e in zip(starts, ends, strict=True):
        value = kpi(ledger, e, period, **kwargs)
        rows.append(
            {
                "period_start": s,
                "period_end": e,
                "kpi": value.name,
                "method": value.method,
                "value": np.nan if value.value is None else value.value,
                "unit": value.unit,
                **{k: v for k, v in value.components.items() if np.isscalar(v)},
            }
        )
    columns = ["period_start", "period_end", "kpi", "method", "value", "unit"]
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)


def _receipts(ledger: Ledger, b: Book) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Payments as (day, reporting minor units, segment label)."""
    pay = ledger.payments
    amount = ledger.to_reporting(pay["amount"], pay["currency"], pay["payment_date"]).to_numpy()
    # the book's first events are the ledger's allocations, in order (rpmkit.kpi.book)
    n_alloc = len(ledger.allocations)
    position = ledger.links()["alloc_payment"]
    known = position >= 0
    first = np.full(len(pay), n_alloc, dtype=np.int64)
    np.minimum.at(first, position[known], np.flatnonzero(known))
    applied = first < n_alloc
    labels = np.asarray(b.segments, dtype=object)
    master = ledger.customers.set_index("customer_id")["segment"]
    segment = np.array(pay["customer_id"].map(master).astype(object).fillna("(none)"), dtype=object)
    segment[applied] = labels[b.segment[b.ev_inv[first[applied]]]]
    return day_number(pay["payment_date"]), amount, segment


class _Job:
    """One KPI with its options over a fixed set of periods."""

    def __init__(self, kpi, options, period, ends, starts, currency) -> None:
        self.kpi, self.options, self.period = kpi, options, period
        self.ends, self.starts = ends, starts
        self.e = day_number(pd.Series(ends))
        self.s = day_number(pd.Series(starts))
        self.days = self.e - self.s + 1
        self.scale = 10 ** money.exponent(currency)

    def run(self, b: Book, cash) -> pd.DataFrame:
        c = _Curves(b)
        e, s, d = self.e, self.s, self.days
        ar_end, ar_begin = c.ar(e), c.ar(s - 1)
        sales = c.invoiced().between(s, e)
        grace = int(self.options.get("grace_days", 0))
        ar_cur = c.current(e, grace)
        value, method, extra = self._value(b, c, ar_end, ar_begin, ar_cur, sales)
        frame = pd.DataFrame(
            {
                "period_start": self.starts,
                "period_end": self.ends,
                "kpi": self.kpi,
                "method": method,
                "value": value if self.kpi not in _MONEY else value / self.scale,
                "unit": "percent" if self.kpi in _PERCENT else "days",
                "D": d,
                "AR_begin": ar_begin / self.scale,
                "AR_end": ar_end / self.scale,
                "AR_cur": ar_cur / self.scale,
                "S": sales / self.scale,
                **extra,
            }
        )
        if self.kpi == "receipts":
            day, amount, _ = cash
            frame["value"] = _Cumulative(day, amount).between(s, e) / self.scale
        if self.kpi in _MONEY:
            frame["unit"] = b.reporting_currency
        elif self.kpi == "ar_turnover":
            frame["unit"] = "times"
        return frame

    def _value(self, b, c: _Curves, ar_end, ar_begin, ar_cur, sales):
        kpi, opt, e, s, d = self.kpi, self.options, self.e, self.s, self.days
        nan = np.full(len(e), np.nan)

        def ratio(num, den, factor=1.0):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(den > 0, num / np.where(den > 0, den, 1) * factor, np.nan)

        if kpi == "dso":
            method = opt.get("method", "standard")
            if method == "standard":
                return _each(dso_standard, ar_end, sales, d), method, {}
            if method == "average":
                return _each(dso_standard, (ar_begin + ar_end) / 2, sales, d), method, {}
            if method == "three_month":
                three = [period_bounds(x, "quarter") for x in self.ends]
                s3 = day_number(pd.Series([p.start for p in three]))
                sales3 = c.invoiced().between(s3, e)
                d3 = e - s3 + 1
                value = _each(dso_standard, ar_end, sales3, d3)
                return value, method, {"S_3m": sales3 / self.scale, "D_3m": d3}
            if method == "countback":
                return self._countback(b, c, ar_end), method, {}
            if method == "direct":
                return ratio(c.age_weighted(e), ar_end), method, {}
            raise ValueError(f"unknown dso method {method!r}")
        if kpi == "bpdso":
            method = opt.get("method", "standard")
            if method == "standard":
                return _each(dso_standard, ar_cur, sales, d), method, {}
            if method == "countback":
                return self._countback(b, c, ar_cur), method, {}
            raise ValueError(f"bpdso method must be 'standard' or 'countback', got {method!r}")
        if kpi == "add":
            method = opt.get("method", "standard")
            if method in ("standard", "countback"):
                if method == "standard":
                    dso_v = _each(dso_standard, ar_end, sales, d)
                    bp_v = _each(dso_standard, ar_cur, sales, d)
                else:
                    dso_v, bp_v = self._countback(b, c, ar_end), self._countback(b, c, ar_cur)
                return dso_v - bp_v, method, {}
            if method == "invoice":
                weight = opt.get("weight", "amount")
                settled = paid_invoices(b).settled
                late = np.where(settled < NEVER, np.maximum(0, settled - b.due_day), 0)
                w = np.ones(b.n, dtype=np.int64) if weight == "count" else b.amount
                n = _Cumulative(settled, np.ones(b.n, dtype=np.int64)).between(s, e)
                num = _Cumulative(settled, late * w).between(s, e)
                den = _Cumulative(settled, w).between(s, e)
                return ratio(num, den), f"invoice/{weight}", {"n": n}
            raise ValueError(f"add method must be standard, countback or invoice; got {method!r}")
        if kpi == "cei":
            basis = opt.get("sales", "period")
            s_used = sales.astype(np.float64)
            if basis == "monthly_average":
                months = {"month": 1, "quarter": 3, "year": 12}.get(self.period)
                if months is None:
                    raise ValueError("sales='monthly_average' needs period month, quarter or year")
                s_used = sales / months
            elif basis != "period":
                raise ValueError(f"sales must be 'period' or 'monthly_average', got {basis!r}")
            return _each(cei_percent, ar_begin, s_used, ar_end, ar_cur), basis, {}
        if kpi == "pct_current":
            return ratio(ar_cur, ar_end, 100.0), "", {}
        if kpi == "pct_over_90":
            return ratio(c.past_due(e, 91), ar_end, 100.0), "", {}
        if kpi == "at_risk_rate":
            return ratio(c.past_due(e, 90), ar_end, 100.0), "", {}
        if kpi == "open_ar":
            return ar_end.astype(np.float64), "", {}
        if kpi == "sales":
            return sales.astype(np.float64), "", {}
        if kpi == "receipts":
            return nan, "", {}
        if kpi == "bad_debt_ratio":
            written = c.settled("write_off").between(s, e)
            return ratio(written, sales, 100.0), "", {"write_offs": written / self.scale}
        if kpi == "ar_turnover":
            return ratio(sales, (ar_begin + ar_end) / 2), "", {}
        # days_to_pay / days_beyond_terms
        weight = opt.get("weight", "count")
        if weight not in ("count", "amount"):
            raise ValueError(f"weight must be 'count' or 'amount', got {weight!r}")
        paid = paid_invoices(b)
        key = np.where(paid.paid, paid.settled, NEVER)
        start = b.inv_day if kpi == "days_to_pay" else b.due_day
        days = np.where(paid.paid, paid.pay_day - start, 0)
        w = np.where(paid.paid, 1 if weight == "count" else b.amount, 0).astype(np.int64)
        n = _Cumulative(key, paid.paid.astype(np.int64)).between(s, e)
        num = _Cumulative(key, days * w).between(s, e)
        den = _Cumulative(key, w).between(s, e)
        return ratio(num, den), weight, {"n": n}

    def _countback(self, b: Book, c: _Curves, ar: np.ndarray) -> np.ndarray:
        """Countback days per period end, exactly as :func:`rpmkit.kpi.dso` walks months."""
        first_day = int(b.inv_day.min()) if b.n else int(self.e.min())
        following = self.ends + pd.Timedelta(days=1)
        starts, ends = [], []
        for k in range(MAX_COUNTBACK_MONTHS):
            w_end = day_number(pd.Series(following - pd.DateOffset(months=k))) - 1
            if (w_end < first_day).all():
                break
            starts.append(day_number(pd.Series(following - pd.DateOffset(months=k + 1))))
            ends.append(w_end)
        if not starts:
            return np.zeros(len(ar))  # no month to walk: as the point KPI, zero days
        w_start, w_end = np.array(starts).T, np.array(ends).T  # (periods, months)
        inv = c.invoiced()
        month_sales = inv(w_end) - inv(w_start - 1)
        out = np.empty(len(ar))
        for i in range(len(ar)):
            walked = w_end[i] >= first_day
            k = int(walked.argmin()) if not walked.all() else len(walked)
            days = (w_end[i, :k] - w_start[i, :k] + 1).tolist()
            out[i] = countback_days(int(ar[i]), month_sales[i, :k].tolist(), days)[0]
        return out


def _each(f, *columns) -> np.ndarray:
    """Apply a scalar formula of :mod:`rpmkit.kpi.dso` per period (``None`` → NaN)."""
    rows = zip(*(np.asarray(col).tolist() for col in columns), strict=True)
    out = [f(*row) for row in rows]
    return np.array([np.nan if v is None else v for v in out], dtype=np.float64)
