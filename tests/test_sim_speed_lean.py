"""The replication summary straight from the event records equals the one through the
canonical ledger and ``rpmkit.kpi``, value for value; the pool that receives the
scenarios once per worker gives the inline result; the collector is left as found."""

from __future__ import annotations

import dataclasses
import gc
import math
import threading
from pathlib import Path

import numpy as np
import pytest

import rpmkit
from rpmkit.sim import Model, Scenario, compare, opening_balance, replica
from rpmkit.sim import outputs as sim_outputs
from rpmkit.sim.replica import KPIS, run_replication, summarise_result
from rpmkit.sim.workers import Task, _chunk_size, execute, warm_up

ROOT = Path(__file__).resolve().parents[1]


def small(path: str, horizon: int = 100) -> Scenario:
    """A scenario of ``scenarios/`` at 1/25 of its size over ``horizon`` days."""
    s = Scenario.from_yaml(ROOT / "scenarios" / path)
    sales = tuple(
        dataclasses.replace(
            x, customers=max(x.customers // 25, 5), invoices_per_day=x.invoices_per_day / 25
        )
        for x in s.sales
    )
    return dataclasses.replace(s, horizon_days=horizon, sales=sales)


def assert_same(lean: replica.Replica, reference) -> None:
    daily, monthly, ends, kpis, error = reference
    np.testing.assert_array_equal(lean.daily, daily)
    np.testing.assert_array_equal(lean.monthly, monthly)
    np.testing.assert_array_equal(lean.period_ends, ends)
    assert list(lean.kpis) == list(KPIS)
    for k in KPIS:
        a, b = lean.kpis[k], kpis[k]
        assert (math.isnan(a) and math.isnan(b)) or a == b, (k, a, b)
    e = lean.stats["littles_law_error"]
    assert (math.isnan(e) and math.isnan(error)) or e == error


SCENARIOS = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS)
def test_records_summary_equals_the_ledger_summary(path):
    s = small(path)
    for r, rule in ((0, None), (3, "by_amount")):
        lean = run_replication(s, r, rule=rule)
        assert_same(lean, summarise_result(Model(s, r, rule=rule).run()))
    # the summary is not empty: money moved and month ends were measured
    assert lean.kpis["sales"] > 0 and lean.kpis["cash_collected"] > 0
    assert lean.monthly.shape == (3, 5) and not np.isnan(lean.monthly[:, 0]).any()


@pytest.fixture(scope="module")
def sample():
    """The sample ledger's scenario at its last full month, 60 days, with its open items."""
    ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
    s = Scenario.from_ledger(ledger, "2024-12-31", horizon_days=60)
    return s, opening_balance(ledger, "2024-12-31")


def test_records_summary_equals_the_ledger_summary_from_open_items(sample):
    s, opening = sample
    for r in (0, 1):
        lean = run_replication(s, r, opening=opening)
        assert_same(lean, summarise_result(Model(s, r, opening=opening).run()))
    # write-offs of old open items reach the bad-debt ratio: a non-trivial case
    assert lean.kpis["bad_debt_ratio"] > 0 and lean.kpis["write_offs"] > 0


def test_an_opening_read_once_follows_its_changes(sample):
    """The opening balance is read once for a run's replications (compared by value):
    a copy reuses it, a change to the frame in place is seen."""
    s, opening = sample
    first = Model(s, 0, opening=opening).run()
    again = Model(s, 0, opening=opening.copy()).run()
    assert again.events.equals(first.events) and again.orders.equals(first.orders)
    changed = opening.copy()
    changed.loc[0, "amount"] += 100
    changed.loc[1, "customer_id"] = "NEW-CUSTOMER"
    other = Model(s, 0, opening=changed).run()
    issued = other.orders.set_index("invoice_id")["amount"]
    assert issued[opening.loc[0, "invoice_id"]] == opening.loc[0, "amount"] + 100
    assert "NEW-CUSTOMER" in set(other.ledger.customers["customer_id"])
    assert "NEW-CUSTOMER" not in set(first.ledger.customers["customer_id"])
    changed["amount"] = opening["amount"]  # in place, back to the first
    assert Model(s, 0, opening=changed).run().orders["amount"].equals(first.orders["amount"])


def test_summary_builds_no_ledger_unless_asked(monkeypatch):
    s = small("baseline.yaml", 60)

    def refuse(*args, **kwargs):
        raise AssertionError("the canonical ledger was built")

    monkeypatch.setattr(sim_outputs, "ledger", refuse)
    monkeypatch.setattr(replica.outputs, "ledger", refuse)
    lean = run_replication(s, 0)
    assert lean.ledger is None and lean.result is None
    assert lean.stats["sim_cpu_seconds"] <= lean.stats["cpu_seconds"]
    monkeypatch.undo()
    full = Model(s, 0).run()
    kept = run_replication(s, 0, keep=True, with_ledger=True)
    assert kept.result.events.equals(full.events)
    assert kept.ledger.invoices.equals(full.ledger.invoices)
    assert kept.ledger.payments.equals(full.ledger.payments)
    led = run_replication(s, 0, with_ledger=True)
    assert led.result is None and led.ledger.allocations.equals(full.ledger.allocations)
    # what build_result adds to the ledger is there: promises to pay as activities
    p = small("promises.yaml", 60)
    promised = run_replication(p, 0, with_ledger=True).ledger.activities
    assert promised.equals(Model(p, 0).run().ledger.activities)
    assert (promised["kind"] == "promise_to_pay").sum() > 0


def test_model_run_is_the_full_build_of_its_records():
    s = small("baseline.yaml", 40)
    full = Model(s, 1).run()
    records = Model(s, 1).simulate()
    assert full.ledger is not None and len(full.events) > len(records["rows"]) > 0
    assert full.sim_events == records["sim_events"]
    assert_same(run_replication(s, 1), summarise_result(full))


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_found(enabled):
    s = small("baseline.yaml", 30)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        run_replication(s, 0)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_chunks_of_tasks():
    assert _chunk_size(200, 2) == 2
    assert _chunk_size(16, 2) == 2
    assert _chunk_size(15, 2) == 1
    assert _chunk_size(1, 8) == 1


def test_pool_with_open_items_equals_inline(sample):
    s, opening = sample
    other = dataclasses.replace(s, dunning=tuple(dataclasses.replace(d, day=d.day - 7)
                                                 for d in s.dunning))  # fmt: skip
    kw = dict(replications=8, seed=11, opening=opening, progress=False)  # chunks of 2
    inline = compare(s, other, processes=1, **kw)
    pooled = compare(s, other, processes=2, **kw)
    assert pooled.base.equals(inline.base) and pooled.other.equals(inline.other)
    assert pooled.differences.drop(columns="sentence").equals(
        inline.differences.drop(columns="sentence")
    )
    assert inline.differences.loc["dso", "difference"] < 0  # a week earlier collects sooner


def test_execute_yields_every_task_once_with_progress():
    s = small("baseline.yaml", 30)
    tasks = [Task(0, r) for r in range(10)]
    seen = []
    got = dict(execute([s], tasks, processes=2, progress=lambda d, t: seen.append((d, t))))
    assert sorted(got) == list(range(10))
    assert [r.replication for _, r in sorted(got.items())] == list(range(10))
    assert seen[0] == (0, 10) and seen[-1] == (10, 10) and len(seen) == 11


def test_warm_up_and_a_forkserver_pool_as_in_a_kernel():
    s = small("baseline.yaml", 30)
    assert warm_up(1) is False
    # a second thread, as in a Jupyter kernel: pools then fork from the forkserver
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert warm_up(None) is True
        tasks = [Task(0, r) for r in range(4)]
        got = dict(execute([s], tasks, processes=2, progress=False))
    finally:
        stop.set()
        other.join()
    for k, t in enumerate(tasks):
        np.testing.assert_array_equal(got[k].daily, run_replication(s, t.replication).daily)


def test_log_equals_from_rows():
    from rpmkit.sim import records as rec

    rows = [(2.5, 2, 1, 300, 0.0, 0.0), (0.5, 0, 1, 300, 0.0, 0.0), (2.5, 8, 0, 0, 1.0, 0.0)]
    extra = tuple(
        np.array(c) for c in ([1.0, 2.5], [0, 2], [0, 0], [100, 100], [0.0] * 2, [0.0] * 2)
    )
    for r, e in ((rows, extra), (rows, None), ([], extra), ([], None)):
        a, b = replica._log(r, e), rec.Log.from_rows(r, e)
        for f in ("time", "kind", "order", "amount", "value", "duration"):
            x, y = getattr(a, f), getattr(b, f)
            assert x.dtype == y.dtype and np.array_equal(x, y), f
    # ties keep the order logged: the loop's rows first, then the columns written before it
    assert replica._log(rows, extra).kind.tolist() == [0, 0, 2, 8, 2]
