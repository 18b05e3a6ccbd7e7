"""The simulation model: determinism, common random numbers, behaviour draw for draw,
the simulated ledger through ``rpmkit.kpi``, and Little's law on the AR book."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from rpmkit.kpi import aging, bad_debt_ratio, cei, dso
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
    accelerate,
    littles_law,
)

SMALL = Scenario(
    horizon_days=240,
    seed=11,
    sales=(
        SegmentSales("enterprise", 20, 3.0, 9_000.0, 0.9, "NET45"),
        SegmentSales("smb", 150, 18.0, 700.0, 0.7, "NET30"),
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

QUIET = dataclasses.replace(
    SMALL,
    dunning=(),
    collectors=Collectors(count=0),
    disputes=Disputes(rate=0.0),
    collections=Collections(agency_after_days=None, write_off_after_days=None),
)


# Invoices open at the start (open amounts in cents): one of a simulated customer,
# two of a customer found only in the opening balance.
OPENING = pd.DataFrame(
    {
        "invoice_id": ["OLD-1", "OLD-2", "OLD-3"],
        "customer_id": ["C000001", "X9", "X9"],
        "segment": ["enterprise", "smb", "smb"],
        "invoice_date": pd.to_datetime(["2024-11-20", "2024-12-01", "2024-12-20"]),
        "due_date": pd.to_datetime(["2025-01-04", "2024-12-31", "2025-01-19"]),
        "amount": [500_000, 20_000, 30_000],
    }
)


@pytest.fixture(scope="module")
def small():
    return Model(SMALL).run()


def test_same_seed_same_output_other_replication_differs(small):
    again = Model(SMALL).run()
    pd.testing.assert_frame_equal(again.events, small.events)
    pd.testing.assert_frame_equal(again.daily, small.daily)
    for name, frame in small.ledger:
        pd.testing.assert_frame_equal(again.ledger.tables[name], frame)
    other = Model(SMALL, replication=1).run()
    assert len(other.events) != len(small.events) or not other.events.equals(small.events)
    assert not np.array_equal(other.orders["amount"][:50], small.orders["amount"][:50])


def test_streams_are_seed_sequence_spawns():
    s = Streams(5, replication=2)
    child = np.random.SeedSequence(5).spawn(3)[2].spawn(4)[3]  # purpose 3 = payment_delay
    expected = np.random.default_rng(child).random(4)
    np.testing.assert_array_equal(
        np.random.default_rng(s.seed_sequence("payment_delay")).random(4), expected
    )


def test_changing_dunning_keeps_orders_and_natural_delays(small):
    earlier = dataclasses.replace(
        SMALL, dunning=tuple(dataclasses.replace(d, day=d.day - 7) for d in SMALL.dunning)
    )
    other = Model(earlier).run()
    cols = [
        "invoice_id",
        "customer_id",
        "segment",
        "issue_time",
        "due_time",
        "amount",
        "natural_time",
    ]
    pd.testing.assert_frame_equal(other.orders[cols], small.orders[cols])
    # ...while the policy did change what happened
    assert not other.events.equals(small.events)
    paid = lambda r: r.orders["settled_time"] - r.orders["issue_time"]  # noqa: E731
    assert paid(other).mean() < paid(small).mean()


def expected_payment_times(
    scenario: Scenario, replication: int, shift: np.ndarray | None = None
) -> pd.DataFrame:
    """The behaviour distribution, vectorised from the same streams, without the model.

    ``shift``: each customer's habit (days), about which its invoices vary by
    ``invoice_sd_days``; None: customers alike."""
    streams = Streams(scenario.seed, replication)
    h = scenario.horizon_days
    frames, first = [], 0
    for seg in scenario.sales:
        payer = scenario.payer(seg.name)
        arrivals = streams.rng("arrivals", seg.name)
        n = arrivals.poisson(seg.invoices_per_day * h)
        issue = np.sort(arrivals.uniform(0.0, h, n))
        customer = first + streams.rng("customers", seg.name).integers(0, seg.customers, n)
        first += seg.customers
        delays = streams.rng("payment_delay", seg.name)
        z, u_default = delays.standard_normal(n), delays.random(n)
        if shift is None:
            delay = payer.delay_mean_days + payer.delay_sd_days * z
        else:
            delay = payer.delay_mean_days + payer.invoice_sd_days * z + shift[customer]
        pay = np.maximum(issue + seg.net_days + delay, issue)
        pay[u_default < payer.default_rate] = np.inf
        frames.append(
            pd.DataFrame(
                {"segment": seg.name, "issue_time": issue, "pay_time": pay, "customer": customer}
            )
        )
    return pd.concat(frames).sort_values("issue_time", kind="stable").reset_index(drop=True)


def assert_paid_as_drawn(result, expected: pd.DataFrame, horizon: int) -> int:
    """Every payment of ``result`` at its expected time and no other: how many there were."""
    orders = result.orders
    assert len(orders) == len(expected)
    np.testing.assert_array_equal(orders["issue_time"], expected["issue_time"])
    assert (orders["segment"].to_numpy() == expected["segment"].to_numpy()).all()
    ids = np.array([f"C{c + 1:06d}" for c in expected["customer"]])
    assert (orders["customer_id"].to_numpy() == ids).all()
    paid = result.events[result.events["kind"] == "payment"]
    times = pd.Series(paid["time"].to_numpy(), index=paid["invoice_id"].to_numpy())
    want = pd.Series(expected["pay_time"].to_numpy(), index=orders["invoice_id"].to_numpy())
    want = want[want < horizon]
    assert set(times.index) == set(want.index)
    np.testing.assert_allclose(times[want.index], want, rtol=0, atol=1e-9)
    amounts = orders.set_index("invoice_id")["amount"]
    assert (paid["amount"].to_numpy() == amounts[paid["invoice_id"]].to_numpy()).all()
    return len(want)


def test_payment_times_equal_behaviour_draws_without_policy():
    result = Model(QUIET, replication=3).run()
    assert (
        assert_paid_as_drawn(result, expected_payment_times(QUIET, 3), QUIET.horizon_days) > 3_000
    )


def test_reminder_moves_payments_by_the_accelerated_clock():
    step = DunningStep(0, "email", 0.0, 1.5, 6.0)
    result = Model(dataclasses.replace(QUIET, dunning=(step,))).run()
    orders = result.orders.set_index("invoice_id")
    paid = result.events[result.events["kind"] == "payment"].set_index("invoice_id")["time"]
    natural = orders.loc[paid.index, "natural_time"].to_numpy()
    due = orders.loc[paid.index, "due_time"].to_numpy()
    expected = np.array(
        [
            accelerate(t, d, step.uplift, step.uplift_days) if t > d else t
            for t, d in zip(natural, due, strict=True)
        ]
    )
    np.testing.assert_allclose(paid.to_numpy(), expected, atol=1e-9)
    late = natural > due
    assert late.sum() > 1_000 and (paid.to_numpy()[late] < natural[late]).all()
    assert accelerate(20.0, 10.0, 1.0, 10.0) == 15.0  # inside the window: half the time left
    assert accelerate(50.0, 10.0, 1.0, 10.0) == 40.0  # beyond it: uplift × days earlier
    assert accelerate(50.0, 10.0, 0.0, 10.0) == 50.0


def test_simulated_ledger_is_canonical_and_kpis_run(small):
    ledger = small.ledger
    ledger.check()
    assert set(ledger.adjustments["kind"]) == {"credit_note", "write_off"}
    assert set(ledger.activities["kind"]) == {"email", "letter", "call", "agency"}
    assert len(ledger.disputes) > 50 and ledger.disputes["resolved_date"].notna().mean() > 0.9
    as_of = SMALL.end_date
    assert 20 < dso(ledger, as_of).value < 120
    assert cei(ledger, as_of).value is not None
    assert bad_debt_ratio(ledger, as_of, "quarter").value > 0
    kpis = small.monthly_kpis()
    assert list(kpis.columns) == ["period_end", "dso", "bpdso", "add", "cei", "bad_debt_ratio"]
    assert len(kpis) == 7 and kpis["dso"].iloc[1:].notna().all()
    np.testing.assert_allclose(kpis["add"], kpis["dso"] - kpis["bpdso"], atol=1e-9)


def test_daily_open_ar_and_aging_equal_the_ledger_to_the_cent(small):
    daily = small.daily.set_index("date")
    for date in pd.to_datetime(["2025-01-01", "2025-02-14", "2025-05-31", "2025-08-28"]):
        items = small.ledger.open_items(date)
        assert int(daily.loc[date, "open_ar"]) == int(items["open_amount"].sum())
        buckets = aging(small.ledger, date).totals()
        for label in ("current", "1-30", "31-60", "61-90", "91+"):
            assert int(daily.loc[date, label]) == int(buckets[label]), (date, label)
    receipts = small.ledger.payments.groupby("payment_date")["amount"].sum()
    assert int(daily["receipts"].sum()) == int(receipts.sum())
    assert int(daily["sales"].sum()) == int(small.ledger.invoices["amount"].sum())
    assert int(daily["write_offs"].sum()) == int(
        small.ledger.adjustments.query("kind == 'write_off'")["amount"].sum()
    )


def test_opening_balance_seeds_the_book():
    opening = OPENING
    result = Model(SMALL, opening=opening).run()
    result.ledger.check()
    assert int(result.daily["open_ar"].iloc[0]) >= 550_000 - 30_000
    assert set(opening["invoice_id"]) <= set(result.ledger.invoices["invoice_id"])
    assert "X9" in set(result.ledger.customers["customer_id"])
    natural = result.orders.set_index("invoice_id").loc[["OLD-1", "OLD-2", "OLD-3"], "natural_time"]
    assert (natural >= 0).all()  # drawn conditional on being unpaid at the start
    assert int(result.daily["sales"].sum()) == int(
        result.ledger.invoices.query("invoice_date >= '2025-01-01'")["amount"].sum()
    )


def test_credit_policy_blocks_orders_as_lost_sales():
    strict = dataclasses.replace(
        SMALL, credit=CreditPolicy(limit_days_of_sales=20.0, hold_days_past_due=30)
    )
    result = Model(strict).run()
    lost = result.events[result.events["kind"] == "lost_sale"]
    assert len(lost) > 0
    assert int(result.daily["lost_sales"].sum()) == int(lost["amount"].sum())
    assert (~result.orders["accepted"]).sum() == len(lost)
    result.ledger.check()


def test_discount_takers_pay_in_the_window_net_of_discount():
    seg = SegmentSales("smb", 100, 20.0, 500.0, 0.5, "2/10 NET30")
    s = dataclasses.replace(
        QUIET,
        sales=(seg,),
        behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
        horizon_days=120,
    )
    result = Model(s).run()
    streams = Streams(s.seed, 0)
    n = streams.rng("arrivals", "smb").poisson(seg.invoices_per_day * s.horizon_days)
    taker = streams.rng("discount", "smb").random(n) < s.behaviour.take_up(0.02)
    disc = result.ledger.adjustments.query("kind == 'discount'")
    orders = result.orders
    # every taker whose window closed inside the horizon took the discount, nobody else
    closed = orders["issue_time"].to_numpy() < s.horizon_days - 11
    took = orders["invoice_id"].isin(disc["invoice_id"]).to_numpy()
    assert (took[closed] == taker[closed]).all()
    assert abs(taker.mean() - s.behaviour.take_up(0.02)) < 0.03
    inv = result.ledger.invoices.set_index("invoice_id")
    expected = np.rint(inv.loc[disc["invoice_id"], "amount"].to_numpy() * 0.02)
    assert (disc["amount"].to_numpy() == expected).all()
    pay = result.ledger.payments.set_index("payment_id")
    alloc = result.ledger.allocations.set_index("invoice_id").loc[disc["invoice_id"]]
    days = (alloc["applied_date"] - inv.loc[disc["invoice_id"], "invoice_date"]).dt.days
    assert days.max() <= 10
    net = inv.loc[disc["invoice_id"], "amount"].to_numpy() - disc["amount"].to_numpy()
    assert (pay.loc[alloc["payment_id"], "amount"].to_numpy() == net).all()
    assert int(result.daily["discount_cost"].sum()) == int(disc["amount"].sum())


def test_littles_law_on_the_ar_book():
    s = dataclasses.replace(SMALL, horizon_days=3 * 365)
    result = Model(s).run()
    law = littles_law(result, warmup_days=150, cooldown_days=200)
    assert law["censored_share"] == 0.0
    assert abs(law["relative_error"]) < 0.01, law
    # the boundary-corrected identity holds to the cent: summed day-end AR over
    # the window equals each invoice's amount times its day ends inside the window
    a, b = int(law["window_start"]), int(law["window_end"])
    o = result.orders[result.orders["accepted"]]
    first = np.floor(o["issue_time"].to_numpy()).astype(int)
    last = np.floor(o["settled_time"].fillna(np.inf).to_numpy())
    last = np.where(np.isfinite(last), last, s.horizon_days).astype(int)
    overlap = np.clip(np.minimum(last, b + 1) - np.maximum(first, a), 0, None)
    assert int((o["amount"].to_numpy() * overlap).sum()) == int(
        result.daily["open_ar"].iloc[a : b + 1].sum()
    )


def test_rpmkit_kpis_runs_on_the_written_simulated_ledger(small, tmp_path, capsys):
    import json

    from rpmkit.cli import main
    from rpmkit.writers import write_ledger

    folder = write_ledger(small.ledger, tmp_path / "sim")
    assert main(["kpis", str(folder), "--as-of", "2025-06-30", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    daily = small.daily.set_index("date")
    assert out["open_ar"] == pytest.approx(daily.loc["2025-06-30", "open_ar"] / 100, abs=0.005)
    assert out["dso"]["standard"] == pytest.approx(dso(small.ledger, "2025-06-30").value, abs=1e-4)
