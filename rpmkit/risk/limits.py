"""Credit-limit recommendations, exposure against limits, over-limit and overdue-hold lists.

The policy (:class:`LimitPolicy`) is deliberately simple and explained per customer::

    recommended = monthly sales × months_of_sales × grade factor, capped, rounded down

Monthly sales are the customer's invoiced amount over the last
``volume_months`` months (in the reporting currency) divided by
``volume_months``. A customer goes on **hold** when it has open invoices more
than ``hold_days_past_due`` days past due; it is
**over limit** when its exposure exceeds its current limit (the recommended
one when the master has none).

Examples
--------
>>> policy = LimitPolicy(months_of_sales=2, cap=50_000, round_to=1_000)
>>> policy.recommend(12_345.0, "B")  # 12,345 × 2 × 1.2 = 29,628 → 29,000
29000.0
>>> policy.recommend(40_000.0, "A"), policy.recommend(40_000.0, "E")
(50000.0, 24000.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rpmkit import keys, money
from rpmkit.kpi.book import as_of_day, book
from rpmkit.ledger import Ledger
from rpmkit.risk.grades import GRADES

__all__ = ["LimitPolicy", "credit_limits"]


@dataclass(frozen=True)
class LimitPolicy:
    """How credit limits are recommended.

    Parameters
    ----------
    months_of_sales
        Months of average sales a limit covers, in (0, 24].
    volume_months
        Months of history averaged into monthly sales, in [1, 36].
    grade_factors
        Multiplier per grade A–E, each in [0, 5].
    cap
        Largest limit recommended, in reporting-currency units (``None``: no cap).
    round_to
        Limits are rounded down to a multiple of this (reporting units, > 0).
    hold_days_past_due
        Open invoices more than this many days past due put the customer on hold.
    """

    months_of_sales: float = 2.0
    volume_months: int = 12
    grade_factors: dict[str, float] = field(
        default_factory=lambda: {"A": 1.5, "B": 1.2, "C": 1.0, "D": 0.6, "E": 0.3}
    )
    cap: float | None = None
    round_to: float = 100.0
    hold_days_past_due: int = 60

    def __post_init__(self) -> None:
        if not 0 < self.months_of_sales <= 24:
            raise ValueError(f"months_of_sales must be in (0, 24], got {self.months_of_sales!r}")
        if not 1 <= int(self.volume_months) <= 36:
            raise ValueError(f"volume_months must be in [1, 36], got {self.volume_months!r}")
        if set(self.grade_factors) != set(GRADES) or not all(
            0 <= float(v) <= 5 for v in self.grade_factors.values()
        ):
            raise ValueError(
                "grade_factors must give each grade A–E a factor in [0, 5], "
                f"got {self.grade_factors!r}"
            )
        if self.cap is not None and self.cap <= 0:
            raise ValueError(f"cap must be positive or None, got {self.cap!r}")
        if self.round_to <= 0:
            raise ValueError(f"round_to must be positive, got {self.round_to!r}")
        if self.hold_days_past_due < 0:
            raise ValueError(f"hold_days_past_due must be >= 0, got {self.hold_days_past_due!r}")

    def recommend(self, monthly_sales, grade) -> np.ndarray | float:
        """The recommended limit for monthly sales and a grade (arrays or scalars)."""
        factor = pd.Series(np.atleast_1d(grade)).map(self.grade_factors).to_numpy(dtype=float)
        raw = np.atleast_1d(np.asarray(monthly_sales, dtype=float)) * self.months_of_sales * factor
        if self.cap is not None:
            raw = np.minimum(raw, self.cap)
        out = np.floor(raw / self.round_to + 1e-9) * self.round_to
        return float(out[0]) if np.ndim(monthly_sales) == 0 else out


def _current_limits(ledger: Ledger, ids: pd.Series, t: pd.Timestamp) -> np.ndarray:
    """Each customer's master credit limit in reporting units (NaN when none or no rate)."""
    master = ledger.customers
    pos = keys.positions(ids, master["customer_id"])
    out = np.full(len(ids), np.nan)
    if not len(master):
        return out
    limit = master["credit_limit"]
    has = (pos >= 0) & limit.notna().to_numpy()[np.maximum(pos, 0)]
    if not has.any():
        return out
    rows = master.iloc[pos[has]]
    cur = rows["currency"].fillna(ledger.reporting_currency)
    try:
        factor = ledger.fx_factors(cur.reset_index(drop=True), pd.Series([t] * len(rows)))
    except ValueError:
        return out
    scale = 10.0 ** money.exponent(ledger.reporting_currency)
    out[has] = rows["credit_limit"].to_numpy(dtype=float) * factor / scale
    return out


def credit_limits(
    ledger: Ledger, scores: pd.DataFrame, as_of, policy: LimitPolicy = LimitPolicy()
) -> pd.DataFrame:
    """Per customer: sales, grade, current and recommended limit, exposure, holds and why.

    Parameters
    ----------
    ledger
        The ledger.
    scores
        :attr:`CustomerRisk.scores_` (needs ``customer_id``, ``grade``).
    as_of
        The date limits are set at.
    policy
        The :class:`LimitPolicy`.

    Returns
    -------
    DataFrame
        ``customer_id, name, segment, grade, monthly_sales, current_limit,
        recommended_limit, exposure, past_due, past_due_hold, over_limit, hold,
        explanation`` (money in reporting-currency units), largest exposure first.
    """
    b = book(ledger)
    t, day = as_of_day(ledger, as_of)
    scale = 10.0 ** money.exponent(ledger.reporting_currency)
    window = int(round(policy.volume_months * 365.25 / 12))
    in_window = (b.inv_day > day - window) & (b.inv_day <= day)
    sales = np.bincount(b.customer[in_window], b.amount[in_window], len(b.customers)) / scale
    open_ = b.open_at(day).astype(float) / scale
    dpd = day - b.due_day
    overdue = np.bincount(b.customer, np.where(dpd > 0, open_, 0.0), len(b.customers))
    hold_amt = np.bincount(
        b.customer, np.where(dpd > policy.hold_days_past_due, open_, 0.0), len(b.customers)
    )
    exposure = np.bincount(b.customer, open_, len(b.customers))
    pos = keys.positions(scores["customer_id"], pd.Series(b.customers))
    ok = pos >= 0
    p = np.maximum(pos, 0)
    out = scores[[c for c in ("customer_id", "name", "segment", "grade") if c in scores]].copy()
    out["monthly_sales"] = np.where(ok, sales[p] / policy.volume_months, 0.0)
    out["current_limit"] = _current_limits(ledger, out["customer_id"], t)
    out["recommended_limit"] = policy.recommend(out["monthly_sales"].to_numpy(), out["grade"])
    out["exposure"] = np.where(ok, exposure[p], 0.0)
    out["past_due"] = np.where(ok, overdue[p], 0.0)
    out["past_due_hold"] = np.where(ok, hold_amt[p], 0.0)
    limit = out["current_limit"].fillna(out["recommended_limit"])
    out["over_limit"] = out["exposure"] > limit + 1e-9
    out["hold"] = out["past_due_hold"] > 0
    out["explanation"] = _explain(out, policy, ledger.reporting_currency)
    return out.sort_values("exposure", ascending=False, kind="stable").reset_index(drop=True)


def _explain(frame: pd.DataFrame, policy: LimitPolicy, currency: str) -> list[str]:
    from rpmkit.plots.core import compact_money

    rows = []
    for sales, grade, rec, hold_amt, over, exposure, limit in zip(
        frame["monthly_sales"],
        frame["grade"],
        frame["recommended_limit"],
        frame["past_due_hold"],
        frame["over_limit"],
        frame["exposure"],
        frame["current_limit"].fillna(frame["recommended_limit"]),
        strict=True,
    ):
        text = (
            f"{compact_money(sales, currency)}/month × {policy.months_of_sales:g} months × "
            f"{policy.grade_factors[grade]:g} (grade {grade}) = {compact_money(rec, currency)}"
        )
        if policy.cap is not None and rec >= policy.cap:
            text += " (capped)"
        if hold_amt > 0:
            text += (
                f"; hold: {compact_money(hold_amt, currency)} over "
                f"{policy.hold_days_past_due} days past due"
            )
        if over:
            text += (
                f"; over limit: exposure {compact_money(exposure, currency)} "
                f"> {compact_money(limit, currency)}"
            )
        rows.append(text)
    return rows
