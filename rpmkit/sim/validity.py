"""Checks of a run against theory: Little's law on the AR book and Erlang-C for the call queue.

>>> round(erlang_c(3, 2.1)["wait_probability"], 4), round(erlang_c(1, 0.5)["mean_queue"], 4)
(0.4923, 0.5)
"""

from __future__ import annotations

import math

import numpy as np

from rpmkit.sim.records import SimResult

__all__ = ["erlang_c", "littles_law"]


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
    h = result.scenario.horizon_days
    a, b = warmup_days, h - 1 - cooldown_days
    if not 0 <= a < b:
        raise ValueError(
            f"empty window: warmup_days={a}, cooldown_days={cooldown_days}, horizon={h}"
        )
    d = result.daily
    mean_ar = float(d["open_ar"].iloc[a : b + 1].mean())
    o = result.orders
    issue_day = np.floor(o["issue_time"].to_numpy())
    sel = o["accepted"].to_numpy() & (issue_day >= a) & (issue_day <= b)
    settled = np.floor(o["settled_time"].to_numpy()[sel])
    censored = np.isnan(settled)
    settled = np.where(censored, h, settled)
    amount = o["amount"].to_numpy()[sel].astype(float)
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
