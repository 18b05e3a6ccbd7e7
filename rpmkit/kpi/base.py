"""What every KPI returns, the periods KPIs are measured over, and the formula registry.

A KPI is never a bare number: :class:`KpiValue` carries the value together
with the components it was computed from (``AR_end``, ``S``, ``D`` …), the
formula and where the definition comes from, so a dashboard can show the
formula with the user's own numbers.

>>> p = period_bounds("2013-06-30", "month")
>>> p.start.date(), p.end.date(), p.days
(datetime.date(2013, 6, 1), datetime.date(2013, 6, 30), 30)
>>> period_bounds("2024-03-15", "quarter").start.date()
datetime.date(2023, 12, 16)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rpmkit.ledger import to_date

__all__ = ["FORMULAS", "Formula", "KpiValue", "Period", "explain", "period_bounds"]

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Period:
    """A closed range of calendar days ``[start, end]``."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> int:
        return int((self.end - self.start).days) + 1

    def __str__(self) -> str:
        return f"{self.start.date()}..{self.end.date()}"


def period_bounds(as_of, period: str | int = "month") -> Period:
    """The period that ends on ``as_of``.

    ``"month"``, ``"quarter"`` and ``"year"`` go back 1, 3 or 12 calendar months
    from the day after ``as_of`` (so a month-end ``as_of`` gives the calendar
    month: as_of 2013-06-30 → June 2013); an integer is a number of days.
    """
    end = to_date(as_of)
    if isinstance(period, int) and not isinstance(period, bool):
        if period < 1:
            raise ValueError(f"period must be at least 1 day, got {period}")
        return Period(end - pd.Timedelta(days=period - 1), end)
    if period not in PERIOD_MONTHS:
        raise ValueError(f"period must be month, quarter, year or a number of days; got {period!r}")
    start = end + pd.Timedelta(days=1) - pd.DateOffset(months=PERIOD_MONTHS[period])
    return Period(pd.Timestamp(start), end)


@dataclass(frozen=True)
class KpiValue:
    """A KPI value with everything needed to check it by hand.

    ``value`` is ``None`` when the KPI is undefined for the data (for example
    DSO with no sales in the period); ``note`` then says why. ``components``
    maps the symbols of ``formula`` to the numbers used (money in reporting
    currency units).
    """

    name: str
    value: float | None
    components: dict[str, Any] = field(default_factory=dict)
    unit: str = "days"
    method: str = ""
    note: str = ""

    @property
    def formula(self) -> str:
        return FORMULAS[self.name].formula if self.name in FORMULAS else ""

    def __float__(self) -> float:
        if self.value is None:
            raise ValueError(f"{self.name} is undefined: {self.note}")
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "method": self.method,
            "formula": self.formula,
            "components": self.components,
            "note": self.note,
        }

    def __repr__(self) -> str:
        shown = "undefined" if self.value is None else f"{self.value:,.2f}"
        tag = f" [{self.method}]" if self.method else ""
        return f"<{self.name}{tag} = {shown} {self.unit}>"


@dataclass(frozen=True)
class Formula:
    """The definition behind a KPI name."""

    name: str
    title: str
    formula: str
    definition: str
    source: str

    def __str__(self) -> str:
        return f"{self.title}\n  {self.formula}\n  {self.definition}\n  Source: {self.source}"


_CRF = "Credit Research Foundation (CRF) DSO/BPDSO/ADD/CEI definitions"

FORMULAS: dict[str, Formula] = {
    f.name: f
    for f in (
        Formula(
            "dso",
            "Days sales outstanding",
            "standard: AR_end / S × D; average: ((AR_begin + AR_end) / 2) / S × D; "
            "three_month: AR_end / S_3m × D_3m; countback: months walked back until AR_end "
            "is exhausted by sales; direct: Σ(open × days outstanding) / Σ open",
            "How many days of sales are tied up in receivables. AR_end = open AR at the end "
            "of the period's last day, AR_begin = at the end of the day before the period, "
            "S = credit sales dated in the period, D = days in the period.",
            f"{_CRF}; countback as in kpi-definitions.md (AR 212,000 → 73.71 days)",
        ),
        Formula(
            "bpdso",
            "Best possible DSO",
            "standard: AR_cur / S × D; countback: countback over AR_cur only",
            "The DSO if every customer paid exactly on terms: only current (not past-due) AR.",
            _CRF,
        ),
        Formula(
            "add",
            "Average days delinquent",
            "aggregate: DSO − BPDSO; invoice-level: mean over invoices settled in the period "
            "of max(0, settled_date − due_date), count- or amount-weighted",
            "How late, on average, receivables are collected beyond terms.",
            _CRF,
        ),
        Formula(
            "cei",
            "Collection effectiveness index",
            "(AR_begin + S − AR_end) / (AR_begin + S − AR_cur) × 100",
            "Share of what was collectible in the period that was collected. With "
            "sales='monthly_average', S is divided by the number of months in the period.",
            f"{_CRF}; monthly-average variant: creditguru (Oracle formula)",
        ),
        Formula(
            "ar_turnover",
            "Receivables turnover",
            "S / ((AR_begin + AR_end) / 2); collection period = D / turnover",
            "How many times average receivables were billed over in the period.",
            "Standard financial-ratio definition",
        ),
        Formula(
            "bad_debt_ratio",
            "Bad-debt ratio",
            "write-offs dated in the period / S × 100",
            "Share of the period's credit sales written off in the period.",
            "Standard definition (kpi-definitions.md)",
        ),
        Formula(
            "pct_current",
            "Percent current",
            "AR_cur / AR_end × 100",
            "Share of open AR not yet past due (due today is current).",
            _CRF,
        ),
        Formula(
            "pct_over_90",
            "Percent over 90 days past due",
            "AR(days past due > 90) / AR_end × 100",
            "Share of open AR more than 90 days past due (the 91+ bucket).",
            _CRF,
        ),
        Formula(
            "at_risk_rate",
            "At-risk rate",
            "AR(days past due ≥ 90) / AR_end × 100",
            "Share of open AR 90 or more days past due.",
            "kpi-definitions.md",
        ),
        Formula(
            "days_to_pay",
            "Average days to pay",
            "mean(cash settlement date − invoice_date) over invoices fully settled in the "
            "period with cash and without write-off",
            "Count-weighted or amount-weighted (weights = invoice amount).",
            "kpi-definitions.md",
        ),
        Formula(
            "days_beyond_terms",
            "Average days beyond terms",
            "mean(cash settlement date − due_date) over invoices fully settled in the "
            "period with cash and without write-off",
            "Negative when customers pay early; count- or amount-weighted.",
            "kpi-definitions.md",
        ),
        Formula(
            "open_ar",
            "Open receivables",
            "AR_end = Σ open amount at the end of the period's last day",
            "Invoices dated on or before the day and not fully settled by it.",
            "architecture.md §4",
        ),
        Formula(
            "sales",
            "Credit sales",
            "S = Σ invoice amounts dated in the period",
            "Each invoice converted at its invoice-date rate.",
            "architecture.md §4",
        ),
        Formula(
            "receipts",
            "Receipts",
            "Σ payment amounts dated in the period",
            "Each payment converted at its payment-date rate, applied or not.",
            "architecture.md §4",
        ),
        Formula(
            "open_disputed_ar",
            "Open disputed AR",
            "Σ open amount of invoices with a dispute open at as_of",
            "A dispute is open when opened on or before as_of and not resolved by then.",
            "kpi-definitions.md",
        ),
        Formula(
            "disputed_past_due_share",
            "Share of past-due AR in dispute",
            "past-due open AR of disputed invoices / past-due open AR × 100",
            "Past due = days past due > 0 at as_of; disputed = a dispute open at as_of.",
            "kpi-definitions.md",
        ),
        Formula(
            "open_disputes",
            "Open disputes",
            "count of disputes opened by as_of and not resolved by then",
            "Disputes resolved after as_of count as open.",
            "kpi-definitions.md",
        ),
        Formula(
            "dispute_resolution_days",
            "Dispute resolution days",
            "Kaplan–Meier median of resolved_date − opened_date, open disputes censored at as_of",
            "Survival-correct: an open dispute has lasted at least as_of − opened_date and is "
            "censored there, not dropped; the restricted mean is in the components.",
            "kpi-definitions.md; Kaplan & Meier (1958) product-limit estimator",
        ),
        Formula(
            "promise_kept_rate",
            "Promise-to-pay kept rate",
            "promises due in the period whose promised amount arrived by the promised date "
            "/ promises due in the period × 100",
            "Cash counted from the day the promise was made to the promised date: allocations "
            "to the promised invoice, or the customer's payments for a customer-level promise.",
            "kpi-definitions.md",
        ),
        Formula(
            "payments_applied_share",
            "Payments fully applied",
            "payments of the period fully allocated by as_of / payments of the period × 100",
            "Payment-level (envelope) application rate, by count.",
            "kpi-definitions.md",
        ),
        Formula(
            "cash_applied_share",
            "Cash applied",
            "amount allocated by as_of / amount received in the period × 100",
            "Share of the period's receipts applied to invoices.",
            "kpi-definitions.md",
        ),
        Formula(
            "unapplied_cash",
            "Unapplied cash",
            "Σ (payment amount − allocated) over payments received by as_of",
            "Cash on account: overpayments and payments not yet applied.",
            "kpi-definitions.md",
        ),
        Formula(
            "days_to_apply",
            "Days to apply cash",
            "mean(applied_date − payment_date) over allocations of the period's payments",
            "Only allocations that carry an applied_date.",
            "rpmkit",
        ),
        Formula(
            "billing_lag",
            "Billing lag",
            "mean(invoice_date − delivery_date, else order_date) over invoices of the period",
            "Needs a delivery_date or order_date attribute column on the invoices.",
            "rpmkit",
        ),
        Formula(
            "credit_note_rate",
            "Invoices corrected by credit note",
            "invoices of the period with a credit note within N days / invoices × 100",
            "A proxy for billing errors; N = correction_days (default 30).",
            "rpmkit",
        ),
        Formula(
            "e_invoicing_share",
            "E-invoicing share",
            "electronic invoices / invoices with a known channel × 100",
            "From the invoices' channel (paper / electronic).",
            "rpmkit",
        ),
    )
}


def explain(name: str) -> Formula:
    """The formula, definition and source of a KPI.

    >>> print(explain("cei").formula)
    (AR_begin + S − AR_end) / (AR_begin + S − AR_cur) × 100
    """
    try:
        return FORMULAS[name]
    except KeyError:
        raise KeyError(f"no KPI named {name!r}; known: {', '.join(sorted(FORMULAS))}") from None
