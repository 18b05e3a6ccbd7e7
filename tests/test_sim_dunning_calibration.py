"""The dunning a ledger records and its payers' response: read back where the truth is known."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpmkit.ledger import Ledger
from rpmkit.sim import DunningStep, Scenario, accelerate
from rpmkit.sim.calibrate import _view, calibrate, calibration_summary
from rpmkit.sim.calibrate_dunning import calibrate_dunning

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2024-12-31"


def chased_ledger(uplift: float, *, random_timing: bool, n: int = 60_000, seed: int = 1) -> Ledger:
    """Invoices whose payers pay N(8, 10) days after due unchased; each still open is called
    from day 10 past due, on a random later day (``random_timing``: a queue) or on day 10
    itself, and pays ``1 + uplift`` times faster for 10 days after the call (the model's
    accelerated clock). Dates are whole days, as a ledger's are."""
    rng = np.random.default_rng(seed)
    issue = np.sort(rng.integers(0, 700, n))
    due = issue + 30
    natural = rng.normal(8.0, 10.0, n)
    wait = rng.geometric(0.4, n) - 1 if random_timing else np.zeros(n, dtype=np.int64)
    call = 10 + wait + rng.uniform(0.0, 1 / 3, n)  # in office hours
    called = natural > call
    delay = np.array(
        [
            accelerate(t, c, uplift, 10.0) if k else t
            for t, c, k in zip(natural, call, called, strict=True)
        ]
    )
    start = pd.Timestamp("2023-01-01")
    day = lambda d: start + pd.to_timedelta(np.floor(d), unit="D")  # noqa: E731
    ids = [f"I{i:06d}" for i in range(n)]
    customer = [f"C{i % 500:04d}" for i in range(n)]
    paid = day(due + delay) <= pd.Timestamp(AS_OF)
    invoices = pd.DataFrame(
        {
            "invoice_id": ids,
            "customer_id": customer,
            "invoice_date": day(issue),
            "due_date": day(due),
            "amount": 100_00,
            "currency": "USD",
        }
    )
    pay_ids = [f"P{i:06d}" for i in np.flatnonzero(paid)]
    payments = pd.DataFrame(
        {
            "payment_id": pay_ids,
            "payment_date": day((due + delay)[paid]),
            "amount": 100_00,
            "currency": "USD",
            "customer_id": np.asarray(customer)[paid],
        }
    )
    allocations = pd.DataFrame(
        {"payment_id": pay_ids, "invoice_id": np.asarray(ids)[paid], "amount": 100_00}
    )
    on = called & (day(due + call) <= pd.Timestamp(AS_OF))
    activities = pd.DataFrame(
        {
            "activity_id": [f"A{i:06d}" for i in range(int(on.sum()))],
            "date": day((due + call)[on]),
            "customer_id": np.asarray(customer)[on],
            "kind": "call",
            "invoice_id": np.asarray(ids)[on],
        }
    )
    return Ledger(
        invoices=invoices,
        payments=payments,
        allocations=allocations,
        activities=activities,
        customers=pd.DataFrame({"customer_id": sorted(set(customer))}),
    )


def _found(ledger: Ledger):
    base = dataclasses.replace(Scenario(), dunning=(DunningStep(10, "call", 0.0, 0.7, 10.0),))
    return calibrate_dunning(_view(ledger, AS_OF, "segment", 365), base)


@pytest.mark.parametrize("uplift", [0.0, 1.0])
def test_a_queued_call_s_uplift_is_read_back(uplift):
    found = _found(chased_ledger(uplift, random_timing=True))
    (step,) = found.steps
    assert step.day == 10 and step.channel == "call"
    (row,) = found.response.itertuples()
    assert row.identified > 0.9 and row.used
    assert row.ci_low <= uplift <= row.ci_high
    assert row.ci_high - row.ci_low < 0.5
    assert step.uplift == pytest.approx(row.uplift)


def test_a_call_every_invoice_gets_the_same_day_is_not_identified():
    # every open invoice called on day 10: nothing unchased of that age to compare with
    found = _found(chased_ledger(1.0, random_timing=False))
    (row,) = found.response.itertuples()
    assert row.identified == 0 and not row.used and np.isnan(row.uplift)
    assert found.steps[0].uplift == 0.7  # the base's assumption stays


@pytest.fixture(scope="module")
def sample():
    import rpmkit

    ledger = rpmkit.load(ROOT / "data" / "samples")
    return getattr(ledger, "ledger", ledger)


def test_the_sample_s_dunning_is_the_generator_s(sample):
    # the generator: reminders 7 and 21 days past due, calls 35 and 55 (60 % of the open
    # invoices), a letter at 75, agency at 120, each moved to the next business day
    found = calibrate_dunning(_view(sample, "2024-11-30", "segment", 365), Scenario())
    steps = [(s.day, s.channel) for s in found.steps]
    assert steps == [(7, "reminder"), (21, "reminder"), (35, "call"), (55, "call"), (75, "letter")]
    assert found.agency_after_days == 120
    # its payments do not respond (it records activities after the fact): where the
    # response is identified, its interval holds 0
    table = found.response.set_index("channel")
    assert table.loc["call", "used"] and table.loc["call", "ci_low"] == 0.0
    assert (table["ci_low"].fillna(0) <= 0.0).all()


def test_calibrate_takes_the_ledger_s_dunning_or_the_base_s(sample):
    ledger_dunning = calibrate(sample, "2024-11-30")
    assert [s.day for s in ledger_dunning.dunning] == [7, 21, 35, 55, 75]
    assert ledger_dunning.collections.agency_after_days == 120
    base = calibrate(sample, "2024-11-30", dunning="base")
    assert base.dunning == Scenario().dunning
    # undoing steps that did not act made the natural delays later than they were
    later = [p.delay_mean_days for p in base.behaviour.segments]
    assert all(
        b > a + 2
        for a, b in zip(
            [p.delay_mean_days for p in ledger_dunning.behaviour.segments], later, strict=True
        )
    )
    with pytest.raises(ValueError, match="dunning must be 'ledger' or 'base'"):
        calibrate(sample, "2024-11-30", dunning="policy")


def test_the_summary_shows_what_calibrate_puts_in(sample):
    # both undo the ledger's dunning by default, the base's with dunning="base"
    for dunning in ("ledger", "base"):
        s = calibrate(sample, "2024-11-30", dunning=dunning)
        summary = calibration_summary(sample, "2024-11-30", dunning=dunning)
        for payer in s.behaviour.segments:
            row = summary.loc[payer.segment]
            assert payer.delay_mean_days == pytest.approx(row["natural_mean"])
            assert payer.delay_sd_days == pytest.approx(row["natural_sd"])
