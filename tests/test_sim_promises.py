"""Promises to pay in the simulator: hand-computed cases, equivalences and calibration."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
from sim_support import OPENING, START, one_payer

from rpmkit import cli
from rpmkit.kpi import promise_kept_rate
from rpmkit.sim import (
    Behaviour,
    Collectors,
    DunningStep,
    Model,
    PayerBehaviour,
    Scenario,
    SegmentSales,
)
from rpmkit.sim.calibrate import calibrate
from rpmkit.sim.calibrate_promises import estimate_promises, promise_outcomes
from rpmkit.sim.levers import PromiseKeeping, Promises
from rpmkit.synth import generate


def _one_invoice(promises: Promises, *, delay=300.0, steps=None, horizon=60) -> Scenario:
    """No new sales; one opening invoice due on day 10 whose payer pays ``delay`` days late."""
    return one_payer(
        delay,
        horizon=horizon,
        dunning=steps or (DunningStep(0, "call", 0.0, 0.0, 0.0),),
        collectors=Collectors(count=1, hours_per_day=24.0, handling_distribution="fixed"),
        promises=promises,
    )


SURE = dict(rate=1.0, lead_median_days=5.0, lead_sigma=0.0, slip_mean_days=0.0, slip_sd_days=0.0)


def _events(result) -> list[tuple]:
    e = result.events[result.events["kind"] != "issue"]
    return [
        (round(t, 3), str(k), v) for t, k, v in zip(e["time"], e["kind"], e["value"], strict=True)
    ]


def test_a_kept_promise_pays_on_its_date():
    s = _one_invoice(Promises(**SURE, kept_rate=1.0))
    r = Model(s, opening=OPENING).run()
    # called on the due date (day 10) at midnight, 15 minutes: promised day 10 + 5
    assert _events(r) == [
        (10.0, "call_queued", 0.0),
        (10.0, "call", 0.0),
        (10.01, "promise", 15.0),
        (15.5, "payment", 0.0),
        (15.5, "promise_kept", 15.0),
    ]
    led = r.ledger
    assert led.payments["payment_date"].tolist() == [START + pd.Timedelta(days=15)]
    act = led.activities[led.activities["kind"] == "promise_to_pay"]
    assert act["outcome"].tolist() == ["kept"]
    assert act["promised_date"].tolist() == [START + pd.Timedelta(days=15)]
    assert act["promised_amount"].tolist() == [50_000]
    led.check()
    kpi = promise_kept_rate(led, START + pd.Timedelta(days=31), "month")
    assert kpi.value == 100.0 and kpi.components["promises"] == 1
    d = r.daily
    assert d["promises_made"].sum() == 1 and d["promises_kept"].sum() == 1
    assert d["promises_open"].tolist()[9:16] == [0, 1, 1, 1, 1, 1, 0]


def test_broken_promises_get_follow_up_calls_until_the_limit():
    s = _one_invoice(Promises(**SURE, kept_rate=0.0, broken_delay_days=0.0))
    r = Model(s, opening=OPENING).run()
    # grace ends at the end of day promised + 3: 15 + 3 + 1 = 19, then a follow-up call
    assert _events(r) == [
        (10.0, "call_queued", 0.0),
        (10.0, "call", 0.0),
        (10.01, "promise", 15.0),
        (19.0, "promise_broken", 15.0),
        (19.0, "call_queued", 0.0),
        (19.0, "call", 0.0),
        (19.01, "promise", 24.0),
        (28.0, "promise_broken", 24.0),
        (28.0, "call_queued", 0.0),
        (28.0, "call", 0.0),  # max_promises = 2: this call ends without a promise
    ]
    assert r.ledger.activities["outcome"].dropna().tolist() == ["broken", "broken"]
    assert r.daily["promises_broken"].sum() == 2 and r.daily["promises_open"].iloc[-1] == 0


def test_broken_promise_pays_no_earlier_than_the_end_of_grace():
    # the payer would pay 7 days after due (day 17) but breaks the promise: day 19
    s = _one_invoice(Promises(**SURE, kept_rate=0.0, broken_delay_days=0.0), delay=7.0)
    r = Model(s, opening=OPENING).run()
    ev = _events(r)
    assert (19.0, "payment", 0.0) in ev and (19.0, "promise_broken", 15.0) in ev
    assert r.ledger.payments["payment_date"].tolist() == [START + pd.Timedelta(days=19)]


def test_a_broken_promise_returns_to_the_next_dunning_step():
    steps = (DunningStep(0, "call", 0.0, 0.0, 0.0), DunningStep(5, "letter", 1.0, 0.0, 0.0))
    p = Promises(**SURE, kept_rate=0.0, follow_up="next_step")
    r = Model(_one_invoice(p, steps=steps), opening=OPENING).run()
    # the letter due on day 15 waits for the end of the grace period (day 19)
    assert _events(r)[3:] == [(19.0, "promise_broken", 15.0), (19.0, "dunning", 1.0)]


SMALL = Scenario(
    horizon_days=240,
    sales=(
        SegmentSales("a", 300, 30.0, 1000.0),
        SegmentSales("b", 300, 30.0, 3000.0, terms="NET45"),
    ),
    behaviour=Behaviour(
        segments=(PayerBehaviour("a", 12.0, 12.0, 30), PayerBehaviour("b", 15.0, 14.0, 45))
    ),
    collectors=Collectors(count=2),
    promises=Promises(
        rate=0.5, kept_rate=0.6, segments=(PromiseKeeping("b", 0.3),), lead_median_days=6.0
    ),
)


@pytest.fixture(scope="module")
def small():
    return Model(SMALL, 0).run()


def test_walk_gives_the_event_loops_outputs_with_promises(small):
    class Loop(Model):
        presettle = False

    slow = Loop(SMALL, 0).run()
    pd.testing.assert_frame_equal(small.daily, slow.daily)
    counts = lambda r: r.events["kind"].value_counts().sort_index()  # noqa: E731
    pd.testing.assert_series_equal(counts(small), counts(slow))
    np.testing.assert_allclose(small.orders["settled_time"], slow.orders["settled_time"], atol=1e-9)


def test_simulated_kept_rate_is_the_configured_one(small):
    e = small.events
    out = promise_outcomes(small.ledger, SMALL.end_date, grace_days=3)
    decided = out[out["decided"]]
    assert len(decided) > 400
    seg = small.orders.set_index("invoice_id")["segment"]
    decided = decided.assign(segment=decided["invoice_id"].map(seg).to_numpy())
    for name, p in (("a", 0.6), ("b", 0.3)):
        k = decided.loc[decided["segment"] == name, "kept"].astype(bool)
        se = math.sqrt(p * (1 - p) / len(k))
        assert abs(k.mean() - p) < 3 * se + 0.02, (name, k.mean(), len(k))
    # recorded outcomes match what the payments say (slip 0: paid on the promised day)
    rec = small.ledger.activities
    rec = rec[(rec["kind"] == "promise_to_pay") & rec["outcome"].notna()]
    assert (e["kind"] == "promise").sum() == len(out)
    assert len(rec) == int(
        (e["kind"] == "promise_kept").sum() + (e["kind"] == "promise_broken").sum()
    )


def test_promises_off_changes_nothing(small):
    off = dataclasses.replace(SMALL, promises=Promises())
    r = Model(off, 0).run()
    assert not r.events["kind"].isin(["promise", "promise_kept", "promise_broken"]).any()
    for col in ("promises_made", "promises_kept", "promises_broken", "promises_open", "fees"):
        assert (r.daily[col] == 0).all()
    assert r.daily["cash_available"].equals(r.daily["receipts"])
    # common random numbers: the same orders and natural payment times with promises on
    assert r.orders["natural_time"].equals(small.orders["natural_time"])


@pytest.fixture(scope="module")
def synth():
    return generate(customers=600, years=2, seed=1).ledger


def test_judging_blank_outcomes_reproduces_the_recorded_ones(synth):
    a = synth.activities
    blank = synth.replace(
        activities=a.assign(outcome=a["outcome"].where(a["kind"] != "promise_to_pay", None))
    )
    recorded = promise_outcomes(synth, "2024-12-31", grace_days=0)
    judged = promise_outcomes(blank, "2024-12-31", grace_days=0)
    both = recorded["kept"].notna() & judged["kept"].notna()
    assert both.sum() > 400 and recorded.loc[both, "recorded"].all()
    same = (recorded.loc[both, "kept"] == judged.loc[both, "kept"]).mean()
    assert same > 0.99
    p = recorded.loc[both, "kept"].astype(bool).mean()
    q = judged.loc[both, "kept"].astype(bool).mean()
    assert abs(p - q) < 2 * math.sqrt(p * (1 - p) / both.sum())


def test_calibration_recovers_the_simulated_promises(small):
    base = dataclasses.replace(SMALL.promises, kept_rate=0.5, segments=())
    labels = small.ledger.invoices["segment"].to_numpy(dtype=object)
    fit = estimate_promises(small.ledger, SMALL.end_date, base, labels=labels)
    assert fit is not None
    calls = int((small.events["kind"] == "call").sum())
    assert fit.rate == pytest.approx(int((small.events["kind"] == "promise").sum()) / calls)
    assert abs(fit.rate - 0.5) < 0.05
    assert fit.lead_median_days == 6.0
    rates = {k.segment: k.kept_rate for k in fit.segments}
    assert abs(rates["a"] - 0.6) < 0.06 and abs(rates["b"] - 0.3) < 0.06
    assert abs(fit.slip_mean_days) < 0.01  # kept promises pay on the promised day


def test_from_ledger_calibrates_promises_on_the_sample(synth):
    s = calibrate(synth, "2024-06-30", horizon_days=30)
    assert s.promises.on and 0.3 < s.promises.rate < 0.5
    out = promise_outcomes(synth, "2024-06-30")
    kept = out["kept"].dropna().astype(bool)
    assert s.promises.kept_rate == pytest.approx(kept.mean())
    assert calibrate(synth, "2024-06-30", horizon_days=30, promises=False).promises == Promises()


def test_cli_simulate_promises_yaml(capsys):
    assert (
        cli.main(["simulate", "scenarios/promises.yaml", "--replications", "2", "--format", "json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["replications"] == 2 and out["scenario"]["promises"]["rate"] == 0.4
    assert out["kpis"]["dso"]["mean"] > 0
