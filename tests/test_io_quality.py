"""The data-quality report of a load (rpmkit.quality) and a few loader edge cases."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rpmkit.io import load
from rpmkit.quality import format_quality, quality_report

BAD = Path(__file__).parent / "data" / "bad"


def test_quality_report_of_a_ledger_folder():
    report = quality_report(load(BAD / "ledger_rules"))
    json.dumps(report)  # plain data all the way down
    assert report["reconciled"] is True
    assert report["tables"]["allocations"] == {
        "input": 10,
        "loaded": 1,
        "rejected": 9,
        "skipped": 0,
        "blank_rows": 0,
        "date_range": ["2024-01-23", "2024-01-23"],
    }
    reasons = {r["reason"]: r for r in report["rejects"]["by_reason"]}
    assert reasons["duplicate_conflict"]["count"] == 4
    assert reasons["unknown_invoice"]["examples"][0]["line"] == 3
    assert len(reasons["unknown_invoice"]["examples"]) == 3
    assert report["rejects"]["rejected_input_rows"] == 16
    # P1 (150.00) lost every allocation to rejects; P2 (30.00) has 20.00 applied.
    assert report["orphan_payments"]["no_allocation"] == 1
    assert report["unapplied_cash"]["USD"] == {
        "count": 2,
        "amount": 160.0,
        "amount_minor": 16000,
        "amount_text": "160.00",
    }
    # I1: 100.00 - 20.00 applied - 35.00 - 5.00 adjusted; I4: 40.00 untouched.
    assert report["open_items"]["USD"]["amount_minor"] == 4000 + 4000
    assert report["open_items"]["EUR"]["amount_text"] == "50.00"
    text = format_quality(report)
    assert "Reconciled: yes" in text
    assert "allocation_exceeds_open x1" in text
    assert "Unapplied cash USD: 160.00 on 2 payment(s)" in text


def test_quality_report_counts_skipped_duplicates_apart():
    report = quality_report(load(BAD / "duplicates_exact.csv"))
    assert report["duplicates_skipped"] == 1
    assert report["rejects"]["by_reason"] == []
    assert "Nothing rejected." in format_quality(report)
    assert "Exact duplicate rows skipped: 1" in format_quality(report)


def test_orphan_payments_with_unknown_customer(tmp_path):
    (tmp_path / "customers.csv").write_text("customer_id\nC1\n")
    (tmp_path / "invoices.csv").write_text(
        "invoice_id,customer_id,invoice_date,due_date,amount,currency\n"
        "I1,C1,2024-01-05,2024-02-04,10.00,USD\n"
    )
    (tmp_path / "payments.csv").write_text(
        "payment_id,payment_date,amount,currency,customer_id\n"
        "P1,2024-01-10,10.00,USD,C1\nP2,2024-01-11,5.00,USD,\nP3,2024-01-12,7.00,USD,C7\n"
    )
    (tmp_path / "allocations.csv").write_text("payment_id,invoice_id,amount\nP1,I1,10.00\n")
    report = quality_report(load(tmp_path))
    op = report["orphan_payments"]
    assert (op["count"], op["no_allocation"], op["unknown_customer"]) == (2, 2, 2)
    assert op["examples"] == ["P2", "P3"]
    assert report["open_items"] == {}


@dataclass
class GridPreset:
    """A report-export preset: wants every line (header: None) and finds its header itself."""

    name: str = "grid"
    options: dict = field(default_factory=lambda: {"header": None})

    def transform(self, raw):
        grid = raw["flat"]
        header_pos = grid.index[grid["c0"] == "Invoice"][0]
        body = grid.loc[header_pos + 1 :]
        body = body[body["c0"].notna()]
        out = pd.DataFrame(
            {
                "invoice_id": body["c0"],
                "customer_id": body["c1"],
                "invoice_date": body["c2"],
                "due_date": body["c3"],
                "amount": body["c4"],
                "_source": body["_source"],
                "_line": body["_line"],
            }
        )
        skipped = grid.loc[: header_pos - 1]
        ignored = pd.DataFrame(
            {
                "_source": skipped["_source"],
                "_line": skipped["_line"],
                "reason": "report_line",
                "message": "report title",
            }
        )
        return {"flat": out, "_ignored": ignored}


def test_header_none_hands_a_grid_to_the_preset(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text(
        "A/R Aging Detail\nAs of 2024-03-31\nInvoice,Customer,Date,Due,Amount\n"
        "I1,C1,2024-01-05,2024-02-04,10.00\nI2,C1,2024-01-06,2024-02-05,x\n"
    )
    result = load(path, preset=GridPreset())
    assert result.ledger.invoices["invoice_id"].tolist() == ["I1"]
    got = result.rejects[["table", "line", "reason"]].values.tolist()
    assert got == [
        ["invoices", 5, "amount_not_number"],
        ["_ignored", 1, "report_line"],
        ["_ignored", 2, "report_line"],
    ]
    assert result.manifest.reconciled


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["csv", "parquet"]))
def test_any_synthetic_ledger_round_trips_through_a_folder(tmp_path_factory, seed, fmt):
    from rpmkit.synth import generate
    from rpmkit.writers import write_ledger

    ledger = generate(customers=8, years=0.5, seed=seed).ledger
    folder = write_ledger(ledger, tmp_path_factory.mktemp("ledger"), format=fmt)
    result = load(folder)
    assert result.rejects.empty
    assert result.manifest.reconciled
    for name, frame in ledger:
        assert len(getattr(result.ledger, name)) == len(frame), name
    pd.testing.assert_series_equal(
        result.ledger.invoices["amount"].reset_index(drop=True),
        ledger.invoices["amount"].reset_index(drop=True),
        check_dtype=False,
        check_names=False,
    )
