"""The DSO family, BPDSO, ADD, CEI and the balance ratios, with their components.

Each ledger function gathers the components of ``kpi-definitions.md`` for the
period ending at ``as_of`` (see :func:`components`) and passes them to a pure
formula function, so the authorities' worked examples test the formulas
directly:

>>> round(countback_days(212_000, [100_000, 80_000, 70_000], [30, 30, 30])[0], 2)
73.71
>>> round(dso_standard(212_000, 250_000, 90), 2)
76.32
>>> round(cei_percent(6_200, 10_890, 6_340, 3_590), 2)
79.63
>>> round(cei_percent(6_200, 10_890 / 3, 6_340, 3_590), 2)
55.93
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.kpi.base import KpiValue, Period, period_bounds
from rpmkit.kpi.book import Book, book, day_to_date
from rpmkit.ledger import Ledger

__all__ = [
    "Components",
    "add",
    "ar_turnover",
    "at_risk_rate",
    "bad_debt_ratio",
    "bpdso",
    "cei",
    "cei_percent",
    "components",
    "countback_days",
    "dso",
    "dso_standard",
    "pct_current",
    "pct_over_90",
]

DsoMethod = Literal["standard", "average", "three_month", "countback", "direct"]
MAX_COUNTBACK_MONTHS = 120


# --------------------------------------------------------------- formulas
def dso_standard(ar: float, sales: float, days: int) -> float | None:
    """``AR / S × D``; ``None`` when there were no sales."""
    return None if sales <= 0 else ar / sales * days


def countback_days(
    ar: float, month_sales: Sequence[float], month_days: Sequence[int]
) -> tuple[float, bool]:
    """Countback: walk back month by month until the AR is exhausted by sales.

    ``month_sales`` and ``month_days`` run from the latest month backwards.
    Returns ``(days, exhausted)``; ``exhausted`` is False when the history ran
    out before the AR did (then ``days`` covers the whole history).
    """
    remaining = float(ar)
    days = 0.0
    if remaining <= 0:
        return 0.0, True
    for sales, d in zip(month_sales, month_days, strict=True):
        if sales >= remaining:
            return days + remaining / sales * d, True
        remaining -= sales
        days += d
    return days, False


def cei_percent(ar_begin: float, sales: float, ar_end: float, ar_current: float) -> float | None:
    """``(AR_begin + S − AR_end) / (AR_begin + S − AR_cur) × 100``; ``None`` if nothing was due."""
    denominator = ar_begin + sales - ar_current
    if denominator <= 0:
        return None
    return (ar_begin + sales - ar_end) / denominator * 100.0


# ------------------------------------------------------------- components
@dataclass(frozen=True)
class Components:
    """The inputs every period KPI is computed from, in reporting minor units."""

    period: Period
    ar_begin: int
    ar_end: int
    ar_current: int
    sales: int
    currency: str
    grace_days: int = 0

    @property
    def days(self) -> int:
        return self.period.days

    def units(self, minor: int) -> float:
        return minor / 10 ** money.exponent(self.currency)

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "period_start": self.period.start.date().isoformat(),
            "period_end": self.period.end.date().isoformat(),
            "D": self.days,
            "AR_begin": self.units(self.ar_begin),
            "AR_end": self.units(self.ar_end),
            "AR_cur": self.units(self.ar_current),
            "S": self.units(self.sales),
        }


def _day(ts: pd.Timestamp) -> int:
    return int((np.datetime64(ts, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))


def components(
    ledger: Ledger, as_of, period: str | int = "month", *, grace_days: int = 0
) -> Components:
    """AR_begin, AR_end, AR_cur and S for the period ending at ``as_of``.

    ``grace_days`` widens "current" to invoices up to that many days past due
    (some vendors count up to 60 days as current: an option, never the default).
    """
    p = period_bounds(as_of, period)
    b = book(ledger)
    end, start = _day(p.end), _day(p.start)
    ar_begin, ar_end = (int(x) for x in b.ar_at(np.array([start - 1, end])))
    return Components(
        period=p,
        ar_begin=ar_begin,
        ar_end=ar_end,
        ar_current=b.current_ar_at(end, grace_days),
        sales=b.sales_between(start, end),
        currency=ledger.reporting_currency,
        grace_days=grace_days,
    )


def _month_windows(as_of: pd.Timestamp, count: int) -> list[Period]:
    """Calendar-month windows ending at ``as_of``, latest first (same day-of-month steps)."""
    nxt = as_of + pd.Timedelta(days=1)
    bounds = [pd.Timestamp(nxt - pd.DateOffset(months=k)) for k in range(count + 1)]
    return [Period(bounds[k + 1], bounds[k] - pd.Timedelta(days=1)) for k in range(count)]


def _countback(b: Book, ar: int, as_of: pd.Timestamp) -> tuple[float, bool, list[dict]]:
    first_day = int(b.inv_day.min()) if b.n else _day(as_of)
    months_back = (as_of.year - day_to_date(first_day).year) * 12 + as_of.month + 1
    windows = [
        w
        for w in _month_windows(as_of, min(MAX_COUNTBACK_MONTHS, max(months_back, 1)))
        if _day(w.end) >= first_day
    ]
    sales = [b.sales_between(_day(w.start), _day(w.end)) for w in windows]
    days, exhausted = countback_days(ar, sales, [w.days for w in windows])
    walked = [
        {"month": str(w), "S": s, "days": w.days} for w, s in zip(windows, sales, strict=True)
    ]
    return days, exhausted, walked


def _value(
    name: str, value: float | None, c: Components, method: str, note: str = "", **extra
) -> KpiValue:
    if value is None and not note:
        note = "no credit sales in the period" if c.sales <= 0 else "undefined for this data"
    return KpiValue(
        name=name,
        value=None if value is None else float(value),
        components={**c.as_dict(), **extra},
        unit="percent" if name in {"cei", "pct_current", "pct_over_90", "at_risk_rate"} else "days",
        method=method,
        note=note,
    )


# --------------------------------------------------------------- the KPIs
def dso(
    ledger: Ledger,
    as_of,
    period: str | int = "month",
    *,
    method: DsoMethod = "standard",
) -> KpiValue:
    """Days sales outstanding at ``as_of`` over the period ending then.

    ``method``: ``"standard"`` (AR_end / S × D), ``"average"`` (average of
    AR_begin and AR_end), ``"three_month"`` (AR_end over the last three
    calendar months' sales and days), ``"countback"`` (exhaust AR_end by
    monthly sales walking back), ``"direct"`` (open-amount-weighted days
    outstanding of the open items).
    """
    c = components(ledger, as_of, period)
    b = book(ledger)
    if method == "standard":
        return _value("dso", dso_standard(c.ar_end, c.sales, c.days), c, method)
    if method == "average":
        avg = (c.ar_begin + c.ar_end) / 2
        return _value("dso", dso_standard(avg, c.sales, c.days), c, method)
    if method == "three_month":
        three = period_bounds(c.period.end, "quarter")
        s3 = b.sales_between(_day(three.start), _day(three.end))
        value = dso_standard(c.ar_end, s3, three.days)
        note = "" if s3 > 0 else "no credit sales in the last three months"
        return _value("dso", value, c, method, note, S_3m=c.units(s3), D_3m=three.days)
    if method == "countback":
        days, exhausted, walked = _countback(b, c.ar_end, c.period.end)
        note = "" if exhausted else "AR exceeds all sales on record: days cover the whole history"
        months = [{**w, "S": c.units(w["S"])} for w in walked[: len(walked)]]
        return _value("dso", days, c, method, note, months=months[:24])
    if method == "direct":
        end = _day(c.period.end)
        open_ = b.open_at(end)
        total = open_.sum()
        value = None if total <= 0 else float((open_ * (end - b.inv_day)).sum() / total)
        return _value("dso", value, c, method, "" if total > 0 else "no open AR")
    raise ValueError(
        f"method must be one of standard, average, three_month, countback, direct; got {method!r}"
    )


def bpdso(
    ledger: Ledger,
    as_of,
    period: str | int = "month",
    *,
    method: Literal["standard", "countback"] = "standard",
) -> KpiValue:
    """Best possible DSO: the DSO of current (not past-due) AR only."""
    c = components(ledger, as_of, period)
    if method == "standard":
        return _value("bpdso", dso_standard(c.ar_current, c.sales, c.days), c, method)
    if method == "countback":
        days, exhausted, _ = _countback(book(ledger), c.ar_current, c.period.end)
        note = "" if exhausted else "current AR exceeds all sales on record"
        return _value("bpdso", days, c, method, note)
    raise ValueError(f"method must be 'standard' or 'countback', got {method!r}")


def add(
    ledger: Ledger,
    as_of,
    period: str | int = "month",
    *,
    method: Literal["standard", "countback", "invoice"] = "standard",
    weight: Literal["count", "amount"] = "amount",
) -> KpiValue:
    """Average days delinquent.

    ``"standard"``/``"countback"``: DSO − BPDSO of that method (CRF aggregate).
    ``"invoice"``: mean over invoices settled in the period of
    ``max(0, settled − due)``, weighted by ``weight`` (count or amount).
    """
    if method in ("standard", "countback"):
        d = dso(ledger, as_of, period, method=method)
        bp = bpdso(ledger, as_of, period, method=method)
        value = None if d.value is None or bp.value is None else d.value - bp.value
        return KpiValue(
            "add",
            value,
            {**d.components, "DSO": d.value, "BPDSO": bp.value},
            method=method,
            note=d.note or bp.note,
        )
    if method == "invoice":
        c = components(ledger, as_of, period)
        b = book(ledger)
        settled = b.settled_day()
        start, end = _day(c.period.start), _day(c.period.end)
        sel = (settled >= start) & (settled <= end)
        late = np.maximum(0, settled[sel] - b.due_day[sel]).astype(float)
        w = np.ones(sel.sum()) if weight == "count" else b.amount[sel].astype(float)
        value = float((late * w).sum() / w.sum()) if w.sum() > 0 else None
        note = "" if value is not None else "no invoice was settled in the period"
        return _value("add", value, c, f"invoice/{weight}", note, invoices_settled=int(sel.sum()))
    raise ValueError(f"method must be standard, countback or invoice; got {method!r}")


def cei(
    ledger: Ledger,
    as_of,
    period: str | int = "month",
    *,
    sales: Literal["period", "monthly_average"] = "period",
    grace_days: int = 0,
) -> KpiValue:
    """Collection effectiveness index, in percent.

    ``sales="monthly_average"`` divides S by the number of months in the
    period (an Oracle/creditguru variant); ``grace_days`` counts invoices up to
    that many days past due as current (default 0: not past due).
    """
    c = components(ledger, as_of, period, grace_days=grace_days)
    s = c.sales
    if sales == "monthly_average":
        months = (
            {"month": 1, "quarter": 3, "year": 12}.get(period) if isinstance(period, str) else None
        )
        if months is None:
            raise ValueError("sales='monthly_average' needs period month, quarter or year")
        s = c.sales / months
    elif sales != "period":
        raise ValueError(f"sales must be 'period' or 'monthly_average', got {sales!r}")
    value = cei_percent(c.ar_begin, s, c.ar_end, c.ar_current)
    note = "" if value is not None else "nothing was collectible in the period"
    return _value("cei", value, c, sales, note)


def ar_turnover(ledger: Ledger, as_of, period: str | int = "year") -> KpiValue:
    """Receivables turnover ``S / average AR`` and the collection period ``D / turnover``."""
    c = components(ledger, as_of, period)
    avg = (c.ar_begin + c.ar_end) / 2
    value = None if avg <= 0 else c.sales / avg
    period_days = None if not value else c.days / value
    return KpiValue(
        "ar_turnover",
        value,
        {**c.as_dict(), "collection_period_days": period_days},
        unit="times",
        note="" if value is not None else "no open AR in the period",
    )


def bad_debt_ratio(ledger: Ledger, as_of, period: str | int = "year") -> KpiValue:
    """Write-offs dated in the period as a percentage of the period's credit sales."""
    c = components(ledger, as_of, period)
    b = book(ledger)
    written = b.settled_between(_day(c.period.start), _day(c.period.end), ("write_off",))
    value = None if c.sales <= 0 else written / c.sales * 100
    return KpiValue(
        "bad_debt_ratio",
        value,
        {**c.as_dict(), "write_offs": c.units(written)},
        unit="percent",
        note="" if value is not None else "no credit sales in the period",
    )


def _share(ledger: Ledger, as_of, name: str, past_due_over: int | None) -> KpiValue:
    c = components(ledger, as_of, "month")
    b = book(ledger)
    end = _day(c.period.end)
    open_ = b.open_at(end)
    if past_due_over is None:
        part = c.ar_current
    else:
        part = int(open_[(end - b.due_day) > past_due_over].sum())
    value = None if c.ar_end <= 0 else part / c.ar_end * 100
    return KpiValue(
        name,
        value,
        {"AR_end": c.units(c.ar_end), "part": c.units(part), "as_of": str(c.period.end.date())},
        unit="percent",
        note="" if value is not None else "no open AR",
    )


def pct_current(ledger: Ledger, as_of) -> KpiValue:
    """Share of open AR not past due (due today is current)."""
    return _share(ledger, as_of, "pct_current", None)


def pct_over_90(ledger: Ledger, as_of) -> KpiValue:
    """Share of open AR more than 90 days past due (the 91+ bucket)."""
    return _share(ledger, as_of, "pct_over_90", 90)


def at_risk_rate(ledger: Ledger, as_of) -> KpiValue:
    """Share of open AR 90 or more days past due."""
    return _share(ledger, as_of, "at_risk_rate", 89)
