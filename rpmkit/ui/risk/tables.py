"""The credit-risk app's tables and method notes: what each shows and how it is computed.

>>> table("limits", "USD").html
''
>>> "expected cash" in worklist_note(DunningPolicy.default())
True
"""

from __future__ import annotations

import html

import pandas as pd

from rpmkit.risk import GradeCutoffs, LimitPolicy
from rpmkit.ui.widgets import TableView
from rpmkit.worklist import DunningPolicy

__all__ = ["grades_note", "limits_note", "quality_note", "table", "worklist_note"]

_MONEY = "money0"
SPECS: dict[str, dict] = {
    "worklist": {
        "title": "Ranked actions",
        "columns": "rank customer_id name grade action items open_amount expected_cash "
        "cash_per_hour reason",
        "kinds": {"rank": "int", "items": "int", "open_amount": _MONEY, "expected_cash": _MONEY,
                  "cash_per_hour": _MONEY},
        "labels": {"customer_id": "customer", "open_amount": "open",
                   "expected_cash": "expected cash", "cash_per_hour": "per hour"},
        "max_rows": 60,
        "max_height": "300px",
    },
    "grades": {
        "title": "Customers by risk",
        "columns": "customer_id name segment grade p_late expected_days_late exposure past_due "
        "reason",
        "kinds": {"p_late": "percent", "exposure": _MONEY, "past_due": _MONEY},
        "labels": {"customer_id": "customer", "p_late": "P(late)",
                   "expected_days_late": "exp. days late"},
        "max_rows": 60,
        "max_height": "330px",
    },
    "limits": {
        "title": "Credit limits",
        "columns": "customer_id name grade monthly_sales current_limit recommended_limit "
        "exposure past_due over_limit hold explanation",
        "kinds": {"monthly_sales": _MONEY, "current_limit": _MONEY, "recommended_limit": _MONEY,
                  "exposure": _MONEY, "past_due": _MONEY, "over_limit": "flag", "hold": "flag"},
        "labels": {"customer_id": "customer", "monthly_sales": "sales/month",
                   "current_limit": "limit now", "recommended_limit": "recommended",
                   "over_limit": "over limit"},
        "max_rows": 60,
        "max_height": "420px",
    },
    "quality": {
        "title": "Test metrics (latest 20 % of invoices known at the as-of date)",
        "columns": "metric value reference",
        "kinds": {},
        "labels": {"reference": "published (IBM sample)"},
    },
    "odds": {
        "title": "Odds ratios (per standard deviation)",
        "columns": "term odds_ratio ci_low ci_high p_value",
        "kinds": {},
        "labels": {"odds_ratio": "odds ratio", "ci_low": "95 % low", "ci_high": "95 % high",
                   "p_value": "p"},
    },
}  # fmt: skip


def table(name: str, currency: str) -> TableView:
    """The app's table ``name`` (a key of :data:`SPECS`), empty until shown."""
    spec = dict(SPECS[name])
    title = spec.pop("title")
    spec["columns"] = spec["columns"].split()
    return TableView(title, currency=currency, **spec)


def worklist_note(policy: DunningPolicy) -> str:
    steps = ", ".join(
        f"{html.escape(s.name)} ({s.from_day}…{'' if s.to_day is None else s.to_day} days, "
        f"{s.minutes:g} min, uplift {s.uplift:.0%})"
        for s in policy.steps
    )
    return (
        "Each customer gets the highest-level step of the dunning policy that its open items "
        "reach; disputed items and items under an open promise to pay are left out. "
        "<code>expected cash = Σ open amount × P(still unpaid in 30 days) × uplift</code>, "
        "ranked by <code>expected cash ÷ handling hours</code>; the list stops when the team's "
        "hours are used. P(still unpaid) comes from the late-payment model (P(late) × a Gamma "
        "model of days late), recalibrated on the last three 30-day snapshots. Steps: "
        f"{steps}. Computed by <code>rpmkit.worklist.Worklist</code>."
    )


def grades_note(c: GradeCutoffs) -> str:
    p, d = c.p_late, c.days_late
    return (
        "The late-payment model is fitted on the invoices whose outcome was known at the "
        "as-of date, then scores each customer's next invoice (usual amount, current terms, "
        f"issued the next day). Grade = the worse of the P(late) grade (A below {p[0]:.0%}, "
        f"B below {p[1]:.0%}, C below {p[2]:.0%}, D below {p[3]:.0%}) and the "
        f"expected-days-late grade (A below {d[0]:g}, B below {d[1]:g}, C below {d[2]:g}, "
        f"D below {d[3]:g} days); E otherwise. Computed by <code>rpmkit.risk.CustomerRisk</code>."
    )


def limits_note(p: LimitPolicy) -> str:
    factors = ", ".join(f"{g} {f:g}" for g, f in p.grade_factors.items())
    return (
        f"<code>recommended = monthly sales × {p.months_of_sales:g} months × grade factor</code>"
        f", rounded down to {p.round_to:g}; monthly sales = invoiced in the last "
        f"{p.volume_months} months ÷ {p.volume_months}; grade factors {factors}. "
        "<b>Over limit</b>: exposure above the master limit (the recommended one when none). "
        f"<b>Hold</b>: open items more than {p.hold_days_past_due} days past due. "
        "Computed by <code>rpmkit.risk.credit_limits</code> with a <code>LimitPolicy</code>."
    )


def quality_note(t: pd.Timestamp, split: pd.Timestamp) -> str:
    return (
        "Point-in-time features (the customer's earlier settled invoices, disputes, exposure "
        "and past-due balance at the invoice date; amount, terms, channel, segment). A "
        "binomial GLM gives P(late); a Gamma GLM gives days late if late. Trained on the "
        f"earlier 80 % of invoices known at {t.date()}, tested on the latest 20 % (from "
        f"{split.date()}). Calibration: mean predicted vs observed late share per decile, "
        "bars ±2 standard errors. Computed by <code>rpmkit.risk.RiskEvaluation</code>."
    )
