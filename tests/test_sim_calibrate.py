"""Calibration from a ledger, the opening balance and the replay back-test."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from rpmkit.kpi import aging
from rpmkit.sim import DunningStep, Model, Scenario, accelerate
from rpmkit.sim.calibrate import (
    calibrate,
    calibration_summary,
    opening_balance,
    replay_backtest,
    undo_dunning,
)
from rpmkit.synth import BehaviourSpec, SynthParams, generate

SPLIT = "2023-12-31"
NO_DUNNING = dataclasses.replace(Scenario(), dunning=())

# One payer type, no pay runs, tails, method delays, partials, credit notes,
# growth or seasonality: the per-invoice delay after due is N(14, sqrt(6² + 8²) = 10).
CLEAN = SynthParams(
    customers=1500,
    years=1,
    behaviours=(BehaviourSpec("late", 1.0, 14.0, 6.0, 8.0, 0.0, 0.02),),
    new_customer_share=0.0,
    annual_growth=0.0,
    seasonality_amplitude=0.0,
    discount_taker_share=0.0,
    weekly_pay_run_share=0.0,
    month_end_pay_run_share=0.0,
    heavy_tail_rate=0.0,
    method_delay_days=tuple((m, 0.0) for m in ("ach", "wire", "card", "check", "other")),
    method_switch_rate=0.0,
    partial_payment_rate=0.0,
    short_pay_rate=0.0,
    credit_note_rate=0.0,
    foreign_currency_share=0.0,
)


@pytest.fixture(scope="module")
def clean():
    return generate(CLEAN)


@pytest.fixture(scope="module")
def ledger():
    return generate(customers=1000, years=2).ledger


def test_undo_dunning_inverts_the_accelerated_clock():
    steps = Scenario().dunning + (DunningStep(90, "letter", 1.0, 2.0, 5.0),)
    natural = np.random.default_rng(1).normal(15.0, 30.0, 5000)
    observed = natural.copy()
    for k, t in enumerate(observed):
        for s in steps:
            t = accelerate(t, float(s.day), s.uplift, s.uplift_days)
        observed[k] = t
    assert np.allclose(undo_dunning(observed, steps), natural, atol=1e-9)
    assert (observed <= natural + 1e-12).all() and (observed < natural - 1).any()
    calls_only = tuple(s for s in steps if s.channel == "call")
    assert np.array_equal(undo_dunning(observed, calls_only, calls=False), observed)


def test_recovers_the_generator_parameters(clean):
    # that generator's payers ignore its dunning: nothing to undo (the base has none)
    s = calibration_summary(clean.ledger, SPLIT, base=NO_DUNNING, dunning="base")
    truth = clean.truth["customers"]
    expected_rate = truth.groupby("segment")["invoices_per_month"].sum() * 12 / 365
    for spec in CLEAN.segments:
        row = s.loc[spec.name]
        # invoices per day: the truth's expected count over the 12-month window
        assert row["invoices_per_day"] == pytest.approx(expected_rate[spec.name], rel=0.05)
        # amounts: customer scale (sigma 0.5) times invoice noise (the segment's sigma)
        assert row["amount_sigma"] == pytest.approx(math.hypot(0.5, spec.amount_sigma), abs=0.04)
        median = row["amount_mean"] * math.exp(-(row["amount_sigma"] ** 2) / 2)
        assert abs(math.log(median / spec.amount_median)) < 0.12
        # delay after due, in calendar days: N(14, 10) drawn in business days (+0.5–1.5)
        assert 14.0 <= row["delay_mean"] <= 16.0
        assert row["delay_sd"] == pytest.approx(10.0, abs=1.5)
        assert row["natural_mean"] == row["delay_mean"]  # no dunning to undo
        assert row["default_rate"] == pytest.approx(0.02, abs=0.006)
    scenario = calibrate(clean.ledger, SPLIT, base=NO_DUNNING, dunning="base")
    assert scenario.start == "2024-01-01" and scenario.currency == "USD"
    assert [p.segment for p in scenario.behaviour.segments] == list(s.index)


def test_undoing_the_base_dunning_makes_natural_delays_later(ledger):
    s = calibration_summary(ledger, SPLIT, dunning="base")
    assert (s["natural_mean"] > s["delay_mean"] + 2).all()
    assert not s["pooled"].any()
    # the synthetic segments' payers: enterprise pays soonest after due
    assert s["delay_mean"].idxmin() == "enterprise"


def test_no_look_ahead(ledger):
    cut = ledger.as_of(SPLIT)
    assert calibrate(ledger, SPLIT) == calibrate(cut, SPLIT)
    pd.testing.assert_frame_equal(opening_balance(ledger, SPLIT), opening_balance(cut, SPLIT))
    pd.testing.assert_frame_equal(
        calibration_summary(ledger, SPLIT), calibration_summary(cut, SPLIT)
    )
    assert calibrate(ledger, "2023-09-30") != calibrate(ledger, SPLIT)


def test_opening_balance_is_the_aging_to_the_cent(ledger):
    opening = opening_balance(ledger, SPLIT)
    ag = aging(ledger, SPLIT, by="segment")
    assert int(opening["amount"].sum()) == aging(ledger, SPLIT).open_ar
    by_segment = opening.groupby("segment")["amount"].sum()
    assert by_segment.to_dict() == ag.amounts["total"].to_dict()
    # a simulation started from it carries the same book at the start
    scenario = calibrate(ledger, SPLIT, horizon_days=30)
    result = Model(scenario, opening=opening).run()
    assert aging(result.ledger, SPLIT).open_ar == int(opening["amount"].sum())
    pooled = opening_balance(ledger, SPLIT, by=None)
    assert set(pooled["segment"]) == {"all"} and pooled["amount"].sum() == opening["amount"].sum()


def test_replay_backtest_within_bounds(ledger):
    bt = replay_backtest(ledger, SPLIT, replications=5, seed=7)
    s = bt.summary()
    # measured (5 replications, seed 7): MAPE receipts 11.5 %, open AR 12.7 %, DSO
    # 12.7 %, mean DSO error +5.9 days, mean open-AR error -0.02 %. One year of
    # history cannot see the generator's 8 % growth, new customers or ±12 %
    # seasonality of sales, which dominate these errors (DSO divides by sales).
    assert s.loc["receipts", "mape"] < 15.0
    assert s.loc["open_ar", "mape"] < 15.0
    assert s.loc["dso", "mape"] < 15.0
    assert abs(s.loc["dso", "mean_error"]) < 7.0
    assert abs(s.loc["open_ar", "mean_error"]) < 0.05 * s.loc["open_ar", "mean_actual"]
    months = bt.months
    assert months["period_end"].nunique() == 12
    assert (months["p10"] <= months["p90"]).all()
    assert "receipts MAPE" in repr(bt)
