"""Customers' own payment habits: drawn per customer, kept by name, calibrated by customer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_sim_calibrate import CLEAN
from test_sim_model import OPENING, QUIET, assert_paid_as_drawn, expected_payment_times

from rpmkit.sim import (
    Behaviour,
    CustomerHabit,
    Model,
    PayerBehaviour,
    Scenario,
    SegmentSales,
    Streams,
)
from rpmkit.sim.calibrate import calibrate
from rpmkit.sim.orders import customer_shifts, draw_orders

ROOT = Path(__file__).resolve().parents[1]

# Nothing chases, disputes or writes off (test_sim_model's QUIET): payments come at
# their natural times, about each customer's habit.
HABITS = dataclasses.replace(
    QUIET,
    behaviour=Behaviour(
        segments=tuple(
            dataclasses.replace(p, customer_sd_days=sd)
            for p, sd in zip(QUIET.behaviour.segments, (9.0, 6.0), strict=True)
        ),
        customers=(CustomerHabit("C000001", 40.0), CustomerHabit("C000100", -5.5)),
    ),
)


def test_payment_times_equal_the_habit_draws_without_policy():
    streams = Streams(HABITS.seed, 2)
    shift = np.concatenate(
        [
            HABITS.payer(seg.name).customer_sd_days
            * streams.rng("customer_habit", seg.name).standard_normal(seg.customers)
            for seg in HABITS.sales
        ]
    )
    shift[0], shift[99] = 40.0, -5.5  # C000001 and C000100 by name
    expected = expected_payment_times(HABITS, 2, shift)
    result = Model(HABITS, replication=2).run()
    assert assert_paid_as_drawn(result, expected, HABITS.horizon_days) > 3_000


def test_habits_split_the_segment_spread_between_and_within_customers():
    # many replications of one segment: the delays keep their mean and spread,
    # and the spread of customer means is the habits' (plus the invoices' over n)
    s = dataclasses.replace(
        HABITS,
        horizon_days=365,
        sales=(SegmentSales("smb", 2_000, 40.0, 700.0, 0.7, "NET30"),),
        behaviour=Behaviour(
            segments=(PayerBehaviour("smb", 6.0, 10.0, 30, 1.0, 0.0, customer_sd_days=8.0),)
        ),
    )
    delays, between = [], []
    for r in range(8):  # the mean of 16,000 habits: standard error 0.06 days
        o = draw_orders(s, Streams(s.seed, r))
        d = o.natural - o.due
        delays.append(d)
        means = pd.Series(d).groupby(o.customer).mean()
        n = pd.Series(d).groupby(o.customer).size()
        between.append(means.var() - (36.0 / n).mean())  # within variance 10² − 8²
    d = np.concatenate(delays)
    assert abs(d.mean() - 6.0) < 0.3
    assert abs(d.std() - 10.0) < 0.3
    assert abs(np.sqrt(np.mean(between)) - 8.0) < 0.6


def test_customers_alike_draw_nothing_new():
    # without habits the customer_habit stream is never used: the orders are those of before
    alike = tuple(dataclasses.replace(p, customer_sd_days=0.0) for p in HABITS.behaviour.segments)
    s = dataclasses.replace(HABITS, behaviour=Behaviour(segments=alike))
    streams = Streams(s.seed, 0)
    draw_orders(s, streams)
    assert not any(purpose == "customer_habit" for purpose, _ in streams._cache)
    assert customer_shifts(s, streams, None, np.zeros(0, dtype=np.int64)) is None


def test_a_named_habit_moves_the_customers_opening_items():
    opening = OPENING  # OLD-1 of C000001 (named alike in both), OLD-2 and OLD-3 of X9
    late = dataclasses.replace(
        HABITS,
        behaviour=dataclasses.replace(
            HABITS.behaviour, customers=HABITS.behaviour.customers + (CustomerHabit("X9", 30.0),)
        ),
    )
    base = draw_orders(HABITS, Streams(HABITS.seed, 0), opening)
    moved = draw_orders(late, Streams(late.seed, 0), opening)
    # the same uniforms through the conditional inverse, about a mean 30 days later
    # than X9's drawn habit; C000001 and every new order are unchanged
    assert (moved.natural[1:3] > base.natural[1:3] + 5).all()
    assert moved.natural[0] == base.natural[0]
    np.testing.assert_array_equal(moved.natural[3:], base.natural[3:])


def test_habits_round_trip_through_yaml_and_are_checked(tmp_path):
    path = tmp_path / "habits.yaml"
    HABITS.to_yaml(path)
    assert Scenario.from_yaml(path) == HABITS
    with pytest.raises(ValueError, match=r"customer_sd_days must be a number in \[0.0, 10.0\]"):
        PayerBehaviour("smb", 6.0, 10.0, customer_sd_days=12.0)
    with pytest.raises(ValueError, match="one habit per customer"):
        Behaviour(customers=(CustomerHabit("A"), CustomerHabit("A", 2.0)))
    with pytest.raises(ValueError, match="by must be 'segment', 'customer' or None"):
        calibrate(None, "2024-01-01", by="client")  # before anything is read


# ------------------------------------------------------------- calibration
@pytest.fixture(scope="module")
def clean_customers():
    from rpmkit.synth import generate

    out = generate(CLEAN)
    scenario = calibrate(
        out.ledger,
        "2023-12-31",
        by="customer",
        base=dataclasses.replace(Scenario(), dunning=()),
        dunning="base",  # nothing to undo: the generator's payers ignore its dunning
    )
    return out, scenario


def test_calibration_splits_the_generators_spread(clean_customers):
    # CLEAN's customers: delay N(14, 6) per customer, N(0, 8) per invoice about it
    _, s = clean_customers
    for payer in s.behaviour.segments:
        assert abs(payer.delay_sd_days - 10.0) < 1.5
        assert abs(payer.customer_sd_days - 6.0) < 1.0, payer


def test_calibrated_shifts_follow_the_generators_customers(clean_customers):
    out, s = clean_customers
    truth = out.truth["customers"].set_index("customer_id")["mean_delay_days"]
    shift = pd.Series({h.customer_id: h.delay_shift_days for h in s.behaviour.customers})
    paired = pd.concat([shift.rename("shift"), truth.rename("truth")], axis=1, join="inner")
    assert len(paired) > 1_000
    # shrunk estimates of N(14, 6) habits from a year of about a dozen invoices each
    assert np.corrcoef(paired["shift"], paired["truth"])[0, 1] > 0.75
    assert paired["shift"].std() < paired["truth"].std()


def test_sample_habits_rank_the_generators_payer_types():
    import rpmkit

    ledger = rpmkit.load(ROOT / "data" / "samples")
    s = calibrate(getattr(ledger, "ledger", ledger), "2024-11-30", by="customer")
    truth = pd.read_csv(ROOT / "data" / "samples" / "truth" / "customers.csv")
    shift = pd.Series({h.customer_id: h.delay_shift_days for h in s.behaviour.customers})
    by_type = truth.assign(shift=truth["customer_id"].map(shift)).groupby("behaviour")["shift"]
    means = by_type.mean()
    assert means["chronic_late"] > means["late"] > means["on_time"] > means["early"]
    assert all(0 < p.customer_sd_days < p.delay_sd_days for p in s.behaviour.segments)
