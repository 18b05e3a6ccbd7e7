"""The policy simulator: its levers and sentences by hand, and the app driven headless.

The app is built on the sample ledger with a few replications over 90 days run
inline; each test changes a lever, presses Run, waits for the background thread
and checks the chart's data, the tiles and the summary against the engine.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rpmkit.io as rio
from rpmkit import kpi
from rpmkit.config import sample_dir
from rpmkit.sim import (
    Behaviour,
    CreditPolicy,
    Disputes,
    PayerBehaviour,
    Scenario,
    SegmentSales,
    compare,
)
from rpmkit.synth import generate
from rpmkit.ui import data
from rpmkit.ui.simulator import PolicySimulatorApp
from rpmkit.ui.simulator.levers import LeverPanel
from rpmkit.ui.simulator.outcome import (
    TILES,
    Baseline,
    baseline,
    outcome,
    run_comparison,
    summary_text,
)
from rpmkit.ui.simulator.policy import Policy, apply_policy, changes, terms_text
from rpmkit.ui.simulator.text import SAME

REPS = 4
SMALL = Scenario(
    horizon_days=62,
    sales=(SegmentSales("smb", 60, 5.0, 800.0, terms="NET45"),),
    behaviour=Behaviour(segments=(PayerBehaviour("smb", reference_net_days=45),)),
)


def looks_friendly(text: str) -> bool:
    if "Traceback" in text or re.search(r"\b\w+(Error|Exception)\b", text):
        return False
    return not re.search(r"(^|\s)/\w+/", text)


def csv_of(links) -> pd.DataFrame:
    match = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', links.csv_html)
    return pd.read_csv(io.BytesIO(base64.b64decode(match.group(1))), encoding="utf-8-sig")


@pytest.fixture(scope="module")
def ledger():
    return rio.load(sample_dir()).ledger


@pytest.fixture
def app(ledger):
    return PolicySimulatorApp(ledger, replications=REPS, horizon_days=90, processes=1)


def run(app) -> None:
    app.click_run()
    assert app.wait(300), "the run did not finish"
    assert app.notice.text == "", app.notice.text


def traces(fig) -> dict:
    """Traces by (name, x axis); the unnamed band edges are left out."""
    return {(t.name, t.xaxis or "x"): t for t in fig.data if t.name}


# ---------------------------------------------------------------- levers
def test_policy_changes_the_scenario_by_hand():
    p = dataclasses.replace(
        Policy.of(SMALL),
        terms_days=30,
        discount_percent=2.0,
        discount_days=10,
        dunning_shift_days=-7,
        collectors=5,
        limit_days_of_sales=60.0,
        hold_days_past_due=30,
        dispute_capacity=4,
        dispute_days=3.5,
    )
    s = apply_policy(SMALL, p)
    assert [seg.terms for seg in s.sales] == ["2/10 NET30"]
    assert [d.day for d in s.dunning] == [-4, 3, 23, 53]  # 3, 10, 30, 60 a week earlier
    assert s.collectors.count == 5 and s.credit.limit_days_of_sales == 60.0
    assert s.credit.hold_days_past_due == 30
    assert s.disputes.desk_capacity == 4 and s.disputes.resolution_median_days == 3.5
    assert terms_text(s) == "2/10 Net 30"
    assert changes(SMALL, p) == [
        "moving from Net 45 to 2/10 Net 30",
        "dunning 7 days earlier",
        "going from 3 to 5 collectors",
        "credit limits of 60 days of sales",
        "holding orders after 30 days past due",
        "a dispute desk working 4 at once",
        "resolving disputes in 3.5 days instead of 1 (median)",
    ]
    assert changes(SMALL, Policy.of(SMALL)) == []
    assert apply_policy(SMALL, Policy.of(SMALL)) == SMALL


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"collectors": -2}, "Collectors must be a whole number from 0 to 1,000; got -2."),
        ({"discount_percent": 25.0}, "The early-payment discount must be between 0 and 19.99 %"),
        ({"dispute_days": 0.0}, "The dispute resolution time must be between 0.01 and 365 days"),
        ({"dunning_shift_days": 90}, "The dunning shift must be a whole number from -60 to 60"),
    ],
)
def test_bad_levers_say_which_and_why(fields, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        dataclasses.replace(Policy.of(SMALL), **fields)


def test_combinations_the_scenario_cannot_take():
    p = dataclasses.replace(Policy.of(SMALL), terms_days=10, discount_percent=2.0, discount_days=20)
    with pytest.raises(ValueError, match=r"discount window \(20 days\) is longer than the terms"):
        apply_policy(SMALL, p)
    far = dataclasses.replace(SMALL, dunning=(dataclasses.replace(SMALL.dunning[0], day=-40),))
    with pytest.raises(ValueError, match="puts a step at -70 days"):
        apply_policy(far, dataclasses.replace(Policy.of(far), dunning_shift_days=-30))


@settings(max_examples=40, deadline=None)
@given(
    terms=st.one_of(st.none(), st.integers(10, 120)),
    shift=st.integers(-3, 30),
    collectors=st.integers(0, 1000),
    limit=st.one_of(st.none(), st.floats(0, 3650)),
    desk=st.one_of(st.none(), st.integers(1, 100)),
    days=st.floats(0.01, 365),
)
def test_any_valid_policy_round_trips(terms, shift, collectors, limit, desk, days):
    p = Policy(
        terms_days=terms,
        dunning_shift_days=shift,
        collectors=collectors,
        limit_days_of_sales=limit,
        dispute_capacity=desk,
        dispute_days=days,
    )
    s = apply_policy(SMALL, p)
    assert dataclasses.replace(Policy.of(s), terms_days=terms, dunning_shift_days=shift) == p
    assert all(seg.net_days == (45 if terms is None else terms) for seg in s.sales)
    assert [d.day - shift for d in s.dunning] == [d.day for d in SMALL.dunning]


def test_the_panel_reads_back_any_calibrated_baseline_as_it_is():
    # values a scenario may hold that no option list or check had: disputes resolved
    # within the day, a desk, a limit and a hold off the lists, a discount to be taken on
    # the invoice date
    odd = dataclasses.replace(
        SMALL,
        sales=(dataclasses.replace(SMALL.sales[0], terms="2/0 NET30"),),
        disputes=Disputes(desk_capacity=7, resolution_median_days=0.01),
        credit=CreditPolicy(limit_days_of_sales=75.5, hold_days_past_due=45),
    )
    panel = LeverPanel()
    panel.set_baseline(odd)
    c = panel.controls
    today = [c[k].value for k in ("dispute_desk", "credit_limit", "order_hold")]
    assert today == [7, 75.5, 45]
    assert c["dispute_days"].value == 0.01 and c["discount_days"].value == 0
    assert ("7 at once", 7) in c["dispute_desk"].options
    assert ("75.5 days of sales", 75.5) in c["credit_limit"].options
    assert changes(odd, panel.policy()) == []
    assert apply_policy(odd, panel.policy()) == odd
    panel.set_baseline(SMALL)  # the default desk of 12, and no stale 7
    assert [v for _, v in c["dispute_desk"].options] == [-1, 1, 2, 3, 5, 10, 12, 20]
    assert c["dispute_desk"].value == 12 and changes(SMALL, panel.policy()) == []


def test_summary_hedges_when_an_interval_spans_zero():
    t = pd.DataFrame(
        {
            "difference": [-1.5e5, 0.4, 0.0, -20.0],
            "ci_low": [-4e5, -0.2, 0.0, -30.0],
            "ci_high": [1e5, 1.0, 0.0, -10.0],
        },
        index=list(TILES),
    )
    t.attrs["window_days"] = 60
    text = summary_text(["dunning 7 days earlier"], t, "EUR")
    assert text == (
        "Dunning 7 days earlier makes no clear difference to the cash received in the first 60 "
        "days (95 % CI −€400k to +€100k); DSO is unchanged within noise (95 % CI −0.2 days to "
        "+1.0 days); the bad-debt ratio is the same in every replication; collection cost falls "
        "by €20 (95 % CI −€30 to −€10)."
    )


def test_the_run_is_compare_from_the_ledgers_open_items():
    other = apply_policy(SMALL, dataclasses.replace(Policy.of(SMALL), terms_days=30))
    items = pd.DataFrame(
        {
            "invoice_id": ["A1", "A2"],
            "customer_id": ["C1", "C2"],
            "segment": ["smb", "smb"],
            "invoice_date": pd.to_datetime(["2024-11-20", "2024-12-15"]),
            "due_date": pd.to_datetime(["2024-12-20", "2025-01-14"]),
            "amount": np.array([150_000, 99_999], dtype=np.int64),
        }
    )
    base = Baseline(pd.Timestamp("2024-12-31"), SMALL, items, pd.DataFrame(), pd.DataFrame())
    seen = []
    ours = run_comparison(base, other, 3, 7, processes=1, progress=lambda d, n: seen.append(d))
    ref = compare(SMALL, other, 3, 7, processes=1, progress=False, opening=items)
    cols = ["base", "other", "difference", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(ours.differences[cols], ref.differences[cols])
    assert seen == list(range(7)) and ours.names == ("baseline", "changed policy")
    # the two open invoices ($2,499.99) are the book before day one
    day = {m: ours.base.series(m).iloc[0] for m in ("open_ar", "sales", "receipts")}
    settled = sum(ours.base.series(m).iloc[0] for m in ("credit_notes", "write_offs"))
    before = day["open_ar"] - day["sales"] + day["receipts"] + settled
    np.testing.assert_allclose(before, 2499.99, atol=0.005)
    assert ours.differences.loc["cash_collected", "difference"] > 0  # Net 45 → Net 30


# ------------------------------------------------------------------- app
def test_opens_on_what_the_ledger_says(app, ledger):
    as_of = data.default_as_of(ledger)
    assert app.notice.text == "" and app.comparison is None
    names = traces(app.figure)
    due, history = names[("open items falling due", "x")], names[("ledger", "x2")]
    open_ar = kpi.aging(ledger, as_of).amounts.loc["total", "total"] / 100
    assert history.y[-1] == pytest.approx(open_ar, abs=0.005)  # 28,814,850.86
    assert pd.Timestamp(history.x[-1]) == as_of
    assert pd.Timestamp(due.x[0]) == as_of + pd.Timedelta(days=1)
    # due by the first simulated day = days past due at as_of >= -1: aging's last bucket
    by_then = kpi.aging(ledger, as_of, cutoffs=(-2,)).amounts.iloc[0, 1] / 100
    assert due.y[0] == pytest.approx(by_then, abs=0.005)  # 7,213,304.12
    assert due.y[-1] == pytest.approx(open_ar, abs=0.005)  # everything falls due in 90 days
    assert all(t.value_text == "–" for t in app.tiles.values())
    assert "Net 28–44" in app.tables["levers"].html


def test_tighter_terms_bring_cash_forward(app):
    before = app.figure.to_dict()["data"]
    app.controls["terms"].value = 15
    run(app)
    after = traces(app.figure)
    assert app.figure.to_dict()["data"] != before
    c = app.comparison
    assert c.base.replications == REPS and c.base.scenario.horizon_days == 90
    # the P50 of cumulative cash on day 90 is the median of each replication's cash collected
    for name, result in (("baseline", c.base), ("changed policy", c.other)):
        p50 = after[(f"{name} P50", "x")].y[-1]
        assert p50 == pytest.approx(np.median(result.kpis["cash_collected"]), rel=1e-12)
    assert after[("changed policy P50", "x")].y[-1] > after[("baseline P50", "x")].y[-1]
    assert after[("changed policy P50", "x2")].y[-1] < after[("baseline P50", "x2")].y[-1]
    cash, dso = app.tiles["cash_window"], app.tiles["dso"]
    assert cash.tone == "good" and cash.value_text.startswith("+$")
    assert dso.tone == "good" and dso.value_text.startswith("−")
    d = c.differences.loc["dso"]
    assert d["ci_high"] < 0 and f"{abs(d['difference']):.1f} days" in dso.value_text
    text = app.summary_text
    assert text.startswith("Moving from Net 28–44 to Net 15 brings in about $")
    assert "DSO falls by" in text
    table = csv_of(app.tables["differences"].downloads).set_index("kpi")
    assert table.loc["dso", "difference"] == pytest.approx(d["difference"])
    cash_days = c.base.series("receipts").sum(axis=0).mean()
    assert table.loc["cash_window", "baseline"] == pytest.approx(cash_days)
    bands = csv_of(app.band_downloads)
    assert len(bands) == 2 * 2 * 90 and set(bands["scenario"]) == {"baseline", "changed policy"}


def test_no_collectors_saves_the_calls_and_moves_dso_as_calibrated(app):
    app.controls["collectors"].value = 0
    run(app)
    d = app.comparison.differences
    assert d.loc["calls", "other"] == 0 and d.loc["calls", "base"] > 0
    assert d.loc["collection_cost", "ci_high"] < 0  # no call costs
    assert app.tiles["collection_cost"].tone == "good"
    # The sample's payers do not respond to calls (its generator records them after the
    # fact); calibration reads that off the ledger, so the calls' uplift is 0 and DSO
    # does not move: only what the ledger shows moves the simulated cash.
    calls = [s for s in app._base.scenario.dunning if s.channel == "call"]
    assert [s.day for s in calls] == [35, 55] and all(s.uplift == 0 for s in calls)
    # and the levers say so beside today's dunning
    today = app._levers._today[2].value
    assert "+35, +55 days call (no effect)<br>" in today
    assert "+7, +21 days reminder (1.3× for 7\u00a0d)<br>" in today
    assert d.loc["dso", "ci_low"] <= 0 <= d.loc["dso", "ci_high"]
    assert app.summary_text.startswith("Going from 3 to 0 collectors")


def test_invalid_lever_shows_a_message_and_does_not_run(app):
    app.controls["collectors"].value = -2
    assert app.notice.text == "Collectors must be a whole number from 0 to 1,000; got -2."
    app.click_run()
    assert not app.running and app.comparison is None
    assert looks_friendly(app.notice.text)
    app.controls["collectors"].value = 3
    assert app.notice.text == ""
    app.controls["terms"].value = 10
    app.controls["discount_percent"].value = 2.0
    app.controls["discount_days"].value = 20
    assert "discount window (20 days) is longer than the terms (Net 10)" in app.notice.text
    app.controls["discount_days"].value = 5
    assert app.notice.text == ""
    app.controls["replications"].value = 0
    app.click_run()
    assert "Replications must be a whole number from 1" in app.notice.text
    assert app.comparison is None and looks_friendly(app.notice.text)


def test_cancel_stops_the_run(app):
    app.controls["replications"].value = 50
    app.controls["dunning_shift"].value = -7
    app.click_run()
    app.click_cancel()
    assert app.wait(120)
    assert app.comparison is None
    assert "cancelled" in app.notice.text and looks_friendly(app.notice.text)


def test_bad_source_shows_a_friendly_message(tmp_path):
    broken = PolicySimulatorApp.from_source(str(tmp_path / "nowhere.csv"))
    assert "No ledger was found" in broken.notice.text and looks_friendly(broken.notice.text)
    assert repr(broken) == "PolicySimulatorApp(no ledger)"


def test_runs_start_from_the_ledgers_book_and_conserve_money():
    # A generated ledger: the simulated open AR starts at the ledger's open AR at the
    # as-of date, and every replication of both policies balances to the cent:
    # opening + sales − receipts − credit notes − write-offs − discounts = open AR at the end.
    ledger = generate(customers=300, years=1, seed=5).ledger
    as_of = data.default_as_of(ledger)
    base = baseline(ledger, as_of, horizon_days=31)
    opening = kpi.aging(ledger, as_of).amounts.loc["total", "total"] / 100
    assert base.opening["amount"].sum() / 100 == pytest.approx(opening, abs=0.005)
    other = apply_policy(base.scenario, dataclasses.replace(base.policy, terms_days=15))
    c = run_comparison(base, other, 2, 11, processes=1)
    for result in (c.base, c.other):
        s = {m: result.series(m).to_numpy() for m in ("sales", "receipts", "open_ar")}
        settled = sum(
            result.series(m).to_numpy() for m in ("credit_notes", "write_offs", "discount_cost")
        )
        first = s["open_ar"][0] - s["sales"][0] + s["receipts"][0] + settled[0]
        np.testing.assert_allclose(first, opening, atol=0.005)
        end = opening + (s["sales"] - s["receipts"] - settled).sum(axis=0)
        np.testing.assert_allclose(end, s["open_ar"][-1], atol=0.005)
    cash = outcome(c).loc["cash_window"]
    assert cash["difference"] > 0  # Net 15 for everyone: cash comes in sooner


def test_too_little_history_says_so(ledger):
    early = PolicySimulatorApp(ledger, "2023-01-10", replications=2, horizon_days=90, processes=1)
    assert early.notice.text.startswith("The ledger cannot be calibrated at 2023-01-10: fewer than")
    assert looks_friendly(early.notice.text)


def test_opens_on_a_ledger_resolving_disputes_within_the_day(ledger):
    # calibration puts the median resolution time at 0.01 days: the levers take it as is
    d = ledger.disputes.assign(resolved_date=ledger.disputes["opened_date"])
    quick = ledger.replace(disputes=d)
    app = PolicySimulatorApp(quick, "2024-11-30", replications=2, horizon_days=60, processes=1)
    assert app.notice.text == ""
    assert app.controls["dispute_days"].value == 0.01
    assert "0.01 days (median)" in app.tables["levers"].html
    run(app)
    assert app.comparison.other.scenario.disputes.resolution_median_days == 0.01
    assert app.summary_text.startswith(SAME)
    app.controls["dispute_days"].value = 0.001
    assert app.notice.text.startswith("The dispute resolution time must be between 0.01 and 365")


def test_a_ledger_without_disputes_keeps_the_default_desk(ledger):
    # no disputes to calibrate on: the default desk of 12, which the desk list lacked
    app = PolicySimulatorApp(
        ledger.replace(disputes=ledger.disputes.iloc[:0]),
        "2024-11-30",
        replications=2,
        horizon_days=60,
        processes=1,
    )
    assert app.notice.text == "" and app.controls["dispute_desk"].value == 12
    run(app)
    assert app.comparison.other.scenario == app.comparison.base.scenario
    assert app.summary_text.startswith(SAME)


def test_levers_that_cannot_be_set_show_a_message(ledger, monkeypatch):
    def refuse(self, scenario):
        raise ValueError("The dispute resolution time must be between 0.01 and 365 days.")

    monkeypatch.setattr(LeverPanel, "set_baseline", refuse)
    app = PolicySimulatorApp(ledger, replications=2, horizon_days=60, processes=1)
    assert app.notice.text.startswith("The levers cannot be set from the baseline at ")
    assert "between 0.01 and 365 days" in app.notice.text and looks_friendly(app.notice.text)
    app.click_run()
    assert not app.running and app.comparison is None
