"""Prioritisation rules for the collectors' call queue: plain callables, one signature.

A rule takes calls joining the queue and the current time and returns one
priority key per call; collectors take the smallest key first (ties in
queueing order)::

    rule(items: Mapping[str, numpy.ndarray], now: float) -> numpy.ndarray

``items`` holds one array per field, all of the batch's length: ``invoice``
(row in the model's order arrays), ``amount`` (open amount, minor units),
``issued`` and ``due`` (invoice and due time, simulation days), ``queued``
(time the call was queued) and ``risk`` (the segment's default rate: what
the collections team knows, not the invoice's hidden fate).

Keys are computed once, when a call joins the queue (the batch queued since
the last pick), and kept in a heap, so a rule must give keys that compare
across times: rank by due date rather than by age at ``now``. The built-in
rules are written that way.

>>> import numpy as np
>>> items = {
...     "invoice": np.array([0, 1, 2]),
...     "amount": np.array([500, 9_000, 2_000]),
...     "issued": np.array([0.0, 5.0, 1.0]),
...     "due": np.array([30.0, 35.0, 31.0]),
...     "queued": np.array([60.0, 65.0, 61.0]),
...     "risk": np.array([0.01, 0.5, 0.01]),
... }
>>> [np.argsort(rule(items, 70.0)).tolist() for rule in (fifo, by_amount, by_age)]
[[0, 2, 1], [1, 2, 0], [0, 2, 1]]
>>> np.argsort(by_expected_value(items, 70.0)).tolist()
[1, 2, 0]
>>> np.argsort(by_risk(items, 70.0)).tolist()  # 1 the riskiest, then 0 due before 2
[1, 0, 2]
>>> sorted(RULES)
['by_age', 'by_amount', 'by_expected_value', 'by_risk', 'fifo']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

__all__ = [
    "RULES",
    "Rule",
    "by_age",
    "by_amount",
    "by_expected_value",
    "by_risk",
    "fifo",
    "get_rule",
]

Rule = Callable[[Mapping[str, np.ndarray], float], np.ndarray]

EV_HALF_LIFE_DAYS = 90.0
"""Days past due over which :func:`by_expected_value` halves an invoice's chance of collection."""

RISK_STEP = 1e-5
"""Steps of default rate :func:`by_risk` tells apart (a thousandth of a percentage point)."""

_DUE_LIMIT = 2.0**15  # days (about 90 years) either side of the start: due times are clipped
_RISK_SPAN = 4 * _DUE_LIMIT  # one step of risk outweighs any difference of clipped due times


def fifo(items: Mapping[str, np.ndarray], now: float) -> np.ndarray:
    """First queued, first served."""
    return np.asarray(items["queued"], dtype=float)


def by_amount(items: Mapping[str, np.ndarray], now: float) -> np.ndarray:
    """Largest open amount first."""
    return -np.asarray(items["amount"], dtype=float)


def by_age(items: Mapping[str, np.ndarray], now: float) -> np.ndarray:
    """Most days past due first (earliest due time)."""
    return np.asarray(items["due"], dtype=float)


def by_risk(items: Mapping[str, np.ndarray], now: float) -> np.ndarray:
    """Riskiest first (highest ``risk``, the segment's default rate), then earliest due.

    Within a segment every call has the same risk, so ties go to the most days
    past due (earliest due time), as in :func:`by_age`, then to queueing order.
    One float holds both keys: a risk in steps of :data:`RISK_STEP` outweighs
    any difference of due times (clipped to ±2^15 days, about 90 years), which
    keep a resolution of a few millionths of a day.
    """
    steps = np.rint(np.asarray(items["risk"], dtype=float) / RISK_STEP)
    due = np.clip(np.asarray(items["due"], dtype=float), -_DUE_LIMIT, _DUE_LIMIT)
    return due - steps * _RISK_SPAN


def by_expected_value(items: Mapping[str, np.ndarray], now: float) -> np.ndarray:
    """Highest expected collection first: ``amount × (1 − risk) × ½^(days past due / 90)``.

    An illustrative heuristic: older debt and riskier segments are worth less
    per call. The key is the negative log of that value plus the part that
    grows alike for every past-due call, ``now × ln 2 / 90``, so keys from
    different times compare (calls queued before their due date are ranked as
    if past due). Users with a scoring model pass their own rule.
    """
    amount = np.maximum(np.asarray(items["amount"], dtype=float), 1.0)
    keep = np.maximum(1.0 - np.asarray(items["risk"], dtype=float), 1e-12)
    decay = math.log(2.0) / EV_HALF_LIFE_DAYS
    return -(np.log(amount * keep) + decay * np.asarray(items["due"], dtype=float))


def _scalar_keys() -> None:
    """One-call versions of the built-in rules, ``key(amount, issued, due, queued, risk)``.

    The call centre keys a call with them the moment it is queued, with no
    array to build; they give the keys of the array rules (up to the last
    bit of a logarithm). A user's rule is always called on arrays."""
    decay = math.log(2.0) / EV_HALF_LIFE_DAYS
    log = math.log
    fifo.scalar = lambda amount, issued, due, queued, risk: queued
    by_amount.scalar = lambda amount, issued, due, queued, risk: -float(amount)
    by_age.scalar = lambda amount, issued, due, queued, risk: due
    by_risk.scalar = lambda amount, issued, due, queued, risk: (
        min(max(due, -_DUE_LIMIT), _DUE_LIMIT) - round(risk / RISK_STEP) * _RISK_SPAN
    )
    by_expected_value.scalar = lambda amount, issued, due, queued, risk: (
        -(log(max(float(amount), 1.0) * max(1.0 - risk, 1e-12)) + decay * due)
    )


_scalar_keys()

RULES: dict[str, Rule] = {
    "by_age": by_age,
    "by_amount": by_amount,
    "by_expected_value": by_expected_value,
    "by_risk": by_risk,
    "fifo": fifo,
}
"""The built-in rules by name (what ``Collectors.rule`` may name)."""


def get_rule(rule: str | Rule) -> Rule:
    """A rule by name from :data:`RULES`, or a callable passed through."""
    if callable(rule):
        return rule
    if rule not in RULES:
        raise ValueError(f"rule must be one of {sorted(RULES)} or a callable, got {rule!r}")
    return RULES[rule]
