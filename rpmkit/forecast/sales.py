"""New credit sales: weekly history by segment, ETS sample paths, and the cash they bring.

Weekly credit sales (invoice amounts by invoice date, weeks ending on the as-of
date) are modelled per segment with statsmodels' ``ETSModel``: additive errors, a
damped additive trend, and an additive 52-week season only when the history holds
at least two full seasons. Sample paths come from the fitted model's
``simulate``; a segment with under 16 weeks of history repeats its mean with its
own week-to-week spread. Sales then flow into cash along the segment's cash
profile (:attr:`rpmkit.forecast.openitems.OpenItems.sales_cash_`): a week's sales
are issued evenly over its seven days and bring ``pmf[d]`` of their amount in cash
``d`` days after issue.

Examples
--------
>>> import numpy as np
>>> pmf = np.eye(1, 15, 7)  # every invoice pays in full 7 days after issue
>>> flow_matrix(pmf, 3)[0].round(3).tolist()
[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
>>> paths = sales_paths(np.full(30, 100.0), 2, 3, np.random.default_rng(1))
>>> paths.shape, bool((paths >= 0).all())
((3, 2), True)
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

__all__ = ["flow_matrix", "sales_paths", "weekly_sales"]

log = logging.getLogger(__name__)
MIN_WEEKS_FOR_ETS = 16
SEASON = 52


def weekly_sales(
    inv_day: np.ndarray, amount: np.ndarray, group: np.ndarray, n_groups: int, day: int
) -> np.ndarray:
    """``(n_groups, n_weeks)`` sales per full week ending on ``day``, oldest first.

    The first (partial) week of the data is left out.
    """
    known = inv_day <= day
    if not known.any():
        return np.zeros((n_groups, 0))
    back = (day - inv_day[known]) // 7
    n_weeks = int((day - inv_day[known].min()) // 7)  # full weeks only
    keep = back < n_weeks
    cell = group[known][keep] * n_weeks + (n_weeks - 1 - back[keep])
    totals = np.bincount(cell, amount[known][keep].astype(np.float64), n_groups * n_weeks)
    return totals.reshape(n_groups, n_weeks)


def sales_paths(
    history: np.ndarray, weeks: int, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """``(draws, weeks)`` simulated future weekly sales of one segment (never negative)."""
    history = np.asarray(history, dtype=np.float64)
    if len(history) == 0 or not history.any():
        return np.zeros((draws, weeks))
    if len(history) < MIN_WEEKS_FOR_ETS:
        mean, sd = history.mean(), history.std(ddof=1) if len(history) > 1 else 0.0
        return np.maximum(rng.normal(mean, sd, size=(draws, weeks)), 0.0)
    scale = history.mean()
    y = history / scale
    seasonal = len(y) >= 2 * SEASON
    try:
        paths = _ets_paths(y, weeks, draws, rng, seasonal)
    except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - numerical
        log.info("ETS on weekly sales failed (%s); using the recent mean", exc)
        recent = y[-MIN_WEEKS_FOR_ETS:]
        paths = rng.normal(recent.mean(), recent.std(ddof=1), size=(draws, weeks))
    return np.maximum(paths * scale, 0.0)


def _ets_paths(y, weeks, draws, rng, seasonal: bool) -> np.ndarray:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        # convergence chatter on short noisy series; the fit is still usable
        warnings.simplefilter("ignore")
        model = ETSModel(
            y,
            error="add",
            trend="add",
            damped_trend=True,
            seasonal="add" if seasonal else None,
            seasonal_periods=SEASON if seasonal else None,
        )
        fit = model.fit(disp=False, maxiter=200)
        sim = fit.simulate(weeks, repetitions=draws, anchor="end", rng=rng)
    return np.asarray(sim, dtype=np.float64).reshape(weeks, draws).T


def ets_point(history: np.ndarray, weeks: int) -> np.ndarray:
    """Point forecast of a weekly series with the same ETS set-up (mean of the history if short)."""
    history = np.asarray(history, dtype=np.float64)
    if len(history) == 0:
        return np.zeros(weeks)
    if len(history) < MIN_WEEKS_FOR_ETS or not history.any():
        return np.full(weeks, history.mean())
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    scale = history.mean()
    seasonal = len(history) >= 2 * SEASON
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ETSModel(
            history / scale,
            error="add",
            trend="add",
            damped_trend=True,
            seasonal="add" if seasonal else None,
            seasonal_periods=SEASON if seasonal else None,
        ).fit(disp=False, maxiter=200)
        return np.maximum(np.asarray(fit.forecast(weeks)) * scale, 0.0)


def flow_matrix(pmf: np.ndarray, weeks: int) -> np.ndarray:
    """``(n_groups, weeks, weeks)``: share of week ``s``'s sales paid in week ``w``.

    ``pmf[g, d]`` is the chance an invoice pays ``d`` days after issue; a week's
    sales are issued evenly over its seven days (day offsets ``7s + 1 … 7s + 7``).
    """
    n_groups, width = pmf.shape
    span = 7 * weeks
    # cumulative pmf lets each (issue day, receipt week) pair be one subtraction
    cdf = np.concatenate([np.zeros((n_groups, 1)), np.cumsum(pmf, axis=1)], axis=1)

    def cdf_at(d: np.ndarray) -> np.ndarray:
        return cdf[:, np.clip(d, 0, width)]

    issue = np.arange(1, span + 1)  # day offsets after the as-of date
    week_end = 7 * np.arange(1, weeks + 1)
    # paid by end of week w for sales issued on day i: cdf(week_end - i + 1)
    lag = week_end[None, :] - issue[:, None] + 1
    paid_by = cdf_at(np.maximum(lag, 0))  # (groups, days, weeks)
    per_week = np.diff(paid_by, axis=2, prepend=0.0)
    return per_week.reshape(n_groups, weeks, 7, weeks).mean(axis=2)
