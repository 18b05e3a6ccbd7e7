"""Dispute analytics: hand-computed cases and the generator's known dispute parameters."""

from __future__ import annotations

import pandas as pd
import pytest

import rpmkit
from rpmkit.disputes import DisputeAnalysis
from rpmkit.ledger import Ledger
from rpmkit.synth.params import SynthParams


def tiny() -> Ledger:
    inv = pd.DataFrame(
        {
            "invoice_id": ["A", "B", "C", "D"],
            "customer_id": ["C1", "C1", "C2", "C2"],
            "invoice_date": pd.to_datetime(["2024-01-01"] * 4),
            "due_date": pd.to_datetime(["2024-01-31"] * 4),
            "amount": [100_00, 200_00, 300_00, 400_00],
            "currency": "USD",
        }
    )
    pay = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3"],
            "payment_date": pd.to_datetime(["2024-01-31", "2024-03-01", "2024-02-05"]),
            "amount": [100_00, 200_00, 300_00],
            "currency": "USD",
        }
    )
    alloc = pd.DataFrame(
        {"payment_id": ["P1", "P2", "P3"], "invoice_id": ["A", "B", "C"], "amount": pay["amount"]}
    )
    disp = pd.DataFrame(
        {
            "dispute_id": ["D1", "D2"],
            "invoice_id": ["B", "D"],
            "opened_date": pd.to_datetime(["2024-01-10", "2024-02-01"]),
            "amount": [200_00, 50_00],
            "resolved_date": pd.to_datetime(["2024-02-20", None]),
            "reason_code": ["pricing", "damaged"],
            "outcome": ["rejected", None],
        }
    )
    cust = pd.DataFrame({"customer_id": ["C1", "C2"], "segment": ["smb", "enterprise"]})
    return Ledger(customers=cust, invoices=inv, payments=pay, allocations=alloc, disputes=disp)


def test_hand_computed_case():
    d = DisputeAnalysis().fit(tiny(), "2024-03-31")
    assert d.open_disputes_ == 1 and d.dispute_rate_ == 0.5
    assert d.by_customer_.loc["C1", "dispute_rate"] == 0.5
    assert d.outcomes_.loc["rejected", "share"] == 1.0
    assert set(d.pareto_.index) == {"pricing", "damaged"}
    # B was paid 30 days late, A (same customer, undisputed) on time: 30 extra days
    assert d.cash_delay_["extra_days"] == 30.0
    assert d.summary().loc["open_disputed_ar", "value"] == 400.0


def test_open_disputes_are_censored_not_dropped():
    d = DisputeAnalysis().fit(tiny(), "2024-02-15")  # D1 still open then
    assert d.open_disputes_ == 2
    assert d.resolution_.summary().loc["all", "censored"] == 2


def test_no_disputes_is_a_clear_error():
    with pytest.raises(ValueError, match="no disputes"):
        DisputeAnalysis().fit(tiny(), "2024-01-05")


@pytest.fixture(scope="module")
def sample():
    ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
    return DisputeAnalysis().fit(ledger, "2024-12-31")


def test_sample_matches_the_generator(sample):
    p = SynthParams()
    # disputes are drawn for invoices that are owed and not defaulted: a little under the rate
    assert 0.8 * p.dispute_rate < sample.dispute_rate_ <= p.dispute_rate
    counts = sample.pareto_["disputes"] / sample.pareto_["disputes"].sum()
    for code, share in p.dispute_reasons:
        assert counts[code] == pytest.approx(share, abs=0.05)
    for code, share in p.dispute_outcomes:
        assert sample.outcomes_.loc[code, "share"] == pytest.approx(share, abs=0.05)
    median = sample.summary().loc["resolution_median_days", "value"]
    assert median == pytest.approx(p.dispute_resolution_median_days, abs=4)
    # disputed invoices pay later than the same customers' other invoices
    assert sample.cash_delay_["extra_days"] > 10
    dso = sample.dso_add_
    assert dso.loc["without disputed", "add_invoice"] < dso.loc["all invoices", "add_invoice"]
    assert sample.to_dict()["pareto"][0]["reason_code"] == "pricing"
