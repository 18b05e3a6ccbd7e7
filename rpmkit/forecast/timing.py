"""Calendar timing of receipts: month-end weeks collect more than the weeks between.

The payment curves are smooth in days since due date, but cash arrives in lumps:
customers pay on month-end and weekly pay runs. This module measures the lumps in
the ledger's own weekly receipts before the as-of date: each full week's receipts
divided by the centred five-week moving average around it, pooled by week type
(the week contains a month end, or not). The forecast multiplies each simulated
week by a ratio drawn with replacement from its type's pool, which moves the P50
of month-end weeks up and widens the bands by the observed week-to-week scatter.

Examples
--------
>>> import numpy as np
>>> ends = np.arange(19729, 19729 + 7 * 20, 7)  # day numbers of 20 Sundays from 2024-01-07
>>> flags = month_end_weeks(ends)
>>> flags[:5].tolist()
[False, False, False, False, True]
>>> hist = np.where(flags, 130.0, 90.0)
>>> pools = ratio_pools(hist, flags)
>>> round(float(np.median(pools[True])), 2) > 1.2, round(float(np.median(pools[False])), 2) < 1
(True, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MIN_POOL", "month_end_weeks", "multipliers", "ratio_pools"]

MIN_POOL = 4
"""Ratios a week type needs before it is used (else that type gets no adjustment)."""
_EPOCH = np.datetime64("1970-01-01", "D")


def month_end_weeks(end_days: np.ndarray) -> np.ndarray:
    """Per 7-day week ending on day number ``end_days``: does it contain a month's last day?"""
    end = _EPOCH + np.asarray(end_days, dtype="timedelta64[D]")
    start = end - np.timedelta64(6, "D")
    crosses = end.astype("datetime64[M]") != start.astype("datetime64[M]")
    return crosses | _is_month_end(end)


def _is_month_end(days: np.ndarray) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(days).is_month_end)


def ratio_pools(history: np.ndarray, month_end: np.ndarray) -> dict[bool, np.ndarray]:
    """Weekly receipts ÷ their centred 5-week mean, split by week type (full windows only)."""
    h = np.asarray(history, dtype=np.float64)
    if len(h) < 5:
        return {True: np.zeros(0), False: np.zeros(0)}
    ma = np.convolve(h, np.ones(5) / 5, mode="valid")  # centred on weeks 2 … n-3
    with np.errstate(invalid="ignore", divide="ignore"):
        r = h[2:-2] / ma
    flags = np.asarray(month_end)[2:-2]
    ok = np.isfinite(r) & (ma > 0)
    return {True: r[ok & flags], False: r[ok & ~flags]}


def multipliers(
    pools: dict[bool, np.ndarray],
    month_end: np.ndarray,
    draws: int,
    rng: np.random.Generator,
    simulated_cv: float = 0.0,
) -> np.ndarray:
    """``(draws, weeks)`` ratios drawn from the pool of each future week's type (1 if too few).

    ``simulated_cv`` is the week-to-week coefficient of variation the rest of the
    simulation already produces (which invoices happen to pay in a week). The
    observed ratios hold that scatter too, so their log-deviations from the pool's
    centre are shrunk to leave only the remainder: ``λ = √(1 − cv² / var(log r))``.
    """
    weeks = len(month_end)
    out = np.ones((draws, weeks))
    idx = rng.random((draws, weeks))  # one uniform per cell keeps streams aligned
    for kind in (True, False):
        pool = np.sort(pools[kind])
        if len(pool) >= MIN_POOL and (pool > 0).all():
            logs = np.log(pool)
            centre, var = logs.mean(), logs.var(ddof=1)
            keep = np.sqrt(max(0.0, 1.0 - simulated_cv**2 / var)) if var > 0 else 0.0
            pool = np.exp(centre + keep * (logs - centre)) * np.exp(
                (1 - keep**2) * var / 2
            )  # the mean ratio is kept: E[exp] of a log-normal-like pool
        cols = np.flatnonzero(np.asarray(month_end) == kind)
        if len(pool) >= MIN_POOL and len(cols):
            pick = np.minimum((idx[:, cols] * len(pool)).astype(np.int64), len(pool) - 1)
            out[:, cols] = pool[pick]
    return out
