"""Forecast accuracy: WAPE, bias, 80 % interval coverage and pinball loss.

All measures pool weeks (and origins) by summing, so a big week counts more than
a quiet one, which is how a treasurer feels an error:

* **WAPE** = Σ |actual − P50| / Σ actual;
* **bias** = Σ (P50 − actual) / Σ actual (positive: the forecast runs high);
* **coverage_80** = share of weeks whose actual lies in [P10, P90] (``None`` for
  point forecasts);
* **pinball** = mean over q ∈ {0.1, 0.5, 0.9} of Σ ρ_q(actual − Q_q) / Σ actual, where
  ρ_q(e) = max(q·e, (q − 1)·e); a point forecast uses its one value for every q.
  Scaling by Σ actual makes it comparable across ledgers, like WAPE.

Examples
--------
>>> import numpy as np
>>> actual = np.array([100.0, 200.0])
>>> m = accuracy(
...     actual,
...     p50=np.array([110.0, 170.0]),
...     p10=np.array([90.0, 180.0]),
...     p90=np.array([120.0, 190.0]),
... )
>>> {k: round(v, 4) for k, v in m.items()}
{'wape': 0.1333, 'bias': -0.0667, 'coverage_80': 0.5, 'pinball': 0.0378}
>>> accuracy(actual, p50=np.array([100.0, 200.0]))["coverage_80"] is None
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["QUANTILES", "accuracy", "pinball"]

QUANTILES = (0.1, 0.5, 0.9)


def pinball(actual: np.ndarray, forecast: np.ndarray, q: float) -> float:
    """Σ ρ_q(actual − forecast) (unscaled)."""
    e = np.asarray(actual, dtype=np.float64) - np.asarray(forecast, dtype=np.float64)
    return float(np.maximum(q * e, (q - 1) * e).sum())


def accuracy(
    actual: np.ndarray,
    p50: np.ndarray,
    p10: np.ndarray | None = None,
    p90: np.ndarray | None = None,
) -> dict[str, float | None]:
    """WAPE, bias, coverage_80 and scaled pinball loss of one set of weeks (see module doc)."""
    a = np.asarray(actual, dtype=np.float64)
    m = np.asarray(p50, dtype=np.float64)
    if a.shape != m.shape:
        raise ValueError(f"actual has shape {a.shape} but p50 has {m.shape}")
    if (p10 is None) != (p90 is None):
        raise ValueError("give both p10 and p90, or neither")
    total = a.sum()
    if total <= 0:
        raise ValueError("actual receipts sum to zero; WAPE is undefined")
    lo = m if p10 is None else np.asarray(p10, dtype=np.float64)
    hi = m if p90 is None else np.asarray(p90, dtype=np.float64)
    loss = np.mean([pinball(a, f, q) for f, q in zip((lo, m, hi), QUANTILES, strict=True)])
    return {
        "wape": float(np.abs(a - m).sum() / total),
        "bias": float((m - a).sum() / total),
        "coverage_80": None if p10 is None else float(np.mean((a >= lo) & (a <= hi))),
        "pinball": float(loss / total),
    }
