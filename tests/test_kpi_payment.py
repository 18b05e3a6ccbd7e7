"""Days to pay, days beyond terms and the payment mix on hand-computed tiny ledgers."""

from __future__ import annotations

import pandas as pd
import pytest

from rpmkit import kpi
from rpmkit.ledger import Ledger

D = pd.Timestamp


def june_ledger() -> Ledger:
    """Six invoices, with what settles them (amounts in cents).

    A  C1 inv 05-01 due 05-31  100.00  cash 40 on 06-05 (ach) + 60 on 06-15 (wire)
    B  C2 inv 05-10 due 06-09  200.00  cash 150 on 06-04 (check), credit note 50 on 06-20
    C  C3 inv 04-01 due 05-01   50.00  cash 20 on 06-10 (ach), write-off 30 on 06-12
    D  C3 inv 06-01 due 07-01   30.00  credit note 30 on 06-03
    E  C3 inv 05-15 due 06-14  100.00  cash on 07-02 (card)
    F  C1 inv 04-10 due 05-10  100.00  cash on 05-20 (ach)
    """
    invoices = pd.DataFrame(
        {
            "invoice_id": list("ABCDEF"),
            "customer_id": ["C1", "C2", "C3", "C3", "C3", "C1"],
            "invoice_date": pd.to_datetime(
                ["2024-05-01", "2024-05-10", "2024-04-01", "2024-06-01", "2024-05-15", "2024-04-10"]
            ),
            "due_date": pd.to_datetime(
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
            "payment_date": pd.to_datetime(
                ["2024-06-05", "2024-06-15", "2024-06-04", "2024-06-10", "2024-07-02", "2024-05-20"]
            ),
            "amount": [4_000, 6_000, 15_000, 2_000, 10_000, 10_000],
            "currency": "USD",
            "method": ["ach", "wire", "check", "ach", "card", "ach"],
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
            "date": pd.to_datetime(["2024-06-20", "2024-06-12", "2024-06-03"]),
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


def test_days_to_pay_uses_cash_completion_and_excludes_write_offs_and_credit_only():
    ledger = june_ledger()
    value = kpi.days_to_pay(ledger, "2024-06-30")
    # A paid 06-15 (45 days); B's cash completed 06-04 (25 days) though settled 06-20
    assert value.value == pytest.approx((45 + 25) / 2)
    c = value.components
    assert c["n"] == 2 and c["amount"] == 300.0
    assert c["excluded_written_off"] == 1  # C
    assert c["excluded_credit_only"] == 1  # D
    assert c["amount_weighted"] == pytest.approx((45 * 100 + 25 * 200) / 300)
    assert c["median"] == 35.0
    amount = kpi.days_to_pay(ledger, "2024-06-30", weight="amount")
    assert amount.value == pytest.approx(31.666666, rel=1e-6) and amount.method == "amount"


def test_days_beyond_terms_is_signed_and_reports_late_share():
    ledger = june_ledger()
    value = kpi.days_beyond_terms(ledger, "2024-06-30")
    assert value.value == pytest.approx((15 + -5) / 2)  # A 15 days late, B 5 days early
    assert value.components["late_share"] == 50.0
    amount = kpi.days_beyond_terms(ledger, "2024-06-30", weight="amount")
    assert amount.value == pytest.approx((15 * 100 - 5 * 200) / 300)


def test_nothing_after_as_of_counts_and_periods_select_by_settlement_day():
    ledger = june_ledger()
    # E is paid on 07-02: not in June, in July (48 days, 18 beyond terms)
    july = kpi.days_to_pay(ledger, "2024-07-31")
    assert july.value == 48 and july.components["n"] == 1
    assert kpi.days_beyond_terms(ledger, "2024-07-31").value == 18
    # F settled in May; a quarter ending in June holds A, B and F (40 days)
    q2 = kpi.days_to_pay(ledger, "2024-06-30", "quarter")
    assert q2.value == pytest.approx((45 + 25 + 40) / 3)
    # cut mid-June: B not yet settled (credit note 06-20), A settled 06-15
    mid = kpi.days_to_pay(ledger, "2024-06-16", 16)
    assert mid.value == 45 and mid.components["n"] == 1
    assert kpi.days_to_pay(ledger, "2024-06-01", 1).value is None


def test_days_to_pay_by_customer_and_segment():
    ledger = june_ledger()
    by_customer = kpi.days_to_pay(ledger, "2024-06-30", "quarter", by="customer")
    assert list(by_customer.index) == ["C1", "C2"]
    assert by_customer.loc["C1", "invoices"] == 2  # A (45) and F (40)
    assert by_customer.loc["C1", "count_weighted"] == pytest.approx(42.5)
    assert by_customer.loc["C1", "amount_weighted"] == pytest.approx(42.5)
    assert by_customer.loc["C2", "amount"] == 200.0
    by_segment = kpi.days_beyond_terms(ledger, "2024-06-30", by="segment")
    assert by_segment.loc["enterprise", "count_weighted"] == 15
    assert by_segment.loc["smb", "count_weighted"] == -5
    with pytest.raises(ValueError, match="by must be"):
        kpi.days_to_pay(ledger, "2024-06-30", by="country")
    with pytest.raises(ValueError, match="weight"):
        kpi.days_to_pay(ledger, "2024-06-30", weight="value")


def test_amount_weights_are_in_reporting_currency():
    flat = pd.DataFrame(
        {
            "invoice_id": ["U", "E"],
            "customer_id": ["C1", "C2"],
            "invoice_date": pd.to_datetime(["2024-06-01", "2024-06-01"]),
            "due_date": pd.to_datetime(["2024-06-30", "2024-06-30"]),
            "amount": [10_000, 10_000],
            "currency": ["USD", "EUR"],
            "paid_date": pd.to_datetime(["2024-06-11", "2024-06-21"]),
        }
    )
    ledger = Ledger.from_flat(flat).replace(
        fx_rates=pd.DataFrame({"date": [D("2024-05-31")], "currency": ["EUR"], "rate": [3.0]})
    )
    # 10 days on 100 USD, 20 days on 100 EUR = 300 USD
    value = kpi.days_to_pay(ledger, "2024-06-30", weight="amount")
    assert value.value == pytest.approx((10 * 100 + 20 * 300) / 400)
    assert value.components["amount"] == 400.0


def test_payment_mix_receipts_and_days_by_method_and_channel():
    ledger = june_ledger()
    mix = kpi.payment_mix(ledger, "2024-06-30")
    receipts = mix["receipts"]
    assert receipts.index.tolist() == ["check", "ach", "wire"]  # by amount, largest first
    assert receipts.loc["ach", "payments"] == 2 and receipts.loc["ach", "amount"] == 60.0
    assert receipts.loc["check", "amount_share"] == pytest.approx(150 / 270 * 100)
    assert receipts.loc["wire", "count_share"] == 25.0
    assert receipts["amount"].sum() == pytest.approx(
        kpi.receipts(ledger, D("2024-06-01"), D("2024-06-30")) / 100
    )
    by_method = mix["by_method"]
    # A's cash settlement was completed by the wire, B's by the cheque
    assert by_method.loc["wire", "days_to_pay"] == 45
    assert by_method.loc["check", "days_beyond_terms"] == -5
    assert "ach" not in by_method.index
    by_channel = mix["by_channel"]
    assert by_channel.loc["electronic", "days_to_pay"] == 45
    assert by_channel.loc["paper", "days_to_pay_amount_weighted"] == 25
    quarter = kpi.payment_mix(ledger, "2024-06-30", "quarter")["by_method"]
    assert quarter.loc["ach", "invoices"] == 1  # F, paid by ACH in May


def test_payment_mix_blank_method_and_channel_show_as_unknown():
    flat = pd.DataFrame(
        {
            "invoice_id": ["A"],
            "customer_id": ["C1"],
            "invoice_date": pd.to_datetime(["2024-06-01"]),
            "due_date": pd.to_datetime(["2024-06-30"]),
            "amount": [10_000],
            "paid_date": pd.to_datetime(["2024-06-11"]),
        }
    )
    mix = kpi.payment_mix(Ledger.from_flat(flat), "2024-06-30")
    assert mix["receipts"].index.tolist() == ["(unknown)"]
    assert mix["by_method"].loc["(unknown)", "days_to_pay"] == 10
    assert mix["by_channel"].loc["(unknown)", "invoices"] == 1
