"""All headline KPIs at one as-of date, in the shape of the ``rpmkit kpis`` JSON contract."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.kpi.aging import DEFAULT_CUTOFFS, aging
from rpmkit.kpi.dso import add, bpdso, cei, components, dso
from rpmkit.ledger import Ledger

__all__ = ["receipts", "snapshot"]


def receipts(ledger: Ledger, start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Payments dated in ``[start, end]`` in reporting minor units.

    Receipts of one currency on one day are totalled before conversion, so how
    a remittance was split into payments does not change the total.
    """
    pay = ledger.payments
    sel = (pay["payment_date"] >= start) & (pay["payment_date"] <= end)
    if not sel.any():
        return 0
    daily = pay[sel].groupby(["currency", "payment_date"], as_index=False)["amount"].sum()
    return int(ledger.to_reporting(daily["amount"], daily["currency"], daily["payment_date"]).sum())


def snapshot(
    ledger: Ledger, as_of, period: str | int = "month", *, cutoffs=DEFAULT_CUTOFFS
) -> dict[str, Any]:
    """The headline figures at ``as_of``: balances, aging, sales, receipts, DSO family, CEI.

    Money is in reporting-currency units, days and percentages as floats,
    ``None`` where a KPI is undefined (for example DSO without sales).
    """
    c = components(ledger, as_of, period)
    ag = aging(ledger, c.period.end, cutoffs=cutoffs)
    scale = 10 ** money.exponent(ledger.reporting_currency)
    totals = ag.totals()
    past_due = c.ar_end - c.ar_current

    def v(k):
        return None if k.value is None else round(float(k.value), 4)

    d_std = dso(ledger, as_of, period, method="standard")
    return {
        "as_of": c.period.end.date().isoformat(),
        "period_start": c.period.start.date().isoformat(),
        "period_end": c.period.end.date().isoformat(),
        "period_days": c.days,
        "currency": ledger.reporting_currency,
        "open_ar": c.ar_end / scale,
        "current_ar": c.ar_current / scale,
        "past_due_ar": past_due / scale,
        "open_invoices": int(np.asarray(ag.counts.sum(axis=1)).sum()),
        "unapplied_cash": ag.unapplied_cash / scale,
        "aging": {label: int(totals[label]) / scale for label in ag.labels},
        "sales": c.sales / scale,
        "receipts": receipts(ledger, c.period.start, c.period.end) / scale,
        "ar_begin": c.ar_begin / scale,
        "dso": {
            "standard": v(d_std),
            "average": v(dso(ledger, as_of, period, method="average")),
            "three_month": v(dso(ledger, as_of, period, method="three_month")),
            "countback": v(dso(ledger, as_of, period, method="countback")),
            "direct": v(dso(ledger, as_of, period, method="direct")),
        },
        "bpdso": v(bpdso(ledger, as_of, period)),
        "add": v(add(ledger, as_of, period)),
        "cei": v(cei(ledger, as_of, period)),
        "pct_current": None if c.ar_end <= 0 else round(c.ar_current / c.ar_end * 100, 4),
        "pct_over_90": None
        if c.ar_end <= 0
        else round(int(totals[ag.labels[-1]]) / c.ar_end * 100, 4),
    }
