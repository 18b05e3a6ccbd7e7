"""Sales growth and seasonality per segment: the rate by hand, the arrivals it gives,
validation, and calibration on a generated ledger with known growth and season."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from rpmkit.sim import Behaviour, PayerBehaviour, Scenario, SegmentSales, Streams
from rpmkit.sim.orders import draw_orders
from rpmkit.synth import generate

FLAT = Scenario(
    horizon_days=365,
    seed=3,
    sales=(SegmentSales("smb", 100, 50.0, 500.0),),
    behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
)


def _with(**kwargs) -> Scenario:
    return dataclasses.replace(FLAT, sales=(dataclasses.replace(FLAT.sales[0], **kwargs),))


def test_daily_rates_by_hand():
    s = SegmentSales("x", 1, 10.0, 1.0, growth_per_year=0.21, seasonality=(1.0,) * 11 + (3.0,))
    r = s.daily_rates(pd.Timestamp("2025-12-31"), 366)
    assert r[0] == pytest.approx(30.0 * 1.21 ** (0.5 / 365.25))  # December: × 3
    assert r[1] == pytest.approx(10.0 * 1.21 ** (1.5 / 365.25))  # 1 January
    assert r[365] == pytest.approx(30.0 * 1.21 ** (365.5 / 365.25))
    flat = SegmentSales("x", 1, 10.0, 1.0).daily_rates(pd.Timestamp("2025-01-01"), 3)
    assert flat.tolist() == [10.0, 10.0, 10.0]


def test_flat_rate_draws_are_unchanged_and_growth_keeps_the_stream():
    flat = draw_orders(FLAT, Streams(FLAT.seed))
    rng = Streams(FLAT.seed).rng("arrivals", "smb")
    n = int(rng.poisson(50.0 * 365))
    np.testing.assert_array_equal(flat.issue, np.sort(rng.uniform(0.0, 365, n)))
    grown = draw_orders(_with(growth_per_year=0.5), Streams(FLAT.seed))
    expected = 50.0 * 365.25 * 0.5 / np.log(1.5) * (1.5 ** (365 / 365.25) - 1) / 0.5
    assert abs(grown.n - expected) < 4 * np.sqrt(expected)
    assert (np.diff(grown.issue) >= 0).all() and grown.issue.max() < 365
    # the second half of the year has (1.5^½) times the first half's orders
    halves = np.histogram(grown.issue, bins=[0, 182.5, 365])[0]
    assert halves[1] / halves[0] == pytest.approx(1.5**0.5, rel=0.04)
    # amounts and payment delays keep their streams: the first orders' amounts agree
    assert grown.amount[:50].tolist() == flat.amount[:50].tolist()


def test_seasonality_moves_orders_into_the_peak_month():
    factors = (2.0,) + (10 / 11,) * 11  # January doubled, the year's volume kept
    o = draw_orders(_with(seasonality=factors), Streams(FLAT.seed))
    jan = (o.issue < 31).sum()
    per_day_rest = (o.issue >= 31).sum() / 334
    assert jan / 31 / per_day_rest == pytest.approx(2.0 / (10 / 11), rel=0.08)
    assert o.n == pytest.approx(50.0 * 365 * (2 * 31 + 10 / 11 * 334) / 365 / 1.0, rel=0.03)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"growth_per_year": -0.95}, "growth_per_year"),
        ({"seasonality": (1.0,) * 11}, "seasonality"),
        ({"seasonality": (1.0,) * 11 + (0.0,)}, "seasonality"),
    ],
)
def test_bad_growth_or_seasonality_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SegmentSales("x", 1, 1.0, 1.0, **kwargs)


def test_growth_and_seasonality_round_trip_through_yaml(tmp_path):
    s = _with(growth_per_year=0.1, seasonality=tuple(float(x) for x in np.linspace(0.8, 1.2, 12)))
    s.to_yaml(tmp_path / "s.yaml")
    assert Scenario.from_yaml(tmp_path / "s.yaml") == s


def test_calibration_recovers_growth_and_season_of_a_generated_ledger():
    ledger = generate(
        customers=400,
        years=3,
        seed=5,
        annual_growth=0.10,
        seasonality_amplitude=0.30,
        seasonal_peak_month=11,
        new_customer_share=0.0,
    ).ledger
    s = Scenario.from_ledger(ledger, "2025-12-31")
    seg = s.sales[0]
    assert all(x.growth_per_year == seg.growth_per_year for x in s.sales)
    assert 0.02 < seg.growth_per_year < 0.2
    f = np.array(seg.seasonality)
    assert f.mean() == pytest.approx(1.0)
    assert int(f.argmax()) in (9, 10, 11)  # the November peak, give or take a month
    assert int(f.argmin()) in (3, 4, 5)  # the May trough
    assert f.max() / f.min() > 1.5  # (1 + 0.3) / (1 − 0.3) = 1.86 for daily-level counts
    one_year = Scenario.from_ledger(ledger, "2023-12-31")
    assert one_year.sales[0].seasonality is None and one_year.sales[0].growth_per_year == 0.0
