"""Checks of a run against theory: Little's law on the AR book and Erlang-C for the call queue.

>>> round(erlang_c(3, 2.1)["wait_probability"], 4), round(erlang_c(1, 0.5)["mean_queue"], 4)
(0.4923, 0.5)
"""

from __future__ import annotations

import math

import numpy as np

from rpmkit.sim.records import SimResult

__all__ = ["erlang_c", "littles_law", "littles_law_arrays"]


def erlang_c(servers: int, offered_load: float) -> dict[str, float]:
    """M/M/c: probability of waiting and mean queue length for ``offered_load = λ/μ`` erlangs.

    Mean wait in queue is ``mean_queue / λ`` (Little's law). Raises
    ``ValueError`` unless ``0 < offered_load < servers``.
    """
    c, a = servers, offered_load
    if not (isinstance(c, int) and c >= 1 and 0 < a < c):
        raise ValueError(f"need integer servers >= 1 and 0 < offered_load < servers, got {c}, {a}")
    terms = [a**k / math.factorial(k) for k in range(c)]
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(terms) + top)
    return {
        "utilisation": a / c,
        "wait_probability": p_wait,
        "mean_queue": p_wait * a / (c - a),
    }


def littles_law(result: SimResult, warmup_days: int, cooldown_days: int) -> dict[str, float]:
    """Mean open AR against daily sales × amount-weighted mean days to collect.

    Over the window of days ``[warmup_days, horizon − 1 − cooldown_days]``:
    ``mean_open_ar`` is the mean of the daily end-of-day open AR;
    ``daily_sales`` the invoices issued in the window per day;
    ``days_to_collect`` their amount-weighted mean of settled day − invoice
    day (the number of day ends an invoice is open), counting an invoice
    still open at the horizon as open until then (its share is
    ``censored_share``). The warm-up excludes the empty-book start; the
    cool-down lets the window's invoices settle inside the horizon. The
    residual ``relative_error = predicted / mean_open_ar − 1`` then comes only
    from invoices straddling the window's two edges, which cancel on average.
    """
    o = result.orders
    return littles_law_arrays(
        result.daily["open_ar"].to_numpy(),
        o["issue_time"].to_numpy(),
        o["accepted"].to_numpy(),
        o["settled_time"].to_numpy(),
        o["amount"].to_numpy(),
        result.scenario.horizon_days,
        warmup_days,
        cooldown_days,
    )


def littles_law_arrays(
    open_ar: np.ndarray,
    issue_time: np.ndarray,
    accepted: np.ndarray,
    settled_time: np.ndarray,
    amount: np.ndarray,
    horizon_days: int,
    warmup_days: int,
    cooldown_days: int,
) -> dict[str, float]:
    """:func:`littles_law` on arrays: the daily open AR and, per order, its issue
    time, acceptance, settled time (NaN while open) and amount.

    >>> law = littles_law_arrays(
    ...     np.full(10, 300.0),
    ...     np.arange(10.0),
    ...     np.ones(10, bool),
    ...     np.arange(10.0) + 3,
    ...     np.full(10, 100),
    ...     10,
    ...     2,
    ...     4,
    ... )
    >>> law["days_to_collect"], law["predicted"], law["relative_error"]
    (3.0, 300.0, 0.0)
    """
    h = horizon_days
    a, b = warmup_days, h - 1 - cooldown_days
    if not 0 <= a < b:
        raise ValueError(
            f"empty window: warmup_days={a}, cooldown_days={cooldown_days}, horizon={h}"
        )
    mean_ar = float(np.mean(open_ar[a : b + 1]))
    issue_day = np.floor(issue_time)
    sel = accepted & (issue_day >= a) & (issue_day <= b)
    settled = np.floor(settled_time[sel])
    censored = np.isnan(settled)
    settled = np.where(censored, h, settled)
    amount = amount[sel].astype(float)
    w = float((amount * (settled - issue_day[sel])).sum() / amount.sum())
    lam = float(amount.sum() / (b - a + 1))
    return {
        "window_start": float(a),
        "window_end": float(b),
        "mean_open_ar": mean_ar,
        "daily_sales": lam,
        "days_to_collect": w,
        "predicted": lam * w,
        "relative_error": lam * w / mean_ar - 1.0,
        "censored_share": float(amount[censored].sum() / amount.sum()),
    }
