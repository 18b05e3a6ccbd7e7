"""Hypothesis properties of the KPI engine on random ledgers with every kind of settlement."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rpmkit import kpi
from rpmkit.ledger import Ledger

START = dt.date(2024, 1, 1)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ledgers(draw, currencies=("USD",)):
    """Invoices settled by partial payments, credit notes, write-offs and discounts."""
    n = draw(st.integers(1, 20))
    invoices, payments, allocations, adjustments = [], [], [], []
    for i in range(n):
        issued = START + dt.timedelta(days=draw(st.integers(0, 200)))
        amount = draw(st.integers(1, 10**8))
        invoices.append(
            {
                "invoice_id": f"I{i}",
                "customer_id": f"C{draw(st.integers(0, 3))}",
                "invoice_date": issued,
                "due_date": issued + dt.timedelta(days=draw(st.sampled_from([0, 10, 30, 60]))),
                "amount": amount,
                "currency": draw(st.sampled_from(currencies)),
            }
        )
        remaining = amount
        for k in range(draw(st.integers(0, 3))):
            if remaining == 0:
                break
            part = draw(st.integers(1, remaining))
            remaining -= part
            when = issued + dt.timedelta(days=draw(st.integers(0, 150)))
            kind = draw(
                st.sampled_from(["payment", "payment", "credit_note", "write_off", "discount"])
            )
            if kind == "payment":
                pid = f"P{i}_{k}"
                payments.append(
                    {
                        "payment_id": pid,
                        "payment_date": when,
                        "amount": part,
                        "currency": invoices[-1]["currency"],
                    }
                )
                allocations.append({"payment_id": pid, "invoice_id": f"I{i}", "amount": part})
            else:
                adjustments.append(
                    {
                        "adjustment_id": f"A{i}_{k}",
                        "invoice_id": f"I{i}",
                        "date": when,
                        "amount": part,
                        "kind": kind,
                    }
                )

    def frame(rows, columns):
        f = pd.DataFrame(rows, columns=columns)
        for c in f.columns:
            if c.endswith("date"):
                f[c] = pd.to_datetime(f[c])
        return f

    return Ledger(
        invoices=frame(invoices, list(invoices[0])),
        payments=frame(payments, ["payment_id", "payment_date", "amount", "currency"]),
        allocations=frame(allocations, ["payment_id", "invoice_id", "amount"]),
        adjustments=frame(adjustments, ["adjustment_id", "invoice_id", "date", "amount", "kind"]),
        fx_rates=pd.DataFrame(
            {
                "date": pd.to_datetime(["2023-12-01"] * 2),
                "currency": ["EUR", "JPY"],
                "rate": [1.0831, 0.00671],
            }
        ),
    )


as_of_dates = st.dates(min_value=dt.date(2024, 1, 15), max_value=dt.date(2024, 12, 31))


@SETTINGS
@given(ledger=ledgers(("USD", "EUR", "JPY")), t=as_of_dates)
def test_buckets_sum_to_open_ar_in_any_currency_mix(ledger, t):
    result = kpi.aging(ledger, t)
    assert int(result.totals()[result.labels].sum()) == result.open_ar
    by_customer = kpi.aging(ledger, t, by="customer")
    assert int(by_customer.amounts["total"].sum()) == result.open_ar
    assert kpi.components(ledger, t).ar_end == result.open_ar


@SETTINGS
@given(ledger=ledgers(), t=as_of_dates)
def test_open_ar_is_invoiced_minus_settled_up_to_t(ledger, t):
    ts = pd.Timestamp(t)
    invoiced = ledger.invoices.loc[ledger.invoices["invoice_date"] <= ts, "amount"].sum()
    applied = ledger.allocations["amount"][ledger.allocation_dates() <= ts].sum()
    adj = ledger.adjustments.loc[ledger.adjustments["date"] <= ts, "amount"].sum()
    assert kpi.aging(ledger, t).open_ar == invoiced - applied - adj
    assert ledger.open_items(t)["open_amount"].sum() == invoiced - applied - adj


@SETTINGS
@given(ledger=ledgers(), t=as_of_dates, method=st.sampled_from(["standard", "countback"]))
def test_add_is_dso_minus_bpdso(ledger, t, method):
    d = kpi.dso(ledger, t, method=method)
    b = kpi.bpdso(ledger, t, method=method)
    a = kpi.add(ledger, t, method=method)
    if d.value is None or b.value is None:
        assert a.value is None
    else:
        assert a.value == pytest.approx(d.value - b.value)
        assert a.value >= -1e-9  # current AR is part of AR


@SETTINGS
@given(ledger=ledgers(), t=as_of_dates, period=st.sampled_from(["month", "quarter", "year"]))
def test_cei_between_0_and_100_without_overpayments(ledger, t, period):
    value = kpi.cei(ledger, t, period).value
    assert value is None or -1e-9 <= value <= 100 + 1e-9


@SETTINGS
@given(ledger=ledgers(), t=as_of_dates)
def test_countback_never_exceeds_the_days_it_walked(ledger, t):
    value = kpi.dso(ledger, t, method="countback")
    months = value.components["months"]
    assert value.value <= sum(m["days"] for m in months) + 1e-9


@SETTINGS
@given(ledger=ledgers(("USD", "EUR")), t=as_of_dates, seed=st.integers(0, 2**32 - 1))
def test_kpis_ignore_row_order(ledger, t, seed):
    rng = np.random.default_rng(seed)

    def shuffled(frame):
        return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    other = ledger.replace(**{name: shuffled(frame) for name, frame in ledger})
    assert kpi.snapshot(other, t) == kpi.snapshot(ledger, t)


@SETTINGS
@given(ledger=ledgers(("USD", "EUR")), t=as_of_dates, data=st.data())
def test_kpis_unchanged_by_splitting_a_payment(ledger, t, data):
    if ledger.payments.empty:
        return
    i = data.draw(st.integers(0, len(ledger.payments) - 1))
    pay = ledger.payments.iloc[i]
    if pay["amount"] < 2:
        return
    first = data.draw(st.integers(1, int(pay["amount"]) - 1))
    alloc_i = ledger.allocations.index[ledger.allocations["payment_id"] == pay["payment_id"]][0]
    invoice = ledger.allocations.loc[alloc_i, "invoice_id"]
    halves = pd.DataFrame(
        {
            "payment_id": [pay["payment_id"] + "a", pay["payment_id"] + "b"],
            "payment_date": [pay["payment_date"]] * 2,
            "amount": [first, int(pay["amount"]) - first],
            "currency": [pay["currency"]] * 2,
        }
    )
    split = ledger.replace(
        payments=pd.concat([ledger.payments.drop(index=i), halves], ignore_index=True),
        allocations=pd.concat(
            [
                ledger.allocations.drop(index=alloc_i),
                halves[["payment_id", "amount"]].assign(invoice_id=invoice),
            ],
            ignore_index=True,
        ),
    )
    assert kpi.snapshot(split, t) == kpi.snapshot(ledger, t)
