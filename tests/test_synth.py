"""rpmkit.synth: determinism, stream independence, hard invariants, realism, committed sample."""

from __future__ import annotations

import dataclasses
import doctest
import filecmp
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rpmkit.schema import ACTIVITY_KINDS, ADJUSTMENT_KINDS, CHANNELS, PAYMENT_METHODS
from rpmkit.synth import BehaviourSpec, SegmentSpec, SynthParams, generate, write_truth
from rpmkit.synth.remittance import NOISE_TYPES

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
HAS_WRITERS = importlib.util.find_spec("rpmkit.writers") is not None

ID_PATTERNS = {
    ("customers", "customer_id"): r"C\d{4,}",
    ("invoices", "invoice_id"): r"INV-\d{6,}",
    ("payments", "payment_id"): r"PAY-\d{7,}",
    ("adjustments", "adjustment_id"): r"(CN|WO|DSC|DED)-\d{6,}",
    ("disputes", "dispute_id"): r"DSP-\d{5,}",
    ("activities", "activity_id"): r"ACT-\d{7,}",
}


@pytest.fixture(scope="module")
def default():
    """The committed sample's ledger: SynthParams() defaults (1,000 customers, 2 years)."""
    return generate()


@pytest.fixture(scope="module")
def small():
    return generate(customers=60, years=1.0, seed=11)


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``keys.map(values)``, also when both are empty (pandas cannot map empty dates)."""
    if keys.empty:
        return pd.Series([], dtype=values.dtype, index=keys.index)
    return keys.map(values)


def frames(result) -> dict[str, pd.DataFrame]:
    return {**dict(result.ledger), **{f"truth.{k}": v for k, v in result.truth.items()}}


# ------------------------------------------------------------------ params
def test_defaults_are_fixed_and_documented():
    p = SynthParams()
    assert (p.customers, p.years, p.seed, p.start) == (1000, 2.0, 20240101, "2023-01-01")
    assert p.reporting_currency == "USD"
    assert p.end_date == pd.Timestamp("2024-12-31")
    doc = SynthParams.__doc__
    for f in dataclasses.fields(SynthParams):
        assert f.name in doc, f"SynthParams.{f.name} is not documented"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.customers = 5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"customers": 0}, r"SynthParams\.customers must be an integer in \[1, 10000000\]"),
        ({"customers": 2.5}, r"SynthParams\.customers must be an integer"),
        ({"years": 0}, r"SynthParams\.years must be a number in"),
        ({"seed": -1}, r"SynthParams\.seed must be an integer"),
        ({"start": "yesterday"}, r"SynthParams\.start must be an ISO calendar date"),
        ({"start": "2023-01-01 10:00"}, r"SynthParams\.start must be an ISO calendar date"),
        ({"dispute_rate": 1.5}, r"SynthParams\.dispute_rate must be a number in \[0\.0, 1\.0\]"),
        ({"seasonal_peak_month": 13}, r"SynthParams\.seasonal_peak_month must be an integer"),
        ({"reporting_currency": "XYZ"}, r"SynthParams\.reporting_currency must be one of"),
        ({"foreign_currencies": ("USD",)}, r"SynthParams\.foreign_currencies must be codes"),
        ({"dispute_outcomes": (("credit_note", 0.5),)}, r"dispute_outcomes must be shares summing"),
        ({"reminder_days": (0,)}, r"SynthParams\.reminder_days must be an integer in \[1, 730\]"),
    ],
)
def test_params_validation_names_field_and_range(changes, message):
    with pytest.raises(ValueError, match=message):
        SynthParams(**changes)


def test_spec_validation():
    with pytest.raises(ValueError, match=r"BehaviourSpec\('late'\)\.noise_days must be"):
        BehaviourSpec("late", 0.5, 10.0, 1.0, -1.0, 0.0, 0.0)
    seg = SynthParams().segments[0]
    with pytest.raises(ValueError, match=r"terms must be codes like NET30"):
        dataclasses.replace(seg, terms=(("NET 30", 1.0),))
    with pytest.raises(ValueError, match=r"SynthParams\.segments shares must be summing to 1"):
        SynthParams(segments=(dataclasses.replace(seg, share=0.5),))
    assert isinstance(seg, SegmentSpec)


def test_generate_rejects_unknown_override():
    with pytest.raises(TypeError, match="unknown SynthParams field"):
        generate(customer=10)


# ---------------------------------------------------------- determinism
def test_same_params_give_identical_frames(small):
    again = generate(customers=60, years=1.0, seed=11)
    for name, frame in frames(small).items():
        pd.testing.assert_frame_equal(frame, frames(again)[name], check_exact=True, obj=name)


def test_different_seed_differs(small):
    other = generate(customers=60, years=1.0, seed=12)
    assert not other.ledger.invoices.equals(small.ledger.invoices)
    assert not other.ledger.customers.equals(small.ledger.customers)


def test_changing_dispute_rate_leaves_unrelated_streams_alone(small):
    more = generate(customers=60, years=1.0, seed=11, dispute_rate=0.3)
    for name in ("customers", "invoices", "fx_rates"):
        pd.testing.assert_frame_equal(getattr(small.ledger, name), getattr(more.ledger, name))
    pd.testing.assert_frame_equal(small.truth["customers"], more.truth["customers"])
    assert len(more.ledger.disputes) > len(small.ledger.disputes)
    # The disputes drawn at the lower rate are still disputed, with the same attributes.
    keep = ["invoice_id", "opened_date", "amount", "reason_code"]
    base = small.ledger.disputes[keep]
    merged = base.merge(more.ledger.disputes[keep], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def test_changing_overpayment_rate_leaves_disputes_and_invoices_alone(small):
    more = generate(customers=60, years=1.0, seed=11, overpayment_rate=0.5)
    pd.testing.assert_frame_equal(small.ledger.invoices, more.ledger.invoices)
    pd.testing.assert_frame_equal(small.ledger.disputes, more.ledger.disputes)
    assert more.ledger.unapplied_cash("2023-12-31")["unapplied"].sum() > 0


# ------------------------------------------------------------ invariants
def assert_invariants(result) -> None:
    ledger, p = result.ledger, result.params
    ledger.check()
    start, end = p.start_date, p.end_date
    inv = ledger.invoices.set_index("invoice_id")
    pay = ledger.payments.set_index("payment_id")

    for (table, column), pattern in ID_PATTERNS.items():
        ids = getattr(ledger, table)[column]
        assert ids.is_unique, f"{table}.{column} not unique"
        assert pd.api.types.is_string_dtype(ids.dtype)
        assert ids.str.fullmatch(pattern).all(), f"{table}.{column} not like {pattern}"

    enums = [
        (ledger.adjustments, "kind", ADJUSTMENT_KINDS),
        (ledger.activities, "kind", ACTIVITY_KINDS),
        (ledger.payments, "method", PAYMENT_METHODS),
        (ledger.invoices, "channel", CHANNELS),
    ]
    for frame, column, allowed in enums:
        assert set(frame[column].dropna()) <= set(allowed), column

    settled = ledger.settlement()
    assert (settled["open_amount"] >= 0).all()
    assert (settled["open_amount"] <= settled["amount"]).all()
    alloc = ledger.allocations
    per_payment = alloc.groupby("payment_id")["amount"].sum()
    assert (per_payment <= pay.loc[per_payment.index, "amount"]).all()
    inv_date = lookup(alloc["invoice_id"], inv["invoice_date"])
    assert (alloc["applied_date"] >= inv_date).all()
    assert (lookup(alloc["payment_id"], pay["payment_date"]) > inv_date).all()
    assert (alloc["applied_date"] == lookup(alloc["payment_id"], pay["payment_date"])).all()
    assert (
        lookup(alloc["payment_id"], pay["customer_id"])
        == lookup(alloc["invoice_id"], inv["customer_id"])
    ).all()

    adj = ledger.adjustments
    assert (adj["date"] >= lookup(adj["invoice_id"], inv["invoice_date"])).all()
    assert (adj["amount"] > 0).all()
    disp = ledger.disputes
    resolved = disp["resolved_date"].notna()
    assert (disp.loc[resolved, "resolved_date"] > disp.loc[resolved, "opened_date"]).all()
    assert (disp["opened_date"] >= lookup(disp["invoice_id"], inv["invoice_date"])).all()
    assert (
        disp.loc[resolved, "outcome"].notna().all() and disp.loc[~resolved, "outcome"].isna().all()
    )
    assert (disp["amount"] <= lookup(disp["invoice_id"], inv["amount"])).all()

    act = ledger.activities
    assert (act["date"] > lookup(act["invoice_id"], inv["due_date"])).all()
    promise = act["kind"] == "promise_to_pay"
    assert (act.loc[promise, "promised_date"] > act.loc[promise, "date"]).all()
    assert (act.loc[promise, "promised_amount"] > 0).all()
    assert act.loc[~promise, "promised_amount"].isna().all()

    for frame, col in [
        (ledger.invoices, "invoice_date"),
        (ledger.payments, "payment_date"),
        (adj, "date"),
        (disp, "opened_date"),
        (act, "date"),
    ]:
        assert frame[col].between(start, end).all(), col
    for frame, col in [
        (ledger.payments, "payment_date"),
        (act, "date"),
        (ledger.invoices, "invoice_date"),
        (ledger.fx_rates, "date"),
    ]:
        assert (frame[col].dt.day_of_week < 5).all(), f"{col} on a weekend"
    assert (ledger.invoices["due_date"] >= ledger.invoices["invoice_date"]).all()
    assert (ledger.fx_rates["rate"] > 0).all()
    foreign = set(ledger.invoices["currency"]) - {p.reporting_currency}
    assert foreign <= set(ledger.fx_rates["currency"])
    if foreign:  # every foreign document converts into the reporting currency
        ledger.to_reporting(
            ledger.invoices["amount"], ledger.invoices["currency"], ledger.invoices["invoice_date"]
        )

    truth = result.truth["payments"]
    assert truth["payment_id"].tolist() == ledger.payments["payment_id"].tolist()
    unapplied = ledger.payments["amount"] - lookup(
        ledger.payments["payment_id"], per_payment
    ).fillna(0)
    assert ((unapplied > 0) == (truth["unapplied"].astype(float) > 0)).all()


def test_invariants_default(default):
    assert_invariants(default)


def test_invariants_under_heavy_noise():
    result = generate(
        customers=80,
        years=1.5,
        seed=3,
        dispute_rate=0.4,
        partial_payment_rate=0.3,
        short_pay_rate=0.3,
        overpayment_rate=0.3,
        credit_note_rate=0.3,
        short_pay_deduction_share=0.3,
        write_off_age_days=30,
        foreign_currency_share=0.5,
        typo_rate=0.5,
        missing_reference_rate=0.3,
        extra_reference_rate=0.5,
    )
    assert_invariants(result)
    assert (result.ledger.adjustments["kind"] == "write_off").any()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.integers(1, 40),
    months=st.integers(1, 30),
    seed=st.integers(0, 2**32),
    dispute_rate=st.floats(0, 0.5),
    partial=st.floats(0, 0.4),
    short=st.floats(0, 0.4),
    credit=st.floats(0, 0.4),
    foreign=st.floats(0, 1),
    start=st.dates(pd.Timestamp("2000-01-01").date(), pd.Timestamp("2030-12-31").date()),
)
def test_invariants_property(
    customers, months, seed, dispute_rate, partial, short, credit, foreign, start
):
    result = generate(
        customers=customers,
        years=months / 12,
        seed=seed,
        dispute_rate=dispute_rate,
        partial_payment_rate=partial,
        short_pay_rate=short,
        credit_note_rate=credit,
        foreign_currency_share=foreign,
        start=start.isoformat(),
    )
    assert_invariants(result)


# --------------------------------------------------------------- realism
def test_segment_shares(default):
    shares = default.ledger.customers["segment"].value_counts(normalize=True)
    for spec in default.params.segments:
        assert abs(shares[spec.name] - spec.share) < 0.05, spec.name


def test_discount_takers_pay_early_and_take_two_percent(default):
    ledger = default.ledger
    inv = ledger.invoices.set_index("invoice_id")
    disc = ledger.adjustments[ledger.adjustments["kind"] == "discount"]
    credited = ledger.adjustments.loc[ledger.adjustments["kind"] == "credit_note", "invoice_id"]
    plain = disc[~disc["invoice_id"].isin(credited)]
    assert len(plain) > 500
    expected = np.rint(plain["invoice_id"].map(inv["amount"]) * 0.02).astype(np.int64)
    assert (plain["amount"].to_numpy() == expected.to_numpy()).all()
    assert (plain["invoice_id"].map(inv["terms"]) == "2/10 NET30").all()
    days = (plain["date"] - plain["invoice_id"].map(inv["invoice_date"])).dt.days
    assert days.between(1, 10).all()
    takers = default.truth["customers"].query("discount_taker")["customer_id"]
    assert set(disc["invoice_id"].map(inv["customer_id"])) <= set(takers)


def _delays(result) -> pd.DataFrame:
    """Days from due date to each allocation, with the customer's true behaviour."""
    ledger = result.ledger
    inv = ledger.invoices.set_index("invoice_id")
    alloc = ledger.allocations
    truth = result.truth["customers"].set_index("customer_id")
    customer = alloc["invoice_id"].map(inv["customer_id"])
    return pd.DataFrame(
        {
            "customer_id": customer,
            "behaviour": customer.map(truth["behaviour"]),
            "delay": (alloc["applied_date"] - alloc["invoice_id"].map(inv["due_date"])).dt.days,
            "years": (
                alloc["invoice_id"].map(inv["invoice_date"]) - result.params.start_date
            ).dt.days.div(365.25),
        }
    )


def test_behaviour_types_order_mean_delay(default):
    mean = _delays(default).groupby("behaviour")["delay"].mean()
    assert mean["chronic_late"] > 25
    assert mean["chronic_late"] > mean["late"] > mean["on_time"] > mean["early"]
    assert mean["early"] < 0


def test_deteriorating_payers_slow_down_and_improving_speed_up(default):
    d = _delays(default)

    def slope(g: pd.DataFrame) -> float:
        dm = g["delay"] - g.groupby("customer_id")["delay"].transform("mean")
        tm = g["years"] - g.groupby("customer_id")["years"].transform("mean")
        return float((dm * tm).sum() / (tm**2).sum())

    assert slope(d[d["behaviour"] == "deteriorating"]) > 5
    assert slope(d[d["behaviour"] == "improving"]) < -5


def test_payment_dates_and_pay_runs(default):
    pays = default.ledger.payments
    assert (pays["payment_date"].dt.day_of_week < 5).all()
    runs = pays["customer_id"].map(default.truth["customers"].set_index("customer_id")["pay_run"])
    weekly = runs.str.startswith("weekly_")
    weekday = runs[weekly].str[-3:].map({"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4})
    assert (pays.loc[weekly, "payment_date"].dt.day_of_week == weekday).mean() > 0.85
    month_end = pays.loc[runs == "month_end", "payment_date"]
    assert ((month_end + pd.offsets.BMonthEnd(0)) == month_end).mean() > 0.8


def test_sales_grow(default):
    inv = default.ledger.invoices
    first = inv.loc[inv["invoice_date"] < "2024-01-01", "amount"].sum()
    second = inv.loc[inv["invoice_date"] >= "2024-01-01", "amount"].sum()
    assert second > first


def test_foreign_currency_share_and_fx(default):
    customers = default.ledger.customers
    share = (customers["currency"] != "USD").mean()
    assert 0.015 <= share <= 0.05
    fx = default.ledger.fx_rates
    assert set(fx["currency"]) == {"EUR", "GBP", "CAD"}
    days = fx.groupby("currency")["date"].nunique()
    assert (days == np.busday_count("2023-01-01", "2025-01-01") + 1).all()  # + 2022-12-30
    assert fx.groupby("currency")["rate"].std().gt(0).all()


def test_open_items_at_the_end(default):
    items = default.ledger.open_items("2024-12-31")
    assert len(items) > 100
    assert (items["days_past_due"] <= 0).any() and (items["days_past_due"] > 90).any()


def test_every_kind_of_event_occurs(default):
    ledger = default.ledger
    assert set(ledger.adjustments["kind"]) == {"credit_note", "write_off", "discount", "deduction"}
    assert set(ledger.disputes["outcome"].dropna()) == {
        "credit_note",
        "rejected",
        "partially_accepted",
    }
    assert set(ledger.disputes["reason_code"]) == {c for c, _ in default.params.dispute_reasons}
    assert ledger.disputes["resolved_date"].isna().any()
    kinds = set(ledger.activities["kind"])
    assert {"reminder", "call", "letter", "agency", "promise_to_pay"} <= kinds
    promises = ledger.activities.query("kind == 'promise_to_pay'")["outcome"]
    assert {"kept", "broken"} <= set(promises.dropna())
    per_payment = ledger.allocations.groupby("payment_id").size()
    assert (per_payment > 1).any(), "no combined payments"
    per_invoice = ledger.allocations.groupby("invoice_id").size()
    assert (per_invoice > 1).any(), "no partial payments"
    assert len(ledger.unapplied_cash("2024-12-31")) > 0, "no overpayments"
    write_offs = ledger.adjustments.query("kind == 'write_off'")
    due = write_offs["invoice_id"].map(ledger.invoices.set_index("invoice_id")["due_date"])
    assert ((write_offs["date"] - due).dt.days >= default.params.write_off_age_days).all()
    assert set(ledger.payments["method"]) == {"ach", "wire", "card", "check"}
    assert set(ledger.invoices["channel"]) == {"paper", "electronic"}
    assert ledger.invoices["po_number"].notna().any() and ledger.invoices["po_number"].isna().any()


def test_each_noise_type_present(default):
    truth = default.truth["payments"]
    for name in NOISE_TYPES:
        assert truth[name].any(), f"no payment with {name} noise"
        assert truth["noise"].str.contains(name, regex=False).any()
    payments = default.ledger.payments
    master = payments["customer_id"].map(default.ledger.customers.set_index("customer_id")["name"])
    differs = payments["payer_name"] != master
    assert (differs == truth["payer_name"]).all()
    missing = payments.loc[truth["missing_reference"].to_numpy(), "remittance_text"]
    assert not missing.str.contains(r"\d", na=False).any()
    typo = payments.loc[truth["typo"].to_numpy(), "remittance_text"]
    assert typo.notna().all()


def test_truth_customers(default):
    truth = default.truth["customers"]
    assert set(truth["behaviour"]) == {b.name for b in default.params.behaviours}
    assert (truth.loc[truth["discount_taker"], "terms"] == "2/10 NET30").all()
    assert truth["customer_id"].tolist() == default.ledger.customers["customer_id"].tolist()
    assert re.fullmatch(r"[A-Za-z_]+", " ".join(truth.columns).replace(" ", "_"))


def test_write_truth_is_byte_stable(small, tmp_path):
    a = write_truth(small, tmp_path / "a")
    b = write_truth(generate(customers=60, years=1.0, seed=11), tmp_path / "b")
    assert [f.name for f in a] == ["customers.csv", "payments.csv"]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()


# -------------------------------------------------------- committed sample
@pytest.mark.skipif(not HAS_WRITERS, reason="rpmkit.writers (write_ledger) does not exist yet")
def test_committed_sample_equals_fresh_regeneration(default, tmp_path):
    from rpmkit.writers import write_ledger

    assert (SAMPLES / "invoices.csv").exists(), "data/samples has no committed sample"
    write_ledger(default.ledger, tmp_path)
    write_truth(default, tmp_path / "truth")

    def files(root: Path) -> list[Path]:
        return sorted(p.relative_to(root) for p in root.rglob("*.csv"))

    fresh = files(tmp_path)
    assert fresh == files(SAMPLES), "regenerate: rpmkit sample --out data/samples"
    changed = [str(f) for f in fresh if not filecmp.cmp(tmp_path / f, SAMPLES / f, shallow=False)]
    assert not changed, f"data/samples is stale ({changed}); regenerate it with rpmkit sample"
    # ledger.json also names the rpmkit version that wrote it: compare the rest.
    meta = json.loads((SAMPLES / "ledger.json").read_text())
    new = json.loads((tmp_path / "ledger.json").read_text())
    for key in ("format", "version", "reporting_currency", "tables"):
        assert meta[key] == new[key], f"ledger.json {key} differs"


def test_sample_readme_documents_every_column(default):
    readme = (SAMPLES / "README.md").read_text()
    assert "rpmkit sample --out data/samples --customers 1000 --years 2 --seed 20240101" in readme
    for name, frame in frames(default).items():
        table = name.removeprefix("truth.")
        assert f"`{table}" in readme, f"README has no section for {name}"
        for column in frame.columns:
            if frame[column].notna().any():
                assert f"`{column}`" in readme, f"README does not describe {name}.{column}"


def test_docs_page_examples_run():
    failures, _ = doctest.testfile(
        str(ROOT / "docs" / "synth.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert failures == 0
