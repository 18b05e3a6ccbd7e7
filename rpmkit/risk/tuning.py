"""Choices made on the training period only: the decision threshold and the days-late point.

A late-payment model is scored on later invoices; anything tuned must be tuned
before them. :func:`inner_validation` repeats the outer design inside the
training period: rolling-origin folds, each fitted on everything before a
validation block of the latest training invoices (``folds`` blocks of
``width`` of them, never straddling a day), and pools the out-of-time
predictions of the blocks. From the pooled predictions it chooses

* the **threshold** on ``p_late``: half the best late-class F1 over thresholds.
  For calibrated probabilities the F1-optimal threshold is F1*/2 (Lipton, Elkan
  and Naryanaswamy, 2014); the F1 curve is flat near its top, so its arg-max
  wanders with a few hundred validation invoices while its height does not.
  The arg-max is reported beside it (``argmax_threshold``);
* the **days-late point** for late invoices: the mean or the median of the fitted
  Gamma, whichever has the lower mean absolute error (the median minimises
  absolute error when the distribution is right).

Examples
--------
>>> from rpmkit.synth import generate
>>> from rpmkit.risk.features import invoice_features
>>> feats = invoice_features(generate(customers=80, years=1.5, seed=5).ledger)
>>> iv = inner_validation(feats)
>>> 0.05 <= iv.threshold <= 0.5 and iv.days_point in ("mean", "median")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rpmkit.risk import metrics
from rpmkit.risk.features import FEATURES

__all__ = ["InnerValidation", "f1_curve", "inner_validation"]

GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
"""Thresholds tried."""


@dataclass(frozen=True)
class InnerValidation:
    """What the training period chose, and the evidence.

    Attributes
    ----------
    threshold
        Chosen decision threshold (half the best pooled F1, on the grid).
    best_f1
        Best late-class F1 of the pooled validation predictions.
    argmax_threshold
        The threshold at which that best F1 was reached.
    days_point
        ``"mean"`` or ``"median"`` of the fitted Gamma of days late.
    mae_mean, mae_median
        Pooled validation MAE of days late on late invoices for each point.
    log_loss
        Pooled validation log loss: the criterion for comparing feature sets.
    n_validation
        Invoices in the pooled validation blocks.
    curve
        ``threshold, f1, precision, recall`` on the grid.
    """

    threshold: float
    best_f1: float
    argmax_threshold: float
    days_point: str
    mae_mean: float
    mae_median: float
    log_loss: float
    n_validation: int
    curve: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict:
        """The choices and their evidence (without the curve), JSON-ready."""
        return {
            "threshold": self.threshold,
            "best_f1": self.best_f1,
            "argmax_threshold": self.argmax_threshold,
            "days_point": self.days_point,
            "mae_mean": self.mae_mean,
            "mae_median": self.mae_median,
            "log_loss": self.log_loss,
            "n_validation": self.n_validation,
        }


def f1_curve(y: np.ndarray, p: np.ndarray, grid: np.ndarray = GRID) -> pd.DataFrame:
    """Late-class precision, recall and F1 at each threshold of ``grid`` (late when ``p >= t``).

    Same definitions as :func:`~rpmkit.risk.metrics.classification_metrics`, for
    all thresholds at once.

    >>> f1_curve(np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.6, 0.2]), np.array([0.5]))
       threshold  precision  recall   f1
    0        0.5        0.5     0.5  0.5
    """
    y = np.asarray(y, dtype=float)
    order = np.argsort(p)
    ps, ys = np.asarray(p, dtype=float)[order], y[order]
    # invoices at or above each threshold: a suffix of the sorted scores
    start = np.searchsorted(ps, grid, side="left")
    late_from = np.r_[np.cumsum(ys[::-1])[::-1], 0.0]
    tp = late_from[start]
    flagged = (len(ps) - start).astype(float)
    total = ys.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(flagged > 0, tp / flagged, np.nan)
        recall = np.where(total > 0, tp / total, np.nan)
        f1 = np.where(tp > 0, 2 * tp / (flagged + total), np.nan)
    return pd.DataFrame({"threshold": grid, "precision": precision, "recall": recall, "f1": f1})


def _blocks(dates: pd.Series, folds: int, width: float) -> list[tuple[np.ndarray, np.ndarray]]:
    from rpmkit.risk.evaluate import time_split

    out, later = [], np.zeros(len(dates), dtype=bool)
    for j in range(1, folds + 1):
        held = time_split(dates, min(j * width, 0.95))
        out.append((~held, held & ~later))
        later = held
    return out


def inner_validation(
    features: pd.DataFrame,
    names: tuple[str, ...] = FEATURES,
    *,
    folds: int = 3,
    width: float = 0.1,
    use_segment: bool = True,
) -> InnerValidation:
    """Choose the threshold and the days-late point on ``features`` (the training period).

    Parameters
    ----------
    features
        Training rows of :func:`~rpmkit.risk.features.invoice_features`.
    names
        Feature columns of the model, as for :class:`~rpmkit.risk.models.LatePaymentModel`.
    folds, width
        Number of validation blocks and the share of training invoices in each.

    Raises
    ------
    ValueError
        When ``folds``/``width`` are out of range, or a fold cannot be fitted
        (too few invoices, or one outcome only).
    """
    from rpmkit.risk.models import LatePaymentModel

    if folds < 1 or not 0.0 < width < 1.0 or folds * width >= 1.0:
        raise ValueError(
            f"need folds >= 1 and 0 < folds × width < 1; got folds={folds}, width={width}"
        )
    known = features[features["outcome_known"].to_numpy(dtype=bool)].reset_index(drop=True)
    ps, ys, means, medians, actual = [], [], [], [], []
    for fit, val in _blocks(known["invoice_date"], folds, width):
        if not val.any():
            continue
        model = LatePaymentModel(features=names, use_segment=use_segment).fit(known[fit])
        rows = known[val]
        pred = model.predict(rows)
        ps.append(pred["p_late"].to_numpy())
        y = rows["late"].astype(bool).to_numpy()
        ys.append(y.astype(float))
        late = y & rows["days_late"].notna().to_numpy()
        means.append(pred["days_if_late"].to_numpy()[late])
        medians.append(pred["median_days_if_late"].to_numpy()[late])
        actual.append(rows["days_late"].to_numpy(dtype=float)[late])
    if not ps:
        raise ValueError("the training period is too short for inner validation")
    p, y = np.concatenate(ps), np.concatenate(ys)
    curve = f1_curve(y, p)
    f1 = curve["f1"].fillna(0.0).to_numpy()
    best = int(np.argmax(f1))
    half = float(np.clip(np.round(f1[best] / 2, 2), GRID[0], GRID[-1]))
    truth = np.concatenate(actual)
    mae_mean = float(np.mean(np.abs(np.concatenate(means) - truth))) if len(truth) else np.nan
    mae_median = float(np.mean(np.abs(np.concatenate(medians) - truth))) if len(truth) else np.nan
    return InnerValidation(
        threshold=half,
        best_f1=float(f1[best]),
        argmax_threshold=float(GRID[best]),
        days_point="median" if mae_median < mae_mean else "mean",
        mae_mean=mae_mean,
        mae_median=mae_median,
        log_loss=float(metrics.classification_metrics(y, p)["log_loss"]),
        n_validation=len(p),
        curve=curve,
    )
