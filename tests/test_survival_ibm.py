"""Kaplan–Meier by dispute status on the IBM AR sample, checked against the raw CSV.

The sample is third-party data read from ``../shared/datasets/ibm-ar`` beside the
repository; the test skips when it is absent. Every invoice in it is settled,
so at its last date the curves have no censoring and must equal the raw
``DaysToSettle`` distribution exactly; cut mid-way they must still separate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rpmkit
from rpmkit.hazards import PaymentHazards
from rpmkit.survival import PaymentSurvival

CSV = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "datasets"
    / "ibm-ar"
    / "WA_Fn-UseC_-Accounts-Receivable.csv"
)

pytestmark = pytest.mark.skipif(not CSV.exists(), reason="IBM AR sample not present")


@pytest.fixture(scope="module")
def ledger():
    return rpmkit.load(CSV, preset="ibm-ar").ledger


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(CSV)


def test_disputed_invoices_pay_slower(ledger, raw):
    last = ledger.date_range()[1]
    km = PaymentSurvival(by="disputed", horizon_days=90).fit(ledger, last)
    t = km.summary()
    assert t["censored"].sum() == 0 and t["n"].sum() == len(raw) == 2466
    # without censoring each curve is the raw share not yet settled after t days
    for flag, label in (("Yes", "True"), ("No", "False")):
        days = raw.loc[raw["Disputed"] == flag, "DaysToSettle"].to_numpy()
        curve = km.curves_[km.curves_["group"] == label]
        expected = [(days > d).mean() for d in curve["days"]]
        assert curve["survival"].to_numpy() == pytest.approx(expected, abs=1e-12)
        assert t.loc[label, "n"] == len(days)
        # horizon beyond the longest spell: the restricted mean is the plain mean
        assert t.loc[label, "restricted_mean_days"] == pytest.approx(days.mean())
    # medians: undisputed 23 days (CI 23-24), disputed 37 days (CI 35-37)
    assert t.loc["False", ["median_days", "median_lower", "median_upper"]].tolist() == [23, 23, 24]
    assert t.loc["True", ["median_days", "median_lower", "median_upper"]].tolist() == [37, 35, 37]
    assert t.loc["True", "median_lower"] > t.loc["False", "median_upper"]
    assert km.logrank_["p_value"] < 0.01
    assert km.logrank_["statistic"] == pytest.approx(422.88, abs=0.01)


def test_contrast_survives_censoring_and_paper_pays_slower(ledger):
    km = PaymentSurvival(by="disputed").fit(ledger, "2013-06-30")
    t = km.summary()
    assert t["censored"].sum() == 84  # open at the cut, counted as open
    assert t.loc["True", "median_days"] - t.loc["False", "median_days"] >= 10
    assert km.logrank_["p_value"] < 1e-20
    by_channel = PaymentSurvival(by="channel").fit(ledger, ledger.date_range()[1])
    med = by_channel.summary()["median_days"]
    assert med["paper"] - med["electronic"] == 6  # 29 vs 23 days
    assert by_channel.logrank_["p_value"] < 0.01


def test_cox_hazard_ratios_on_ibm(ledger):
    cox = PaymentHazards().fit(ledger, ledger.date_range()[1])
    t = cox.summary().set_index("covariate")
    # one segment and one terms length: nothing to estimate there
    assert set(cox.dropped_) == {"segment", "terms_30d"}
    assert cox.reference_ == {"channel": "paper"}
    assert t.loc["disputed", "upper"] < 0.3  # a disputed invoice pays at a fifth the rate
    assert t.loc["channel[electronic]", "lower"] > 1.5
    assert t.loc["log2_amount", "lower"] < 1 < t.loc["log2_amount", "upper"]
    assert np.isfinite(t["p_value"]).all()
