"""How good a late-payment model is: discrimination, calibration and error in days.

Plain numpy functions of outcomes ``y`` (1 = paid late) and predicted
probabilities ``p``; no model objects.

Examples
--------
>>> import numpy as np
>>> y = np.array([0, 0, 1, 1])
>>> p = np.array([0.1, 0.6, 0.4, 0.9])
>>> auc(y, p)
0.75
>>> m = classification_metrics(y, p)
>>> m["accuracy"], m["precision"], m["recall"], round(m["brier"], 4)
(0.5, 0.5, 0.5, 0.185)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = ["at_recall", "auc", "calibration_table", "classification_metrics", "roc_points"]

_EPS = 1e-12


def _check(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"outcomes and predictions differ in length: {len(y)} vs {len(p)}")
    if len(y) and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0 (on time) or 1 (late)")
    if len(p) and (np.isnan(p).any() or (p < 0).any() or (p > 1).any()):
        raise ValueError("predicted probabilities must lie in [0, 1]")
    return y, p


def auc(y, p) -> float:
    """Area under the ROC curve (Mann–Whitney, ties count half); NaN with one class only."""
    y, p = _check(y, p)
    n1 = y.sum()
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def roc_points(y, p) -> pd.DataFrame:
    """The ROC curve: ``threshold, fpr, tpr`` from (0, 0) to (1, 1), one row per distinct score."""
    y, p = _check(y, p)
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    last = np.r_[ps[1:] != ps[:-1], True] if len(ps) else np.array([], dtype=bool)
    tp = np.cumsum(ys)[last]
    fp = np.cumsum(1 - ys)[last]
    n1, n0 = max(y.sum(), 1), max(len(y) - y.sum(), 1)
    return pd.DataFrame(
        {
            "threshold": np.r_[np.inf, ps[last]],
            "fpr": np.r_[0.0, fp / n0],
            "tpr": np.r_[0.0, tp / n1],
        }
    )


def classification_metrics(y, p, threshold: float = 0.5) -> dict[str, float]:
    """AUC, accuracy, Brier score, log loss and late-class precision, recall and F1.

    An invoice is predicted late when ``p >= threshold``. Precision is NaN when
    nothing is predicted late; recall when nothing was late.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold!r}")
    y, p = _check(y, p)
    pred = p >= threshold
    tp = float(np.sum(pred & (y == 1)))
    fp = float(np.sum(pred & (y == 0)))
    fn = float(np.sum(~pred & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision == precision and recall == recall and precision + recall > 0
        else float("nan")
    )
    q = np.clip(p, _EPS, 1 - _EPS)
    return {
        "n": int(len(y)),
        "late_share": float(y.mean()) if len(y) else float("nan"),
        "auc": auc(y, p),
        "accuracy": float(np.mean(pred == (y == 1))) if len(y) else float("nan"),
        "brier": float(np.mean((p - y) ** 2)) if len(y) else float("nan"),
        "log_loss": float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
        if len(y)
        else float("nan"),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "threshold": float(threshold),
    }


def at_recall(y, p, recall: float) -> dict[str, float]:
    """:func:`classification_metrics` at the highest threshold whose recall reaches
    ``recall``: another model's operating point set beside this model's curve.

    The threshold is read off the scored set itself, so this compares ranking quality
    (what precision and accuracy this model gives up for that recall), not an operating
    point one could have chosen in advance.

    >>> m = at_recall([0, 1, 0, 1], [0.1, 0.9, 0.6, 0.4], 1.0)
    >>> m["threshold"], m["precision"], m["recall"]
    (0.4, 0.6666666666666666, 1.0)
    """
    y, p = _check(y, p)
    if not 0.0 < recall <= 1.0 or not y.any():
        raise ValueError("recall must lie in (0, 1] and some outcome must be late")
    for threshold in np.sort(np.unique(p))[::-1]:
        if np.sum((p >= threshold) & (y == 1)) >= recall * np.sum(y == 1) - 1e-9:
            return classification_metrics(y, p, float(np.clip(threshold, _EPS, 1 - _EPS)))
    raise AssertionError("the lowest threshold reaches every recall")  # pragma: no cover


def calibration_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed late share per quantile bin of the prediction (deciles by default).

    Columns: ``bin`` (1 = lowest predictions), ``n``, ``predicted`` (mean
    ``p``), ``observed`` (late share), ``se`` (binomial standard error of the
    observed share under the predictions, ``sqrt(Σ p(1−p)) / n``) and ``z``
    (``(observed − predicted) / se``): ``|z| < 2`` is within sampling error.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins!r}")
    y, p = _check(y, p)
    if len(y) == 0:
        return pd.DataFrame(columns=["bin", "n", "predicted", "observed", "se", "z"])
    order = np.argsort(p, kind="stable")
    label = np.empty(len(p), dtype=np.int64)
    label[order] = np.arange(len(p)) * bins // len(p)
    frame = pd.DataFrame({"bin": label + 1, "y": y, "p": p, "v": p * (1 - p)})
    g = frame.groupby("bin")
    out = pd.DataFrame(
        {
            "n": g.size(),
            "predicted": g["p"].mean(),
            "observed": g["y"].mean(),
            "se": np.sqrt(g["v"].sum()) / g.size(),
        }
    ).reset_index()
    out["z"] = (out["observed"] - out["predicted"]) / out["se"].where(out["se"] > 0)
    return out
