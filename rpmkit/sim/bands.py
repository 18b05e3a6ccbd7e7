"""Percentile bands over replications (their figure is :func:`rpmkit.plots.sim.band_figure`).

A band is, per day (or month end), the 10th, 50th and 90th percentile of a
measure across replications (linear interpolation between order statistics,
``numpy.nanpercentile``), and the mean. Percentiles are monotone in ``q``, so
P10 ≤ P50 ≤ P90 holds on every row.

>>> import numpy as np
>>> values = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0]])  # 3 replications × 2 days
>>> percentile_bands(values).round(2).tolist()
[[1.2, 2.0, 2.8, 2.0], [12.0, 20.0, 28.0, 20.0]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["BAND_COLUMNS", "QUANTILES", "percentile_bands"]

QUANTILES: tuple[int, ...] = (10, 50, 90)
BAND_COLUMNS: tuple[str, ...] = ("p10", "p50", "p90", "mean")


def percentile_bands(values: np.ndarray) -> np.ndarray:
    """``(replications, points)`` → ``(points, 4)``: P10, P50, P90 and mean per point.

    Replications with no value at a point (NaN, e.g. a CEI with nothing
    collectible) are left out of that point; a point with no value at all is NaN.
    """
    values = np.asarray(values, dtype=float)
    out = np.full((values.shape[1], len(BAND_COLUMNS)), np.nan)
    seen = ~np.isnan(values).all(axis=0)
    if seen.any():
        v = values[:, seen]
        out[seen, :3] = np.nanpercentile(v, QUANTILES, axis=0).T
        out[seen, 3] = np.nanmean(v, axis=0)
    return out
