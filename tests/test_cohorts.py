"""Invoice vintage curves and acquisition cohorts: hand-computed cases, properties, recovery."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rpmkit.cohorts import COHORT_METRICS, SHARES, AcquisitionCohorts, VintageCurves
from rpmkit.ledger import Ledger
from rpmkit.plots.cohorts import cohort_heatmap, vintage_heatmap, vintage_lines
from rpmkit.synth import BehaviourSpec, generate

D = pd.Timestamp


def build(invoices, events, customers=None) -> Ledger:
    """A ledger from ``(id, customer, invoice_date, due_date, amount)`` rows and
    ``(invoice, date, kind, amount)`` settlement events; ``kind`` ``cash`` is a
    payment with its allocation, any other kind an adjustment. Amounts in cents.
    """
    inv = pd.DataFrame(
        invoices, columns=["invoice_id", "customer_id", "invoice_date", "due_date", "amount"]
    )
    inv["invoice_date"] = pd.to_datetime(inv["invoice_date"])
    inv["due_date"] = pd.to_datetime(inv["due_date"])
    inv["currency"] = "USD"
    ev = pd.DataFrame(events, columns=["invoice_id", "date", "kind", "amount"])
    ev["date"] = pd.to_datetime(ev["date"])
    ev["amount"] = ev["amount"].astype("int64")
    cash = ev[ev["kind"] == "cash"].reset_index(drop=True)
    ids = [f"P{i}" for i in range(len(cash))]
    payments = pd.DataFrame(
        {
            "payment_id": ids,
            "payment_date": cash["date"],
            "amount": cash["amount"],
            "currency": "USD",
        }
    )
    allocations = pd.DataFrame(
        {"payment_id": ids, "invoice_id": cash["invoice_id"], "amount": cash["amount"]}
    )
    adj = ev[ev["kind"] != "cash"].reset_index(drop=True)
    adjustments = pd.DataFrame(
        {
            "adjustment_id": [f"J{i}" for i in range(len(adj))],
            "invoice_id": adj["invoice_id"],
            "date": adj["date"],
            "amount": adj["amount"],
            "kind": adj["kind"],
        }
    )
    if customers is None:
        customers = pd.DataFrame({"customer_id": inv["customer_id"].drop_duplicates()})
    ledger = Ledger(
        customers=customers,
        invoices=inv,
        payments=payments,
        allocations=allocations,
        adjustments=adjustments,
    )
    ledger.check()
    return ledger


def vintage_ledger() -> Ledger:
    """January 2024: five invoices, 600.00 in all; February: one of 300.00.

    A 01-05 100.00  cash 40 on 01-20 (age 15), cash 60 on 02-19 (age 45)   partial payments
    B 01-10 200.00  credit note 50 on 01-25 (age 15), cash 150 on 03-10 (age 60)
    C 01-15  50.00  cash 10 on 02-14 (age 30), write-off 40 on 04-14 (age 90)
    D 01-31 150.00  open
    E 01-20 100.00  discount 2 and cash 98 on 02-04 (age 15)
    F 02-10 300.00  cash on 03-01 (age 20)
    """
    invoices = [
        ("A", "C1", "2024-01-05", "2024-02-04", 10_000),
        ("B", "C2", "2024-01-10", "2024-02-09", 20_000),
        ("C", "C3", "2024-01-15", "2024-02-14", 5_000),
        ("D", "C1", "2024-01-31", "2024-03-01", 15_000),
        ("E", "C2", "2024-01-20", "2024-02-19", 10_000),
        ("F", "C3", "2024-02-10", "2024-03-11", 30_000),
    ]
    events = [
        ("A", "2024-01-20", "cash", 4_000),
        ("A", "2024-02-19", "cash", 6_000),
        ("B", "2024-01-25", "credit_note", 5_000),
        ("B", "2024-03-10", "cash", 15_000),
        ("C", "2024-02-14", "cash", 1_000),
        ("C", "2024-04-14", "write_off", 4_000),
        ("E", "2024-02-04", "discount", 200),
        ("E", "2024-02-04", "cash", 9_800),
        ("F", "2024-03-01", "cash", 30_000),
    ]
    return build(invoices, events)


# January's shares by hand, in cents of 60,000, at ages 0..90 step 15:
# (collected, credited, discounted, written_off); open is the rest.
JANUARY = {
    0: (0, 0, 0, 0),
    15: (4_000 + 9_800, 5_000, 200, 0),
    30: (14_800, 5_000, 200, 0),
    45: (20_800, 5_000, 200, 0),
    60: (35_800, 5_000, 200, 0),
    75: (35_800, 5_000, 200, 0),
    90: (35_800, 5_000, 200, 4_000),
}


def expected_january(age: int) -> list[float]:
    parts = [v / 60_000 for v in JANUARY[age]]
    return [*parts, (60_000 - sum(JANUARY[age])) / 60_000]


def test_vintage_shares_match_the_hand_computation():
    curves = VintageCurves(max_age_days=90, step_days=15).fit(vintage_ledger(), "2024-04-15")
    jan = curves.curves_[curves.curves_["vintage"] == pd.Period("2024-01", "M")]
    assert jan["age_days"].tolist() == [0, 15, 30, 45, 60, 75, 90]
    assert (jan["n_invoices"] == 5).all() and (jan["invoiced"] == 60_000).all()
    for _, row in jan.iterrows():
        age = int(row["age_days"])
        if age == 90:
            # Jan 31 + 90 days is past April 15: not every January invoice is 90 days old
            assert row[list(SHARES)].isna().all() and not row["observed"]
        else:
            assert row[list(SHARES)].tolist() == pytest.approx(expected_january(age), abs=1e-15)
            assert row[list(SHARES)].sum() == pytest.approx(1.0, abs=1e-12)
    feb = curves.matrix().loc[pd.Period("2024-02", "M")]
    # Feb 29 + 45 = April 14 is observed, + 60 is not
    assert feb.tolist()[:4] == [0.0, 0.0, 1.0, 1.0]
    assert np.isnan(feb.tolist()[4:]).all()


def test_later_as_of_reveals_more_ages_and_keeps_the_earlier_ones():
    ledger = vintage_ledger()
    early = VintageCurves(max_age_days=90, step_days=15).fit(ledger, "2024-04-15")
    late = VintageCurves(max_age_days=90, step_days=15).fit(ledger, "2024-05-31")
    jan_late = late.matrix("written_off").loc[pd.Period("2024-01", "M")]
    assert jan_late[90] == pytest.approx(4_000 / 60_000)
    assert late.matrix("open").loc[pd.Period("2024-01", "M"), 90] == pytest.approx(0.25)
    both = early.curves_["observed"].to_numpy()
    pd.testing.assert_frame_equal(
        early.curves_[both].reset_index(drop=True), late.curves_[both].reset_index(drop=True)
    )


def test_summary_reports_collected_at_fixed_ages_and_the_status_at_as_of():
    curves = VintageCurves(max_age_days=90, step_days=15, summary_ages=(30, 60, 90))
    s = curves.fit(vintage_ledger(), "2024-04-15").summary()
    jan = s.loc[pd.Period("2024-01", "M")]
    assert jan["invoiced"] == 600.0 and jan["n_invoices"] == 5
    assert jan["collected_30d"] == pytest.approx(14_800 / 60_000)
    assert jan["collected_60d"] == pytest.approx(35_800 / 60_000)
    assert np.isnan(jan["collected_90d"])
    # at April 15 the write-off of April 14 has happened even though age 90 is unobserved
    assert jan["written_off"] == pytest.approx(4_000 / 60_000)
    assert jan["open"] == pytest.approx(15_000 / 60_000)
    assert jan[list(SHARES)].sum() == pytest.approx(1.0)


def test_summary_ages_off_the_grid_are_computed_exactly():
    curves = VintageCurves(max_age_days=90, step_days=30, summary_ages=(20, 45))
    s = curves.fit(vintage_ledger(), "2024-05-31").summary()
    jan = s.loc[pd.Period("2024-01", "M")]
    assert jan["collected_20d"] == pytest.approx(13_800 / 60_000)
    assert jan["collected_45d"] == pytest.approx(20_800 / 60_000)
    assert curves.curves_["age_days"].unique().tolist() == [0, 30, 60, 90]


def test_count_basis_weighs_every_invoice_the_same():
    curves = VintageCurves(max_age_days=30, step_days=15, basis="count")
    m = curves.fit(vintage_ledger(), "2024-04-15")
    jan = m.curves_[(m.curves_["vintage"] == pd.Period("2024-01", "M"))].set_index("age_days")
    # age 15: A 40 % and E 98 % collected, B 25 % credited, E 2 % discounted
    assert jan.loc[15, "collected"] == pytest.approx((0.4 + 0.98) / 5)
    assert jan.loc[15, "credited"] == pytest.approx(0.25 / 5)
    assert jan.loc[15, "discounted"] == pytest.approx(0.02 / 5)
    assert jan.loc[15, "open"] == pytest.approx(1 - 1.65 / 5)


def test_quarter_vintages_and_segment_filter():
    ledger = vintage_ledger().replace(
        customers=pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "segment": ["a", "b", "a"]})
    )
    q = VintageCurves("quarter", max_age_days=30, step_days=15).fit(ledger, "2024-04-15")
    assert q.summary().index.tolist() == [pd.Period("2024Q1", "Q")]
    assert q.summary()["invoiced"].iloc[0] == 900.0
    # March 31 + 15 = April 15: ages 0 and 15 only
    assert q.curves_["observed"].tolist() == [True, True, False]
    only_a = VintageCurves(max_age_days=60, step_days=30, segments="a").fit(ledger, "2024-05-31")
    # segment a: A, C, D in January (300.00) and F in February
    assert only_a.summary()["invoiced"].tolist() == [300.0, 300.0]
    jan = only_a.matrix().loc[pd.Period("2024-01", "M")]
    assert jan.tolist() == pytest.approx([0.0, 5_000 / 30_000, 11_000 / 30_000])


def test_invoices_after_as_of_do_not_exist_yet():
    curves = VintageCurves(max_age_days=30, step_days=15).fit(vintage_ledger(), "2024-02-05")
    s = curves.summary()
    assert s.index.tolist() == [pd.Period("2024-01", "M")]  # F (02-10) is not issued yet
    # Jan 31 + 5 days only: age 0 is observed, later ages are not
    assert curves.matrix().iloc[0, 0] == 0.0 and curves.matrix().iloc[0, 1:].isna().all()
    assert s["collected"].iloc[0] == pytest.approx(13_800 / 60_000)


def test_fitting_on_a_view_equals_fitting_on_the_whole_ledger():
    ledger = vintage_ledger()
    whole = VintageCurves(max_age_days=90, step_days=15).fit(ledger, "2024-03-05")
    view = VintageCurves(max_age_days=90, step_days=15).fit(
        ledger.as_of("2024-03-05"), "2024-03-05"
    )
    pd.testing.assert_frame_equal(whole.curves_, view.curves_)
    pd.testing.assert_frame_equal(whole.summary(), view.summary())
    with pytest.raises(ValueError, match="cut at 2024-03-05"):
        VintageCurves().fit(ledger.as_of("2024-03-05"), "2024-03-06")


def test_json_export_is_plain_and_marks_unobserved_ages_as_null():
    curves = VintageCurves(max_age_days=90, step_days=15).fit(vintage_ledger(), "2024-04-15")
    out = json.loads(json.dumps(curves.to_dict()))
    assert out["ages_days"] == [0, 15, 30, 45, 60, 75, 90]
    jan = out["vintages"][0]
    assert jan["vintage"] == "2024-01" and jan["invoiced"] == 600.0
    assert jan["collected"][-1] is None
    assert jan["collected"][2] == pytest.approx(14_800 / 60_000)
    assert jan["to_date"]["written_off"] == pytest.approx(4_000 / 60_000)
    assert set(SHARES) <= set(jan)


def test_bad_settings_and_unfitted_use_raise_clear_errors():
    with pytest.raises(ValueError, match="freq must be"):
        VintageCurves(freq="week")
    with pytest.raises(ValueError, match="basis must be"):
        VintageCurves(basis="value")
    with pytest.raises(ValueError, match="step_days must be an integer >= 1"):
        VintageCurves(step_days=0)
    with pytest.raises(ValueError, match="max_age_days must be an integer >= 0"):
        VintageCurves(max_age_days=-5)
    with pytest.raises(ValueError, match="not fitted"):
        VintageCurves().matrix()
    with pytest.raises(ValueError, match="calendar date"):
        VintageCurves().fit(vintage_ledger(), "2024-04-15 12:00")
    curves = VintageCurves().fit(vintage_ledger(), "2024-04-15")
    with pytest.raises(ValueError, match="share must be one of"):
        curves.matrix("paid")
    with pytest.raises(ValueError, match="kind must be"):
        curves.plot("bars")
    assert "not fitted" in repr(VintageCurves())
    assert "2 vintages as of 2024-04-15" in repr(curves)


def test_an_empty_ledger_gives_empty_results():
    curves = VintageCurves().fit(Ledger(), "2024-01-31")
    assert curves.curves_.empty and curves.summary().empty
    assert curves.to_dict()["vintages"] == []
    assert len(curves.plot().layout.annotations) == 1  # "no vintage" note
    cohorts = AcquisitionCohorts().fit(Ledger(), "2024-01-31")
    assert cohorts.cohorts_.empty and cohorts.summary().empty


# ------------------------------------------------------------------ properties
@st.composite
def ledgers(draw):
    n = draw(st.integers(1, 8))
    invoices, events = [], []
    base = D("2024-01-01")
    for i in range(n):
        day = base + pd.Timedelta(days=draw(st.integers(0, 120)))
        amount = draw(st.integers(1, 100_000))
        invoices.append((f"I{i}", f"C{i % 3}", day, day + pd.Timedelta(days=30), amount))
        left = amount
        for _ in range(draw(st.integers(0, 3))):
            if left == 0:
                break
            part = draw(st.integers(1, left))
            left -= part
            kind = draw(st.sampled_from(["cash", "cash", "credit_note", "write_off", "discount"]))
            when = day + pd.Timedelta(days=draw(st.integers(0, 200)))
            events.append((f"I{i}", when, kind, part))
    as_of = base + pd.Timedelta(days=draw(st.integers(0, 400)))
    return build(invoices, events), as_of


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers(), st.sampled_from(["amount", "count"]), st.sampled_from(["month", "quarter"]))
def test_shares_are_bounded_sum_to_one_and_settled_parts_never_fall(case, basis, freq):
    ledger, as_of = case
    curves = VintageCurves(freq, max_age_days=240, step_days=10, basis=basis).fit(ledger, as_of)
    c = curves.curves_
    shown = c[c["observed"]]
    values = shown[list(SHARES)].to_numpy()
    assert (
        not np.isnan(values).any() and not c.loc[~c["observed"], list(SHARES)].notna().any().any()
    )
    assert (values >= -1e-12).all() and (values <= 1 + 1e-12).all()
    assert np.allclose(values.sum(axis=1), 1.0, atol=1e-12)
    for _, part in shown.groupby("vintage"):
        for share in ("collected", "credited", "discounted", "written_off"):
            assert (np.diff(part[share].to_numpy()) >= -1e-12).all()
        assert (np.diff(part["open"].to_numpy()) <= 1e-12).all()
    # observed exactly when the vintage's last day plus the age is on or before as_of
    last = curves.vintages_["last_day"].reindex(c["vintage"]).to_numpy()
    ages = pd.to_timedelta(c["age_days"], unit="D").to_numpy()
    assert (c["observed"].to_numpy() == (last + ages <= as_of.to_datetime64())).all()
    status = curves.summary()[list(SHARES)].to_numpy()
    assert np.allclose(status.sum(axis=1), 1.0) and (status >= -1e-12).all()


# -------------------------------------------------------- generated ledgers
def one_type(name: str, mean: float, trend: float = 0.0) -> tuple[BehaviourSpec, ...]:
    return (BehaviourSpec(name, 1.0, mean, 4.0, 5.0, trend, 0.0),)


@pytest.fixture(scope="module")
def fast_and_slow():
    # half the customers opened during the ledger, so every cohort has a few dozen
    common = dict(customers=300, years=1.5, seed=11, heavy_tail_rate=0.0, new_customer_share=0.5)
    fast = generate(behaviours=one_type("early", -6.0), **common).ledger
    slow = generate(behaviours=one_type("chronic_late", 45.0), **common).ledger
    return fast, slow


def test_vintages_of_faster_payers_collect_sooner(fast_and_slow):
    fast, slow = fast_and_slow
    settings_ = dict(max_age_days=180, step_days=15)
    f = VintageCurves(**settings_).fit(fast, "2024-06-30").summary()
    s = VintageCurves(**settings_).fit(slow, "2024-06-30").summary()
    assert f.index.equals(s.index) and len(f) == 18
    seen = f["collected_90d"].notna()
    assert seen.sum() == 15
    # same customers, terms and invoices: only the payment delay differs (-6 vs +45 days)
    assert (f.loc[seen, "collected_60d"] > s.loc[seen, "collected_60d"] + 0.3).all()
    assert (f.loc[seen, "collected_90d"] > s.loc[seen, "collected_90d"]).all()
    # early payers on 15-60 day terms have paid nearly everything by 90 days
    assert (f.loc[seen, "collected_90d"] > 0.9).all()


def test_a_deteriorating_book_collects_later_vintage_by_vintage():
    ledger = generate(
        customers=300, years=2, seed=5, heavy_tail_rate=0.0,
        behaviours=one_type("deteriorating", 0.0, trend=40.0),
    ).ledger  # fmt: skip
    s = VintageCurves(max_age_days=120, step_days=15).fit(ledger, "2024-12-31").summary()
    share = s["collected_60d"].dropna()
    assert len(share) >= 20
    rho = pd.Series(np.arange(len(share))).corr(pd.Series(share.to_numpy()), method="spearman")
    assert rho < -0.8
    assert share.iloc[:3].mean() > share.iloc[-3:].mean() + 0.25


def test_curves_are_point_in_time_consistent_on_a_generated_ledger(fast_and_slow):
    ledger = fast_and_slow[1]
    settings_ = dict(max_age_days=300, step_days=10)
    cut = VintageCurves(**settings_).fit(ledger.as_of("2023-09-30"), "2023-09-30")
    full = VintageCurves(**settings_).fit(ledger, "2024-06-30")
    a = cut.curves_.set_index(["vintage", "age_days"])
    b = full.curves_.set_index(["vintage", "age_days"]).loc[a.index]
    assert a.index.get_level_values("vintage").max() == pd.Period("2023-09", "M")
    seen = a["observed"].to_numpy()
    assert 0 < seen.sum() < len(seen)
    # every age observed at the cut is observed later, with identical shares
    assert b["observed"].to_numpy()[seen].all()
    pd.testing.assert_frame_equal(a[seen], b[seen])
    # ... while ages not yet reached at the cut are missing, not zero or extrapolated
    assert a.loc[~seen, list(SHARES)].isna().all().all()
    later = ~seen & b["observed"].to_numpy()
    assert later.sum() > 0 and b.loc[later, "collected"].notna().all()


# ---------------------------------------------------------- acquisition cohorts
def cohort_ledger() -> Ledger:
    """Four customers, monthly cohorts, as of 2024-05-15 (April is the last whole month).

    C1 created 2023-06-01, before the ledger begins: an existing customer, left out.
    C3 no created_date: acquired at its first invoice, January.
    C2 created 2024-02-10, first invoice in March: acquired in February.
    C4 created 2024-04-01 but invoiced on 03-20: the invoice wins, March.
    """
    invoices = [
        ("I1", "C1", "2024-01-05", "2024-02-04", 10_000),
        ("I2", "C3", "2024-01-20", "2024-02-19", 20_000),  # paid 02-29: 10 days late, 40 to pay
        ("I3", "C3", "2024-03-01", "2024-03-31", 10_000),  # open, past due
        ("I4", "C3", "2024-04-10", "2024-05-10", 5_000),  # paid 05-01: on time, 21 to pay
        ("I5", "C2", "2024-03-05", "2024-04-04", 8_000),  # paid on the due date: 30 to pay
        ("I6", "C2", "2024-04-02", "2024-05-02", 2_000),  # written off 05-10
        ("I7", "C4", "2024-03-20", "2024-04-19", 4_000),  # open, past due
    ]
    events = [
        ("I1", "2024-01-30", "cash", 10_000),
        ("I2", "2024-02-29", "cash", 20_000),
        ("I4", "2024-05-01", "cash", 5_000),
        ("I5", "2024-04-04", "cash", 8_000),
        ("I6", "2024-05-10", "write_off", 2_000),
    ]
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "created_date": pd.to_datetime(["2023-06-01", "2024-02-10", None, "2024-04-01"]),
        }
    )
    return build(invoices, events, customers)


def test_acquisition_cohorts_match_the_hand_computation():
    c = AcquisitionCohorts("month").fit(cohort_ledger(), "2024-05-15")
    assert c.existing_customers_ == 1
    t = c.cohorts_.set_index(["cohort", "months_since"])
    jan, feb, mar = (pd.Period(m, "M") for m in ("2024-01", "2024-02", "2024-03"))
    assert t.index.tolist() == [
        (jan, 0), (jan, 1), (jan, 2), (jan, 3), (feb, 0), (feb, 1), (feb, 2), (mar, 0), (mar, 1)
    ]  # fmt: skip
    assert t["customers"].tolist() == [1] * 9
    assert t["active_customers"].tolist() == [1, 0, 1, 1, 0, 1, 1, 1, 0]
    assert t["sales"].tolist() == [20_000, 0, 10_000, 5_000, 0, 8_000, 2_000, 4_000, 0]
    late = t["late_share"]
    assert late[(jan, 0)] == 1.0 and late[(jan, 2)] == 1.0 and late[(jan, 3)] == 0.0
    assert late[(feb, 1)] == 0.0 and np.isnan(late[(feb, 2)]) and late[(mar, 0)] == 1.0
    assert t.loc[(jan, 0), "days_to_pay"] == 40 and t.loc[(jan, 3), "days_to_pay"] == 21
    assert t.loc[(feb, 1), "days_to_pay"] == 30 and np.isnan(t.loc[(mar, 0), "days_to_pay"])
    assert t.loc[(feb, 2), "written_off_share"] == 1.0
    assert t.loc[(jan, 0), "written_off_share"] == 0.0


def test_acquisition_summary_and_matrix():
    c = AcquisitionCohorts("month").fit(cohort_ledger(), "2024-05-15")
    s = c.summary()
    jan = s.loc[pd.Period("2024-01", "M")]
    assert jan["months_observed"] == 4 and jan["sales"] == 350.0
    assert jan["late_share"] == pytest.approx(30_000 / 35_000)
    assert jan["days_to_pay"] == pytest.approx(30.5)
    assert jan["active_3m"] == 1.0 and np.isnan(jan["active_12m"])
    assert s.loc[pd.Period("2024-02", "M"), "written_off_share"] == pytest.approx(0.2)
    m = c.matrix("sales")
    assert m.loc[pd.Period("2024-01", "M")].tolist() == [200.0, 0.0, 100.0, 50.0]
    assert np.isnan(m.loc[pd.Period("2024-03", "M"), 2])
    q = AcquisitionCohorts("quarter").fit(cohort_ledger(), "2024-05-15")
    # 2024Q1's last customer came in March, so only months 0 and 1 after acquisition
    # are whole months (March, April) for every customer of the cohort
    assert q.cohorts_["months_since"].tolist() == [0, 1]
    assert q.cohorts_["customers"].tolist() == [3, 3]
    with pytest.raises(ValueError, match="metric must be one of"):
        c.matrix("revenue")
    out = json.loads(json.dumps(c.to_dict()))
    assert out["existing_customers"] == 1 and out["cohorts"][0]["sales"] == [200, 0, 100, 50]
    assert "3 cohorts as of 2024-05-15" in repr(c)


def test_cohorts_of_late_payers_pay_late(fast_and_slow):
    fast, slow = fast_and_slow
    f = AcquisitionCohorts().fit(fast, "2024-06-30").summary()
    s = AcquisitionCohorts().fit(slow, "2024-06-30").summary()
    assert f.index.equals(s.index) and len(f) >= 4
    # paying 6 days early vs 45 days late (a few early payers still miss the due
    # date: pay runs, cheques in the mail, noise), cohort by cohort
    assert (s["late_share"] > f["late_share"] + 0.4).all()
    assert (s["days_to_pay"] > f["days_to_pay"] + 25).all()
    # cohort sizes and sales do not depend on how customers pay
    assert f["customers"].equals(s["customers"])


def test_cohort_members_and_existing_customers_cover_every_invoiced_customer(fast_and_slow):
    ledger = fast_and_slow[0]
    c = AcquisitionCohorts("month").fit(ledger, "2024-06-30")
    members = c.summary()["customers"].sum()
    invoiced = ledger.invoices["customer_id"].nunique()
    assert members + c.existing_customers_ == invoiced
    created = ledger.customers.set_index("customer_id")["created_date"]
    assert c.existing_customers_ == (created < ledger.invoices["invoice_date"].min()).sum()
    assert 0 < members < c.existing_customers_


# ------------------------------------------------------------------------ plots
def test_vintage_heatmap_and_lines():
    curves = VintageCurves(max_age_days=90, step_days=15).fit(vintage_ledger(), "2024-04-15")
    fig = curves.plot("heatmap")
    heat = fig.data[0]
    assert heat.type == "heatmap" and list(heat.y) == ["2024-01", "2024-02"]
    assert heat.z[0][-1] is None and heat.z[0][2] == pytest.approx(14_800 / 60_000)
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    lines = curves.plot("lines", highlight=1)
    assert [t.name for t in lines.data] == ["2024-01", "2024-02"]
    assert [t.showlegend for t in lines.data] == [False, True]
    assert lines.data[1].y[-1] is None
    assert vintage_heatmap(curves.matrix("open"), share="open").data[0].z[0][0] == 1.0
    with pytest.raises(ValueError, match="highlight"):
        vintage_lines(curves.matrix(), highlight=-1)


def test_cohort_heatmap_formats_by_metric():
    c = AcquisitionCohorts("month").fit(cohort_ledger(), "2024-05-15")
    for metric in COHORT_METRICS:
        fig = c.plot(metric)
        assert fig.data[0].type == "heatmap"
    sales = c.plot("sales")
    assert sales.data[0].colorbar.tickprefix == "$" and "$%{z" in sales.data[0].hovertemplate
    assert c.plot("late_share").data[0].zmax == 1.0
    with pytest.raises(ValueError, match="metric must be one of"):
        cohort_heatmap(c.matrix(), metric="revenue")


def test_segment_filters_check_their_names_and_follow_the_first_invoice():
    ledger = cohort_ledger().replace(
        customers=cohort_ledger().customers.assign(segment=["x", "y", "y", "x"])
    )
    with pytest.raises(ValueError, match=r"unknown segment\(s\) \['z'\]"):
        VintageCurves(segments=["y", "z"]).fit(ledger, "2024-05-15")
    with pytest.raises(ValueError, match="segments must be"):
        AcquisitionCohorts(segments=[])
    y = AcquisitionCohorts("month", segments="y").fit(ledger, "2024-05-15")
    assert y.summary()["customers"].tolist() == [1, 1]  # C3 in January, C2 in February
    x = AcquisitionCohorts("month", segments=["x"]).fit(ledger, "2024-05-15")
    assert x.existing_customers_ == 1 and x.summary()["customers"].tolist() == [1]  # C4
    assert "segments=['x']" in repr(x)
