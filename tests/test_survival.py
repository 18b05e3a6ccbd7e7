"""Kaplan–Meier, log-rank and Cox on hand-computed ledgers, planted data and generated ledgers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight

from rpmkit import hazards as hz
from rpmkit import survival as sv
from rpmkit.hazards import PaymentHazards
from rpmkit.kpi.book import as_of_day, book
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger
from rpmkit.survival import (
    PaymentSurvival,
    dispute_resolution,
    kaplan_meier,
    payment_spells,
)
from rpmkit.synth import generate

D = pd.to_datetime


# ----------------------------------------------------------------- ledgers
def five_invoices() -> Ledger:
    """Five invoices, two still open at 2024-01-31.

    A inv 01-01 paid 01-11  → 10 days, paid
    B inv 01-01 paid 01-21  → 20 days, paid
    C inv 01-16 open        → censored at 15 days
    D inv 01-01 paid 01-26  → 25 days, paid
    E inv 01-06 open        → censored at 25 days (tied with D's payment)
    """
    flat = pd.DataFrame(
        {
            "invoice_id": list("ABCDE"),
            "customer_id": ["C1", "C1", "C2", "C2", "C3"],
            "invoice_date": D(
                ["2024-01-01", "2024-01-01", "2024-01-16", "2024-01-01", "2024-01-06"]
            ),
            "due_date": D(["2024-01-31", "2024-01-31", "2024-02-15", "2024-01-31", "2024-02-05"]),
            "amount": [10_000, 20_000, 30_000, 40_000, 50_000],
            "paid_date": D(["2024-01-11", "2024-01-21", None, "2024-01-26", None]),
        }
    )
    return Ledger.from_flat(flat)


def june_ledger() -> Ledger:
    """Six invoices and what settles them (as in tests/test_kpi_payment.py).

    A inv 05-01 due 05-31  cash 40 on 06-05 + 60 on 06-15          → paid day 45
    B inv 05-10 due 06-09  cash 150 on 06-04, credit note 50 06-20 → paid day 25 (cash)
    C inv 04-01 due 05-01  cash 20 on 06-10, write-off 30 06-12    → written off day 72
    D inv 06-01 due 07-01  credit note 30 on 06-03                 → credit closed day 2
    E inv 05-15 due 06-14  cash on 07-02                           → open at 06-30 (day 46)
    F inv 04-10 due 05-10  cash on 05-20                           → paid day 40
    """
    invoices = pd.DataFrame(
        {
            "invoice_id": list("ABCDEF"),
            "customer_id": ["C1", "C2", "C3", "C3", "C3", "C1"],
            "invoice_date": D(
                ["2024-05-01", "2024-05-10", "2024-04-01", "2024-06-01", "2024-05-15", "2024-04-10"]
            ),
            "due_date": D(
                ["2024-05-31", "2024-06-09", "2024-05-01", "2024-07-01", "2024-06-14", "2024-05-10"]
            ),
            "amount": [10_000, 20_000, 5_000, 3_000, 10_000, 10_000],
            "currency": "USD",
            "channel": ["electronic", "paper", "paper", None, "electronic", "electronic"],
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["PA1", "PA2", "PB", "PC", "PE", "PF"],
            "payment_date": D(
                ["2024-06-05", "2024-06-15", "2024-06-04", "2024-06-10", "2024-07-02", "2024-05-20"]
            ),
            "amount": [4_000, 6_000, 15_000, 2_000, 10_000, 10_000],
            "currency": "USD",
        }
    )
    allocations = pd.DataFrame(
        {
            "payment_id": ["PA1", "PA2", "PB", "PC", "PE", "PF"],
            "invoice_id": ["A", "A", "B", "C", "E", "F"],
            "amount": [4_000, 6_000, 15_000, 2_000, 10_000, 10_000],
        }
    )
    adjustments = pd.DataFrame(
        {
            "adjustment_id": ["CN-B", "WO-C", "CN-D"],
            "invoice_id": ["B", "C", "D"],
            "date": D(["2024-06-20", "2024-06-12", "2024-06-03"]),
            "amount": [5_000, 3_000, 3_000],
            "kind": ["credit_note", "write_off", "credit_note"],
        }
    )
    customers = pd.DataFrame(
        {"customer_id": ["C1", "C2", "C3"], "segment": ["enterprise", "smb", "smb"]}
    )
    ledger = Ledger(
        customers=customers,
        invoices=invoices,
        payments=payments,
        allocations=allocations,
        adjustments=adjustments,
    )
    ledger.check()
    return ledger


def planted_ledger(
    n: int, *, paper_hr: float, dispute_hr: float, seed: int
) -> tuple[Ledger, pd.Timestamp]:
    """Exponential times to pay with planted hazard ratios; returns the ledger and its as-of.

    Electronic invoices pay at rate 1/30 a day, paper ones ``paper_hr`` times
    that; a dispute opened on day s multiplies the remaining hazard by
    ``dispute_hr`` (memorylessness makes the piecewise draw exact). Amounts
    have no effect. Invoices are issued over a year and the ledger is cut 30
    days after the last one, leaving the young ones open.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    start = np.datetime64("2023-01-01")
    issued = rng.integers(0, 365, n)
    paper = rng.random(n) < 0.4
    rate = np.where(paper, paper_hr, 1.0) / 30
    first = rng.exponential(1 / rate)
    disputed = rng.random(n) < 0.3
    opened = rng.integers(1, 40, n)
    later = rng.exponential(1 / (rate * dispute_hr))
    hit = disputed & (first >= opened)
    # whole days: paid on day ceil(t); a dispute opened on day s is in force from day s on
    t = np.where(hit, opened + later, first)
    days = np.maximum(np.ceil(t), 1).astype(np.int64)
    as_of = start + np.timedelta64(365 + 30, "D")
    inv_date = start + issued.astype("timedelta64[D]")
    paid_date = inv_date + days.astype("timedelta64[D]")
    paid = paid_date <= as_of
    ids = np.array([f"I{i:05d}" for i in range(n)])
    invoices = pd.DataFrame(
        {
            "invoice_id": ids,
            "customer_id": [f"C{i % 50:02d}" for i in range(n)],
            "invoice_date": inv_date,
            "due_date": inv_date + np.timedelta64(30, "D"),
            "amount": np.rint(np.exp(rng.normal(8, 1.5, n))).astype(np.int64) + 1,
            "currency": "USD",
            "channel": np.where(paper, "paper", "electronic"),
        }
    )
    pay_ids = np.array([f"P{i:05d}" for i in range(n)])[paid]
    payments = pd.DataFrame(
        {
            "payment_id": pay_ids,
            "payment_date": paid_date[paid],
            "amount": invoices["amount"].to_numpy()[paid],
            "currency": "USD",
        }
    )
    allocations = pd.DataFrame(
        {"payment_id": pay_ids, "invoice_id": ids[paid], "amount": payments["amount"].to_numpy()}
    )
    d_open = inv_date + opened.astype("timedelta64[D]")
    has = disputed & (d_open <= as_of)
    disputes = pd.DataFrame(
        {
            "dispute_id": [f"D{i:05d}" for i in range(int(has.sum()))],
            "invoice_id": ids[has],
            "opened_date": d_open[has],
            "amount": 1,
        }
    )
    ledger = Ledger(
        invoices=invoices, payments=payments, allocations=allocations, disputes=disputes
    )
    return ledger, pd.Timestamp(as_of)


@pytest.fixture(scope="module")
def sample() -> Ledger:
    return generate(customers=400, years=1.5, seed=11).ledger


# ------------------------------------------------------- hand computations
def test_km_on_five_invoices_by_hand():
    km = PaymentSurvival(horizon_days=25).fit(five_invoices(), "2024-01-31")
    c = km.curves_
    # event days 10, 20, 25; C (15) and E (25) censored; at a tie events go first
    assert c["days"].tolist() == [10, 20, 25]
    assert c["at_risk"].tolist() == [5, 3, 2]
    assert c["events"].tolist() == [1, 1, 1]
    s = [4 / 5, 4 / 5 * 2 / 3, 4 / 5 * 2 / 3 * 1 / 2]
    assert c["survival"].tolist() == pytest.approx(s)
    # Greenwood: S² Σ d / (n (n − d))
    green = np.cumsum([1 / (5 * 4), 1 / (3 * 2), 1 / (2 * 1)])
    se = np.array(s) * np.sqrt(green)
    # log-log band: S^exp(±z se / (S |log S|))
    z = 1.959963984540054
    theta = se / (np.array(s) * np.abs(np.log(s)))
    assert c["lower"].to_numpy() == pytest.approx(np.array(s) ** np.exp(z * theta))
    assert c["upper"].to_numpy() == pytest.approx(np.array(s) ** np.exp(-z * theta))
    row = km.summary().loc["all"]
    assert (row["n"], row["events"], row["censored"]) == (5, 3, 2)
    # first day the share unpaid is below one half (statsmodels' and SAS's rule)
    assert row["median_days"] == 25
    assert row["p25_days"] == 20  # S(10) = 0.8 is not below 0.75; S(20) = 0.533 is
    assert math.isnan(row["p90_days"])  # the curve never gets below 0.1
    # restricted mean to 25 days: 10 × 1 + 10 × 0.8 + 5 × 0.5333
    assert row["restricted_mean_days"] == pytest.approx(10 + 8 + 5 * s[1])
    a10, a20 = 10 * s[0] + 5 * s[1], 5 * s[1]
    var = a10**2 * (1 / 20) + a20**2 * (1 / 6)  # the day-25 term has A = 0
    assert row["restricted_mean_se"] == pytest.approx(math.sqrt(var))
    assert km.logrank_ is None
    assert repr(km).endswith("fitted as of 2024-01-31: 1 group, 5 invoices)")


@pytest.mark.parametrize("seed", range(6))
def test_curves_and_quantiles_equal_statsmodels_survfunc(seed):
    rng = np.random.default_rng(seed)
    n = [30, 300, 3000][seed % 3]
    days = rng.integers(0, 60, n)
    event = rng.random(n) < 0.7
    r = kaplan_meier(days, event, alpha=[0.05, 0.1][seed % 2])
    sf = SurvfuncRight(days.astype(float), event.astype(float))
    assert r.curves_["survival"].to_numpy() == pytest.approx(sf.surv_prob)
    assert r.curves_["at_risk"].tolist() == sf.n_risk.astype(int).tolist()
    row = r.summary().loc["all"]
    for key, p in sv.QUANTILES.items():
        assert row[f"{key}_days"] == pytest.approx(sf.quantile(p), nan_ok=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels at S = 0
            lo, hi = sf.quantile_ci(p, alpha=r.alpha)
        if np.isnan(lo) and np.isfinite(row[f"{key}_lower"]):
            # the curve steps across 1 − p in one day: the interval is that day
            assert row[f"{key}_lower"] == row[f"{key}_upper"] == row[f"{key}_days"]
            continue
        hi = np.nan if np.isinf(hi) else hi
        assert row[f"{key}_lower"] == pytest.approx(lo, nan_ok=True)
        assert row[f"{key}_upper"] == pytest.approx(hi, nan_ok=True)


def test_logrank_by_hand():
    # X: events at 1 and 2; Y: event at 3, censored at 4
    r = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 0], ["X", "X", "Y", "Y"])
    # day 1: n 4 (2 X), E_X = 1/2, V = 2·2·1·3 / (16·3); day 2: n 3 (1 X), E_X = 1/3,
    # V = 1·2·1·2 / (9·2); day 3: no X at risk
    o_minus_e = 2 - (1 / 2 + 1 / 3)
    v = 12 / 48 + 4 / 18
    assert r.logrank_["statistic"] == pytest.approx(o_minus_e**2 / v)
    assert r.logrank_["df"] == 1
    assert r.logrank_["p_value"] == pytest.approx(math.erfc(math.sqrt(o_minus_e**2 / v / 2)))


# --------------------------------------------------------------- spells
def test_spells_follow_the_kpi_payment_conventions_and_closure_options():
    ledger = june_ledger()
    censor = payment_spells(ledger, "2024-06-30").set_index("invoice_id")
    assert censor["days"].to_dict() == {"A": 45, "B": 25, "C": 72, "D": 2, "E": 46, "F": 40}
    assert censor["event"].to_dict() == {
        "A": True,
        "B": True,  # paid by cash on 06-04; the later credit note does not delay it
        "C": False,
        "D": False,
        "E": False,
        "F": True,
    }
    assert censor.loc[list("ABCDEF"), "outcome"].tolist() == [
        "paid",
        "paid",
        "written_off",
        "credit_closed",
        "open",
        "paid",
    ]
    competing = payment_spells(ledger, "2024-06-30", closures="competing").set_index("invoice_id")
    assert competing.loc[["C", "D"], "days"].tolist() == [90, 29]  # kept at risk to as_of
    assert not competing.loc[["C", "D"], "event"].any()
    exclude = payment_spells(ledger, "2024-06-30", closures="exclude")
    assert exclude["invoice_id"].tolist() == ["A", "B", "E", "F"]
    due = payment_spells(ledger, "2024-06-30", origin="due").set_index("invoice_id")
    assert due["days"].to_dict() == {"A": 15, "B": -5, "C": 42, "D": -28, "E": 16, "F": 10}
    # nothing after as_of: at 06-10 A (cash completes 06-15) and B (06-04) differ
    early = payment_spells(ledger, "2024-06-10").set_index("invoice_id")
    assert early.loc["A", ["days", "event"]].tolist() == [40, False]
    assert early.loc["B", ["days", "event"]].tolist() == [31, False]  # settled only 06-20
    assert "D" in early.index and "E" in early.index
    # the same answers from a ledger cut at the date
    cut = payment_spells(ledger.as_of("2024-06-10"))
    assert cut.set_index("invoice_id")["days"].to_dict() == early["days"].to_dict()


def test_km_by_segment_and_due_origin_on_the_june_ledger():
    km = PaymentSurvival(by="segment", origin="due", horizon_days=30).fit(
        june_ledger(), "2024-06-30"
    )
    c = km.curves_
    # enterprise (C1): A 15 and F 10, both paid
    ent = c[c["group"] == "enterprise"]
    assert ent["days"].tolist() == [10, 15] and ent["survival"].tolist() == [0.5, 0.0]
    # smb: B −5 paid; C 42, D −28, E 16 censored → at risk at −5: B, C, E
    smb = c[c["group"] == "smb"]
    assert smb["days"].tolist() == [-5] and smb["survival"].tolist() == pytest.approx([2 / 3])
    t = km.summary()
    # enterprise: restricted mean of min(T, 30) from t0 = 0: 10 + 5 × 0.5 = 12.5
    assert t.loc["enterprise", "restricted_mean_days"] == pytest.approx(12.5)
    # smb starts at −28: −28 + 23 × 1 + 35 × 2/3 (to day 30), follow-up reaches 42 ≥ 30
    assert t.loc["smb", "restricted_mean_days"] == pytest.approx(-28 + 23 + 35 * 2 / 3)
    assert km.logrank_["df"] == 1


def test_competing_closures_give_the_aalen_johansen_incidence():
    # many invoices cancelled by credit notes, so the choice matters
    sample = generate(
        customers=300, years=1.5, seed=12, credit_note_rate=0.2, credit_note_full_share=0.6
    ).ledger
    as_of = "2023-12-31"
    comp = payment_spells(sample, as_of, closures="competing")
    km = kaplan_meier(comp["days"], comp["event"])
    # the same invoices as competing risks: paid (1), closed otherwise (2), open (0)
    censor = payment_spells(sample, as_of)
    status = np.select(
        [censor["event"], censor["outcome"].isin(["written_off", "credit_closed"])], [1, 2], 0
    )
    assert (status == 2).sum() > 20  # the check has closures to bite on
    ci = CumIncidenceRight(censor["days"].to_numpy(float), status)
    at = km.curves_["days"].to_numpy()
    cif = ci.cinc[0][np.searchsorted(ci.times, at)]
    gap = np.abs(1 - km.curves_["survival"].to_numpy() - cif)
    # the censoring-complete product limit and Aalen–Johansen differ only by noise
    assert gap.max() < 0.003
    # whereas censoring the closures overstates the share ever paid by about the closed share
    plain = kaplan_meier(censor["days"], censor["event"]).curves_
    late = plain["days"].to_numpy() <= at.max()
    plain_cif = 1 - plain["survival"].to_numpy()[late]
    aj = ci.cinc[0][np.searchsorted(ci.times, plain["days"].to_numpy()[late])]
    assert (plain_cif - aj).max() > 0.05
    assert 1 - km.curves_["survival"].iloc[-1] < 1 - plain["survival"].iloc[-1] - 0.05


# ------------------------------------------------------------ properties
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 50), st.booleans()), min_size=1, max_size=40).filter(
        lambda rows: any(e for _, e in rows)
    ),
    st.integers(1, 60),
)
def test_curve_invariants(rows, horizon):
    days = np.array([d for d, _ in rows])
    event = np.array([e for _, e in rows])
    r = kaplan_meier(days, event, horizon_days=horizon)
    c = r.curves_
    s = c["survival"].to_numpy()
    assert np.all(np.diff(s) < 0) and s[0] < 1 and s[-1] >= 0
    assert np.all(c["lower"] <= s + 1e-12) and np.all(s <= c["upper"] + 1e-12)
    assert np.all(np.diff(c["at_risk"]) < 0)
    assert c["events"].sum() == event.sum()
    row = r.summary().loc["all"]
    mean = row["restricted_mean_days"]
    if days.max() >= horizon or s[-1] == 0:
        assert 0 <= mean <= horizon
    if event.all():
        # no censoring: KM is one minus the empirical distribution function
        for t, si in zip(c["days"], s, strict=True):
            assert si == pytest.approx((days > t).mean())
        assert mean == pytest.approx(np.minimum(days, horizon).mean())


def test_restricted_mean_se_matches_its_sampling_spread():
    rng = np.random.default_rng(np.random.SeedSequence(7))
    means, ses = [], []
    for _ in range(300):
        t = np.ceil(rng.exponential(40, 400))
        c = rng.integers(10, 200, 400)
        r = kaplan_meier(np.minimum(t, c), t <= c, horizon_days=90)
        row = r.summary().loc["all"]
        means.append(row["restricted_mean_days"])
        ses.append(row["restricted_mean_se"])
    spread, mean_se = np.std(means, ddof=1), np.mean(ses)
    assert mean_se == pytest.approx(spread, rel=0.12)
    # and the interval covers the true E[min(T, 90)] of ceil(Exp(40)) about 95 % of the time
    p = np.exp(-np.arange(90) / 40)  # P(ceil(T) > k) = P(T > k)
    truth = p.sum()
    cover = np.mean(np.abs(np.array(means) - truth) <= 1.96 * np.array(ses))
    assert 0.91 <= cover <= 0.99


# ------------------------------------------------- recovery and censoring
@pytest.fixture(scope="module")
def long_run():
    return generate(customers=1500, years=4, seed=1).ledger


def test_km_bands_cover_the_uncut_payment_time_distribution_per_segment(long_run):
    mid = "2024-12-31"
    cut = long_run.as_of(mid)
    km = PaymentSurvival(by="segment", horizon_days=120).fit(cut)
    # truth: the same invoices' outcomes two more years on (99.7 % settled by then)
    full = payment_spells(long_run, "2026-12-31")
    known = full[full["invoice_id"].isin(cut.invoices["invoice_id"])]
    assert (known["outcome"] == "open").mean() < 0.005
    truth = kaplan_meier(known["days"], known["event"], known["segment"], horizon_days=120)
    checks = misses = 0
    for seg, row in truth.summary().iterrows():
        curve = km.curves_[km.curves_["group"] == seg]
        tcurve = truth.curves_[truth.curves_["group"] == seg]
        for q in ("p25", "median", "p75", "p90"):
            day = row[f"{q}_days"]
            true_s = tcurve.loc[tcurve["days"] <= day, "survival"].iloc[-1]
            at = curve[curve["days"] <= day].iloc[-1]
            checks += 1
            misses += not (at["lower"] <= true_s <= at["upper"])
        est = km.summary().loc[seg]
        assert est["median_lower"] <= row["median_days"] <= est["median_upper"]
    assert checks == 12 and misses == 0
    # the segments really differ, and in the generator's order (enterprise pays slowest)
    medians = km.summary()["median_days"]
    assert medians["enterprise"] > medians["mid_market"] > medians["smb"]
    assert km.logrank_["p_value"] < 1e-12


def test_cut_ledger_naive_mean_is_biased_low_but_km_matches_the_uncut_truth():
    full = generate(customers=1000, years=2, seed=1).ledger
    cut = full.as_of("2023-06-30")  # six months in: a quarter of the invoices still open
    spells = payment_spells(cut)
    assert 0.2 < 1 - spells["event"].mean() < 0.3
    later = payment_spells(full, "2024-12-31")
    same = later[later["invoice_id"].isin(spells["invoice_id"])]
    # naive: the mean days to pay of the invoices paid by the cut
    naive = spells.loc[spells["event"], "days"]
    naive_se = naive.std() / math.sqrt(len(naive))
    true_mean = same.loc[same["event"], "days"].mean()
    assert true_mean - naive.mean() > 3.5  # days
    assert (true_mean - naive.mean()) / naive_se > 10
    # KM on the cut ledger recovers the uncut median and restricted mean
    km = PaymentSurvival(horizon_days=120).fit(cut).summary().loc["all"]
    truth = kaplan_meier(same["days"], same["event"], horizon_days=120).summary().loc["all"]
    assert km["median_lower"] <= truth["median_days"] <= km["median_upper"]
    lo, hi = km["restricted_mean_lower"], km["restricted_mean_upper"]
    assert lo <= truth["restricted_mean_days"] <= hi
    # while the naive restricted mean is far outside that interval
    assert np.minimum(naive, 120).mean() < lo - 3


# ---------------------------------------------------------------- log-rank
def test_logrank_detects_a_planted_difference_and_holds_its_size_under_the_null(sample):
    ledger, as_of = planted_ledger(3000, paper_hr=1.4, dispute_hr=1.0, seed=2)
    planted = PaymentSurvival(by="channel").fit(ledger, as_of)
    assert planted.logrank_["p_value"] < 1e-6
    med = planted.summary()["median_days"]
    assert med["paper"] < med["electronic"]
    spells = payment_spells(sample, "2024-06-30")
    rng = np.random.default_rng(np.random.SeedSequence(3))
    pvalues = np.array(
        [
            kaplan_meier(spells["days"], spells["event"], rng.integers(0, 2, len(spells))).logrank_[
                "p_value"
            ]
            for _ in range(50)
        ]
    )
    assert np.mean(pvalues < 0.05) <= 0.15
    # roughly uniform: each third of [0, 1] holds 10-30 of the 50
    thirds = np.histogram(pvalues, bins=[0, 1 / 3, 2 / 3, 1])[0]
    assert thirds.min() >= 8, thirds


# ------------------------------------------------------------------ hazards
def test_cox_recovers_planted_hazard_ratios_with_a_time_varying_dispute():
    ledger, as_of = planted_ledger(6000, paper_hr=1.5, dispute_hr=0.4, seed=4)
    cox = PaymentHazards(covariates=("amount", "channel", "disputed")).fit(ledger, as_of)
    t = cox.summary().set_index("covariate")
    assert list(t.index) == ["log2_amount", "channel[paper]", "disputed"]
    assert cox.reference_ == {"channel": "electronic"}
    paper, disputed, amount = t.loc["channel[paper]"], t.loc["disputed"], t.loc["log2_amount"]
    assert paper["lower"] <= 1.5 <= paper["upper"] and paper["lower"] > 1.3
    assert disputed["lower"] <= 0.4 <= disputed["upper"] and disputed["upper"] < 0.5
    assert amount["lower"] <= 1 <= amount["upper"]  # amounts were drawn without an effect
    assert disputed["p_value"] < 1e-10
    assert cox.n_ == 6000 and 0.9 < cox.events_ / cox.n_ < 1
    # a dispute flag fixed at baseline ("ever disputed") would mix in time the invoice
    # spent undisputed; the time-varying split keeps the estimate on target
    assert repr(cox).startswith("PaymentHazards(covariates=['amount', 'channel', 'disputed']")


def test_dispute_split_rows_by_hand():
    exog = np.array([[5.0, 0.0], [6.0, 0.0], [7.0, 0.0], [8.0, 0.0]])
    time = np.array([10.0, 10.0, 10.0, 10.0])
    status = np.array([1.0, 1.0, 0.0, 1.0])
    entry = np.zeros(4)
    opened = np.array([0.0, 4.0, 10.0, 12.0])  # at start, mid-spell, on the last day, after
    x, t, s, e = hz._split_at_dispute(exog, 1, time, status, entry, opened)
    assert x[:, 1].tolist() == [1, 0, 0, 0, 1, 1]
    assert x[:, 0].tolist() == [5, 6, 7, 8, 6, 7]
    assert t.tolist() == [10, 3.5, 9.5, 10, 10, 10]
    assert s.tolist() == [1, 0, 0, 1, 1, 0]
    assert e.tolist() == [0, 0, 0, 0, 3.5, 9.5]


def test_customer_history_uses_only_invoices_paid_before_the_invoice_date():
    flat = pd.DataFrame(
        {
            "invoice_id": ["A", "B", "C", "D", "X"],
            "customer_id": ["C1", "C1", "C1", "C1", "C2"],
            "invoice_date": D(
                ["2024-01-01", "2024-02-10", "2024-02-11", "2024-03-01", "2024-03-01"]
            ),
            "due_date": D(["2024-01-31", "2024-03-11", "2024-03-12", "2024-03-31", "2024-03-31"]),
            "amount": 1000,
            # A 10 days late, paid 02-10; B 20 days early, paid 02-20; C paid late 04-01
            "paid_date": D(["2024-02-10", "2024-02-20", "2024-04-01", None, "2024-03-05"]),
        }
    )
    ledger = Ledger.from_flat(flat)
    b = book(ledger)
    as_day = as_of_day(ledger, "2024-04-30")[1]
    paid = paid_invoices(b)
    count, mean = hz._prior_history(b, paid.paid & (paid.settled <= as_day), np.arange(5))
    # A: nothing before; B issued the day A was paid: not *before*; C: A (+10);
    # D: A (+10) and B (−20), not C (paid after D's date); X: another customer
    assert count.tolist() == [0, 0, 1, 2, 0]
    assert mean[2] == 10 and mean[3] == -5
    assert np.isnan(mean[[0, 1, 4]]).all()


def test_cox_on_a_generated_ledger_has_the_generator_directions(sample):
    cox = PaymentHazards().fit(sample, "2024-06-30")
    t = cox.summary().set_index("covariate")
    assert set(t.columns) >= {"hazard_ratio", "lower", "upper", "p_value", "unit"}
    assert t.loc["terms_30d", "upper"] < 1  # longer terms, slower payment
    assert t.loc["disputed", "upper"] < 0.6  # disputed amounts wait for resolution
    assert t.loc["history_10d", "upper"] < 1  # habitually late customers stay slow
    assert cox.reference_["segment"] in {"enterprise", "mid_market", "smb"}
    assert all(c.startswith("vs segment ") for c in t.filter(like="segment[", axis=0)["unit"])
    fig = cox.plot()
    assert list(fig.data[0].y) == t.index.tolist()
    assert fig.layout.xaxis.type == "log"


def test_cox_subsamples_reproducibly():
    ledger, as_of = planted_ledger(1500, paper_hr=1.5, dispute_hr=1.0, seed=8)
    a = PaymentHazards(covariates=("channel",), max_rows=600, seed=1).fit(ledger, as_of)
    b = PaymentHazards(covariates=("channel",), max_rows=600, seed=1).fit(ledger, as_of)
    c = PaymentHazards(covariates=("channel",), max_rows=600, seed=2).fit(ledger, as_of)
    assert a.n_ == 600
    assert a.summary()["coef"].tolist() == b.summary()["coef"].tolist()
    assert a.summary()["coef"].tolist() != c.summary()["coef"].tolist()


# --------------------------------------------------------------- disputes
def test_dispute_resolution_censors_open_disputes(sample):
    r = dispute_resolution(sample, "2023-12-31", by="reason_code")
    disp = sample.disputes[sample.disputes["opened_date"] <= "2023-12-31"]
    t = r.summary()
    assert t["n"].sum() == len(disp)
    still_open = (disp["resolved_date"].isna() | (disp["resolved_date"] > "2023-12-31")).sum()
    assert t["censored"].sum() == still_open > 0
    assert set(t.index) == set(disp["reason_code"].dropna())
    with pytest.raises(ValueError, match="no disputes"):
        dispute_resolution(sample, "2023-01-01")


# ----------------------------------------------------- protocol and output
def test_to_dict_is_the_cli_json_and_thins_long_curves(sample):
    km = PaymentSurvival(by="segment").fit(sample, "2024-06-30")
    doc = json.loads(json.dumps(km.to_dict(max_points=50), allow_nan=False))
    assert doc["as_of"] == "2024-06-30" and doc["by"] == "segment"
    assert set(doc["groups"]) == set(km.summary().index)
    for name, g in doc["groups"].items():
        row = km.summary().loc[name]
        assert g["n"] == row["n"] and g["events"] == row["events"]
        assert g["median_days"] == row["median_days"]
        assert g["median_days_ci"] == [row["median_lower"], row["median_upper"]]
        assert g["restricted_mean_days"] == pytest.approx(row["restricted_mean_days"])
        curve = g["curve"]
        full = km.curves_[km.curves_["group"] == name]
        assert 2 <= len(curve["days"]) <= 50 < len(full)
        assert curve["days"][0] == full["days"].iloc[0]
        assert curve["days"][-1] == full["days"].iloc[-1]
        assert curve["survival"] == sorted(curve["survival"], reverse=True)
    assert doc["logrank"]["df"] == 2
    fig = km.plot()
    lines = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in lines] == sorted(doc["groups"])
    assert lines[0].y[0] == 1.0 and lines[0].line.shape == "hv"
    assert fig.layout.yaxis.tickformat == ".0%"


def test_by_labels_and_by_disputed():
    ledger = june_ledger()
    labels = ["x", "y", "x", "y", "x", "y"]
    km = PaymentSurvival(by=labels).fit(ledger, "2024-06-30")
    assert km.summary()["n"].to_dict() == {"x": 3, "y": 3}
    assert "by=<labels>" in repr(km)
    assert km.to_dict()["by"] == "custom"
    ibm_like = Ledger.from_flat(
        pd.DataFrame(
            {
                "invoice_id": ["A", "B", "C"],
                "customer_id": "C1",
                "invoice_date": D(["2024-01-01"] * 3),
                "due_date": D(["2024-01-31"] * 3),
                "amount": 100,
                "paid_date": D(["2024-01-11", "2024-02-20", "2024-01-21"]),
                "disputed": [False, True, False],
            }
        )
    )
    t = PaymentSurvival(by="disputed").fit(ibm_like, "2024-03-01").summary()
    assert t["median_days"].to_dict() == {"False": 20.0, "True": 50.0}


def test_bad_arguments_raise_specific_errors():
    ledger = june_ledger()
    with pytest.raises(ValueError, match="origin must be one of"):
        PaymentSurvival(origin="paid")
    with pytest.raises(ValueError, match="closures must be one of"):
        PaymentSurvival(closures="drop")
    with pytest.raises(ValueError, match="alpha"):
        PaymentSurvival(alpha=1.5)
    with pytest.raises(ValueError, match="horizon_days must be greater than 0"):
        PaymentSurvival(horizon_days=0)
    with pytest.raises(ValueError, match="no column 'colour'"):
        PaymentSurvival(by="colour").fit(ledger, "2024-06-30")
    with pytest.raises(ValueError, match="by has 2 labels for 6 invoices"):
        PaymentSurvival(by=["a", "b"]).fit(ledger, "2024-06-30")
    with pytest.raises(ValueError, match="no invoices dated"):
        PaymentSurvival().fit(ledger, "2024-01-01")
    with pytest.raises(ValueError, match="never reads the clock"):
        PaymentSurvival().fit(ledger)
    with pytest.raises(ValueError, match="cannot see"):
        PaymentSurvival().fit(ledger.as_of("2024-06-01"), "2024-06-30")
    with pytest.raises(ValueError, match="call fit"):
        PaymentSurvival().summary()
    with pytest.raises(ValueError, match="covariates must be"):
        PaymentHazards(covariates=("amount", "colour"))
    with pytest.raises(ValueError, match="max_rows"):
        PaymentHazards(max_rows=3)
    with pytest.raises(ValueError, match="same length"):
        kaplan_meier([1, 2], [1])
    with pytest.raises(ValueError, match="max_points"):
        kaplan_meier([1, 2], [1, 1]).to_dict(max_points=1)
    assert repr(PaymentSurvival()).endswith("not fitted)")
