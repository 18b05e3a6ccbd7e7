"""Settling before the event loop (``rpmkit.sim.fastpath``): hand-computed walks, and the
same outputs as sending every invoice through the event loop."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sim_support import run_walked

from rpmkit.sim import (
    Behaviour,
    Collections,
    Collectors,
    CreditPolicy,
    Disputes,
    DunningStep,
    Model,
    PayerBehaviour,
    Scenario,
    SegmentSales,
    Streams,
    compare,
)
from rpmkit.sim import records as rec
from rpmkit.sim.fastpath import presettle
from rpmkit.sim.orders import draw_orders
from rpmkit.sim.policies import RULES, by_risk
from rpmkit.sim.workers import DAILY_MEASURES

BASE = Scenario(
    horizon_days=150,
    seed=5,
    sales=(
        SegmentSales("enterprise", 20, 3.0, 9_000.0, 0.9, "NET45"),
        SegmentSales("smb", 100, 10.0, 700.0, 0.7, "2/10 NET30"),
    ),
    behaviour=Behaviour(
        segments=(
            PayerBehaviour("enterprise", 10.0, 12.0, 45, 0.6, 0.02),
            PayerBehaviour("smb", 6.0, 10.0, 30, 0.6, 0.04),
        )
    ),
    collectors=Collectors(count=1),
    disputes=Disputes(rate=0.05, desk_capacity=2),
    collections=Collections(agency_after_days=60, write_off_after_days=100),
)


def _hand_orders():
    """Three NET30 orders issued at 0.5 (due 30.5), with hand-set payment times."""
    s = Scenario(
        horizon_days=120,
        sales=(SegmentSales("smb", 3, 0.05, 100.0),),
        behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
        dunning=(DunningStep(3, "email", 0.0, 1.0, 10.0), DunningStep(10, "call", 0.0, 1.0, 10.0)),
        disputes=Disputes(rate=0.0),
        collections=Collections(agency_after_days=60, write_off_after_days=None),
    )
    o = draw_orders(s, Streams(s.seed))
    n = 3
    o = dataclasses.replace(
        o,
        issue=np.full(n, 0.5),
        due=np.full(n, 30.5),
        customer=np.zeros(n, dtype=np.int64),
        segment=np.zeros(n, dtype=np.int64),
        amount=np.array([10_000, 20_000, 30_000]),
        terms=np.zeros(n, dtype=np.int64),
        discount_rate=np.zeros(n),
        discount_days=np.zeros(n, dtype=np.int64),
        # before the email; 4 days after it (inside the 20-day window: halved to 2);
        # never (the email, then the call at due + 10 needs the collectors)
        natural=np.array([32.0, 37.5, np.inf]),
        taker=np.zeros(n, dtype=bool),
        dispute_at=np.full(n, np.inf),
        dispute_work=np.zeros(n),
        upheld=np.zeros(n, dtype=bool),
        recovered=np.zeros(n, dtype=bool),
        recovery_delay=np.zeros(n),
    )
    return s, o


def test_walk_by_hand():
    s, o = _hand_orders()
    w = presettle(s, o, calls=True)
    assert w.settled.tolist() == [True, True, False]
    assert w.slow.tolist() == [False, False, True]
    assert w.pay.tolist() == [32.0, 35.5, np.inf]  # 33.5 + (37.5 − 33.5) / 2
    assert w.step.tolist() == [0, 1, 1]  # the third waits for its call
    t, kind, order, amount, value, _ = w.records
    pays = kind == rec.PAYMENT
    assert t[pays].tolist() == [32.0, 35.5]
    assert order[pays].tolist() == [0, 1] and amount[pays].tolist() == [10_000, 20_000]
    emails = kind == rec.DUNNING
    assert sorted(order[emails].tolist()) == [1, 2] and (t[emails] == 33.5).all()
    assert (kind == rec.ISSUE).sum() == 3
    # without collectors a call step is skipped: the third order just stays open
    w = presettle(s, o, calls=False)
    assert w.slow.tolist() == [False, False, True]  # the agency placement at due + 60
    assert w.step.tolist() == [0, 1, 2]


def test_walk_refuses_a_credit_policy():
    s = dataclasses.replace(BASE, credit=CreditPolicy(limit_days_of_sales=30.0))
    with pytest.raises(ValueError, match="credit policy"):
        presettle(s, draw_orders(s, Streams(s.seed)), calls=True)


@pytest.mark.parametrize(
    "scenario",
    [
        BASE,
        dataclasses.replace(BASE, collectors=Collectors(count=0)),
        dataclasses.replace(
            BASE, dunning=tuple(dataclasses.replace(d, day=d.day - 7) for d in BASE.dunning)
        ),
    ],
    ids=["baseline", "no-collectors", "dunning-before-due"],
)
def test_walk_gives_the_event_loops_outputs(scenario):
    fast, slow = run_walked(scenario, 2, True), run_walked(scenario, 2, False)
    assert fast.sim_events < 0.7 * slow.sim_events
    pd.testing.assert_frame_equal(fast.daily, slow.daily)
    a, b = fast.orders, slow.orders
    assert (a["settled_amount"] == b["settled_amount"]).all()
    np.testing.assert_allclose(a["settled_time"], b["settled_time"], atol=1e-9)
    counts = lambda r: r.events["kind"].value_counts().sort_index()  # noqa: E731
    pd.testing.assert_series_equal(counts(fast), counts(slow))
    key = ["kind", "invoice_id", "amount"]
    ea = fast.events.sort_values(key + ["time"]).reset_index(drop=True)
    eb = slow.events.sort_values(key + ["time"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ea[key], eb[key])
    np.testing.assert_allclose(ea["time"], eb["time"], atol=1e-9)


def test_walk_with_an_opening_balance():
    opening = pd.DataFrame(
        {
            "invoice_id": ["O1", "O2", "O3"],
            "customer_id": ["X1", "X2", "X1"],
            "segment": ["smb", "smb", "enterprise"],
            "invoice_date": pd.to_datetime(["2024-11-01", "2024-12-10", "2024-08-01"]),
            "due_date": pd.to_datetime(["2024-12-01", "2025-01-09", "2024-09-15"]),
            "amount": [50_000, 12_345, 999_999],
        }
    )
    s = dataclasses.replace(BASE, start="2025-01-01")
    fast, slow = run_walked(s, 0, True, opening), run_walked(s, 0, False, opening)
    pd.testing.assert_frame_equal(fast.daily, slow.daily)
    assert (fast.orders["settled_amount"] == slow.orders["settled_amount"]).all()


@pytest.mark.parametrize("name", sorted(RULES))
def test_scalar_keys_equal_the_array_rules(name):
    rng = np.random.default_rng(3)
    n = 200
    items = {
        "invoice": np.arange(n),
        "amount": rng.integers(0, 10**7, n),
        "issued": rng.uniform(0, 300, n),
        "due": rng.uniform(0, 330, n),
        "queued": rng.uniform(0, 400, n),
        "risk": rng.uniform(0, 0.2, n),
    }
    rule = RULES[name]
    keys = rule(items, 400.0)
    scalar = [
        rule.scalar(int(a), float(i), float(d), float(q), float(r))
        for a, i, d, q, r in zip(
            items["amount"],
            items["issued"],
            items["due"],
            items["queued"],
            items["risk"],
            strict=True,
        )
    ]
    np.testing.assert_allclose(scalar, keys, rtol=1e-13, atol=0)


def test_by_risk_by_hand():
    # segments at 5 %, 2 % and 0.5 %: riskiest first, then earliest due within a rate;
    # 2.000001 % is the 2 % segment's rate to the step, 0.501 % one step above 0.5 %,
    # and due times beyond ±2^15 days are clipped without crossing a step of risk
    risk = np.array([0.02, 0.05, 0.02, 0.005, 0.05, 0.02000001, 0.00501, 0.05, 0.05])
    due = np.array([40.0, 50.0, 10.0, -100.0, 45.0, 5.0, 1e6, 1e6, -1e6])
    n = len(risk)
    items = {
        "invoice": np.arange(n),
        "amount": np.full(n, 1_000),
        "issued": due - 30,
        "due": due,
        "queued": np.full(n, 60.0),
        "risk": risk,
    }
    keys = by_risk(items, 60.0)
    assert np.argsort(keys, kind="stable").tolist() == [8, 4, 1, 7, 5, 2, 0, 6, 3]
    scalar = [by_risk.scalar(1_000, d - 30, d, 60.0, r) for d, r in zip(due, risk, strict=True)]
    assert scalar == keys.tolist()  # to the bit, so both paths break ties alike
    assert Collectors(rule="by_risk").rule == "by_risk"


def test_by_risk_calls_the_riskier_segment_sooner_and_keys_alike_on_both_paths():
    # BASE: enterprise at 2 % and smb at 4 % default, one collector busy about five hours
    # a call; the built-in rule keys each call as it is queued, the same rule without its
    # scalar keys in batches
    team = Collectors(count=1, rule="by_risk", handling_minutes=300)
    s = dataclasses.replace(BASE, collectors=team)
    result = Model(s).run()
    batched = Model(s, rule=lambda items, now: by_risk(items, now)).run()
    pd.testing.assert_frame_equal(result.events, batched.events)
    calls = result.events[result.events["kind"] == "call"]
    segment = result.orders.set_index("invoice_id").loc[calls["invoice_id"], "segment"]
    wait = pd.Series(calls["value"].to_numpy(), index=segment.to_numpy())
    assert wait["smb"].mean() < 0.5 * wait["enterprise"].mean()  # 0.41 against 1.27 days


def test_compare_from_an_opening_balance():
    opening = pd.DataFrame(
        {
            "invoice_id": ["O1", "O2"],
            "customer_id": ["X1", "X2"],
            "segment": ["smb", "enterprise"],
            "invoice_date": pd.to_datetime(["2024-11-01", "2024-12-10"]),
            "due_date": pd.to_datetime(["2024-12-01", "2025-01-24"]),
            "amount": [5_000_000, 9_000_000],
        }
    )
    s = dataclasses.replace(BASE, start="2025-01-01", horizon_days=60)
    other = dataclasses.replace(s, collectors=Collectors(count=3))
    with_open = compare(s, other, replications=2, processes=1, progress=False, opening=opening)
    without = compare(s, other, replications=2, processes=1, progress=False)
    # the 140,000.00 USD opened before the start are in the book on day one
    first = with_open.base.daily[:, 0, DAILY_MEASURES.index("open_ar")]
    bare = without.base.daily[:, 0, DAILY_MEASURES.index("open_ar")]
    np.testing.assert_allclose(first - bare, 140_000.0)
    assert (with_open.base.runs["cpu_seconds"] > 0).all()


def test_later_days_wait_outside_simpys_queue(monkeypatch):
    """Wake-ups of later days wait in lists per day, so SimPy's queue holds about a day of
    them; ``sim_events`` still counts every event SimPy ran (and outputs equal the loop
    without the walk, where every wake-up goes straight into the queue: tests above)."""
    import simpy

    m = Model(BASE, 1)
    queued, waiting = [], []
    step = simpy.Environment.step

    def counting_step(env):
        queued.append(len(env._queue))
        waiting.append(len(env._queue) + m._parked())
        return step(env)

    monkeypatch.setattr(simpy.Environment, "step", counting_step)
    result = m.run()
    assert result.sim_events == len(queued) - 1  # and the stop event at the horizon
    assert max(waiting) > 100  # wake-ups pending, on average ten times those in the queue
    assert np.mean(queued) < 0.2 * np.mean(waiting)
