"""Today's collector worklist: one action per customer, ranked by expected cash per hour.

For each open item the dunning policy (:mod:`rpmkit.worklist.policy`) gives a
step. A customer's action is the highest-level step among its items, and it
covers all of them. The ranking score is::

    expected cash = Σ open amount × P(still unpaid at the horizon) × uplift of the action
    score         = expected cash ÷ handling hours of the action

Items in open dispute are left out (a dispute is worked by the dispute team,
not dunned); items under an open promise to pay (``promise_to_pay`` dated on or
before the as-of date with a promised date on or after it) are left out — the
whole customer when the promise names no invoice. With ``hours`` (team
capacity) the list stops at the last action that still fits.

:func:`rank_items` is the vectorised core on a frame of open items (a million
items rank in seconds); :class:`Worklist` builds that frame from a ledger and a
fitted :class:`~rpmkit.risk.grades.CustomerRisk`.

Examples
--------
>>> import pandas as pd
>>> items = pd.DataFrame(
...     {
...         "customer_id": ["K1", "K1", "K2", "K3"],
...         "invoice_id": ["a", "b", "c", "d"],
...         "segment": ["smb"] * 4,
...         "open_amount": [1000.0, 500.0, 4000.0, 9000.0],
...         "days_past_due": [20, 5, 3, -30],
...         "p_risk": [0.5, 0.5, 0.1, 0.9],
...     }
... )
>>> ranked = rank_items(items, DunningPolicy.default())
>>> ranked[["customer_id", "step", "at_risk", "expected_cash", "cash_per_hour"]]
  customer_id                step  at_risk  expected_cash  cash_per_hour
0          K1  second_notice_call    750.0          150.0          900.0
1          K2      first_reminder    400.0           40.0          800.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit.worklist.policy import DunningPolicy

__all__ = ["Worklist", "rank_items"]

ITEM_COLUMNS = ("customer_id", "invoice_id", "segment", "open_amount", "days_past_due", "p_risk")
MAX_LISTED = 5
"""Invoices named in a row's ``invoices`` text; the rest are counted."""


def rank_items(
    items: pd.DataFrame,
    policy: DunningPolicy,
    *,
    hours: float | None = None,
    top: int | None = None,
    currency: str = "USD",
) -> pd.DataFrame:
    """Rank customers' collection actions by expected cash per collector hour.

    Parameters
    ----------
    items
        Open items, one row each: ``customer_id, invoice_id, segment,
        open_amount`` (reporting units), ``days_past_due`` and ``p_risk``
        (probability the item is still unpaid at the horizon without action);
        optional ``name``, ``grade``. Excluded items must already be removed.
    policy
        The dunning policy.
    hours
        Team capacity; actions are kept while their cumulative hours fit. ``None``: all.
    top
        Keep at most this many actions.
    currency
        Reporting currency, for the reason text.

    Returns
    -------
    DataFrame
        One row per customer, best first: ``rank, customer_id`` (``name``,
        ``grade`` when given), ``step, action, channel, level, items,
        open_amount, at_risk, max_days_past_due, uplift, minutes,
        expected_cash, cash_per_hour, cumulative_hours, invoices, reason``.
    """
    missing = [c for c in ITEM_COLUMNS if c not in items.columns]
    if missing:
        raise ValueError(f"open items need column(s) {', '.join(missing)}")
    if hours is not None and hours < 0:
        raise ValueError(f"hours must be >= 0, got {hours!r}")
    if top is not None and top < 0:
        raise ValueError(f"top must be >= 0, got {top!r}")
    amount = items["open_amount"].to_numpy(dtype=float)
    dpd = items["days_past_due"].to_numpy(dtype=np.int64)
    step = policy.step_index(dpd, items["segment"], amount)
    codes, cust_ids = pd.factorize(items["customer_id"])
    rows = np.flatnonzero(step >= 0)
    c, st, d = codes[rows], step[rows], dpd[rows]
    levels = np.array([s.level for s in policy.steps], dtype=np.int64)
    amt = amount[rows]
    risk = amt * items["p_risk"].to_numpy(dtype=float)[rows]
    # the customer's step: highest level, then the most overdue item's
    order = np.lexsort((d, levels[st], c))
    cs = c[order]
    starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]]) if len(cs) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(cs)].astype(np.int64)
    empty = len(starts) == 0
    per = {
        "c": cs[starts],
        "step": st[order][ends - 1] if not empty else np.zeros(0, np.int64),
        "items": ends - starts,
        "open_amount": np.add.reduceat(amt[order], starts) if not empty else np.zeros(0),
        "at_risk": np.add.reduceat(risk[order], starts) if not empty else np.zeros(0),
        "max_days_past_due": np.maximum.reduceat(d[order], starts)
        if not empty
        else np.zeros(0, np.int64),
        "row": rows[order][starts],
    }
    per["uplift"] = np.array([s.uplift for s in policy.steps])[per["step"]]
    per["minutes"] = np.array([s.minutes for s in policy.steps], dtype=float)[per["step"]]
    per["expected_cash"] = per["at_risk"] * per["uplift"]
    per["cash_per_hour"] = per["expected_cash"] / (per["minutes"] / 60.0)
    best = np.lexsort((-per["open_amount"], -per["cash_per_hour"]))
    per = {k: v[best] for k, v in per.items()}
    per["cumulative_hours"] = np.cumsum(per["minutes"]) / 60.0
    n = len(best)
    if hours is not None:
        n = int(np.searchsorted(per["cumulative_hours"], hours + 1e-9, side="right"))
    if top is not None:
        n = min(n, top)
    per = {k: v[:n] for k, v in per.items()}
    return _finish(per, (c, d, rows), items, cust_ids, policy, currency)


def _finish(per: dict, kept: tuple, items, cust_ids, policy, currency) -> pd.DataFrame:
    """Labels, invoice lists and reasons of the ranked rows."""
    from rpmkit.plots.core import compact_money

    steps = policy.steps
    out = pd.DataFrame({"rank": np.arange(1, len(per["c"]) + 1)})
    out["customer_id"] = pd.Series(np.asarray(cust_ids, dtype=object)[per["c"]], dtype="string")
    for extra in ("name", "grade"):
        if extra in items.columns:
            out[extra] = items[extra].to_numpy()[per["row"]]
    chosen = [steps[i] for i in per["step"]]
    out["step"] = [s.name for s in chosen]
    out["action"] = [s.action for s in chosen]
    out["channel"] = [s.channel for s in chosen]
    out["level"] = [s.level for s in chosen]
    for col in (
        "items",
        "open_amount",
        "at_risk",
        "max_days_past_due",
        "uplift",
        "minutes",
        "expected_cash",
        "cash_per_hour",
        "cumulative_hours",
    ):
        out[col] = per[col]
    # the covered invoices of each ranked customer, most overdue first
    c, d, rows = kept
    pos = np.full(len(cust_ids), -1, dtype=np.int64)
    pos[per["c"]] = np.arange(len(per["c"]))
    mine = np.flatnonzero(pos[c] >= 0)
    mine = mine[np.lexsort((-d[mine], pos[c[mine]]))]
    ids = items["invoice_id"].to_numpy(dtype=object)[rows[mine]]
    cuts = np.flatnonzero(np.diff(pos[c[mine]])) + 1
    out["invoices"] = [
        ", ".join(map(str, v[:MAX_LISTED]))
        + (f" +{len(v) - MAX_LISTED} more" if len(v) > MAX_LISTED else "")
        for v in (np.split(ids, cuts) if len(ids) else [])
    ]
    out["reason"] = [
        f"{s.action} ({s.name}): {n} item{'s' if n != 1 else ''}, "
        + (f"up to {d} days past due" if d > 0 else f"due in {-d} days" if d < 0 else "due today")
        + f", {compact_money(amt, currency)} open, {compact_money(risk, currency)} at risk"
        + f" × uplift {s.uplift:.0%} = {compact_money(cash, currency)} in {s.minutes:g} min"
        + f" → {compact_money(rate, currency)}/hour"
        for s, n, d, amt, risk, cash, rate in zip(
            chosen,
            per["items"],
            per["max_days_past_due"],
            per["open_amount"],
            per["at_risk"],
            per["expected_cash"],
            per["cash_per_hour"],
            strict=True,
        )
    ]
    return out


class Worklist:
    """The ranked worklist of a ledger at an as-of date.

    Parameters
    ----------
    policy
        The dunning policy (default :meth:`DunningPolicy.default`).
    hours
        Team capacity in collector hours (``None``: no limit).
    top
        Keep at most this many actions.
    horizon_days
        Cash counts when it arrives within this many days of the as-of date.
    """

    def __init__(
        self,
        policy: DunningPolicy | None = None,
        *,
        hours: float | None = None,
        top: int | None = None,
        horizon_days: int = 30,
    ) -> None:
        if hours is not None and hours < 0:
            raise ValueError(f"hours must be >= 0, got {hours!r}")
        if not 1 <= horizon_days <= 365:
            raise ValueError(f"horizon_days must be in [1, 365], got {horizon_days!r}")
        self.policy = policy or DunningPolicy.default()
        self.hours = hours
        self.top = top
        self.horizon_days = int(horizon_days)

    def __repr__(self) -> str:
        if not hasattr(self, "actions_"):
            return f"Worklist(policy {self.policy.name!r}, not fitted)"
        return (
            f"Worklist(as of {self.as_of_.date()}: {len(self.actions_):,} actions, "
            f"{self.actions_['minutes'].sum() / 60:,.1f} h, "
            f"expected {self.actions_['expected_cash'].sum():,.0f} {self.currency_})"
        )

    def fit(self, ledger, as_of, risk=None) -> Worklist:
        """Open items at ``as_of`` → exclusions → risk → ranked actions.

        ``risk`` is a :class:`~rpmkit.risk.grades.CustomerRisk` fitted at
        ``as_of`` (fitted here when omitted). Sets ``items_`` (every open item
        with ``excluded`` reason or blank, ``p_late``, ``p_risk``), ``actions_``
        (the ranked list, capacity applied) and ``all_actions_`` (no capacity).
        """
        from rpmkit.risk.grades import CustomerRisk
        from rpmkit.worklist.items import open_items_at

        if risk is None:
            risk = CustomerRisk().fit(ledger, as_of)
        items, t = open_items_at(ledger, as_of, risk, self.horizon_days)
        self.as_of_ = t
        self.currency_ = ledger.reporting_currency
        self.items_ = items
        usable = items[items["excluded"] == ""]
        ranked = rank_items(usable, self.policy, currency=self.currency_)
        self.all_actions_ = ranked
        kept = ranked
        if self.hours is not None:
            kept = kept[kept["cumulative_hours"] <= self.hours + 1e-9]
        if self.top is not None:
            kept = kept.head(self.top)
        self.actions_ = kept.reset_index(drop=True)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "actions_"):
            raise ValueError("the worklist is not fitted; call fit() first")

    def summary(self) -> pd.DataFrame:
        """Per action kind: customers, hours, open amount, expected cash."""
        self._check_fitted()
        g = self.actions_.groupby("action")
        return pd.DataFrame(
            {
                "customers": g.size(),
                "hours": g["minutes"].sum() / 60.0,
                "open_amount": g["open_amount"].sum(),
                "expected_cash": g["expected_cash"].sum(),
            }
        ).reset_index()

    def excluded(self) -> pd.DataFrame:
        """Open items left out, with why (``dispute`` or ``promise``)."""
        self._check_fitted()
        return self.items_[self.items_["excluded"] != ""].reset_index(drop=True)

    def to_dict(self) -> dict:
        """The ranked actions and counts, JSON-ready."""
        from rpmkit.jsonable import plain

        self._check_fitted()
        counts = self.items_["excluded"].value_counts()
        return plain(
            {
                "as_of": self.as_of_,
                "currency": self.currency_,
                "policy": self.policy.name,
                "hours": self.hours,
                "open_items": len(self.items_),
                "excluded": {
                    "dispute": int(counts.get("dispute", 0)),
                    "promise": int(counts.get("promise", 0)),
                },
                "actions": self.actions_.to_dict(orient="records"),
            }
        )

    def plot(self):
        """Expected cash against cumulative hours (:func:`rpmkit.plots.risk.worklist_curve`)."""
        from rpmkit.plots.risk import worklist_curve

        self._check_fitted()
        return worklist_curve(self.all_actions_, self.currency_, self.hours)
