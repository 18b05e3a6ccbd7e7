"""Choices made on the training period only: the threshold and the days-late point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpmkit.risk import (
    RiskEvaluation,
    classification_metrics,
    f1_curve,
    inner_validation,
    invoice_features,
)
from rpmkit.synth import generate


@pytest.fixture(scope="module")
def ledger():
    return generate(customers=120, years=1.5, seed=29).ledger


@pytest.fixture(scope="module")
def evaluation(ledger):
    return RiskEvaluation(test_fraction=0.25).fit(ledger)


def test_f1_curve_by_hand():
    y = np.array([1, 1, 0, 1, 0, 0], dtype=float)
    p = np.array([0.9, 0.7, 0.6, 0.4, 0.3, 0.1])
    c = f1_curve(y, p, np.array([0.35, 0.5, 0.95])).set_index("threshold")
    # at 0.35: 4 flagged, 3 of them late, all 3 late found → P 3/4, R 1, F1 6/7
    assert c.loc[0.35, "precision"] == pytest.approx(0.75)
    assert c.loc[0.35, "recall"] == pytest.approx(1.0)
    assert c.loc[0.35, "f1"] == pytest.approx(6 / 7)
    # at 0.5: 3 flagged, 2 late → P 2/3, R 2/3
    assert c.loc[0.5, "f1"] == pytest.approx(2 / 3)
    # nothing flagged: precision and F1 undefined
    assert np.isnan(c.loc[0.95, "precision"]) and np.isnan(c.loc[0.95, "f1"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=1, max_size=60),
    st.sampled_from([0.05, 0.2, 0.37, 0.5, 0.81]),
)
def test_f1_curve_agrees_with_the_metrics(pairs, t):
    y = np.array([float(a) for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    row = f1_curve(y, p, np.array([t])).iloc[0]
    m = classification_metrics(y, p, t)
    for k in ("precision", "recall", "f1"):
        assert row[k] == pytest.approx(m[k], nan_ok=True)


def test_threshold_is_half_the_best_pooled_f1(evaluation):
    iv = evaluation.inner_
    assert iv is not None
    best = iv.curve["f1"].max()
    assert iv.best_f1 == pytest.approx(best)
    assert iv.threshold == pytest.approx(round(best / 2, 2))
    assert iv.argmax_threshold == pytest.approx(iv.curve["threshold"][iv.curve["f1"].idxmax()])
    assert evaluation.threshold_ == iv.threshold
    # the trained metrics are the test metrics at that threshold
    assert evaluation.metrics_trained_["threshold"] == iv.threshold
    assert evaluation.metrics_trained_["auc"] == evaluation.metrics_["auc"]
    # three blocks of a tenth of the training invoices each
    n_train = int((~evaluation.test_mask_).sum())
    assert abs(iv.n_validation - 0.3 * n_train) < 0.02 * n_train


def test_choices_use_the_training_period_only(ledger, evaluation):
    train = evaluation.features_[~evaluation.test_mask_]
    again = inner_validation(train)
    assert again.to_dict() == evaluation.inner_.to_dict()
    # scrambling the test invoices' outcomes changes nothing that was chosen
    feats = evaluation.features_.copy()
    test = evaluation.test_mask_
    feats.loc[test, "late"] = ~feats.loc[test, "late"].fillna(False)
    feats.loc[test, "days_late"] = 99.0
    assert inner_validation(feats[~test]).to_dict() == evaluation.inner_.to_dict()


def test_days_point_is_the_lower_validation_error(evaluation):
    iv = evaluation.inner_
    expected = "median" if iv.mae_median < iv.mae_mean else "mean"
    assert iv.days_point == expected == evaluation.days_point_
    pred = evaluation.predictions_
    # a Gamma's median lies below its mean
    assert (pred["median_days_if_late"] < pred["days_if_late"]).all()
    key = "median_days_if_late" if expected == "median" else "days_if_late"
    scored = evaluation.features_[evaluation.test_mask_].reset_index(drop=True)
    late = scored["late"].fillna(False).to_numpy(dtype=bool) & scored["days_late"].notna()
    late &= scored["outcome_known"]
    mae = np.mean(np.abs(pred[key][late] - scored["days_late"][late]))
    assert evaluation.metrics_["mae_days_late"] == pytest.approx(mae)


def test_a_lower_trained_threshold_trades_precision_for_recall(evaluation):
    m, t = evaluation.metrics_, evaluation.metrics_trained_
    assert evaluation.threshold_ < 0.5
    assert t["recall"] >= m["recall"] and t["precision"] <= m["precision"]
    summary = evaluation.summary().set_index("metric")
    assert summary.loc["f1", "trained"] == pytest.approx(t["f1"])
    assert summary.loc["auc", "trained"] == pytest.approx(m["auc"])


def test_without_tuning_the_fixed_threshold_is_kept(ledger):
    ev = RiskEvaluation(test_fraction=0.25, tune=False, threshold=0.4).fit(ledger)
    assert ev.inner_ is None and ev.threshold_ == 0.4 and ev.days_point_ == "mean"
    for k, v in ev.metrics_trained_.items():
        assert ev.metrics_[k] == v


def test_a_short_training_period_falls_back(ledger):
    tiny = invoice_features(generate(customers=6, years=0.3, seed=2).ledger)
    with pytest.raises(ValueError):
        inner_validation(tiny)
    with pytest.raises(ValueError, match="folds"):
        inner_validation(tiny, folds=0)


def test_inner_validation_rejects_bad_blocks(evaluation):
    train = evaluation.features_[~evaluation.test_mask_]
    with pytest.raises(ValueError, match="0 < folds × width < 1"):
        inner_validation(train, folds=5, width=0.25)
    assert isinstance(evaluation.to_dict()["inner_validation"], dict)
    assert pd.notna(evaluation.to_dict()["trained_threshold"])
