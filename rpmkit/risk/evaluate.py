"""Validate a late-payment model as it is used: trained on the past, tested on later invoices.

:class:`RiskEvaluation` builds point-in-time features for every invoice, splits
them by invoice date (the first ``1 − test_fraction`` of invoices train, the
rest test; invoices of one day never straddle the split), fits a
:class:`~rpmkit.risk.models.LatePaymentModel` on the training part and scores
the test part: AUC, accuracy, Brier score, log loss, late-class precision,
recall and F1, a calibration table by decile and the mean absolute error of
days late on late invoices.

Classification metrics are reported at the fixed ``threshold`` (0.5) and at
the threshold chosen on the training period alone by
:func:`~rpmkit.risk.tuning.inner_validation` (``threshold_``,
``metrics_trained_``), which also chooses the days-late point (Gamma mean or
median) whose MAE is reported. Nothing is chosen on the test invoices.

Examples
--------
>>> from rpmkit.synth import generate
>>> ev = RiskEvaluation(test_fraction=0.25).fit(generate(customers=80, years=1.5, seed=5).ledger)
>>> ev
RiskEvaluation(time split, 25 % test: AUC 0.925, accuracy 0.845)
>>> sorted(ev.metrics_)[:4]
['accuracy', 'auc', 'brier', 'f1']
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from rpmkit.jsonable import plain
from rpmkit.ledger import Ledger
from rpmkit.risk import metrics
from rpmkit.risk.features import FEATURES, FLAG_FEATURE, invoice_features
from rpmkit.risk.models import LatePaymentModel
from rpmkit.risk.tuning import inner_validation

__all__ = ["REFERENCE", "RiskEvaluation", "time_split"]

log = logging.getLogger("rpmkit.risk")

REFERENCE = {
    "accuracy": 0.85,
    "precision": 0.69,
    "recall": 0.84,
    "f1": 0.76,
    "mae_days_late": 4.11,
}
"""Published time-ordered 80/20 results on the IBM AR sample (an XGBoost hurdle model)."""


def time_split(dates: pd.Series, test_fraction: float) -> np.ndarray:
    """``True`` for test rows: invoices dated on or after the date where the last share starts.

    >>> d = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"]))
    >>> time_split(d, 0.5).tolist()
    [False, True, True, True]
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}")
    values = pd.to_datetime(dates).to_numpy()
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    ordered = np.sort(values)
    n_train = min(max(int(round(len(values) * (1 - test_fraction))), 1), len(values) - 1)
    return values >= ordered[n_train]


class RiskEvaluation:
    """Fit on earlier invoices, measure on later ones.

    Parameters
    ----------
    test_fraction
        Share of invoices (the latest) held out for testing, in (0, 1).
    split
        ``"time"`` (by invoice date; the honest choice) or ``"random"``
        (by a seeded shuffle; optimistic, for comparison with studies that use it).
    threshold
        Classification threshold on ``p_late``.
    seed
        Seed of the random split.
    dispute_flag
        Also use the invoice's own undated ``disputed`` flag as a feature
        (see :data:`~rpmkit.risk.features.FLAG_FEATURE`): not point-in-time,
        for comparison with published studies only.
    features
        Feature columns of the model (default
        :data:`~rpmkit.risk.features.FEATURES`; add
        :data:`~rpmkit.risk.features.EXTRA_FEATURES` to try them).
    tune
        Choose a threshold and the days-late point by inner validation on the
        training period (falls back to ``threshold`` and the Gamma mean when
        the training period is too short).
    """

    def __init__(
        self,
        test_fraction: float = 0.2,
        split: str = "time",
        threshold: float = 0.5,
        seed: int = 0,
        dispute_flag: bool = False,
        features: tuple[str, ...] = FEATURES,
        tune: bool = True,
    ) -> None:
        if split not in ("time", "random"):
            raise ValueError(f"split must be 'time' or 'random', got {split!r}")
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(
                f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}"
            )
        self.test_fraction = float(test_fraction)
        self.split = split
        self.threshold = float(threshold)
        self.seed = int(seed)
        self.dispute_flag = bool(dispute_flag)
        self.features = tuple(features)
        self.tune = bool(tune)

    def __repr__(self) -> str:
        head = f"RiskEvaluation({self.split} split, {self.test_fraction:.0%} test"
        if not hasattr(self, "metrics_"):
            return head.replace("%", " %") + ", not fitted)"
        m = self.metrics_
        return f"{head.replace('%', ' %')}: AUC {m['auc']:.3f}, accuracy {m['accuracy']:.3f})"

    def fit(self, ledger: Ledger) -> RiskEvaluation:
        """Build features, split, fit and score; results in the trailing-underscore attributes."""
        feats = invoice_features(ledger, undated_flag=self.dispute_flag)
        names = self.features + ((FLAG_FEATURE,) if self.dispute_flag else ())
        if self.split == "time":
            test = time_split(feats["invoice_date"], self.test_fraction)
        else:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed))
            test = rng.random(len(feats)) < self.test_fraction
        self.features_ = feats
        self.test_mask_ = test
        self.split_date_ = feats["invoice_date"][test].min() if test.any() else pd.NaT
        self.model_ = LatePaymentModel(threshold=self.threshold, features=names).fit(feats[~test])
        self.inner_ = None
        if self.tune:
            try:
                self.inner_ = inner_validation(feats[~test], names)
            except ValueError as exc:
                log.info("no inner validation (%s); keeping threshold %g", exc, self.threshold)
        self.threshold_ = self.inner_.threshold if self.inner_ else self.threshold
        self.days_point_ = self.inner_.days_point if self.inner_ else "mean"
        pred = self.model_.predict(feats[test])
        self.predictions_ = pred.reset_index(drop=True)
        scored = feats[test].reset_index(drop=True)
        known = scored["outcome_known"].to_numpy(dtype=bool)
        y = scored["late"][known].astype(bool).to_numpy(dtype=float)
        p = self.predictions_["p_late"].to_numpy()[known]
        self.metrics_ = metrics.classification_metrics(y, p, self.threshold)
        self.metrics_trained_ = metrics.classification_metrics(y, p, self.threshold_)
        late = known & (scored["late"].fillna(False).to_numpy(dtype=bool))
        late &= scored["days_late"].notna().to_numpy()
        actual = scored["days_late"].to_numpy(dtype=float)[late]
        point = "median_days_if_late" if self.days_point_ == "median" else "days_if_late"
        for key, column in (("mae_days_late", point), ("mae_days_late_mean", "days_if_late")):
            self.metrics_[key] = (
                float(np.mean(np.abs(self.predictions_[column].to_numpy()[late] - actual)))
                if late.any()
                else float("nan")
            )
        self.metrics_trained_["mae_days_late"] = self.metrics_["mae_days_late"]
        # the published model's recall set beside this curve (see metrics.at_recall)
        self.metrics_at_reference_recall_ = (
            metrics.at_recall(y, p, REFERENCE["recall"]) if y.any() else {}
        )
        self.metrics_["n_train"] = int(self.model_.n_train_)
        self.metrics_["n_late_test"] = int(late.sum())
        self.calibration_ = metrics.calibration_table(y, p)
        self.roc_ = metrics.roc_points(y, p)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "metrics_"):
            raise ValueError("the evaluation is not fitted; call fit() first")

    def summary(self) -> pd.DataFrame:
        """Each metric at the fixed threshold, at the trained one, and the published reference.

        Columns ``metric``, ``value`` (at ``threshold``), ``trained`` (at
        ``threshold_``; the same for threshold-free metrics) and ``reference``.
        """
        self._check_fitted()
        names = (
            "auc",
            "accuracy",
            "brier",
            "log_loss",
            "precision",
            "recall",
            "f1",
            "mae_days_late",
        )
        return pd.DataFrame(
            {
                "metric": names,
                "value": [self.metrics_[k] for k in names],
                "trained": [self.metrics_trained_[k] for k in names],
                "reference": [REFERENCE.get(k, np.nan) for k in names],
            }
        )

    def to_dict(self) -> dict:
        """Metrics, calibration table, odds ratios and split: JSON-ready."""
        self._check_fitted()
        return plain(
            {
                "split": self.split,
                "dispute_flag": self.dispute_flag,
                "test_fraction": self.test_fraction,
                "split_date": self.split_date_,
                "metrics": self.metrics_,
                "trained_threshold": self.threshold_,
                "metrics_trained": self.metrics_trained_,
                "days_point": self.days_point_,
                "inner_validation": self.inner_.to_dict() if self.inner_ else None,
                "reference": REFERENCE,
                "metrics_at_reference_recall": self.metrics_at_reference_recall_,
                "calibration": self.calibration_.to_dict(orient="records"),
                "odds_ratios": self.model_.odds_ratios().to_dict(orient="records"),
            }
        )

    def plot(self):
        """ROC curve and calibration side by side (:func:`rpmkit.plots.risk.model_quality`)."""
        from rpmkit.plots.risk import model_quality

        self._check_fitted()
        return model_quality(self.roc_, self.calibration_, self.metrics_)
