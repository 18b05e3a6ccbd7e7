"""The cash forecast: hand-computed curves and metrics, convergence to known truth, no look-ahead.

Known-truth ledgers are built inline: many invoices whose payment delay after the
due date is uniform on 0…20 days, so the expected receipts of the open items at
any origin can be written down exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rpmkit
from rpmkit.forecast import BASELINES, CashForecast, Curves, accuracy
from rpmkit.forecast.curves import CENSORED, LOSS, NEVER, PAY
from rpmkit.forecast.sales import flow_matrix, weekly_sales
from rpmkit.forecast.timing import month_end_weeks, multipliers, ratio_pools
from rpmkit.ledger import Ledger


# ------------------------------------------------------------------ known-truth ledger
def uniform_delay_ledger(n: int = 6000, seed: int = 3, max_delay: int = 20) -> Ledger:
    """``n`` NET30 invoices over a year, each paid ``U{0..max_delay}`` days after due."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    start = pd.Timestamp("2024-01-01")
    inv = start + pd.to_timedelta(rng.integers(0, 366, n), unit="D")
    due = inv + pd.Timedelta(days=30)
    paid = due + pd.to_timedelta(rng.integers(0, max_delay + 1, n), unit="D")
    flat = pd.DataFrame(
        {
            "invoice_id": [f"I{i:05d}" for i in range(n)],
            "customer_id": [f"C{i % 60:02d}" for i in range(n)],
            "invoice_date": inv,
            "due_date": due,
            "amount": rng.integers(10_000, 100_000, n),
            "paid_date": paid,
        }
    )
    return Ledger.from_flat(flat)


def true_open_item_receipts(ledger: Ledger, as_of: str, weeks: int, max_delay: int = 20):
    """Exact expected cash per week from the open items, under the uniform delay."""
    t = pd.Timestamp(as_of)
    items = ledger.open_items(t)
    age = (t - items["due_date"]).dt.days.to_numpy()  # open after this many days past due
    out = np.zeros(weeks)
    delays = np.arange(max_delay + 1)
    for d in delays:  # 21 vector passes: the truth needs no per-invoice loop either
        still_open = delays[None, :] > age[:, None]
        p = np.where(d > age, 1.0 / np.maximum(still_open.sum(axis=1), 1), 0.0)
        day = (items["due_date"] + pd.Timedelta(days=int(d)) - t).dt.days.to_numpy()
        week = (day - 1) // 7
        ok = (week >= 0) & (week < weeks)
        np.add.at(out, week[ok], (items["open_amount"].to_numpy() * p)[ok])
    return out / 100


@pytest.fixture(scope="module")
def known():
    return uniform_delay_ledger()


@pytest.fixture(scope="module")
def sample():
    return rpmkit.load(rpmkit.config.sample_dir()).ledger


# ------------------------------------------------------------------ curves by hand
def test_curves_hand_computed_with_competing_write_off():
    # 4 invoices: paid day 0, paid day 2, written off day 1, open (censored) at day 1
    c = Curves.fit(
        day=np.array([0, 2, 1, 1]),
        event=np.array([PAY, PAY, LOSS, CENSORED]),
        group=np.zeros(4, dtype=np.int64),
        n_groups=1,
        first=0,
        last=3,
    )
    # day 0: 1 of 4 pays; day 1: 1 of 3 lost; day 2: 1 of 1 pays
    assert np.allclose(c.survival[0], [0.75, 0.5, 0.0, 0.0])
    assert np.allclose(c.cif[0], [0.25, 0.25, 0.75, 0.75])
    # open after day 0: pays later with (0.75 - 0.25) / 0.75 = 2/3, else written off
    assert c.pay_probability(np.array([0]), np.array([0]))[0] == pytest.approx(2 / 3)
    days = c.draw(np.array([0]), np.array([0]), np.array([0.1, 0.66, 0.67, 0.99]))
    assert days.tolist() == [2, 2, NEVER, NEVER]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-5, 30), st.sampled_from([PAY, LOSS, CENSORED])),
        min_size=1,
        max_size=60,
    ),
    st.integers(-6, 30),
    st.floats(0, 1, exclude_max=True),
)
def test_curves_properties(rows, after, u):
    day = np.array([r[0] for r in rows])
    event = np.array([r[1] for r in rows])
    c = Curves.fit(day, event, np.zeros(len(rows), dtype=np.int64), 1, -3, 25)
    assert np.all(np.diff(c.cif[0]) >= -1e-12)  # a CIF never falls
    assert np.all(c.cif[0] <= 1 - c.survival[0] + 1e-9)  # paid ≤ closed
    drawn = c.draw(np.array([0]), np.array([after]), np.array([u]))[0]
    assert drawn == NEVER or after < drawn <= 25  # always after the age it is open at
    p = c.pay_probability(np.array([0]), np.array([after]))[0]
    assert 0 <= p <= 1


# ------------------------------------------------------------------ metrics, sales, timing
def test_accuracy_hand_computed():
    actual = np.array([100.0, 300.0])
    m = accuracy(
        actual, np.array([120.0, 240.0]), np.array([90.0, 250.0]), np.array([130.0, 280.0])
    )
    assert m["wape"] == pytest.approx(80 / 400)
    assert m["bias"] == pytest.approx(-40 / 400)
    assert m["coverage_80"] == 0.5
    # q=.1: e=[10,50] → 6; q=.5: e=[-20,60] → 40; q=.9: e=[-30,20] → 21
    assert m["pinball"] == pytest.approx((6 + 40 + 21) / 3 / 400)
    with pytest.raises(ValueError, match="both p10 and p90"):
        accuracy(actual, actual, p10=actual)
    with pytest.raises(ValueError, match="sum to zero"):
        accuracy(np.zeros(2), np.zeros(2))


def test_flow_matrix_spreads_a_week_of_sales():
    pmf = np.zeros((1, 30))
    pmf[0, 3] = 1.0  # pays 3 days after issue
    flow = flow_matrix(pmf, 2)[0]
    # issued on days 1..7, paid on days 4..10: 4 of 7 in week 1, 3 of 7 in week 2
    assert np.allclose(flow[0], [4 / 7, 3 / 7])
    assert np.allclose(flow[1], [0, 4 / 7])


def test_weekly_sales_counts_full_weeks_ending_on_the_day():
    inv_day = np.array([0, 6, 7, 13, 14, 20])
    out = weekly_sales(inv_day, np.ones(6) * 10, np.zeros(6, dtype=np.int64), 1, 20)
    # full weeks ending on day 20: (6, 13] holds days 7 and 13, (13, 20] days 14 and 20;
    # days 0 and 6 fall in the first, partial week and are left out
    assert out.tolist() == [[20.0, 20.0]]


def test_timing_pools_and_multipliers():
    ends = np.arange(19729, 19729 + 7 * 30, 7)
    flags = month_end_weeks(ends)
    assert flags.sum() == 6  # 2024-01-07 … 2024-07-28 holds the month ends of Jan … Jun
    hist = np.where(flags, 150.0, 100.0)
    pools = ratio_pools(hist, flags)
    assert np.all(pools[True] > 1.2) and np.all(pools[False] < 1.05)
    mult = multipliers(pools, np.array([True, False]), 50, np.random.default_rng(0))
    assert mult.shape == (50, 2) and mult[:, 0].min() > mult[:, 1].max()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="weeks must be between 1 and 52"):
        CashForecast(weeks=0)
    with pytest.raises(ValueError, match="draws must be at least 20"):
        CashForecast(draws=5)
    with pytest.raises(ValueError, match="not fitted"):
        CashForecast().summary()


# ------------------------------------------------------------------ convergence to truth
def test_p50_converges_to_true_expected_receipts(known):
    as_of, weeks = "2024-10-15", 5
    truth = true_open_item_receipts(known, as_of, weeks)
    errors = {}
    for draws in (20, 2000):
        fc = CashForecast(weeks, draws, seed=4, new_sales=False, timing=False).fit(known, as_of)
        errors[draws] = np.abs(fc.weekly_["p50"].to_numpy() - truth).sum() / truth.sum()
        exact = fc.open_items_.expected(weeks)
        assert np.abs(exact - truth).sum() / truth.sum() < 0.03  # the fitted curves
    assert errors[2000] < 0.03
    assert errors[2000] < errors[20]
    # Monte Carlo mean and the exact expectation of the same model agree closely
    fc = CashForecast(weeks, 4000, seed=5, new_sales=False, timing=False).fit(known, as_of)
    exact = fc.open_items_.expected(weeks)
    assert np.allclose(fc.weekly_["mean"], exact, rtol=0.01)


def test_same_seed_same_forecast_other_seed_differs(sample):
    a = CashForecast(4, 100, seed=9).fit(sample, "2024-05-31").draws_
    b = CashForecast(4, 100, seed=9).fit(sample, "2024-05-31").draws_
    c = CashForecast(4, 100, seed=10).fit(sample, "2024-05-31").draws_
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_open_items_cash_matches_what_those_items_paid(sample):
    """On the sample: the open items' expected 13-week cash vs the cash they really brought."""
    from rpmkit.kpi.book import book

    b = book(sample)
    for as_of in ("2024-03-31", "2024-07-31"):
        fc = CashForecast(13, 50, new_sales=False, timing=False).fit(sample, as_of)
        items = fc.open_items_
        pos = pd.Index(sample.invoices["invoice_id"]).get_indexer(items.items_["invoice_id"])
        is_open = np.zeros(b.n, dtype=bool)
        is_open[pos] = True
        window = (b.ev_day > items.day_) & (b.ev_day <= items.day_ + 91) & (b.ev_kind == 0)
        realised = b.ev_amount[window & is_open[b.ev_inv]].sum() / 100
        assert items.expected(13).sum() == pytest.approx(realised, rel=0.05)


# ------------------------------------------------------------------ no look-ahead
def perturb_after(ledger: Ledger, t: pd.Timestamp) -> Ledger:
    """Change everything dated after ``t``: amounts, dates, resolutions, rates."""
    inv = ledger.invoices.copy()
    late = inv["invoice_date"] > t
    inv.loc[late, "amount"] = inv.loc[late, "amount"] * 3
    pay = ledger.payments.copy()
    later = pay["payment_date"] > t
    pay.loc[later, "payment_date"] = pay.loc[later, "payment_date"] + pd.Timedelta(days=9)
    pay.loc[later, "amount"] = pay.loc[later, "amount"] * 2
    alloc = ledger.allocations.copy()
    shifted = alloc["applied_date"] > t
    alloc.loc[shifted, "applied_date"] = alloc.loc[shifted, "applied_date"] + pd.Timedelta(days=9)
    adj = ledger.adjustments[ledger.adjustments["date"] <= t]
    disp = ledger.disputes[ledger.disputes["opened_date"] <= t].copy()
    disp.loc[disp["resolved_date"] > t, "resolved_date"] = t + pd.Timedelta(days=1)
    fx = ledger.fx_rates.copy()
    fx.loc[fx["date"] > t, "rate"] = fx.loc[fx["date"] > t, "rate"] * 1.5
    return ledger.replace(
        invoices=inv, payments=pay, allocations=alloc, adjustments=adj, disputes=disp, fx_rates=fx
    )


def test_nothing_after_the_origin_changes_the_forecast(sample):
    t = pd.Timestamp("2024-04-30")
    other = perturb_after(sample, t)
    # the perturbation is real: the future differs
    assert other.payments["amount"].sum() != sample.payments["amount"].sum()
    a = CashForecast(13, 200, seed=1).fit(sample.as_of(t))
    b = CashForecast(13, 200, seed=1).fit(other.as_of(t))
    assert np.array_equal(a.draws_, b.draws_)
    pd.testing.assert_frame_equal(a.weekly_, b.weekly_)
    for name, baseline in BASELINES.items():
        assert np.array_equal(baseline(sample.as_of(t), 13), baseline(other.as_of(t), 13)), name
