"""The canonical ledger on hand-built tiny cases, and its point-in-time properties."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpmkit.ledger import Ledger

D = pd.Timestamp


def tiny() -> Ledger:
    """Three invoices of one customer, settled every way a ledger can settle them.

    I1 100.00 due 2024-01-31: paid 40.00 on 01-20 and 60.00 on 02-10 (partial, then full).
    I2 250.00 due 2024-02-15: credit note 50.00 on 02-01, payment 230.00 on 02-20 of which
          200.00 applied (30.00 unapplied: an overpayment).
    I3 80.00 due 2024-03-31: written off 80.00 on 2024-06-30.
    """
    invoices = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3"],
            "customer_id": ["C1"] * 3,
            "invoice_date": pd.to_datetime(["2024-01-01", "2024-01-16", "2024-03-01"]),
            "due_date": pd.to_datetime(["2024-01-31", "2024-02-15", "2024-03-31"]),
            "amount": [10_000, 25_000, 8_000],
            "currency": ["USD"] * 3,
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3"],
            "payment_date": pd.to_datetime(["2024-01-20", "2024-02-10", "2024-02-20"]),
            "amount": [4_000, 6_000, 23_000],
            "currency": ["USD"] * 3,
            "customer_id": ["C1"] * 3,
        }
    )
    allocations = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3"],
            "invoice_id": ["I1", "I1", "I2"],
            "amount": [4_000, 6_000, 20_000],
        }
    )
    adjustments = pd.DataFrame(
        {
            "adjustment_id": ["CN1", "WO1"],
            "invoice_id": ["I2", "I3"],
            "date": pd.to_datetime(["2024-02-01", "2024-06-30"]),
            "amount": [5_000, 8_000],
            "kind": ["credit_note", "write_off"],
        }
    )
    disputes = pd.DataFrame(
        {
            "dispute_id": ["D1"],
            "invoice_id": ["I2"],
            "opened_date": pd.to_datetime(["2024-01-25"]),
            "amount": [5_000],
            "resolved_date": pd.to_datetime(["2024-02-01"]),
            "outcome": ["credit_note"],
        }
    )
    return Ledger(
        customers=pd.DataFrame({"customer_id": ["C1"]}),
        invoices=invoices,
        payments=payments,
        allocations=allocations,
        adjustments=adjustments,
        disputes=disputes,
    )


def open_by_id(ledger: Ledger, t: str) -> dict[str, int]:
    items = ledger.open_items(t)
    return dict(zip(items["invoice_id"], items["open_amount"], strict=True))


def test_tiny_ledger_passes_its_own_check():
    tiny().check()


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        ("2023-12-31", {}),
        ("2024-01-01", {"I1": 10_000}),
        ("2024-01-20", {"I1": 6_000, "I2": 25_000}),  # partial payment
        ("2024-01-31", {"I1": 6_000, "I2": 25_000}),
        ("2024-02-01", {"I1": 6_000, "I2": 20_000}),  # credit note
        ("2024-02-10", {"I2": 20_000}),  # the payment dated on t counts
        ("2024-02-20", {}),
        ("2024-03-01", {"I3": 8_000}),
        ("2024-06-29", {"I3": 8_000}),
        ("2024-06-30", {}),  # written off
    ],
)
def test_open_items_by_hand(t, expected):
    assert open_by_id(tiny(), t) == expected


def test_days_past_due_counts_due_today_as_current():
    items = tiny().open_items("2024-01-31")
    assert items.set_index("invoice_id").loc["I1", "days_past_due"] == 0
    items = tiny().open_items("2024-02-01")
    assert items.set_index("invoice_id").loc["I1", "days_past_due"] == 1


def test_overpayment_is_unapplied_cash_only_once_received():
    ledger = tiny()
    assert ledger.unapplied_cash("2024-02-19").empty
    cash = ledger.unapplied_cash("2024-02-20")
    assert cash[["payment_id", "unapplied"]].values.tolist() == [["P3", 3_000]]


def test_settlement_components_add_up():
    s = tiny().settlement().set_index("invoice_id")
    assert s.loc["I2", ["applied", "credited", "open_amount"]].tolist() == [20_000, 5_000, 0]
    assert s.loc["I3", "written_off"] == 8_000
    assert s.loc["I1", "settled_date"] == D("2024-02-10")
    assert s.loc["I2", "settled_date"] == D("2024-02-20")
    assert s.loc["I3", "settled_date"] == D("2024-06-30")


def test_as_of_forgets_the_future():
    view = tiny().as_of("2024-01-31")
    assert view.cutoff == D("2024-01-31")
    assert view.invoices["invoice_id"].tolist() == ["I1", "I2"]
    assert view.payments["payment_id"].tolist() == ["P1"]
    assert view.adjustments.empty
    # the dispute was open at the end of 01-31: its resolution is not known yet
    assert view.disputes["resolved_date"].isna().all()
    assert view.disputes["outcome"].isna().all()
    with pytest.raises(ValueError, match="cut at 2024-01-31"):
        view.open_items("2024-02-01")


def test_allocation_never_takes_effect_before_its_invoice_exists():
    ledger = tiny()
    prepaid = ledger.replace(
        payments=pd.concat(
            [
                ledger.payments,
                pd.DataFrame(
                    {
                        "payment_id": ["P0"],
                        "payment_date": [D("2024-02-25")],
                        "amount": [1_000],
                        "currency": ["USD"],
                    }
                ),
            ]
        ),
        allocations=pd.concat(
            [
                ledger.allocations,
                pd.DataFrame({"payment_id": ["P0"], "invoice_id": ["I3"], "amount": [1_000]}),
            ]
        ),
    )
    assert open_by_id(prepaid, "2024-02-29") == {}  # I3 does not exist yet
    assert prepaid.unapplied_cash("2024-02-29")["payment_id"].tolist() == ["P3", "P0"]
    assert open_by_id(prepaid, "2024-03-01") == {"I3": 7_000}


def test_open_items_needs_a_date():
    with pytest.raises(ValueError, match="as_of is required"):
        tiny().open_items()


def test_money_must_be_minor_units():
    with pytest.raises(TypeError, match="integer minor units"):
        Ledger(
            invoices=pd.DataFrame(
                {
                    "invoice_id": ["1"],
                    "customer_id": ["C"],
                    "invoice_date": [D("2024-01-01")],
                    "due_date": [D("2024-01-31")],
                    "amount": [12.5],
                    "currency": ["USD"],
                }
            )
        )


def test_missing_required_column_is_named():
    with pytest.raises(ValueError, match="invoices: missing required column"):
        Ledger(invoices=pd.DataFrame({"invoice_id": ["1"]}))


def test_fx_conversion_uses_latest_rate_on_or_before_the_date():
    ledger = Ledger(
        fx_rates=pd.DataFrame(
            {
                "date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-01"]),
                "currency": ["EUR", "EUR", "JPY"],
                "rate": [1.10, 1.20, 0.0068],
            }
        )
    )
    converted = ledger.to_reporting(
        pd.Series([10_000, 10_000, 1_000, 500, 12_345]),
        pd.Series(["EUR", "EUR", "JPY", "USD", "EUR"]),
        pd.to_datetime(
            pd.Series(["2024-01-09", "2024-01-10", "2024-01-05", "2023-01-01", "2024-02-01"])
        ),
    )
    # 100.00 EUR x 1.10 = 110.00 USD; x 1.20 = 120.00; 1000 JPY x 0.0068 = 6.80 USD;
    # USD passes untouched; 123.45 x 1.2 = 148.14 USD.
    assert converted.tolist() == [11_000, 12_000, 680, 500, 14_814]
    with pytest.raises(ValueError, match="fx_rate_missing: no rate into USD for EUR on 2023-12-31"):
        ledger.to_reporting(pd.Series([1]), pd.Series(["EUR"]), pd.Series([D("2023-12-31")]))


def test_flat_round_trip_keeps_every_column():
    flat = pd.DataFrame(
        {
            "invoice_id": ["A", "B", "C"],
            "customer_id": ["X", "Y", "X"],
            "invoice_date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "due_date": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-02-02"]),
            "amount": [100, 200, 300],
            "currency": ["USD", "EUR", "USD"],
            "paid_date": pd.to_datetime(["2024-01-15", None, "2024-03-01"]),
            "disputed": pd.array([False, True, None], dtype="boolean"),
            "region": ["north", "south", "north"],
        }
    )
    ledger = Ledger.from_flat(flat)
    back = ledger.to_flat()
    pd.testing.assert_frame_equal(back[flat.columns], flat, check_dtype=False)
    assert open_by_id(ledger, "2024-02-15") == {"B": 200, "C": 300}


# --------------------------------------------------------------- properties
dates = st.dates(
    min_value=pd.Timestamp("2024-01-01").date(), max_value=pd.Timestamp("2024-12-31").date()
)


@st.composite
def flat_ledgers(draw):
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        issued = draw(dates)
        terms = draw(st.sampled_from([0, 15, 30, 60]))
        paid_after = draw(st.one_of(st.none(), st.integers(0, 120)))
        rows.append(
            {
                "invoice_id": f"INV{i}",
                "customer_id": f"C{draw(st.integers(0, 4))}",
                "invoice_date": pd.Timestamp(issued),
                "due_date": pd.Timestamp(issued) + pd.Timedelta(days=terms),
                "amount": draw(st.integers(1, 10**9)),
                "paid_date": None
                if paid_after is None
                else pd.Timestamp(issued) + pd.Timedelta(days=paid_after),
            }
        )
    frame = pd.DataFrame(rows)
    frame["paid_date"] = pd.to_datetime(frame["paid_date"])
    return frame


@settings(max_examples=30, deadline=None)
@given(flat=flat_ledgers(), t=dates)
def test_open_ar_never_counts_a_document_dated_after_t(flat, t):
    ledger = Ledger.from_flat(flat)
    t = pd.Timestamp(t)
    items = ledger.open_items(t)
    assert (items["invoice_date"] <= t).all()
    # the same answer from the flat form directly
    expected = flat[(flat["invoice_date"] <= t) & ~(flat["paid_date"] <= t)]
    assert sorted(items["invoice_id"]) == sorted(expected["invoice_id"])
    assert items["open_amount"].sum() == expected["amount"].sum()
    # and from a view cut at t, whatever later documents the full ledger has
    assert ledger.as_of(t).open_items()["open_amount"].sum() == expected["amount"].sum()


@settings(max_examples=30, deadline=None)
@given(flat=flat_ledgers())
def test_flat_round_trip_property(flat):
    back = Ledger.from_flat(flat).to_flat()
    pd.testing.assert_frame_equal(
        back[flat.columns].reset_index(drop=True), flat.reset_index(drop=True), check_dtype=False
    )
