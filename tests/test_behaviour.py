"""Payment profiles, trends and seasonal decomposition: hand-computed cases and recovery.

The recovery tests run :class:`rpmkit.behaviour.PaymentProfiles` on generated
ledgers whose customers' true trends the generator knows, and measure how many
planted deteriorating payers are flagged and how many steady ones are.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

import rpmkit
from rpmkit import kpi
from rpmkit.behaviour import (
    PaymentProfiles,
    TrendDecomposition,
    _benjamini_hochberg,
    _ols_by_group,
    monthly_receipts,
    payment_trends,
    seasonal_decomposition,
)
from rpmkit.ledger import Ledger
from rpmkit.plots.behaviour import decomposition_panels, payment_trend_lines, slope_intervals
from rpmkit.synth import generate

AS_OF = "2024-06-30"


def tiny_ledger() -> Ledger:
    """Two customers, NET30, amounts in cents.

    C1  A inv 01-01 due 01-31 paid 02-10  100.00  to pay 40, beyond 10
        B inv 02-01 due 03-02 paid 03-02  200.00  to pay 30, beyond  0
        C inv 03-01 due 03-31 paid 03-26  300.00  to pay 25, beyond -5
        D inv 05-01 due 05-31 paid 06-20  400.00  to pay 50, beyond 20
        E inv 06-01 due 07-01 open        100.00  not counted
    C2  F inv 01-15 due 02-14 paid 02-14   50.00  to pay 30, beyond  0
        G inv 01-10 due 02-09 written off  70.00  not paid: not counted
    """
    flat = pd.DataFrame(
        {
            "invoice_id": list("ABCDEFG"),
            "customer_id": ["C1"] * 5 + ["C2"] * 2,
            "invoice_date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-02-01",
                    "2024-03-01",
                    "2024-05-01",
                    "2024-06-01",
                    "2024-01-15",
                    "2024-01-10",
                ]
            ),
            "amount": [10_000, 20_000, 30_000, 40_000, 10_000, 5_000, 7_000],
            "paid_date": pd.to_datetime(
                ["2024-02-10", "2024-03-02", "2024-03-26", "2024-06-20", None, "2024-02-14", None]
            ),
            "channel": ["paper", "paper", "electronic", "electronic", "paper", None, "paper"],
        }
    )
    flat["due_date"] = flat["invoice_date"] + pd.Timedelta(days=30)
    ledger = Ledger.from_flat(flat)
    write_off = pd.DataFrame(
        {
            "adjustment_id": ["W1"],
            "invoice_id": ["G"],
            "date": pd.to_datetime(["2024-03-31"]),
            "amount": [7_000],
            "kind": ["write_off"],
        }
    )
    customers = pd.DataFrame({"customer_id": ["C1", "C2"], "segment": ["smb", "enterprise"]})
    return ledger.replace(adjustments=write_off, customers=customers)


@pytest.fixture(scope="module")
def tiny() -> PaymentProfiles:
    return PaymentProfiles(recent_months=1, min_invoices=3, maturity_days=0, min_span_days=30).fit(
        tiny_ledger(), AS_OF
    )


def test_every_profile_column_by_hand(tiny):
    c1 = tiny.profiles_.loc["C1"]
    assert c1["segment"] == "smb"
    assert c1["invoices"] == 4
    assert c1["amount"] == 1000.00
    assert c1["days_to_pay"] == pytest.approx((40 + 30 + 25 + 50) / 4)
    assert c1["days_to_pay_amount_weighted"] == pytest.approx((40 + 60 + 75 + 200) / 10)
    assert c1["days_beyond_terms"] == pytest.approx((10 + 0 - 5 + 20) / 4)
    assert c1["days_beyond_terms_amount_weighted"] == pytest.approx((10 + 0 - 15 + 80) / 10)
    assert c1["on_time_share"] == 50.0  # B on its due date, C early
    assert c1["days_to_pay_std"] == pytest.approx(np.sqrt(368.75 / 3))
    assert c1["days_beyond_terms_std"] == pytest.approx(np.sqrt(368.75 / 3))
    assert c1["days_beyond_terms_median"] == 5.0  # between 0 and 10
    assert c1["days_beyond_terms_iqr"] == pytest.approx(12.5 - (-1.25))
    # recent = paid in June: D only
    assert c1["recent_invoices"] == 1
    assert c1["recent_days_to_pay"] == 50.0
    assert c1["recent_days_beyond_terms"] == 20.0
    assert c1["recent_change"] == pytest.approx(20 - 6.25)
    c2 = tiny.profiles_.loc["C2"]
    assert (c2["invoices"], c2["days_to_pay"], c2["on_time_share"]) == (1, 30.0, 100.0)
    assert np.isnan(c2["days_to_pay_std"])
    assert c2["flag"] == "untested"
    assert list(tiny.profiles_.index) == ["C1", "C2"]


def test_trend_matches_statsmodels_ols(tiny):
    c1 = tiny.profiles_.loc["C1"]
    x = np.array([0, 31, 60, 121]) / 365.25  # invoice dates in years from 2024-01-01
    y = np.array([10, 0, -5, 20])
    res = sm.OLS(y, sm.add_constant(x)).fit()
    low, high = res.conf_int(alpha=0.05)[1]
    assert c1["trend_invoices"] == 4
    assert c1["slope_days_per_year"] == pytest.approx(res.params[1])
    assert c1["slope_se"] == pytest.approx(res.bse[1])
    assert c1["p_value"] == pytest.approx(res.pvalues[1])
    assert (c1["slope_low"], c1["slope_high"]) == (pytest.approx(low), pytest.approx(high))
    assert c1["q_value"] == pytest.approx(res.pvalues[1])  # one test: q = p
    assert c1["flag"] == "steady"  # p ≈ 0.46


def test_recent_and_long_run_agree_with_the_kpi_engine():
    ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
    p = PaymentProfiles(recent_months=3).fit(ledger, AS_OF).profiles_
    quarter = kpi.days_beyond_terms(ledger, AS_OF, "quarter", by="customer")
    recent = p.loc[quarter.index]
    assert (recent["recent_invoices"] == quarter["invoices"]).all()
    np.testing.assert_allclose(recent["recent_days_beyond_terms"], quarter["count_weighted"])
    ever = kpi.days_to_pay(ledger, AS_OF, 100_000, by="customer")
    np.testing.assert_allclose(p.loc[ever.index, "days_to_pay"], ever["count_weighted"])
    np.testing.assert_allclose(
        p.loc[ever.index, "days_to_pay_amount_weighted"], ever["amount_weighted"]
    )
    seg = PaymentProfiles(by="segment").fit(ledger, AS_OF).profiles_
    by_seg = kpi.days_beyond_terms(ledger, AS_OF, 100_000, by="segment", weight="amount")
    np.testing.assert_allclose(
        seg.loc[by_seg.index, "days_beyond_terms_amount_weighted"], by_seg["amount_weighted"]
    )


def test_by_invoice_attribute_and_point_in_time():
    p = PaymentProfiles(by="channel", min_invoices=3).fit(tiny_ledger(), "2024-03-31")
    # by 03-31 A, B (paper) and C (electronic), F (no channel) were paid
    assert p.profiles_["invoices"].to_dict() == {"(unknown)": 1, "electronic": 1, "paper": 2}
    assert p.profiles_.loc["paper", "days_to_pay"] == 35.0
    with pytest.raises(ValueError, match="cut at 2024-03-31"):
        PaymentProfiles().fit(tiny_ledger().as_of("2024-03-31"), AS_OF)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"recent_months": 0}, "recent_months"),
        ({"min_invoices": 2}, "min_invoices"),
        ({"alpha": 1.5}, "alpha"),
        ({"min_slope_days_per_year": -1}, "min_slope_days_per_year"),
        ({"maturity_days": -3}, "maturity_days"),
        ({"min_span_days": 0}, "min_span_days"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PaymentProfiles(**kwargs)


def test_bad_arguments_are_refused(tiny):
    with pytest.raises(ValueError, match="by must be"):
        PaymentProfiles(by="colour").fit(tiny_ledger(), AS_OF)
    with pytest.raises(ValueError, match="not fitted"):
        PaymentProfiles().summary()
    with pytest.raises(ValueError, match="flag must be"):
        tiny.flagged("steady")
    with pytest.raises(ValueError, match="freq must be"):
        payment_trends(tiny_ledger(), AS_OF, freq="week")
    assert repr(PaymentProfiles()) == "PaymentProfiles(by='customer', not fitted)"


def test_result_protocol_and_json(tiny):
    out = tiny.to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text)["groups"][0]["customer"] == "C1"
    assert out["flags"] == {"deteriorating": 0, "improving": 0, "steady": 1, "untested": 1}
    assert out["groups"][1]["days_to_pay_std"] is None
    assert list(tiny.summary().columns[:3]) == ["segment", "invoices", "days_to_pay"]
    assert "1 improving" not in repr(tiny) and "2 groups" in repr(tiny)


def test_benjamini_hochberg_matches_statsmodels():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2, 0.0001, 0.5])
    ok = ~np.isnan(p)
    expected = multipletests(p[ok], method="fdr_bh")[1]
    np.testing.assert_allclose(_benjamini_hochberg(p)[ok], expected)
    assert np.isnan(_benjamini_hochberg(p)[2])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(3, 12), min_size=1, max_size=4),
    st.integers(0, 2**32 - 1),
)
def test_grouped_ols_equals_one_regression_per_group(sizes, seed):
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    codes = np.repeat(np.arange(len(sizes)), sizes)
    x = rng.uniform(-3, 0, len(codes))
    y = 5 + 4 * x + rng.normal(0, 2, len(codes))
    fit = _ols_by_group(codes, x, y, len(sizes))
    for g in range(len(sizes)):
        m = codes == g
        res = sm.OLS(y[m], sm.add_constant(x[m])).fit()
        assert fit["slope"][g] == pytest.approx(res.params[1], rel=1e-9, abs=1e-9)
        assert fit["se"][g] == pytest.approx(res.bse[1], rel=1e-7, abs=1e-9)


# --------------------------------------------------------------- recovery
STEADY = ("early", "on_time", "late", "chronic_late")


def _recovery(seed: int) -> pd.DataFrame:
    r = generate(customers=2000, years=3, seed=seed)
    p = PaymentProfiles().fit(r.ledger, r.params.end_date)
    truth = r.truth["customers"].set_index("customer_id")
    return p.profiles_.join(truth[["behaviour", "trend_days_per_year", "discount_taker", "terms"]])


@pytest.fixture(scope="module")
def recovered() -> pd.DataFrame:
    return pd.concat([_recovery(seed) for seed in (11, 12, 13)], keys=[11, 12, 13])


def test_planted_deteriorating_payers_are_flagged(recovered):
    planted = recovered[recovered["behaviour"] == "deteriorating"]
    tested = planted[planted["flag"] != "untested"]
    # discount takers pay in the discount window whatever their drift: nothing to see
    visible = tested[~(tested["discount_taker"] & tested["terms"].str.contains("/"))]
    detected = (visible["flag"] == "deteriorating").mean()
    assert len(visible) > 250
    assert detected > 0.85  # measured 0.91 over these seeds
    assert (planted["flag"] == "improving").sum() == 0
    improving = recovered[
        (recovered["behaviour"] == "improving") & (recovered["flag"] != "untested")
    ]
    assert (improving["flag"] == "improving").mean() > 0.5
    assert (improving["flag"] == "deteriorating").sum() == 0


def test_steady_payers_are_rarely_flagged(recovered):
    steady = recovered[recovered["behaviour"].isin(STEADY)]
    assert (steady["trend_days_per_year"] == 0).all()
    tested = steady[steady["flag"] != "untested"]
    false_flags = tested["flag"].isin(["deteriorating", "improving"])
    assert len(tested) > 4000  # about 12,000 customer-years
    # BH keeps the expected share of false discoveries among flags ≤ alpha, so the
    # per-customer false-flag rate must sit far below alpha = 5 %; measured 0.1 %.
    assert false_flags.mean() < 0.01
    flagged = recovered[recovered["flag"].isin(["deteriorating", "improving"])]
    wrong = ~flagged["behaviour"].isin(["deteriorating", "improving"])
    assert wrong.mean() <= 0.05  # the realised false-discovery proportion


def test_keeping_immature_invoices_biases_slopes_towards_improving():
    r = generate(customers=800, years=2, seed=21)
    truth = r.truth["customers"].set_index("customer_id")["behaviour"]
    slow = truth[truth == "chronic_late"].index

    def mean_slope(maturity: int) -> float:
        p = PaymentProfiles(maturity_days=maturity).fit(r.ledger, r.params.end_date).profiles_
        return float(p.loc[p.index.intersection(slow), "slope_days_per_year"].mean())

    # recent late payments are still open, so only the quick recent ones are seen
    assert mean_slope(0) < mean_slope(90) - 3
    assert abs(mean_slope(90)) < 3


# ----------------------------------------------------------------- trends
def test_trends_match_the_monthly_kpis():
    ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
    t = payment_trends(ledger, AS_OF)
    overall = t[t["segment"] == "(all)"].set_index("period")
    for month_end in ("2024-03-31", "2024-06-30"):
        row = overall.loc[pd.Timestamp(month_end).replace(day=1)]
        dtp = kpi.days_to_pay(ledger, month_end)
        dbt = kpi.days_beyond_terms(ledger, month_end, weight="amount")
        assert row["invoices"] == dtp.components["n"]
        assert row["days_to_pay"] == pytest.approx(dtp.value)
        assert row["days_beyond_terms_amount_weighted"] == pytest.approx(dbt.value)
        assert row["late_share"] == pytest.approx(dbt.components["late_share"])
    per_segment = t[t["segment"] != "(all)"].groupby("period")["invoices"].sum()
    assert (per_segment == overall["invoices"]).all()
    assert overall["complete"].all()
    quarters = payment_trends(ledger, "2024-05-15", by=None, freq="quarter")
    assert quarters["period"].iloc[-1] == pd.Timestamp("2024-04-01")
    assert not quarters["complete"].iloc[-1]
    assert quarters["invoices"].sum() == overall.loc[:"2024-04-01", "invoices"].sum() + int(
        kpi.days_to_pay(ledger, "2024-05-15", 15).components["n"]
    )


def test_tiny_trends_by_hand():
    t = payment_trends(tiny_ledger(), AS_OF, by="customer")
    c1 = t[t["customer"] == "C1"].set_index("period")
    assert c1["invoices"].tolist() == [1, 2, 0, 0, 1]  # Feb (first payment)..Jun
    assert c1.loc["2024-03-01", "days_beyond_terms"] == -2.5
    assert c1.loc["2024-03-01", "late_share"] == 0.0
    assert np.isnan(c1.loc["2024-04-01", "days_to_pay"])


def test_seasonal_peak_of_receipts_follows_the_planted_sales_peak():
    r = generate(customers=1500, years=4, seed=2, seasonal_peak_month=5, seasonality_amplitude=0.3)
    end = r.params.end_date
    inv = r.ledger.invoices
    sales = inv.groupby(inv["invoice_date"].dt.to_period("M"))["amount"].sum()  # USD only
    assert seasonal_decomposition(sales.to_timestamp()).peak() == 5
    receipts = monthly_receipts(r.ledger, end)
    assert len(receipts) == 48
    dec = seasonal_decomposition(receipts)
    # cash follows sales by the typical days to pay (about 1.5 months here)
    lag = kpi.days_to_pay(r.ledger, end, 365 * 4, weight="amount").value / 30.4
    assert 1 <= lag <= 2
    assert dec.peak() in (6, 7)
    assert dec.seasonal_strength_ > 0.5
    trend = payment_trends(r.ledger, end, by=None).set_index("period")["days_to_pay"]
    assert seasonal_decomposition(trend).seasonal_strength_ < dec.seasonal_strength_


def test_decomposition_checks_its_input():
    with pytest.raises(ValueError, match="at least two full periods"):
        seasonal_decomposition(pd.Series(np.arange(23.0)))
    gap = pd.Series(
        np.r_[np.arange(30.0), np.nan], index=pd.date_range("2020-01-01", periods=31, freq="MS")
    )
    with pytest.raises(ValueError, match="missing values .*2022-07-01"):
        seasonal_decomposition(gap)
    with pytest.raises(ValueError, match="seasonal must be"):
        TrendDecomposition(seasonal=4)
    months = pd.date_range("2021-01-01", periods=36, freq="MS")
    s = pd.Series(50 + 0.5 * np.arange(36) + 8 * (months.month == 3), index=months)
    dec = seasonal_decomposition(s)
    assert dec.peak() == 3
    np.testing.assert_allclose(dec.summary()[["trend", "seasonal", "resid"]].sum(axis=1), s)
    out = json.loads(json.dumps(dec.to_dict(), allow_nan=False))
    assert out["dates"][0] == "2021-01-01" and out["peak"] == 3 and len(out["trend"]) == 36


# ------------------------------------------------------------------ plots
def test_plots_carry_the_numbers(tiny):
    ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
    t = payment_trends(ledger, "2024-12-31")
    dec = seasonal_decomposition(t[t["segment"] == "(all)"].set_index("period")["days_to_pay"])
    fig = payment_trend_lines(t, measure="late_share", seasonal=dec.seasonal_)
    names = [tr.name for tr in fig.data]
    assert names == ["enterprise", "mid_market", "smb", "all invoices", "seasonal component"]
    assert fig.data[3].line.dash == "dash"
    np.testing.assert_allclose(fig.data[4].y, dec.seasonal_.to_numpy())
    assert len(decomposition_panels(dec.summary()).data) == 4
    flagged = PaymentProfiles().fit(ledger, "2024-12-31").flagged().head(5)
    fig = slope_intervals(flagged)
    assert list(fig.data[0].y) == [str(i) for i in flagged.index[::-1]]
    np.testing.assert_allclose(
        fig.data[0].error_x.arrayminus,
        (flagged["slope_days_per_year"] - flagged["slope_low"]).to_numpy()[::-1],
    )
    empty = tiny.plot()
    assert "No deteriorating payers" in empty.layout.annotations[0].text
    with pytest.raises(ValueError, match="measure must be"):
        payment_trend_lines(t, measure="dso")
