"""Back-tests: bands calibrated over many origins of a generated ledger; the IBM sample table.

The generated ledger has known behaviour (customers pay around their own mean delay
after due, with month-end and weekly pay runs); over many walk-forward origins the
80 % bands must cover roughly 80 % of the realised weeks and the forecast must beat
every baseline. The IBM test skips when ``../shared/datasets/ibm-ar`` is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rpmkit
from rpmkit.forecast import Backtest, origin_dates
from rpmkit.synth import generate

IBM = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "datasets"
    / "ibm-ar"
    / "WA_Fn-UseC_-Accounts-Receivable.csv"
)


@pytest.fixture(scope="module")
def generated():
    return generate(customers=300, years=2, seed=11).ledger


@pytest.fixture(scope="module")
def backtest(generated):
    return Backtest(weeks=8, origins=12, draws=200, min_history_days=300).fit(generated)


def test_bands_are_calibrated_over_many_origins(backtest):
    m = backtest.metrics_
    assert len(backtest.origins_) == 12 and len(backtest.forecasts_) == 12 * 8 * 5
    assert 0.65 <= m.loc["forecast", "coverage_80"] <= 0.95
    assert abs(m.loc["forecast", "bias"]) < 0.10
    assert m.loc["forecast", "wape"] < m.loc[m["baseline"], "wape"].min()
    # every horizon week is scored, for every method
    assert backtest.by_horizon_.shape[0] == 5 * 8


def test_metrics_agree_with_the_long_table(backtest):
    f = backtest.forecasts_
    ours = f[f["method"] == "forecast"]
    wape = (ours["actual"] - ours["p50"]).abs().sum() / ours["actual"].sum()
    assert backtest.metrics_.loc["forecast", "wape"] == pytest.approx(wape)
    inside = ((ours["actual"] >= ours["p10"]) & (ours["actual"] <= ours["p90"])).mean()
    assert backtest.metrics_.loc["forecast", "coverage_80"] == pytest.approx(inside)
    assert backtest.metrics_.loc["due_date", "coverage_80"] is None or pd.isna(
        backtest.metrics_.loc["due_date", "coverage_80"]
    )


def test_to_dict_has_the_cli_contract(backtest):
    d = backtest.to_dict()
    assert set(d["methods"]) == {
        "forecast",
        "due_date",
        "customer_average",
        "ets_receipts",
        "seasonal_naive",
    }
    for name, row in d["methods"].items():
        assert set(row) == {"wape", "bias", "coverage_80", "pinball", "baseline"}
        assert row["baseline"] is (name != "forecast")
        assert (row["coverage_80"] is None) is (name != "forecast")


def test_origins_leave_history_and_full_actuals(generated):
    first, last = generated.date_range()
    o = origin_dates(generated, 13, 5, 365)
    assert o[0] == first + pd.Timedelta(days=365)
    assert o[-1] == last - pd.Timedelta(days=91)
    with pytest.raises(ValueError, match="too short"):
        origin_dates(generated, 13, 5, 800)


def test_backtest_sees_only_the_past(generated):
    """The forecast rows of an origin are the same when everything later is removed."""
    t = pd.Timestamp("2024-03-15")
    full = Backtest(weeks=4, draws=100).fit(generated, dates=[t]).forecasts_
    cut = generated.as_of(t + pd.Timedelta(days=28))  # the past plus the actuals only
    again = Backtest(weeks=4, draws=100).fit(cut, dates=[t]).forecasts_
    pd.testing.assert_frame_equal(full, again)


@pytest.mark.skipif(not IBM.exists(), reason="IBM AR sample not present")
def test_ibm_sample_backtest():
    ledger = rpmkit.load(IBM, preset="ibm-ar").ledger
    bt = Backtest(weeks=13, origins=6, draws=200).fit(ledger)
    m = bt.metrics_
    assert np.isfinite(m["wape"]).all()
    assert m.loc["forecast", "wape"] < 0.35
    assert 0.5 <= m.loc["forecast", "coverage_80"] <= 1.0
    # the point baselines that ignore new sales miss most of the cash
    assert m.loc["due_date", "wape"] > 2 * m.loc["forecast", "wape"]
