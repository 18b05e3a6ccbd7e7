"""Receivables KPIs computed exactly at any as-of date, each with its components.

Conventions (``docs/kpis.md``): an invoice is open at the end of day t when it
is dated on or before t and not fully settled by payments, credit notes,
write-offs or discounts dated on or before t; current means not past due (due
today is current); money is in the ledger's reporting currency.
"""

from rpmkit.kpi.aging import DEFAULT_CUTOFFS, AgingResult, aging, bucket_labels
from rpmkit.kpi.base import FORMULAS, Formula, KpiValue, Period, explain, period_bounds
from rpmkit.kpi.benchmarks import CRF_BENCHMARKS, Benchmark, benchmark, benchmark_table
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
from rpmkit.kpi.ops import (
    KpiSet,
    activity_counts,
    cash_application_rates,
    dispute_kpis,
    invoice_management,
    product_limit,
    promise_kept_rate,
)
from rpmkit.kpi.payment import days_beyond_terms, days_to_pay, payment_mix
from rpmkit.kpi.series import kpi_series
from rpmkit.kpi.snapshot import receipts, snapshot

__all__ = [
    "CRF_BENCHMARKS",
    "DEFAULT_CUTOFFS",
    "FORMULAS",
    "AgingResult",
    "Benchmark",
    "Components",
    "Formula",
    "KpiSet",
    "KpiValue",
    "Period",
    "activity_counts",
    "add",
    "aging",
    "ar_turnover",
    "at_risk_rate",
    "bad_debt_ratio",
    "benchmark",
    "benchmark_table",
    "bpdso",
    "bucket_labels",
    "cash_application_rates",
    "cei",
    "cei_percent",
    "components",
    "countback_days",
    "days_beyond_terms",
    "days_to_pay",
    "dispute_kpis",
    "dso",
    "dso_standard",
    "explain",
    "invoice_management",
    "kpi_series",
    "payment_mix",
    "pct_current",
    "pct_over_90",
    "period_bounds",
    "product_limit",
    "promise_kept_rate",
    "receipts",
    "snapshot",
]
