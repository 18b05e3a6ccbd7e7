"""Payment-time curves: discrete competing-risk life tables and draws from them.

A curve describes, for a group of invoices (a segment, a segment with an open
dispute), when an invoice gets paid in cash, counted in whole days from an anchor
(the due date for open items, the invoice date for new sales). It is the
Aalen–Johansen estimator on a daily grid: per day ``k`` the hazard of a cash
payment ``h_pay(k) = paid(k) / at_risk(k)`` and of a non-cash closure
``h_loss(k)`` (write-off, credit note only), with invoices still open at the
as-of date censored there. From them:

* ``S(k)`` — still open after day ``k``;
* ``CIF(k)`` — paid in cash by the end of day ``k`` (the cumulative incidence).

Conditional on being open after day ``a``, the chance of a cash payment on day
``j > a`` is ``(CIF(j) − CIF(j−1)) / S(a)`` and the chance of never paying in cash
(an expected write-off) is ``1 − (CIF(end) − CIF(a)) / S(a)``.

Examples
--------
>>> import numpy as np
>>> c = Curves.fit(
...     day=np.array([0, 1, 1, 2, 2]),
...     event=np.array([PAY, PAY, LOSS, PAY, CENSORED]),
...     group=np.zeros(5, dtype=np.int64),
...     n_groups=1,
...     first=0,
...     last=3,
... )
>>> np.round(c.cif[0], 3).tolist()
[0.2, 0.4, 0.6, 0.6]
>>> round(float(c.survival[0][1]), 3)  # open after day 1: 2 of 5 left
0.4
>>> days = c.draw(np.array([0]), np.array([1]), np.array([0.2, 0.9]))  # open after day 1
>>> days[0], days[1] == NEVER
(np.int64(2), np.True_)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CENSORED", "LOSS", "NEVER", "PAY", "Curves"]

CENSORED, PAY, LOSS = 0, 1, 2
"""Event codes: still open at the as-of date, paid in cash, closed without cash."""
NEVER = np.iinfo(np.int64).max // 4
"""Drawn day standing for "never paid in cash" (an expected write-off)."""


@dataclass(frozen=True)
class Curves:
    """Life tables of ``n_groups`` groups on the day grid ``first … last``.

    Attributes
    ----------
    first, last
        Day numbers (relative to the anchor) of the grid's first and last cells;
        events before ``first`` count on ``first``, events after ``last`` are
        censored at ``last`` (they lie beyond what a forecast needs).
    survival
        ``(n_groups, K)``: share still open after each day.
    cif
        ``(n_groups, K)``: share paid in cash by the end of each day.
    events
        Cash payments observed per group (how much evidence each curve has).
    """

    first: int
    last: int
    survival: np.ndarray
    cif: np.ndarray
    events: np.ndarray

    @property
    def width(self) -> int:
        return self.last - self.first + 1

    @classmethod
    def fit(
        cls,
        day: np.ndarray,
        event: np.ndarray,
        group: np.ndarray,
        n_groups: int,
        first: int,
        last: int,
        weight: np.ndarray | None = None,
    ) -> Curves:
        """Estimate the curves from per-invoice event (or censoring) days and event codes."""
        if last < first:
            raise ValueError(f"last ({last}) must not be before first ({first})")
        k = np.clip(np.asarray(day, dtype=np.int64), first, last) - first
        event = np.where(np.asarray(day) > last, CENSORED, event)
        width = last - first + 1
        cell = np.asarray(group, dtype=np.int64) * width + k
        w = np.ones(len(k)) if weight is None else np.asarray(weight, dtype=np.float64)
        size = n_groups * width
        ending = np.bincount(cell, w, size).reshape(n_groups, width)
        paid = np.bincount(cell[event == PAY], w[event == PAY], size).reshape(n_groups, width)
        lost = np.bincount(cell[event == LOSS], w[event == LOSS], size).reshape(n_groups, width)
        # at risk on day k: everything whose event or censoring day is k or later
        at_risk = np.cumsum(ending[:, ::-1], axis=1)[:, ::-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            h_pay = np.where(at_risk > 0, paid / at_risk, 0.0)
            h_loss = np.where(at_risk > 0, lost / at_risk, 0.0)
        survival = np.cumprod(1.0 - h_pay - h_loss, axis=1)
        before = np.concatenate([np.ones((n_groups, 1)), survival[:, :-1]], axis=1)
        cif = np.cumsum(before * h_pay, axis=1)
        events = np.bincount(np.asarray(group)[event == PAY], minlength=n_groups)[:n_groups]
        return cls(first, last, survival, cif, events)

    def with_fallback(self, parent: np.ndarray, fallback: Curves, min_events: int) -> Curves:
        """Groups with fewer than ``min_events`` payments take row ``parent[g]`` of ``fallback``."""
        weak = self.events < min_events
        if not weak.any():
            return self
        survival, cif = self.survival.copy(), self.cif.copy()
        survival[weak] = fallback.survival[parent[weak]]
        cif[weak] = fallback.cif[parent[weak]]
        return Curves(self.first, self.last, survival, cif, self.events)

    def _index(self, after: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(after, dtype=np.int64) - self.first, -1, self.width - 1)

    def _state(self, group: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``CIF`` and ``S`` at the end of day ``after`` (1 and 0 before the grid)."""
        k = self._index(after)
        inside = k >= 0
        kk = np.maximum(k, 0)
        cif = np.where(inside, self.cif[group, kk], 0.0)
        surv = np.where(inside, self.survival[group, kk], 1.0)
        return cif, surv

    def pay_probability(self, group: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Chance of a cash payment on the grid for an invoice open after day ``after``."""
        cif, surv = self._state(group, after)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = (self.cif[group, -1] - cif) / surv
        return np.where(surv > 1e-12, np.clip(p, 0.0, 1.0), 0.0)

    def draw(self, group: np.ndarray, after: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Cash-payment days for invoices open after day ``after``, :data:`NEVER` for never.

        ``u`` holds uniform draws with the items on its last axis (any leading
        draw axes broadcast); inversion of the conditional CIF, one ``searchsorted``
        over all groups at once.
        """
        group = np.asarray(group, dtype=np.int64)
        cif0, surv = self._state(group, after)
        target = cif0 + u * surv
        # Groups are stacked on one increasing axis: group g occupies [2g, 2g + 1].
        flat = (self.cif + 2.0 * np.arange(len(self.cif))[:, None]).ravel()
        pos = np.searchsorted(flat, target + 2.0 * group, side="left")
        j = np.maximum(pos - group * self.width, self._index(after) + 1)
        never = (j >= self.width) | (surv <= 1e-12) | (target > self.cif[group, -1])
        return np.where(never, NEVER, j + self.first)

    def week_cdf(self, group: np.ndarray, after: np.ndarray, weeks: int) -> np.ndarray:
        """``(n, weeks)``: chance of a cash payment by the end of each week after ``after``.

        Week ``w`` (0-based) ends on day ``after + 7(w + 1)``; conditional on being open
        after ``after``. Drawing a week is then one comparison per week boundary.
        """
        group = np.asarray(group, dtype=np.int64)
        after = np.asarray(after, dtype=np.int64)
        cif0, surv = self._state(group, after)
        ends = after[:, None] + 7 * np.arange(1, weeks + 1)[None, :]
        cif_end, _ = self._state(np.repeat(group[:, None], weeks, axis=1), ends)
        ok = surv > 1e-12
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = (cif_end - cif0[:, None]) / np.where(ok, surv, 1.0)[:, None]
        return np.where(ok[:, None], np.clip(cdf, 0.0, 1.0), 0.0)

    def pmf(self) -> np.ndarray:
        """``(n_groups, K)``: probability of a cash payment on each day of the grid."""
        return np.diff(self.cif, axis=1, prepend=0.0)
