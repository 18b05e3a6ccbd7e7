"""KPIs on the authorities' worked examples and hand-computed tiny ledgers."""

from __future__ import annotations

import pandas as pd
import pytest

from rpmkit import kpi
from rpmkit.ledger import Ledger


def flat_ledger(rows, **kw) -> Ledger:
    """Rows of (invoice_id, invoice_date, due_date, amount_minor, paid_date or None[, currency])."""
    frame = pd.DataFrame(
        [
            {
                "invoice_id": r[0],
                "customer_id": r[6] if len(r) > 6 else "C1",
                "invoice_date": pd.Timestamp(r[1]),
                "due_date": pd.Timestamp(r[2]),
                "amount": r[3],
                "paid_date": pd.Timestamp(r[4]) if r[4] else pd.NaT,
                "currency": r[5] if len(r) > 5 else "USD",
            }
            for r in rows
        ]
    )
    return Ledger.from_flat(frame, **kw)


# ------------------------------------------------------------ worked examples
def test_countback_worked_example():
    days, exhausted = kpi.countback_days(212_000, [100_000, 80_000, 70_000], [30, 30, 30])
    assert days == pytest.approx(30 + 30 + 32_000 / 70_000 * 30)
    assert round(days, 2) == 73.71 and exhausted
    assert round(kpi.dso_standard(212_000, 250_000, 90), 2) == 76.32


def add_example() -> Ledger:
    """AR 25,000 at 2024-04-30, of which 6,000 current; April sales 15,000 (30 days)."""
    return flat_ledger(
        [
            ("Z", "2024-03-01", "2024-03-31", 1_000_000, None),  # past due
            ("Y", "2024-04-01", "2024-04-20", 900_000, None),  # April sale, past due
            ("X", "2024-04-10", "2024-05-10", 600_000, None),  # April sale, current
        ]
    )


def test_dso_bpdso_add_worked_example():
    ledger = add_example()
    d = kpi.dso(ledger, "2024-04-30")
    bp = kpi.bpdso(ledger, "2024-04-30")
    a = kpi.add(ledger, "2024-04-30")
    assert (d.value, bp.value, a.value) == (pytest.approx(50), pytest.approx(12), pytest.approx(38))
    assert d.components["AR_end"] == 25_000 and d.components["S"] == 15_000
    assert d.components["D"] == 30 and bp.components["AR_cur"] == 6_000


def cei_example() -> Ledger:
    """AR_begin 6,200; Q1 sales 10,890; AR_end 6,340 of which current 3,590."""
    return flat_ledger(
        [
            ("DEC", "2023-12-05", "2024-01-04", 620_000, "2024-02-10"),
            ("JAN", "2024-01-10", "2024-02-09", 455_000, "2024-02-01"),
            ("FEB", "2024-02-14", "2024-03-15", 275_000, None),  # past due at 03-31
            ("MAR", "2024-03-20", "2024-04-19", 359_000, None),  # current at 03-31
        ]
    )


def test_cei_worked_example_both_sales_bases():
    ledger = cei_example()
    period = kpi.cei(ledger, "2024-03-31", "quarter")
    monthly = kpi.cei(ledger, "2024-03-31", "quarter", sales="monthly_average")
    assert round(period.value, 2) == 79.63
    assert round(monthly.value, 2) == 55.93
    c = period.components
    assert (c["AR_begin"], c["S"], c["AR_end"], c["AR_cur"]) == (6_200, 10_890, 6_340, 3_590)
    # the known calculator error puts past-due AR in the denominator: we do not
    wrong = (6_200 + 10_890 - 6_340) / (6_200 + 10_890 - (6_340 - 3_590)) * 100
    assert round(period.value, 2) != round(wrong, 2)


def test_cei_grace_days_is_an_option_not_the_default():
    ledger = cei_example()
    strict = kpi.cei(ledger, "2024-03-31", "quarter")
    lenient = kpi.cei(ledger, "2024-03-31", "quarter", grace_days=60)
    assert lenient.components["AR_cur"] == 6_340 and strict.components["AR_cur"] == 3_590
    assert lenient.value == pytest.approx(100.0)


# ------------------------------------------------------------- tiny ledgers
def test_standard_and_countback_dso_on_calendar_months():
    # AR 212,000 at 2024-06-30; sales June 100,000, May 80,000, April 70,000 (latest first)
    ledger = flat_ledger(
        [
            ("APR", "2024-04-15", "2024-05-15", 7_000_000, None),
            ("MAY", "2024-05-15", "2024-06-14", 8_000_000, None),
            ("JUN", "2024-06-15", "2024-07-15", 10_000_000, None),
            ("OLD", "2024-03-01", "2024-03-31", 500_000, "2024-04-20"),
        ]
    )
    # AR 250,000 − … make AR 212,000: pay 38,000 of APR by a partial allocation
    ledger = ledger.replace(
        payments=pd.concat(
            [
                ledger.payments,
                pd.DataFrame(
                    {
                        "payment_id": ["PART"],
                        "payment_date": [pd.Timestamp("2024-06-20")],
                        "amount": [3_800_000],
                        "currency": ["USD"],
                    }
                ),
            ]
        ),
        allocations=pd.concat(
            [
                ledger.allocations,
                pd.DataFrame(
                    {"payment_id": ["PART"], "invoice_id": ["APR"], "amount": [3_800_000]}
                ),
            ]
        ),
    )
    q = kpi.dso(ledger, "2024-06-30", "quarter")
    assert q.components["AR_end"] == 212_000 and q.components["S"] == 250_000
    assert q.value == pytest.approx(212_000 / 250_000 * 91)  # Q2 has 91 days
    cb = kpi.dso(ledger, "2024-06-30", method="countback")
    assert cb.value == pytest.approx(30 + 31 + 32_000 / 70_000 * 30)
    three = kpi.dso(ledger, "2024-06-30", method="three_month")
    assert three.value == pytest.approx(212_000 / 250_000 * 91)
    assert cb.value <= 30 + 31 + 30  # never beyond the days walked


def test_countback_when_history_runs_out():
    ledger = flat_ledger([("A", "2024-06-10", "2024-07-10", 100_000, None)])
    ledger = ledger.replace(
        invoices=ledger.invoices.assign(amount=[100_000]),
    )
    value = kpi.dso(ledger, "2024-07-31", method="countback")
    # July had no sales, June had 1,000 = all of the AR
    assert value.value == pytest.approx(31 + 30)


def test_dso_is_undefined_without_sales():
    ledger = flat_ledger([("A", "2024-01-10", "2024-02-09", 10_000, None)])
    value = kpi.dso(ledger, "2024-03-31")
    assert value.value is None and "no credit sales" in value.note


def test_direct_dso_is_amount_weighted_days_outstanding():
    ledger = flat_ledger(
        [
            ("A", "2024-06-01", "2024-07-01", 10_000, None),  # 29 days at 06-30
            ("B", "2024-06-21", "2024-07-21", 30_000, None),  # 9 days
        ]
    )
    assert kpi.dso(ledger, "2024-06-30", method="direct").value == pytest.approx(
        (100 * 29 + 300 * 9) / 400
    )


def test_aging_buckets_with_due_today_current_and_future_documents_ignored():
    ledger = flat_ledger(
        [
            ("DUE_TODAY", "2024-05-01", "2024-05-31", 100, None),
            ("D1", "2024-05-01", "2024-05-30", 200, None),
            ("D30", "2024-04-01", "2024-05-01", 300, None),
            ("D31", "2024-04-01", "2024-04-30", 400, None),
            ("D91", "2024-01-01", "2024-03-01", 500, None),
            ("PAID", "2024-01-01", "2024-03-01", 600, "2024-05-31"),
            ("LATER", "2024-06-01", "2024-07-01", 700, None),
        ]
    )
    result = kpi.aging(ledger, "2024-05-31")
    assert result.totals()[result.labels].tolist() == [100, 500, 400, 0, 500]
    assert result.open_ar == 1500
    by_invoice = kpi.aging(ledger, "2024-05-31", basis="invoice", cutoffs=(30, 60, 90))
    assert by_invoice.labels == ["0-30", "31-60", "61-90", "91+"]
    assert by_invoice.totals()[by_invoice.labels].tolist() == [300, 700, 0, 500]


def test_aging_by_currency_and_reporting_conversion():
    ledger = flat_ledger(
        [
            ("U", "2024-05-01", "2024-05-31", 10_000, None, "USD", "C1"),
            ("E", "2024-05-01", "2024-05-10", 10_000, None, "EUR", "C2"),
            ("J", "2024-05-01", "2024-05-10", 1_000, None, "JPY", "C2"),
        ]
    )
    ledger = ledger.replace(
        fx_rates=pd.DataFrame(
            {
                "date": pd.to_datetime(["2024-04-30", "2024-04-30"]),
                "currency": ["EUR", "JPY"],
                "rate": [1.1, 0.0065],
            }
        )
    )
    by_cur = kpi.aging(ledger, "2024-05-31", by="currency")
    assert by_cur.amounts.loc["EUR", "1-30"] == 10_000
    assert by_cur.amounts.loc["JPY", "1-30"] == 1_000
    rep = kpi.aging(ledger, "2024-05-31")
    assert rep.totals()["current"] == 10_000
    assert rep.totals()["1-30"] == 11_000 + 650
    by_customer = kpi.aging(ledger, "2024-05-31", by="customer")
    assert by_customer.amounts.loc["C2", "total"] == 11_650


def test_partial_payment_credit_note_write_off_overpayment():
    ledger = flat_ledger([("A", "2024-01-01", "2024-01-31", 10_000, None)])
    ledger = ledger.replace(
        payments=pd.DataFrame(
            {
                "payment_id": ["P1", "P2"],
                "payment_date": pd.to_datetime(["2024-02-05", "2024-02-25"]),
                "amount": [4_000, 5_000],
                "currency": ["USD", "USD"],
            }
        ),
        allocations=pd.DataFrame(
            {"payment_id": ["P1", "P2"], "invoice_id": ["A", "A"], "amount": [4_000, 3_000]}
        ),
        adjustments=pd.DataFrame(
            {
                "adjustment_id": ["CN", "WO"],
                "invoice_id": ["A", "A"],
                "date": pd.to_datetime(["2024-02-10", "2024-03-31"]),
                "amount": [1_000, 2_000],
                "kind": ["credit_note", "write_off"],
            }
        ),
    )
    ledger.check()
    snap = kpi.snapshot(ledger, "2024-02-29")
    assert snap["open_ar"] == 20.00  # 100 − 40 − 10 − 30
    assert snap["unapplied_cash"] == 20.00  # P2 paid 50, 30 applied
    assert snap["receipts"] == 90.00
    assert kpi.aging(ledger, "2024-03-31").open_ar == 0
    bad = kpi.bad_debt_ratio(ledger, "2024-03-31", "quarter")
    assert bad.value == pytest.approx(20.0)  # 20 written off of 100 sold in Q1


def test_invoice_level_add_count_and_amount_weighted():
    ledger = flat_ledger(
        [
            ("A", "2024-05-01", "2024-05-10", 100, "2024-06-09"),  # 30 days late
            ("B", "2024-05-01", "2024-06-30", 300, "2024-06-10"),  # early: 0
        ]
    )
    assert kpi.add(ledger, "2024-06-30", method="invoice", weight="count").value == 15
    assert kpi.add(ledger, "2024-06-30", method="invoice", weight="amount").value == 7.5


def test_shares_and_turnover():
    ledger = add_example()
    assert kpi.pct_current(ledger, "2024-04-30").value == pytest.approx(24.0)
    ledger_old = flat_ledger(
        [
            ("A", "2024-01-01", "2024-01-31", 100, None),  # 90 days past due at 04-30
            ("B", "2024-01-01", "2024-01-30", 300, None),  # 91 days
        ]
    )
    assert kpi.pct_over_90(ledger_old, "2024-04-30").value == pytest.approx(75.0)
    assert kpi.at_risk_rate(ledger_old, "2024-04-30").value == pytest.approx(100.0)
    t = kpi.ar_turnover(add_example(), "2024-04-30", "month")
    assert t.value == pytest.approx(15_000 / ((10_000 + 25_000) / 2))


def test_explain_names_formula_and_source():
    f = kpi.explain("dso")
    assert "AR_end / S × D" in f.formula and "Credit Research Foundation" in f.source
    with pytest.raises(KeyError, match="known"):
        kpi.explain("nope")
