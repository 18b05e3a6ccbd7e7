"""Receivables KPIs computed exactly at any as-of date, each with its components.

Conventions (``docs/kpis.md``): an invoice is open at the end of day t when it
is dated on or before t and not fully settled by payments, credit notes,
write-offs or discounts dated on or before t; current means not past due (due
today is current); money is in the ledger's reporting currency.
"""

from rpmkit.kpi.aging import DEFAULT_CUTOFFS, AgingResult, aging, bucket_labels
from rpmkit.kpi.base import FORMULAS, Formula, KpiValue, Period, explain, period_bounds
from rpmkit.kpi.dso import (
    Components,
    add,
    ar_turnover,
    at_risk_rate,
    bad_debt_ratio,
    bpdso,
    cei,
    cei_percent,
    components,
    countback_days,
    dso,
    dso_standard,
    pct_current,
    pct_over_90,
)
from rpmkit.kpi.snapshot import receipts, snapshot

__all__ = [
    "DEFAULT_CUTOFFS",
    "FORMULAS",
    "AgingResult",
    "Components",
    "Formula",
    "KpiValue",
    "Period",
    "add",
    "aging",
    "ar_turnover",
    "at_risk_rate",
    "bad_debt_ratio",
    "bpdso",
    "bucket_labels",
    "cei",
    "cei_percent",
    "components",
    "countback_days",
    "dso",
    "dso_standard",
    "explain",
    "pct_current",
    "pct_over_90",
    "period_bounds",
    "receipts",
    "snapshot",
]
