"""The collectors as an M/M/c queue: simulated waits against Erlang-C."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from rpmkit.sim import (
    Behaviour,
    Collections,
    Collectors,
    Disputes,
    DunningStep,
    Model,
    PayerBehaviour,
    Scenario,
    SegmentSales,
    erlang_c,
)

ARRIVALS_PER_DAY = 20.0
SERVERS = 3


def mmc_scenario(utilisation: float, horizon_days: int, seed: int = 5) -> Scenario:
    """Every invoice is called at its due date (NET0: a Poisson stream of calls), nobody
    ever pays, collectors work around the clock with exponential handling, first come first
    served: an M/M/c queue with λ = 20 calls/day."""
    handling_days = utilisation * SERVERS / ARRIVALS_PER_DAY
    return Scenario(
        horizon_days=horizon_days,
        seed=seed,
        sales=(SegmentSales("q", 1_000, ARRIVALS_PER_DAY, 100.0, 0.0, "NET0"),),
        behaviour=Behaviour(segments=(PayerBehaviour("q", default_rate=1.0),)),
        dunning=(DunningStep(0, "call", 0.0, 0.0, 0.0),),
        collectors=Collectors(
            count=SERVERS,
            hours_per_day=24.0,
            handling_minutes=handling_days * 1440.0,
            handling_distribution="exponential",
            rule="fifo",
        ),
        disputes=Disputes(rate=0.0),
        collections=Collections(agency_after_days=None, write_off_after_days=None),
    )


def batch_means_ci(values: np.ndarray, batches: int = 20) -> tuple[float, float, float]:
    means = np.array([b.mean() for b in np.array_split(values, batches)])
    half = stats.t.ppf(0.975, batches - 1) * means.std(ddof=1) / np.sqrt(batches)
    return float(values.mean()), float(means.mean() - half), float(means.mean() + half)


@pytest.mark.parametrize(("utilisation", "horizon"), [(0.3, 2_000), (0.7, 2_000), (0.9, 4_000)])
def test_mean_wait_matches_erlang_c(utilisation, horizon):
    warmup = 50
    result = Model(mmc_scenario(utilisation, horizon)).run()
    calls = result.events[result.events["kind"] == "call"]
    assert (result.events["kind"] == "call_dropped").sum() == 0
    waits = calls.loc[calls["time"] >= warmup, "value"].to_numpy()
    assert len(waits) > 35_000
    theory = erlang_c(SERVERS, utilisation * SERVERS)
    wq = theory["mean_queue"] / ARRIVALS_PER_DAY
    mean, lo, hi = batch_means_ci(waits)
    assert lo <= wq <= hi, (mean, lo, hi, wq)
    assert abs(mean / wq - 1) < 0.15
    p_wait = float((waits > 0).mean())
    assert abs(p_wait - theory["wait_probability"]) < 0.03
    # queue length at day ends, a time average of the same process
    queue = result.daily["queue_length"].to_numpy()[warmup:]
    q_mean, q_lo, q_hi = batch_means_ci(queue.astype(float))
    assert q_lo <= theory["mean_queue"] <= q_hi, (q_mean, q_lo, q_hi, theory["mean_queue"])
    # handling: utilisation of the collectors over the run
    busy = result.daily["collector_utilisation"].to_numpy()[warmup:]
    assert abs(busy.mean() - utilisation) < 0.02


def test_prioritisation_rule_decides_who_waits():
    base = mmc_scenario(0.9, 1_000)
    seg = dataclasses.replace(base.sales[0], amount_sigma=1.0)
    s = dataclasses.replace(base, sales=(seg,))
    seen = []

    def largest_first(items, now):
        seen.append(len(items["invoice"]))
        return -items["amount"].astype(float)

    for rule in ("by_amount", largest_first):
        result = Model(s, rule=rule).run()
        calls = result.events[result.events["kind"] == "call"]
        amount = result.orders.set_index("invoice_id").loc[calls["invoice_id"], "amount"].to_numpy()
        wait = calls["value"].to_numpy()
        big = amount >= np.quantile(amount, 0.75)
        small = amount <= np.quantile(amount, 0.25)
        assert wait[big].mean() < 0.2 * wait[small].mean()
        fifo = Model(s).run().events.query("kind == 'call'")["value"].mean()
        # prioritising does not change the mean wait of a work-conserving queue by much
        assert abs(wait.mean() / fifo - 1) < 0.2
    assert sum(seen) == len(calls)  # every call was keyed once, in batches


def test_call_later_runs_in_timeout_order():
    """call_later makes the queue entry a Timeout makes: ties run in scheduling order,
    mixed with Timeouts, under env.step and env.run."""
    import simpy
    from simpy.events import Timeout

    from rpmkit.sim.processes import call_later

    env = simpy.Environment()
    seen = []
    for k, (delay, bare) in enumerate([(1.0, True), (1.0, False), (0.5, True), (1.0, True)]):
        if bare:
            call_later(env, delay, lambda e: seen.append((env.now, e._value)), k)
        else:
            Timeout(env, delay, k).callbacks.append(lambda e: seen.append((env.now, e._value)))
    env.step()
    assert seen == [(0.5, 2)]
    env.run()
    assert seen == [(0.5, 2), (1.0, 0), (1.0, 1), (1.0, 3)]
    with pytest.raises(ValueError, match="Negative delay"):
        call_later(env, -1.0, seen.append)
