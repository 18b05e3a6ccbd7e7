"""Late-payment features, models, metrics, grades and limits.

Hand-computed cases on tiny inline ledgers, the leakage guard (features never
change when anything dated after the invoice changes), properties of the
metrics, and validity on generated ledgers whose payer behaviour is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from rpmkit.ledger import Ledger
from rpmkit.risk import (
    EXTRA_FEATURES,
    FEATURES,
    CustomerRisk,
    GradeCutoffs,
    LatePaymentModel,
    LimitPolicy,
    RiskEvaluation,
    assign_grades,
    auc,
    calibration_table,
    classification_metrics,
    credit_limits,
    invoice_features,
    time_split,
)
from rpmkit.synth import generate

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def flat_ledger(rows: list[tuple]) -> Ledger:
    """(invoice, customer, invoice date, due date, amount in cents, paid date or None)."""
    frame = pd.DataFrame(
        rows,
        columns=["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "paid_date"],
    )
    for c in ("invoice_date", "due_date", "paid_date"):
        frame[c] = pd.to_datetime(frame[c])
    frame["currency"] = "USD"
    return Ledger.from_flat(frame)


@pytest.fixture(scope="module")
def generated():
    return generate(customers=300, years=2.0, seed=17)


# ------------------------------------------------------------------ features by hand
def test_features_by_hand():
    ledger = flat_ledger(
        [
            ("A", "K", "2024-01-01", "2024-01-31", 10_000, "2024-02-10"),  # 10 days late
            ("B", "K", "2024-01-05", "2024-02-04", 30_000, "2024-02-01"),  # 3 days early
            ("C", "K", "2024-02-20", "2024-03-21", 20_000, None),  # open
            ("D", "M", "2024-02-20", "2024-03-21", 5_000, "2024-03-20"),
        ]
    )
    f = invoice_features(ledger).set_index("invoice_id")
    c = f.loc["C"]
    # before Feb 20, A and B had settled: one of two late, days late +10 and −3
    assert c["prior_settled"] == 2
    assert c["prior_late_share"] == pytest.approx(0.5)
    assert c["prior_mean_days_late"] == pytest.approx(3.5)
    # amount 200 over the mean of A and B (200): ratio 1
    assert c["log_amount_ratio"] == pytest.approx(0.0)
    assert c["exposure"] == 0.0 and c["past_due"] == 0.0
    assert c["terms_days"] == 30
    b = f.loc["B"]  # on Jan 5 only A was issued (and open, not yet due)
    assert b["prior_settled"] == 0 and b["no_history"] == 1.0
    assert b["exposure"] == pytest.approx(100.0)
    assert b["past_due"] == 0.0
    assert b["log_amount_ratio"] == pytest.approx(np.log(3.0))
    assert f.loc["D", "prior_settled"] == 0  # another customer's history never counts
    # outcomes are kept apart: A late by 10, B early, C open and past due at the cut
    assert f.loc["A", "days_late"] == 10 and bool(f.loc["A", "late"])
    assert not bool(f.loc["B", "late"])
    assert np.isnan(f.loc["C", "days_late"])


def test_history_channel_dispute_and_recency_features_by_hand():
    frame = pd.DataFrame(
        {
            "invoice_id": ["A", "B", "C", "D"],
            "customer_id": ["K", "K", "K", "K"],
            "invoice_date": pd.to_datetime(
                ["2024-01-01", "2024-01-05", "2024-02-05", "2024-03-01"]
            ),
            "due_date": pd.to_datetime(["2024-01-31", "2024-02-04", "2024-03-06", "2024-03-31"]),
            "amount": [10_000, 20_000, 30_000, 40_000],
            "currency": "USD",
            # A settles last (Feb 10, 10 days late), B first (Feb 1, 3 days early)
            "paid_date": pd.to_datetime(["2024-02-10", "2024-02-01", "2024-04-01", None]),
            "disputed": [True, False, True, False],
            "channel": ["paper", "electronic", "electronic", "electronic"],
        }
    )
    ledger = Ledger.from_flat(frame)
    customers = ledger.customers.copy()
    customers["paperless_date"] = "2024-01-04"  # the day the customer went paperless
    f = invoice_features(ledger.replace(customers=customers)).set_index("invoice_id")
    d = f.loc["D"]  # on Mar 1: A and B settled, C open (its dispute not yet known)
    assert d["prior_electronic_share"] == pytest.approx(0.5)
    assert d["prior_disputed_share"] == pytest.approx(0.5)
    assert d["prior_disputed_days_late"] == pytest.approx(10.0)
    assert d["last_days_late"] == pytest.approx(10.0)  # A, the latest settlement
    assert d["days_since_settlement_log"] == pytest.approx(np.log1p(20))  # Feb 10 → Mar 1
    assert d["days_since_invoice_log"] == pytest.approx(np.log1p(25))  # Feb 5 → Mar 1
    assert d["open_count_log"] == pytest.approx(np.log1p(1))  # C
    assert d["paperless_days_log"] == pytest.approx(np.log1p(57))  # Jan 4 → Mar 1
    assert d["late_share_x_history"] == pytest.approx(0.5 * np.log1p(2))
    assert d["invoice_day_of_month"] == 1 and d["due_day_of_month"] == 31
    c = f.loc["C"]  # on Feb 5 only B had settled: early, electronic, undisputed
    assert c["prior_electronic_share"] == 1.0 and c["prior_disputed_share"] == 0.0
    assert c["last_days_late"] == pytest.approx(-3.0)
    a = f.loc["A"]  # before the paperless date and with no history
    assert a["paperless_days_log"] == 0.0 and a["days_since_invoice_log"] == 0.0


def test_past_due_balance_counts_unsettled_overdue_invoices():
    ledger = flat_ledger(
        [
            ("A", "K", "2024-01-01", "2024-01-10", 10_000, "2024-03-01"),
            ("B", "K", "2024-01-02", "2024-01-20", 20_000, "2024-01-25"),
            ("C", "K", "2024-02-01", "2024-03-01", 40_000, None),
        ]
    )
    c = invoice_features(ledger).set_index("invoice_id").loc["C"]
    # on Feb 1: A open and past due (100), B settled; exposure 100, all of it past due
    assert c["exposure"] == pytest.approx(100.0)
    assert c["past_due"] == pytest.approx(100.0)
    assert c["past_due_share"] == pytest.approx(1.0)


# ------------------------------------------------------------------ leakage guard
def _perturbed_after(ledger: Ledger, t: pd.Timestamp) -> Ledger:
    """Everything dated after ``t`` changed: later payments 45 days later, later disputes gone."""
    pay = ledger.payments.copy()
    later = pay["payment_date"] > t
    pay.loc[later, "payment_date"] = pay.loc[later, "payment_date"] + pd.Timedelta(days=45)
    alloc = ledger.allocations.copy()
    moved = alloc["applied_date"] > t
    alloc.loc[moved, "applied_date"] = alloc.loc[moved, "applied_date"] + pd.Timedelta(days=45)
    adj = ledger.adjustments.copy()
    adj.loc[adj["date"] > t, "date"] = adj.loc[adj["date"] > t, "date"] + pd.Timedelta(days=45)
    disputes = ledger.disputes[ledger.disputes["opened_date"] <= t]
    return ledger.replace(payments=pay, allocations=alloc, adjustments=adj, disputes=disputes)


@pytest.mark.parametrize("cut", ["2023-09-30", "2024-03-15"])
def test_no_feature_uses_anything_dated_after_the_invoice(generated, cut):
    t = pd.Timestamp(cut)
    ledger = generated.ledger
    before = invoice_features(ledger)
    keep = (before["invoice_date"] <= t).to_numpy()
    cols = [*FEATURES, *EXTRA_FEATURES, "prior_settled", "prior_disputes", "exposure", "past_due"]
    for other in (_perturbed_after(ledger, t), ledger.as_of(t)):
        after = invoice_features(other).set_index("invoice_id").loc[before["invoice_id"][keep]]
        pd.testing.assert_frame_equal(
            before.loc[keep, cols].reset_index(drop=True),
            after[cols].reset_index(drop=True),
            check_exact=False,
            rtol=1e-12,
        )
    # the perturbation really changed outcomes, so the test can fail
    changed = invoice_features(_perturbed_after(ledger, t))
    assert (changed["days_late"].fillna(-999) != before["days_late"].fillna(-999)).any()


def test_outcome_columns_are_never_features():
    with pytest.raises(ValueError, match="outcome columns cannot be features: days_late"):
        LatePaymentModel(features=(*FEATURES, "days_late"))
    with pytest.raises(ValueError, match="days_to_settle"):
        LatePaymentModel(features=("days_to_settle",))
    assert not {"days_late", "days_to_settle", "paid_date"} & set(FEATURES)


# ------------------------------------------------------------------ metrics
def test_metrics_by_hand():
    y = np.array([1, 1, 0, 0, 1])
    p = np.array([0.9, 0.6, 0.7, 0.2, 0.4])
    # pairs (late, on time): (0.9>0.7, 0.9>0.2, 0.6<0.7, 0.6>0.2, 0.4<0.7, 0.4>0.2) → 4 of 6
    assert auc(y, p) == pytest.approx(4 / 6)
    m = classification_metrics(y, p, threshold=0.5)
    # predicted late: 0.9, 0.6, 0.7 → tp 2, fp 1, fn 1
    assert (m["precision"], m["recall"], m["accuracy"]) == pytest.approx((2 / 3, 2 / 3, 0.6))
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert m["log_loss"] == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    cal = calibration_table(y, p, bins=5)
    assert cal["n"].tolist() == [1] * 5
    assert cal["observed"].tolist() == [0.0, 1.0, 1.0, 0.0, 1.0]  # p sorted: .2 .4 .6 .7 .9
    with pytest.raises(ValueError, match="outcomes must be 0"):
        auc([2, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="threshold"):
        classification_metrics(y, p, threshold=1.0)


@SETTINGS
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=2, max_size=60),
)
def test_auc_is_a_probability_and_flips_with_the_scores(pairs):
    y = np.array([a for a, _ in pairs], dtype=float)
    p = np.array([b for _, b in pairs])
    value = auc(y, p)
    if y.min() == y.max():
        assert np.isnan(value)
        return
    assert 0.0 <= value <= 1.0
    # reversed scores (kept in [0, 1] without rounding ties away) flip the AUC
    r = rankdata(p)
    assert auc(y, (r.max() - r) / r.max()) == pytest.approx(1 - value)
    # strictly monotone transforms keep the ranking and so the AUC
    assert auc(y, np.sqrt(p)) == pytest.approx(value)


@SETTINGS
@given(st.lists(st.floats(0, 1), min_size=1, max_size=80), st.integers(1, 12))
def test_calibration_bins_partition_the_invoices(ps, bins):
    p = np.array(ps)
    y = (p > 0.5).astype(float)
    cal = calibration_table(y, p, bins=bins)
    assert cal["n"].sum() == len(p)
    assert (cal["n"] * cal["predicted"]).sum() == pytest.approx(p.sum())
    assert cal["predicted"].is_monotonic_increasing


def test_time_split_never_straddles_a_day():
    d = pd.Series(pd.to_datetime(["2024-01-01"] * 3 + ["2024-01-02"] * 3 + ["2024-01-03"] * 4))
    test = time_split(d, 0.5)
    assert test.tolist() == [False] * 3 + [True] * 7
    with pytest.raises(ValueError, match="test_fraction"):
        time_split(d, 0.0)


# ------------------------------------------------------------------ validity on generated ledgers
@pytest.fixture(scope="module")
def evaluation(generated):
    return RiskEvaluation(test_fraction=0.25).fit(generated.ledger)


def test_model_discriminates_and_is_calibrated_on_generated_ledger(evaluation):
    m = evaluation.metrics_
    assert m["auc"] > 0.85
    assert m["accuracy"] > 0.8
    cal = evaluation.calibration_
    # predicted vs observed late share per decile within sampling error
    assert (cal["z"].abs() < 3).all(), cal
    assert (cal["z"].abs() < 2).sum() >= 8
    # test invoices are all later than every training invoice
    feats = evaluation.features_
    assert feats["invoice_date"][~evaluation.test_mask_].max() < evaluation.split_date_


def test_late_payers_by_truth_get_higher_predictions(generated, evaluation):
    truth = generated.truth["customers"].set_index("customer_id")
    feats = evaluation.features_[evaluation.test_mask_].reset_index(drop=True)
    pred = evaluation.predictions_
    behaviour = feats["customer_id"].map(truth["behaviour"]).astype(str)
    mean_p = pred["p_late"].groupby(behaviour.to_numpy()).mean()
    assert mean_p["chronic_late"] > mean_p["late"] > mean_p["on_time"] > mean_p["early"]
    # expected days late follows the true mean delay
    days = pred["expected_days_late"].groupby(behaviour.to_numpy()).mean()
    assert days["chronic_late"] > 2 * days["late"]


def test_evaluation_is_deterministic(generated, evaluation):
    again = RiskEvaluation(test_fraction=0.25).fit(generated.ledger)
    assert again.metrics_ == evaluation.metrics_
    pd.testing.assert_frame_equal(again.predictions_, evaluation.predictions_)


def test_odds_ratios_point_the_right_way(evaluation):
    odds = evaluation.model_.odds_ratios().set_index("term")
    assert odds.loc["prior_late_share", "odds_ratio"] > 1
    assert odds.loc["prior_late_share", "p_value"] < 1e-6
    assert (odds["ci_low"] <= odds["odds_ratio"]).all()
    d = evaluation.to_dict()
    assert d["metrics"]["auc"] == pytest.approx(evaluation.metrics_["auc"])
    assert len(d["calibration"]) == 10


# ------------------------------------------------------------------ grades and limits
def test_grades_take_the_worse_of_the_two_cutoffs():
    grades = assign_grades(
        np.array([0.0, 0.29, 0.3, 0.95, 0.1]), np.array([0.0, 2.9, 0.0, 0.0, 50.0])
    )
    assert grades.tolist() == ["A", "A", "B", "E", "E"]
    with pytest.raises(ValueError, match="p_late must be four increasing"):
        GradeCutoffs(p_late=(0.5, 0.4, 0.6, 0.8))


def test_customer_risk_grades_follow_the_truth(generated):
    risk = CustomerRisk().fit(generated.ledger, "2024-06-30")
    truth = generated.truth["customers"].set_index("customer_id")
    scores = risk.scores_
    behaviour = scores["customer_id"].map(truth["behaviour"]).astype(str)
    share_bad = (scores["grade"].isin(["D", "E"])).groupby(behaviour.to_numpy()).mean()
    assert share_bad["chronic_late"] > 0.8
    assert share_bad["early"] < 0.2
    summary = risk.summary()
    assert summary["customers"].sum() == len(scores)
    assert summary["exposure"].sum() == pytest.approx(scores["exposure"].sum())


def test_limit_policy_by_hand():
    policy = LimitPolicy(months_of_sales=3, cap=10_000, round_to=500)
    assert policy.recommend(1_000.0, "C") == 3_000.0
    assert policy.recommend(1_000.0, "A") == 4_500.0
    assert policy.recommend(5_000.0, "A") == 10_000.0  # capped
    assert policy.recommend(1_000.0, "E") == 500.0  # 900 rounded down
    with pytest.raises(ValueError, match="months_of_sales"):
        LimitPolicy(months_of_sales=0)
    with pytest.raises(ValueError, match="grade_factors"):
        LimitPolicy(grade_factors={"A": 1.0})


def test_credit_limits_by_hand():
    ledger = flat_ledger(
        [
            ("A", "K", "2024-01-01", "2024-01-31", 120_000, None),  # 1,200 open, 60 days past due
            ("B", "K", "2024-03-01", "2024-03-31", 60_000, None),
            ("C", "M", "2024-03-01", "2024-03-31", 24_000, "2024-03-20"),
        ]
    )
    scores = pd.DataFrame({"customer_id": ["K", "M"], "grade": ["C", "A"]})
    lim = credit_limits(
        ledger,
        scores,
        "2024-04-01",
        LimitPolicy(volume_months=12, round_to=1, hold_days_past_due=30),
    ).set_index("customer_id")
    assert lim.loc["K", "monthly_sales"] == pytest.approx(1_800 / 12)
    assert lim.loc["K", "recommended_limit"] == 300.0  # 150 × 2 × 1.0
    assert lim.loc["K", "exposure"] == pytest.approx(1_800.0)
    assert lim.loc["K", "past_due"] == pytest.approx(1_800.0)
    assert lim.loc["K", "past_due_hold"] == pytest.approx(1_200.0)  # A is 61 days past due
    assert bool(lim.loc["K", "over_limit"]) and bool(lim.loc["K", "hold"])
    assert lim.loc["M", "recommended_limit"] == 60.0  # 20 × 2 × 1.5
    assert not bool(lim.loc["M", "hold"])
    assert "grade C" in lim.loc["K", "explanation"] and "hold" in lim.loc["K", "explanation"]


# ------------------------------------------------------------------ as-of lookups vs brute force
_DAY0 = pd.Timestamp("2024-01-01")
_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["K", "M"]),
        st.integers(0, 60),  # invoice day
        st.one_of(st.none(), st.integers(0, 70)),  # days to settle, None = open
        st.booleans(),  # disputed
        st.booleans(),  # electronic
    ),
    min_size=1,
    max_size=14,
)


@SETTINGS
@given(_ROWS)
def test_history_features_match_a_brute_force_loop(rows):
    frame = pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(len(rows))],
            "customer_id": [r[0] for r in rows],
            "invoice_date": [_DAY0 + pd.Timedelta(days=r[1]) for r in rows],
            "due_date": [_DAY0 + pd.Timedelta(days=r[1] + 20) for r in rows],
            "amount": 10_000,
            "currency": "USD",
            "paid_date": pd.to_datetime(
                [None if r[2] is None else _DAY0 + pd.Timedelta(days=r[1] + r[2]) for r in rows]
            ),
            "disputed": [r[3] for r in rows],
            "channel": ["electronic" if r[4] else "paper" for r in rows],
        }
    )
    ledger = Ledger.from_flat(frame)
    f = invoice_features(ledger).set_index("invoice_id")
    inv = ledger.invoices.set_index("invoice_id")
    src = frame.set_index("invoice_id")
    for i, row in inv.iterrows():
        d = row["invoice_date"]
        same = src[src["customer_id"] == row["customer_id"]]
        settled = same[same["paid_date"] < d].sort_values("paid_date", kind="stable")
        issued = same[same["invoice_date"] < d]
        late_days = (settled["paid_date"] - settled["due_date"]).dt.days
        got = f.loc[i]
        n = len(settled)
        share = (settled["channel"] == "electronic").mean() if n else 0.0
        assert got["prior_electronic_share"] == pytest.approx(share)
        assert got["prior_disputed_share"] == pytest.approx(settled["disputed"].mean() if n else 0)
        disputed = late_days[settled["disputed"].to_numpy()]
        expected = disputed.mean() if len(disputed) else 0.0
        assert got["prior_disputed_days_late"] == pytest.approx(expected)
        assert got["last_days_late"] == pytest.approx(late_days.iloc[-1] if n else 0.0)
        since = (d - settled["paid_date"].max()).days if n else 0
        assert got["days_since_settlement_log"] == pytest.approx(np.log1p(since))
        since = (d - issued["invoice_date"].max()).days if len(issued) else 0
        assert got["days_since_invoice_log"] == pytest.approx(np.log1p(since))
        still_open = issued[~(issued["paid_date"] < d)]
        assert got["open_count_log"] == pytest.approx(np.log1p(len(still_open)))
