"""Disputes, promises, activities, cash application and billing KPIs on tiny ledgers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rpmkit import kpi
from rpmkit.kpi.ops import km_median, km_restricted_mean
from rpmkit.ledger import Ledger

D = pd.Timestamp


def invoices(rows, **extra) -> pd.DataFrame:
    """Rows of (invoice_id, customer_id, invoice_date, due_date, amount in cents)."""
    frame = pd.DataFrame(
        rows, columns=["invoice_id", "customer_id", "invoice_date", "due_date", "amount"]
    )
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"])
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    frame["currency"] = "USD"
    for k, v in extra.items():
        frame[k] = v
    return frame


# ---------------------------------------------------------------- disputes
def dispute_ledger() -> Ledger:
    inv = invoices(
        [
            ("A", "C1", "2024-04-01", "2024-05-01", 10_000),
            ("B", "C1", "2024-05-01", "2024-05-31", 20_000),
            ("C", "C2", "2024-06-01", "2024-07-01", 40_000),
            ("E", "C2", "2024-04-15", "2024-05-15", 30_000),
        ]
    )
    disputes = pd.DataFrame(
        {
            "dispute_id": ["D1", "D2", "D3", "D4"],
            "invoice_id": ["A", "B", "C", "E"],
            "opened_date": pd.to_datetime(["2024-05-10", "2024-06-01", "2024-06-10", "2024-07-05"]),
            "amount": [10_000, 5_000, 40_000, 30_000],
            "resolved_date": pd.to_datetime(["2024-05-20", "2024-07-15", None, None]),
            "reason_code": ["pricing", "pricing", "quantity", None],
        }
    )
    return Ledger(invoices=inv, disputes=disputes)


def test_dispute_balances_and_past_due_share():
    result = kpi.dispute_kpis(dispute_ledger(), "2024-06-30")
    # open at 06-30: D2 on B (resolved later = still open) and D3 on C; D1 resolved; D4 not opened
    assert result["open_disputes"].value == 2
    assert result["open_disputed_ar"].value == 600.0  # B 200 + C 400 (whole open amounts)
    assert result["open_disputed_ar"].components["disputed_amount"] == 450.0
    assert result["open_disputed_ar"].components["AR_end"] == 1_000.0
    # past due at 06-30: A, B, E (600); in dispute: B (200); C is current
    share = result["disputed_past_due_share"]
    assert share.value == pytest.approx(200 / 600 * 100)
    assert share.components["past_due_AR"] == 600.0


def test_resolution_days_censor_open_disputes_instead_of_dropping_them():
    ledger = dispute_ledger()
    june = kpi.dispute_kpis(ledger, "2024-06-30")["dispute_resolution_days"]
    # D1 resolved after 10 days; D2 open 29 days, D3 open 20 days: censored
    c = june.components
    assert (c["n"], c["resolved"], c["censored"]) == (3, 1, 2)
    assert june.value is None and "median is not reached" in june.note
    assert c["restricted_mean"] == pytest.approx(10 + 2 / 3 * (29 - 10))
    assert c["mean_resolved_only"] == 10
    # at 07-31: D1 10 (resolved), D4 26 (open), D2 44 (resolved), D3 51 (open)
    july = kpi.dispute_kpis(ledger, "2024-07-31")
    value = july["dispute_resolution_days"]
    # S(10) = 3/4, S(44) = 3/4 × 1/2 = 3/8 → median 44; dropping the open ones would say 10
    assert value.value == 44 and value.method == "kaplan_meier"
    assert value.components["mean_resolved_only"] == 27
    assert value.components["restricted_mean"] == pytest.approx(
        10 + 0.75 * (44 - 10) + 0.375 * (51 - 44)
    )
    survival = july.tables["survival"]
    assert survival["censored"].sum() == 2 and survival["survival"].iloc[-1] == 0.375
    # a period only keeps disputes opened in it: July has D4 alone, still open
    only_july = kpi.dispute_kpis(ledger, "2024-07-31", "month")["dispute_resolution_days"]
    assert only_july.components["n"] == 1 and only_july.components["censored"] == 1


def test_product_limit_matches_hand_computation():
    table = kpi.product_limit([3, 3, 5, 7, 7, 9], [True, False, True, True, False, False])
    assert table["at_risk"].tolist() == [6, 4, 3, 1]
    assert table["survival"].tolist() == pytest.approx(
        [5 / 6, 5 / 6 * 3 / 4, 5 / 6 * 3 / 4 * 2 / 3, 5 / 12]
    )
    assert km_median(table) == 7.0
    assert km_restricted_mean(kpi.product_limit([], [])) is None
    assert km_median(kpi.product_limit([4], [False])) is None


def test_dispute_reason_pareto():
    pareto = kpi.dispute_kpis(dispute_ledger(), "2024-07-31").tables["pareto"]
    assert pareto.index.tolist() == ["pricing", "quantity", "(none)"]
    assert pareto.loc["pricing", "disputes"] == 2 and pareto.loc["pricing", "amount"] == 150.0
    assert pareto.loc["pricing", "open"] == 0 and pareto.loc["quantity", "open"] == 1
    assert pareto["cumulative_share"].tolist() == pytest.approx([50.0, 75.0, 100.0])


def test_no_disputes():
    ledger = Ledger(invoices=invoices([("A", "C1", "2024-06-01", "2024-06-30", 100)]))
    result = kpi.dispute_kpis(ledger, "2024-06-30")
    assert result["open_disputes"].value == 0 and result["open_disputed_ar"].value == 0
    assert result["disputed_past_due_share"].value is None
    assert result["dispute_resolution_days"].value is None
    assert result.summary().loc["open_disputes", "value"] == 0


# ---------------------------------------------------------------- promises
def promise_ledger() -> Ledger:
    inv = invoices(
        [
            ("B", "C1", "2024-05-01", "2024-05-31", 15_000),
            ("E", "C2", "2024-05-01", "2024-05-31", 10_000),
            ("G", "C2", "2024-05-01", "2024-05-31", 10_000),
        ]
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["PB", "PX", "PE", "PG"],
            "payment_date": pd.to_datetime(
                ["2024-06-04", "2024-06-15", "2024-07-02", "2024-06-20"]
            ),
            "amount": [15_000, 6_000, 10_000, 4_000],
            "currency": "USD",
            "customer_id": ["C1", "C1", None, "C2"],
        }
    )
    allocations = pd.DataFrame(
        {
            "payment_id": ["PB", "PE", "PG"],
            "invoice_id": ["B", "E", "G"],
            "amount": [15_000, 10_000, 4_000],
            "applied_date": pd.to_datetime(["2024-06-04", "2024-07-10", "2024-06-20"]),
        }
    )
    activities = pd.DataFrame(
        {
            "activity_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"],
            "date": pd.to_datetime(
                [
                    "2024-06-01",  # P1 on B, 150 by 06-10: PB 150 on 06-04 → kept
                    "2024-06-20",  # P2 on E, 100 by 06-25: paid 07-02 → broken
                    "2024-06-10",  # P3 customer C1, 60 by 06-15: PX 60 on 06-15 → kept
                    "2024-06-01",  # P4 promised for July: not in June
                    "2024-06-26",  # P5 on E, 100 by 07-03: PE 07-02, applied 07-10
                    "2024-06-18",  # P6 on G, no amount, by 06-22: PG 40 → kept (any cash)
                    "2024-06-18",  # P7 customer C2 100 by 06-30: only PG 40 → broken
                    "2024-06-26",  # P8 customer C2 100 by 07-03: PE (C2 via its allocation)
                ]
            ),
            "customer_id": ["C1", "C2", "C1", "C1", "C2", "C2", "C2", "C2"],
            "kind": "promise_to_pay",
            "invoice_id": ["B", "E", None, "B", "E", "G", None, None],
            "outcome": ["kept", "broken", "kept", None, "kept", "kept", "broken", "kept"],
            "promised_date": pd.to_datetime(
                [
                    "2024-06-10",
                    "2024-06-25",
                    "2024-06-15",
                    "2024-07-15",
                    "2024-07-03",
                    "2024-06-22",
                    "2024-06-30",
                    "2024-07-03",
                ]
            ),
            "promised_amount": pd.array(
                [15_000, 10_000, 6_000, 100, 10_000, None, 10_000, 10_000], "Int64"
            ),
        }
    )
    return Ledger(invoices=inv, payments=payments, allocations=allocations, activities=activities)


def test_promise_kept_rate_rule():
    ledger = promise_ledger()
    value = kpi.promise_kept_rate(ledger, "2024-06-30")
    c = value.components
    assert (c["promises"], c["kept"], c["broken"]) == (5, 3, 2)  # P1, P2, P3, P6, P7
    assert value.value == pytest.approx(60.0)
    assert (c["on_invoice"], c["on_customer"], c["without_amount"]) == (3, 2, 1)
    assert c["recorded_kept_rate"] == pytest.approx(60.0)


def test_promise_cash_must_be_known_by_as_of():
    ledger = promise_ledger()
    # P5 and P8 fall due 07-03; the cash (PE, 07-02) was applied on 07-10, and PE has no
    # customer_id: at 07-03 neither the invoice nor the customer is known to have been paid
    early = kpi.promise_kept_rate(ledger, "2024-07-03", 3)
    assert early.components["promises"] == 2 and early.value == 0.0
    late = kpi.promise_kept_rate(ledger, "2024-07-31")
    # July: P5, P8 and P4 (made 06-01 on B; B's 150 arrived 06-04, within its window)
    assert (late.components["promises"], late.components["kept"]) == (3, 3)
    # a promise made after as_of does not exist yet
    assert kpi.promise_kept_rate(ledger, "2024-06-10", 10).components["promises"] == 1
    empty = kpi.promise_kept_rate(ledger, "2024-05-31")
    assert empty.value is None and "no promise" in empty.note


# -------------------------------------------------------------- activities
def test_activity_counts_by_kind_customer_and_collector():
    activities = pd.DataFrame(
        {
            "activity_id": [f"A{i}" for i in range(6)],
            "date": pd.to_datetime(
                ["2024-06-01", "2024-06-02", "2024-06-02", "2024-06-30", "2024-07-01", "2024-05-31"]
            ),
            "customer_id": ["C1", "C1", "C2", "C2", "C1", "C1"],
            "kind": ["reminder", "call", "call", "promise_to_pay", "call", "letter"],
            "invoice_id": ["B", "B", None, "E", "B", "B"],
            "promised_date": pd.to_datetime([None, None, None, "2024-07-05", None, None]),
            "collector": ["ann", "ann", "bob", "bob", "ann", "bob"],
        }
    )
    ledger = Ledger(activities=activities)
    by_kind = kpi.activity_counts(ledger, "2024-06-30")
    # 07-01 is after as_of, 05-31 before the period
    assert by_kind["activities"].to_dict() == {
        "reminder": 1,
        "call": 2,
        "letter": 0,
        "sms": 0,
        "email": 0,
        "agency": 0,
        "promise_to_pay": 1,
    }
    assert by_kind.loc["call", "customers"] == 2 and by_kind.loc["call", "invoices"] == 1
    assert by_kind["share"].sum() == pytest.approx(100.0)
    by_customer = kpi.activity_counts(ledger, "2024-06-30", by="customer")
    assert by_customer.loc["C1", "total"] == 2 and by_customer.loc["C2", "call"] == 1
    by_collector = kpi.activity_counts(ledger, "2024-06-30", by="collector")
    assert by_collector["total"].to_dict() == {"ann": 2, "bob": 2}
    with pytest.raises(ValueError, match="activities column"):
        kpi.activity_counts(ledger, "2024-06-30", by="team")


# -------------------------------------------------------- cash application
def cash_ledger() -> Ledger:
    inv = invoices(
        [
            ("I1", "C1", "2024-05-01", "2024-05-31", 10_000),
            ("I2", "C1", "2024-05-01", "2024-05-31", 3_000),
            ("I4", "C2", "2024-05-01", "2024-05-31", 4_000),
        ]
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["P0", "P1", "P2", "P3", "P4"],
            "payment_date": pd.to_datetime(
                ["2024-05-20", "2024-06-01", "2024-06-05", "2024-06-12", "2024-06-25"]
            ),
            "amount": [1_000, 10_000, 5_000, 2_000, 4_000],
            "currency": "USD",
        }
    )
    allocations = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P4"],
            "invoice_id": ["I1", "I2", "I4"],
            "amount": [10_000, 3_000, 4_000],
            "applied_date": pd.to_datetime(["2024-06-03", "2024-06-10", "2024-07-05"]),
        }
    )
    return Ledger(invoices=inv, payments=payments, allocations=allocations)


def test_cash_application_rates():
    ledger = cash_ledger()
    result = kpi.cash_application_rates(ledger, "2024-06-30")
    # June payments P1 (fully applied), P2 (30 of 50), P3 (none), P4 (applied only on 07-05)
    share = result["payments_applied_share"]
    assert share.value == 25.0
    assert (share.components["partly_applied"], share.components["not_applied"]) == (1, 2)
    cash = result["cash_applied_share"]
    assert cash.value == pytest.approx(130 / 210 * 100)
    assert cash.components["unapplied"] == 80.0
    # on account at 06-30: the June 80 plus May's P0 10, as beside the aging
    assert result["unapplied_cash"].value == 90.0
    assert kpi.aging(ledger, "2024-06-30").unapplied_cash == 9_000
    days = result["days_to_apply"]
    assert days.value == pytest.approx(3.5)  # P1 2 days, P2 5 days
    assert days.components["amount_weighted"] == pytest.approx((2 * 100 + 5 * 30) / 130)
    july = kpi.cash_application_rates(ledger, "2024-07-31")
    assert july["payments_applied_share"].value is None  # no payment in July
    assert july["unapplied_cash"].value == 50.0
    later = kpi.cash_application_rates(ledger, "2024-07-31", "quarter")
    assert later["payments_applied_share"].components["fully_applied"] == 2


def test_cash_application_without_allocations_is_undefined_not_zero():
    ledger = Ledger(
        payments=pd.DataFrame(
            {
                "payment_id": ["P1"],
                "payment_date": [D("2024-06-01")],
                "amount": [100],
                "currency": ["USD"],
            }
        )
    )
    result = kpi.cash_application_rates(ledger, "2024-06-30")
    assert all(v.value is None for v in result.values.values())
    assert "no allocations" in result["cash_applied_share"].note


# ------------------------------------------------------- invoice management
def billing_ledger(**extra) -> Ledger:
    inv = invoices(
        [
            ("I1", "C1", "2024-06-05", "2024-07-05", 10_000),
            ("I2", "C1", "2024-06-10", "2024-07-10", 30_000),
            ("I3", "C2", "2024-06-25", "2024-07-25", 10_000),
            ("I4", "C2", "2024-05-20", "2024-06-19", 10_000),
        ],
        **extra,
    )
    adjustments = pd.DataFrame(
        {
            "adjustment_id": ["CN2", "CN3", "CN4", "WO1"],
            "invoice_id": ["I2", "I3", "I4", "I1"],
            "date": pd.to_datetime(["2024-06-20", "2024-07-05", "2024-06-02", "2024-06-30"]),
            "amount": [1_000, 1_000, 1_000, 1_000],
            "kind": ["credit_note", "credit_note", "credit_note", "write_off"],
        }
    )
    return Ledger(invoices=inv, adjustments=adjustments)


def test_invoice_management_with_delivery_dates_and_channels():
    ledger = billing_ledger(
        delivery_date=pd.to_datetime(["2024-06-01", "2024-06-03", None, "2024-05-01"]),
        channel=["electronic", "paper", None, "electronic"],
    )
    result = kpi.invoice_management(ledger, "2024-06-30")
    lag = result["billing_lag"]
    assert lag.value == pytest.approx(5.5) and lag.method == "delivery_date"  # 4 and 7 days
    assert lag.components["with_date"] == 2
    # June invoices I1, I2, I3: I2 credited on 06-20; I3's credit note is after as_of
    cn = result["credit_note_rate"]
    assert cn.value == pytest.approx(100 / 3)
    assert cn.components["corrected_amount_share"] == pytest.approx(60.0)
    assert cn.components["immature"] == 3
    later = kpi.invoice_management(ledger, "2024-07-31", "quarter")["credit_note_rate"]
    assert later.components["corrected"] == 3  # I2, I3 and I4 (May)
    narrow = kpi.invoice_management(ledger, "2024-07-31", "quarter", correction_days=5)
    assert narrow["credit_note_rate"].components["corrected"] == 0
    e = result["e_invoicing_share"]
    assert e.value == 50.0 and e.components["unknown"] == 1
    assert e.components["amount_share"] == 25.0


def test_invoice_management_says_what_is_missing():
    result = kpi.invoice_management(billing_ledger(), "2024-06-30")
    assert result["billing_lag"].value is None
    assert "delivery_date or order_date" in result["billing_lag"].note
    assert result["e_invoicing_share"].value is None
    assert "channel" in result["e_invoicing_share"].note
    assert result["credit_note_rate"].value is not None
    by_order = kpi.invoice_management(
        billing_ledger(order_date=["2024-05-26", "2024-06-01", "2024-06-20", "bad"]),
        "2024-06-30",
    )
    assert by_order["billing_lag"].method == "order_date"
    assert by_order["billing_lag"].value == pytest.approx(np.mean([10, 9, 5]))
    empty = kpi.invoice_management(billing_ledger(), "2024-08-31")
    assert all(v.value is None for v in empty.values.values())
    assert "KpiSet(invoice_management" in repr(empty)
