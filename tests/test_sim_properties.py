"""Hypothesis properties of the simulator over random small scenarios: the walk before the
loop (with its day-deep event queue) gives the event loop's outputs, money is conserved
to the cent per invoice, nothing happens to an invoice after it is settled, and a seed
gives the same run twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_support import run_walked

from rpmkit.sim import (
    RULES,
    Behaviour,
    Collections,
    Collectors,
    Disputes,
    DunningStep,
    PayerBehaviour,
    Scenario,
    SegmentSales,
)

SETTLING = ["payment", "discount", "credit_note", "write_off"]


@st.composite
def scenarios(draw) -> Scenario:
    days = sorted(draw(st.sets(st.integers(-10, 90), max_size=4)))
    dunning = tuple(
        DunningStep(
            day,
            draw(st.sampled_from(["email", "letter", "call", "call"])),
            uplift=draw(st.sampled_from([0.0, 0.5, 2.0])),
            uplift_days=draw(st.sampled_from([0.0, 3.0, 15.0])),
        )
        for day in days
    )
    terms = draw(st.sampled_from(["NET30", "2/10 NET30", "NET15"]))
    agency = draw(st.one_of(st.none(), st.integers(20, 100)))
    write_off = draw(st.one_of(st.none(), st.integers((agency or 29) + 1, 160)))
    return Scenario(
        horizon_days=draw(st.integers(10, 150)),
        seed=draw(st.integers(0, 2**32 - 1)),
        sales=(
            SegmentSales(
                "smb", draw(st.integers(3, 60)), draw(st.floats(0.5, 8.0)), 900.0, 0.8, terms
            ),
        ),
        behaviour=Behaviour(
            segments=(
                PayerBehaviour(
                    "smb",
                    draw(st.floats(-5.0, 30.0)),
                    draw(st.floats(1.0, 20.0)),
                    30,
                    draw(st.floats(0.0, 1.0)),
                    draw(st.floats(0.0, 0.2)),
                ),
            )
        ),
        dunning=dunning,
        collectors=Collectors(
            count=draw(st.integers(0, 3)),
            hours_per_day=draw(st.sampled_from([2.0, 8.0, 24.0])),
            handling_minutes=draw(st.sampled_from([5.0, 60.0, 600.0])),
            rule=draw(st.sampled_from(sorted(RULES))),
        ),
        disputes=Disputes(
            rate=draw(st.sampled_from([0.0, 0.05, 0.3])),
            desk_capacity=draw(st.one_of(st.none(), st.integers(1, 3))),
            credit_fraction=draw(st.sampled_from([0.5, 1.0])),
        ),
        collections=Collections(agency_after_days=agency, write_off_after_days=write_off),
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios(), replication=st.integers(0, 5))
def test_walk_and_day_lists_give_the_event_loops_outputs(s, replication):
    fast, slow = run_walked(s, replication, True), run_walked(s, replication, False)
    pd.testing.assert_frame_equal(fast.daily, slow.daily)
    assert (fast.orders["settled_amount"] == slow.orders["settled_amount"]).all()
    np.testing.assert_allclose(fast.orders["settled_time"], slow.orders["settled_time"], atol=1e-9)
    counts = lambda r: r.events["kind"].value_counts().sort_index()  # noqa: E731
    pd.testing.assert_series_equal(counts(fast), counts(slow))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios(), replication=st.integers(0, 5))
def test_money_is_conserved_and_settled_invoices_stay_quiet(s, replication):
    r = run_walked(s, replication, True)
    orders = r.orders[r.orders["accepted"]].set_index("invoice_id")
    events = r.events
    assert events["time"].between(0.0, s.horizon_days).all()
    settling = events[events["kind"].isin(SETTLING)]
    settled = settling.groupby("invoice_id", observed=True)["amount"].sum()
    settled = settled.reindex(orders.index, fill_value=0)
    # to the cent (integer minor units): what settled is the sum of its records, never more
    assert (settled == orders["settled_amount"]).all()
    assert (orders["settled_amount"] <= orders["amount"]).all()
    assert (
        settling[settling["kind"] == "payment"].groupby("invoice_id", observed=True).size() <= 1
    ).all()
    # nothing happens to a settled invoice after the moment it was settled
    done = orders.loc[orders["settled_amount"] == orders["amount"], "settled_time"]
    after = events.join(done.rename("done"), on="invoice_id", how="inner")
    assert (after["time"] <= after["done"] + 1e-9).all()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios(), replication=st.integers(0, 5))
def test_a_seed_gives_the_samerun_walked(s, replication):
    a, b = run_walked(s, replication, True), run_walked(s, replication, True)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert a.sim_events == b.sim_events
