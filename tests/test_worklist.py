"""The dunning policy, the ranked worklist, its exclusions, the replay and the letters."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from rpmkit.config import REPO_ROOT
from rpmkit.ledger import Ledger
from rpmkit.synth import generate
from rpmkit.worklist import (
    DunningPolicy,
    DunningStep,
    Worklist,
    WorklistReplay,
    rank_items,
    write_letters,
)

POLICY = DunningPolicy.default()


def items_frame(rows):
    return pd.DataFrame(
        rows,
        columns=["customer_id", "invoice_id", "segment", "open_amount", "days_past_due", "p_risk"],
    )


# ------------------------------------------------------------------ policy
def test_example_yaml_is_the_default_policy():
    assert DunningPolicy.from_yaml(REPO_ROOT / "policies" / "dunning.yaml") == POLICY


def test_policy_steps_by_days_segment_and_amount():
    dpd = np.array([-6, -5, 0, 1, 14, 15, 60, 61, 91, 400, 5, 5])
    seg = np.array(["smb"] * 10 + ["enterprise", "enterprise"], dtype=object)
    amt = np.array([100.0] * 11 + [10_000.0])
    names = [POLICY.steps[i].name if i >= 0 else None for i in POLICY.step_index(dpd, seg, amt)]
    assert names == [
        None,
        "courtesy_reminder",
        "courtesy_reminder",
        "first_reminder",
        "first_reminder",
        "second_notice_call",
        "second_notice_call",
        "final_demand_hold",
        "escalation",
        "escalation",
        "first_reminder",  # enterprise but below the key-account amount
        "key_account_call",
    ]


def test_policy_validation_names_the_field():
    with pytest.raises(ValueError, match="action must be one of"):
        DunningStep("x", "shout", 0)
    with pytest.raises(ValueError, match="to_day .* is before from_day"):
        DunningStep("x", "call", 10, 5)
    with pytest.raises(ValueError, match="unknown field"):
        DunningPolicy.from_dict(
            {"steps": [{"name": "a", "action": "call", "from_day": 0, "colour": 1}]}
        )
    with pytest.raises(ValueError, match="unique"):
        DunningPolicy(steps=(DunningStep("a", "call", 0), DunningStep("a", "call", 5)))


# ------------------------------------------------------------------ ranking by hand
def test_rank_items_by_hand():
    items = items_frame(
        [
            ("K1", "a", "smb", 1000.0, 20, 0.5),  # call, 10 min
            ("K1", "b", "smb", 500.0, 5, 0.5),  # covered by K1's call
            ("K2", "c", "smb", 4000.0, 3, 0.1),  # reminder, 3 min: 400 × 0.1 = 40 in 3 min
            ("K3", "d", "smb", 9000.0, -30, 0.9),  # too early for any step
            ("K4", "e", "smb", 100.0, 95, 1.0),  # escalation: 100 × .15 = 15 in 20 min
        ]
    )
    ranked = rank_items(items, POLICY)
    assert ranked["customer_id"].tolist() == ["K1", "K2", "K4"]
    k1 = ranked.iloc[0]
    assert k1["step"] == "second_notice_call" and k1["items"] == 2
    assert k1["at_risk"] == pytest.approx(750.0)
    assert k1["expected_cash"] == pytest.approx(150.0)
    assert k1["cash_per_hour"] == pytest.approx(900.0)
    assert ranked["cash_per_hour"].tolist() == pytest.approx([900.0, 800.0, 45.0])
    assert ranked["cumulative_hours"].tolist() == pytest.approx([10 / 60, 13 / 60, 33 / 60])
    assert k1["invoices"] == "a, b"
    assert "2 items, up to 20 days past due" in k1["reason"] and "/hour" in k1["reason"]
    # capacity: 13 minutes fit the first two actions only
    assert rank_items(items, POLICY, hours=13 / 60)["customer_id"].tolist() == ["K1", "K2"]
    assert rank_items(items, POLICY, top=1)["customer_id"].tolist() == ["K1"]
    with pytest.raises(ValueError, match="hours must be >= 0"):
        rank_items(items, POLICY, hours=-1)


def test_rank_items_properties():
    rng = np.random.default_rng(np.random.SeedSequence(4))
    n = 5_000
    items = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 700, n).astype(str),
            "invoice_id": np.arange(n).astype(str),
            "segment": rng.choice(["smb", "enterprise"], n),
            "open_amount": rng.gamma(1.5, 3000, n),
            "days_past_due": rng.integers(-40, 200, n),
            "p_risk": rng.random(n),
        }
    )
    ranked = rank_items(items, POLICY)
    assert ranked["cash_per_hour"].is_monotonic_decreasing
    assert ranked["customer_id"].is_unique
    covered = (
        POLICY.step_index(
            items["days_past_due"].to_numpy(),
            items["segment"].to_numpy(dtype=object),
            items["open_amount"].to_numpy(),
        )
        >= 0
    )
    assert ranked["open_amount"].sum() == pytest.approx(items["open_amount"][covered].sum())
    for hours in (0.5, 3.0, 12.0):
        cut = rank_items(items, POLICY, hours=hours)
        assert cut["minutes"].sum() / 60 <= hours + 1e-9
        assert len(cut) == len(ranked) or ranked["cumulative_hours"].iloc[len(cut)] > hours


# ------------------------------------------------------------------ exclusions on a ledger
@pytest.fixture(scope="module")
def generated():
    return generate(customers=400, years=2.0, seed=29)


@pytest.fixture(scope="module")
def worklist(generated):
    return Worklist(hours=6.0).fit(generated.ledger, "2024-06-30")


def test_disputed_and_promised_items_are_left_out(generated, worklist):
    ledger = generated.ledger
    t = pd.Timestamp("2024-06-30")
    items = worklist.items_
    d = ledger.disputes
    open_disputes = d[(d["opened_date"] <= t) & ~(d["resolved_date"] <= t).fillna(False)]
    disputed = set(open_disputes["invoice_id"]) & set(items["invoice_id"])
    assert disputed, "the generated ledger should have open disputes at this date"
    assert set(items.loc[items["excluded"] == "dispute", "invoice_id"]) == disputed
    a = ledger.activities
    promised = a[(a["kind"] == "promise_to_pay") & (a["date"] <= t) & (a["promised_date"] >= t)]
    promised_items = (set(promised["invoice_id"].dropna()) & set(items["invoice_id"])) - disputed
    assert promised_items
    assert promised_items <= set(items.loc[items["excluded"] == "promise", "invoice_id"])
    # a customer whose every item is excluded gets no action
    usable = set(items.loc[items["excluded"] == "", "customer_id"])
    assert set(worklist.all_actions_["customer_id"]) <= usable
    assert worklist.actions_["minutes"].sum() / 60 <= 6.0
    assert worklist.actions_["rank"].tolist() == list(range(1, len(worklist.actions_) + 1))


def test_promise_without_invoice_holds_the_whole_customer():
    inv = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3"] + [f"H{i}" for i in range(40)],
            "customer_id": ["K", "K", "M"] + ["Z"] * 40,
            "invoice_date": pd.to_datetime(["2024-01-01"] * 3 + ["2023-06-01"] * 40),
            "due_date": pd.to_datetime(["2024-01-31"] * 3 + ["2023-07-01"] * 40),
            "amount": [10_000, 20_000, 30_000] + [1_000] * 40,
            "currency": "USD",
        }
    )
    paid = inv.iloc[3:23]
    on_time = pd.to_datetime(["2023-06-20"] * 10 + ["2023-07-20"] * 10)
    payments = pd.DataFrame(
        {
            "payment_id": paid["invoice_id"],
            "payment_date": on_time,
            "amount": paid["amount"],
            "currency": "USD",
        }
    )
    alloc = pd.DataFrame(
        {
            "payment_id": paid["invoice_id"],
            "invoice_id": paid["invoice_id"],
            "amount": paid["amount"],
        }
    )
    act = pd.DataFrame(
        {
            "activity_id": ["A1"],
            "date": pd.to_datetime(["2024-02-10"]),
            "customer_id": ["K"],
            "kind": ["promise_to_pay"],
            "promised_date": pd.to_datetime(["2024-02-20"]),
        }
    )
    ledger = Ledger(invoices=inv, payments=payments, allocations=alloc, activities=act)
    wl = Worklist().fit(ledger, "2024-02-15")
    why = wl.items_.set_index("invoice_id")["excluded"]
    assert why["I1"] == why["I2"] == "promise" and why["I3"] == ""
    assert "K" not in set(wl.all_actions_["customer_id"]) and "M" in set(
        wl.all_actions_["customer_id"]
    )
    # once the promised date has passed, K is worked again
    later = Worklist().fit(ledger, "2024-02-25")
    assert "K" in set(later.all_actions_["customer_id"])


# ------------------------------------------------------------------ replay
def test_ranking_beats_amount_and_age_at_equal_effort(generated):
    replay = WorklistReplay(hours=(3.0, 6.0, 12.0)).fit(
        generated.ledger, ["2024-05-31", "2024-08-31", "2024-10-31"]
    )
    s = replay.summary().set_index("hours")
    assert (s["ranked_past_due"] > s["by_amount_past_due"]).all(), s
    assert (s["ranked_past_due"] > s["by_age_past_due"]).all(), s
    assert (s["ranked"] > s["by_age"]).all()
    # the three orderings work the same candidates: with no limit they collect the same
    totals = replay.curves_.groupby(["as_of", "strategy"])["cash"].max().unstack()
    assert np.allclose(totals["ranked"], totals["by_amount"])


# ------------------------------------------------------------------ letters
def test_letters_escape_customer_text(tmp_path, generated):
    ledger = generated.ledger
    wl = Worklist(top=3).fit(ledger, "2024-06-30")
    target = wl.actions_["customer_id"].iloc[0]
    nasty = "<img src=x onerror=alert(1)>"
    customers = ledger.customers.copy()
    customers.loc[customers["customer_id"] == target, "name"] = nasty
    evil = ledger.replace(customers=customers)
    wl = Worklist(top=3).fit(evil, "2024-06-30")
    merge = write_letters(wl, tmp_path, payment_link="https://pay.example.com/{customer_id}?x=<b>")
    assert len(merge) == 3
    letter = (tmp_path / merge.loc[0, "letter_file"]).read_text(encoding="utf-8")
    statement = (tmp_path / merge.loc[0, "statement_file"]).read_text(encoding="utf-8")
    for page in (letter, statement):
        assert nasty not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "<b>" not in page
    assert (
        "Second notice" in letter
        or "Reminder" in letter
        or "Final demand" in letter
        or "escalation" in letter
    )
    assert "Statement of account" in statement and "91+" in statement
    with open(tmp_path / "mailmerge.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["name"] == nasty  # the CSV holds plain text, for the mail-merge tool to escape
    assert {r["letter_file"] for r in rows} == set(merge["letter_file"])


def test_mailmerge_is_formula_safe(tmp_path, generated):
    ledger = generated.ledger
    wl = Worklist(top=1).fit(ledger, "2024-06-30")
    target = wl.actions_["customer_id"].iloc[0]
    customers = ledger.customers.copy()
    customers.loc[customers["customer_id"] == target, "name"] = '=HYPERLINK("x")'
    wl = Worklist(top=1).fit(ledger.replace(customers=customers), "2024-06-30")
    write_letters(wl, tmp_path)
    with open(tmp_path / "mailmerge.csv", encoding="utf-8-sig") as fh:
        row = next(csv.DictReader(fh))
    assert row["name"].startswith("'=")
