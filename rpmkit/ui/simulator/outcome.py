"""The policy simulator's run, without widgets: baseline, paired comparison, tiles, sentences.

:func:`baseline` calibrates a scenario on a ledger at an as-of date and keeps
what the ledger says (open items, their due dates, open AR before the start).
:func:`run_comparison` runs the baseline and a changed scenario under common
random numbers, starting from the ledger's open items; :func:`outcome` and
:func:`summary_text` turn the paired differences into tiles and plain
language, hedged when an interval spans zero.

>>> import rpmkit
>>> from rpmkit.ui.simulator.policy import Policy, apply_policy
>>> ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
>>> base = baseline(ledger, "2024-12-31", horizon_days=30)
>>> base.scenario.start, len(base.opening), round(float(base.history["value"].iloc[-1]), 2)
('2025-01-01', 2712, 28814850.86)
>>> more = apply_policy(base.scenario, Policy.of(base.scenario))
>>> c = run_comparison(base, more, replications=2, seed=1, processes=1)
>>> float(c.differences.loc["cash_collected", "difference"])  # nothing changed: same draws
0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.kpi.book import book, day_number
from rpmkit.ledger import Ledger, to_date
from rpmkit.plots.core import compact_money
from rpmkit.sim import Comparison, Scenario, compare, opening_balance
from rpmkit.sim.comparison import paired_difference
from rpmkit.ui.simulator.policy import Policy

__all__ = [
    "CASH_WINDOW_DAYS",
    "NAMES",
    "TILES",
    "Baseline",
    "baseline",
    "clear",
    "cumulative_bands",
    "outcome",
    "run_comparison",
    "summary_text",
]

NAMES = ("baseline", "changed policy")
"""Labels of the two scenarios in tables, figures and sentences."""

TILES: dict[str, tuple[str, str, int]] = {
    "cash_window": ("Cash in the first {days} days", "money", 1),
    "dso": ("DSO at the end", "days", -1),
    "bad_debt_ratio": ("Bad-debt ratio", "percent", -1),
    "collection_cost": ("Collection cost", "money", -1),
}
"""Tile key → (title, unit, +1 when higher is better / −1 when lower is)."""

CASH_WINDOW_DAYS = 90


# --------------------------------------------------------------- baseline
@dataclass(frozen=True, eq=False)
class Baseline:
    """A scenario calibrated on a ledger at ``as_of``, and what the ledger says.

    Attributes
    ----------
    scenario
        ``Scenario.from_ledger(ledger, as_of, horizon_days=...)``.
    opening
        The open items at ``as_of`` (:func:`rpmkit.sim.opening_balance`).
    due
        Their due-date schedule over the horizon, cumulative (``date, value``;
        currency units; items already past due count on the first day).
    history
        Open AR at the end of each day before the start (``date, value``; currency units).
    """

    as_of: pd.Timestamp
    scenario: Scenario
    opening: pd.DataFrame
    due: pd.DataFrame
    history: pd.DataFrame

    @property
    def policy(self) -> Policy:
        return Policy.of(self.scenario)

    @property
    def currency(self) -> str:
        return self.scenario.currency


def baseline(ledger: Ledger, as_of, horizon_days: int = 180) -> Baseline:
    """Calibrate the baseline on ``ledger`` at ``as_of`` (see :class:`Baseline`)."""
    t = to_date(as_of)
    scenario = Scenario.from_ledger(ledger, t, horizon_days=horizon_days)
    scale = 10 ** money.exponent(scenario.currency)
    opening = opening_balance(ledger, t)
    dates = pd.date_range(scenario.start_date, periods=horizon_days)
    due_day = day_number(opening["due_date"])
    order = np.argsort(due_day, kind="stable")
    cum = np.concatenate([[0], np.cumsum(opening["amount"].to_numpy()[order])])
    at = cum[np.searchsorted(due_day[order], day_number(pd.Series(dates)), side="right")]
    first, _ = ledger.date_range()
    past = pd.date_range(max(first, t - pd.Timedelta(days=horizon_days - 1)), t)
    ar = book(ledger).ar_at(day_number(pd.Series(past)))
    return Baseline(
        as_of=t,
        scenario=scenario,
        opening=opening,
        due=pd.DataFrame({"date": dates, "value": at / scale}),
        history=pd.DataFrame({"date": past, "value": ar / scale}),
    )


# ------------------------------------------------------------- comparison
Progress = Callable[[int, int], object]


def run_comparison(
    base: Baseline,
    other: Scenario,
    replications: int,
    seed: int,
    *,
    processes: int | None = None,
    progress: Progress | bool = False,
) -> Comparison:
    """Baseline against ``other`` under common random numbers, from the ledger's open items.

    :func:`rpmkit.sim.compare` with ``opening=base.opening``: both policies start
    from the same book and replication ``r`` of each sees the same draws.
    ``progress(done, total)`` is called after each of the ``2 × replications``
    runs; an exception it raises stops the run (the app's Cancel).
    """
    return compare(
        base.scenario, other, replications, seed, names=NAMES, opening=base.opening,
        processes=processes, progress=progress,
    )  # fmt: skip


def cumulative_bands(run, measure: str = "receipts") -> pd.DataFrame:
    """P10, P50, P90 and mean across replications of a daily measure summed from day one."""
    s = run.series(measure)
    values = s.to_numpy().cumsum(axis=0)
    q = np.nanpercentile(values, (10, 50, 90), axis=1)
    return pd.DataFrame(
        {"date": s.index, "p10": q[0], "p50": q[1], "p90": q[2], "mean": values.mean(axis=1)}
    )


def outcome(comparison: Comparison, window_days: int = CASH_WINDOW_DAYS) -> pd.DataFrame:
    """One row per tile (:data:`TILES`): ``title, unit, better, base, other, difference,
    ci_low, ci_high, n``; the cash window is ``min(window_days, horizon)``."""
    days = min(window_days, comparison.base.scenario.horizon_days)
    b = comparison.base.series("receipts").iloc[:days].sum(axis=0).to_numpy()
    o = comparison.other.series("receipts").iloc[:days].sum(axis=0).to_numpy()
    rows = {"cash_window": paired_difference(b, o)}
    d = comparison.differences
    for key in list(TILES)[1:]:
        rows[key] = {c: float(d.loc[key, c]) for c in ("n", "base", "other", "difference")} | {
            "ci_low": float(d.loc[key, "ci_low"]),
            "ci_high": float(d.loc[key, "ci_high"]),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.insert(0, "better", [TILES[k][2] for k in out.index])
    out.insert(0, "unit", [TILES[k][1] for k in out.index])
    out.insert(0, "title", [TILES[k][0].format(days=days) for k in out.index])
    out.attrs["window_days"] = days
    return out[["title", "unit", "better", "base", "other", "difference", "ci_low", "ci_high", "n"]]


def clear(row) -> bool:
    """True when the 95 % interval of the difference excludes zero."""
    lo, hi = row["ci_low"], row["ci_high"]
    return not (math.isnan(lo) or math.isnan(hi) or lo <= 0 <= hi)


def _amount(value: float, unit: str, currency: str) -> str:
    if unit == "money":
        return compact_money(abs(value), currency)
    if unit == "days":
        return f"{abs(value):,.1f} days"
    return f"{abs(value):,.2f} points"


def _interval(row, unit: str, currency: str) -> str:
    def signed(v: float) -> str:
        return ("−" if v < 0 else "+") + _amount(v, unit, currency)

    if math.isnan(row["ci_low"]):
        return "one replication: no interval"
    return f"95 % CI {signed(row['ci_low'])} to {signed(row['ci_high'])}"


_NAMES = {
    "dso": "DSO",
    "bad_debt_ratio": "the bad-debt ratio",
    "collection_cost": "collection cost",
}


def _clause(key: str, row, currency: str, days: int) -> str:
    unit, diff = TILES[key][1], row["difference"]
    ci = _interval(row, unit, currency)
    same = row["ci_low"] == row["ci_high"] == diff == 0
    if key == "cash_window":
        cash = f"the cash received in the first {days} days"
        if same:
            return f"leaves {cash} unchanged in every replication"
        if not clear(row):
            return f"makes no clear difference to {cash} ({ci})"
        more = "more" if diff > 0 else "less"
        return (
            f"brings in about {_amount(diff, unit, currency)} {more} cash in the first "
            f"{days} days ({ci})"
        )
    name = _NAMES[key]
    if same:
        return f"{name} is the same in every replication"
    if not clear(row):
        return f"{name} is unchanged within noise ({ci})"
    verb = "rises" if diff > 0 else "falls"
    return f"{name} {verb} by {_amount(diff, unit, currency)} ({ci})"


def summary_text(moves: list[str], table: pd.DataFrame, currency: str) -> str:
    """The plain-language summary of a comparison, from :func:`changes` and :func:`outcome`.

    >>> t = pd.DataFrame(
    ...     {
    ...         "difference": [2.5e6, -4.2, 0.01, 1200.0],
    ...         "ci_low": [1.9e6, -5.0, -0.02, 900.0],
    ...         "ci_high": [3.1e6, -3.4, 0.04, 1500.0],
    ...     },
    ...     index=list(TILES),
    ... )
    >>> t.attrs["window_days"] = 90
    >>> print(summary_text(["moving from Net 45 to Net 30"], t, "USD"))
    Moving from Net 45 to Net 30 brings in about $2.5M more cash in the first 90 days (95 % CI +$1.9M to +$3.1M); DSO falls by 4.2 days (95 % CI −5.0 days to −3.4 days); the bad-debt ratio is unchanged within noise (95 % CI −0.02 points to +0.04 points); collection cost rises by $1.2k (95 % CI +$900 to +$1.5k).
    """  # noqa: E501
    days = int(table.attrs.get("window_days", CASH_WINDOW_DAYS))
    if not moves:
        subject = "The changed policy, the same as the baseline,"
    elif len(moves) == 1:
        subject = moves[0][0].upper() + moves[0][1:]
    else:
        joined = ", ".join(moves[:-1]) + f" and {moves[-1]}"
        subject = joined[0].upper() + joined[1:]
    clauses = [_clause(k, table.loc[k], currency, days) for k in TILES]
    return f"{subject} {clauses[0]}; " + "; ".join(clauses[1:]) + "."
