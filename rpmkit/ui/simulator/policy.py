"""The levers of the policy simulator, without widgets: :class:`Policy` → changed scenario.

A :class:`Policy` is the handful of levers a CFO moves (terms, discount,
dunning timing, collectors, credit policy, dispute desk), in the units a person
types, validated with messages fit to show; :func:`apply_policy` turns it into
a changed :class:`~rpmkit.sim.Scenario` and :func:`changes` says in words what
moved.

>>> from rpmkit.sim import Scenario
>>> s = Scenario(horizon_days=90)
>>> p = Policy.of(s)
>>> p.collectors, p.terms_days
(3, None)
>>> changed = apply_policy(s, dataclasses.replace(p, terms_days=30, collectors=5))
>>> [seg.terms for seg in changed.sales], changed.collectors.count
(['NET30', 'NET30', 'NET30'], 5)
>>> changes(s, dataclasses.replace(p, terms_days=30, collectors=5))
['moving from Net 30–45 to Net 30', 'going from 3 to 5 collectors']
>>> Policy(collectors=-2)
Traceback (most recent call last):
...
ValueError: Collectors must be a whole number from 0 to 1,000; got -2.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from rpmkit.sim import Scenario

__all__ = ["Policy", "apply_policy", "changes", "terms_text"]


def _whole(label: str, value, lo: int, hi: int, *, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool) and lo <= value <= hi
    if not ok:
        raise ValueError(f"{label} must be a whole number from {lo:,} to {hi:,}; got {value}.")


def _number(label: str, value, lo: float, hi: float, unit: str = "") -> None:
    ok = isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi
    if not ok:
        raise ValueError(f"{label} must be between {lo:g} and {hi:g}{unit}; got {value}.")


@dataclass(frozen=True)
class Policy:
    """The levers of the changed policy, in the units a person types.

    Parameters
    ----------
    terms_days
        Net days for every segment; ``None`` keeps each segment's own terms.
    discount_percent, discount_days
        Early-payment discount (percent, 0 for none, below 20) for payment within
        ``discount_days`` of the invoice date; ``None`` keeps each segment's own.
    dunning_shift_days
        Every dunning step moves by this many days (negative = earlier), in ``[-60, 60]``.
    collectors
        Number of collectors making the call steps, in ``[0, 1000]``.
    limit_days_of_sales
        Credit limit in days of a customer's expected sales; ``None`` = no limit.
    hold_days_past_due
        Orders are held (lost) while a customer has an invoice more than this many
        days past due; ``None`` = no hold.
    dispute_capacity
        Disputes the desk works at once; ``None`` = as many as come in.
    dispute_days
        Median work time of a dispute, days, in ``[0.01, 365]``.

    The ranges of the levers a ledger calibrates (dispute desk and resolution
    time, credit limit and hold) are those of the scenario's sections, so the
    levers of any calibrated baseline are accepted as they are.
    """

    terms_days: int | None = None
    discount_percent: float | None = None
    discount_days: int = 0
    dunning_shift_days: int = 0
    collectors: int = 3
    limit_days_of_sales: float | None = None
    hold_days_past_due: int | None = None
    dispute_capacity: int | None = None
    dispute_days: float = 1.0

    def __post_init__(self) -> None:
        _whole("Payment terms", self.terms_days, 0, 365, none_ok=True)
        if self.discount_percent is not None:
            _number("The early-payment discount", self.discount_percent, 0, 19.99, " %")
            _whole("The discount window", self.discount_days, 0, 365)
        _whole("The dunning shift", self.dunning_shift_days, -60, 60)
        _whole("Collectors", self.collectors, 0, 1000)
        if self.limit_days_of_sales is not None:
            _number("The credit limit", self.limit_days_of_sales, 0, 3650, " days of sales")
        _whole("The order hold", self.hold_days_past_due, 0, 3650, none_ok=True)
        _whole("The dispute desk capacity", self.dispute_capacity, 1, 100_000, none_ok=True)
        _number("The dispute resolution time", self.dispute_days, 0.01, 365, " days")

    @classmethod
    def of(cls, scenario: Scenario) -> Policy:
        """The levers as ``scenario`` has them (terms and discount: each segment's own)."""
        d = scenario.disputes
        return cls(
            collectors=scenario.collectors.count,
            limit_days_of_sales=scenario.credit.limit_days_of_sales,
            hold_days_past_due=scenario.credit.hold_days_past_due,
            dispute_capacity=d.desk_capacity,
            dispute_days=float(d.resolution_median_days),
        )


def _terms_code(net: int, percent: float, days: int) -> str:
    percent = round(percent, 2)
    return f"{percent:g}/{days} NET{net}" if percent > 0 else f"NET{net}"


def apply_policy(scenario: Scenario, policy: Policy) -> Scenario:
    """``scenario`` with the levers of ``policy``; ValueError for a combination it cannot take."""
    sales = []
    for seg in scenario.sales:
        net = seg.net_days if policy.terms_days is None else policy.terms_days
        rate, days = seg.discount
        percent = rate * 100
        if policy.discount_percent is not None:
            percent, days = policy.discount_percent, policy.discount_days
        if percent > 0 and days > net:
            raise ValueError(
                f"The discount window ({days} days) is longer than the terms (Net {net}); "
                "shorten the window or lengthen the terms."
            )
        sales.append(dataclasses.replace(seg, terms=_terms_code(net, percent, days)))
    shift = policy.dunning_shift_days
    days = [d.day + shift for d in scenario.dunning]
    if days and not (days[0] >= -60 and days[-1] <= 730):
        worst = days[0] if days[0] < -60 else days[-1]
        raise ValueError(
            f"Shifting the dunning by {shift:+d} days puts a step at {worst} days "
            "from the due date; steps must lie between 60 days before and 730 days after it."
        )
    dunning = tuple(
        dataclasses.replace(d, day=day) for d, day in zip(scenario.dunning, days, strict=True)
    )
    return dataclasses.replace(
        scenario,
        sales=tuple(sales),
        dunning=dunning,
        collectors=dataclasses.replace(scenario.collectors, count=policy.collectors),
        credit=dataclasses.replace(
            scenario.credit,
            limit_days_of_sales=policy.limit_days_of_sales,
            hold_days_past_due=policy.hold_days_past_due,
        ),
        disputes=dataclasses.replace(
            scenario.disputes,
            desk_capacity=policy.dispute_capacity,
            resolution_median_days=float(policy.dispute_days),
        ),
    )


# ------------------------------------------------------------------ words
def terms_text(scenario: Scenario) -> str:
    """The terms of a scenario in words: ``Net 30``, ``Net 28–44`` or ``2/10 Net 30``."""
    nets = sorted({s.net_days for s in scenario.sales})
    discounts = {s.discount for s in scenario.sales}
    net = f"Net {nets[0]}" if len(nets) == 1 else f"Net {nets[0]}–{nets[-1]}"
    if discounts == {(0.0, 0)}:
        return net
    if len(discounts) == 1:
        rate, days = next(iter(discounts))
        return f"{rate * 100:g}/{days} {net}"
    return f"{net} with discounts for some segments"


def changes(scenario: Scenario, policy: Policy) -> list[str]:
    """The levers ``policy`` moves away from ``scenario``, as short phrases."""
    base = Policy.of(scenario)
    out = []
    changed = apply_policy(scenario, policy)
    if [s.terms for s in changed.sales] != [s.terms for s in scenario.sales]:
        dropped = policy.terms_days is None and not policy.discount_percent
        out.append(
            "dropping the early-payment discount"
            if dropped
            else f"moving from {terms_text(scenario)} to {terms_text(changed)}"
        )
    shift = policy.dunning_shift_days
    if shift:
        out.append(f"dunning {abs(shift)} days {'earlier' if shift < 0 else 'later'}")
    if policy.collectors != base.collectors:
        out.append(f"going from {base.collectors} to {policy.collectors} collectors")
    if policy.limit_days_of_sales != base.limit_days_of_sales:
        limit = policy.limit_days_of_sales
        out.append(
            f"credit limits of {limit:g} days of sales" if limit is not None else "no credit limits"
        )
    if policy.hold_days_past_due != base.hold_days_past_due:
        out.append(
            f"holding orders after {policy.hold_days_past_due} days past due"
            if policy.hold_days_past_due is not None
            else "no order holds"
        )
    if policy.dispute_capacity != base.dispute_capacity:
        out.append(
            f"a dispute desk working {policy.dispute_capacity} at once"
            if policy.dispute_capacity is not None
            else "an unlimited dispute desk"
        )
    if not math.isclose(policy.dispute_days, base.dispute_days, rel_tol=1e-9):
        out.append(
            f"resolving disputes in {policy.dispute_days:g} days instead of "
            f"{base.dispute_days:g} (median)"
        )
    return out
