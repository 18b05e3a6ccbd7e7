"""KPI time series equal the point KPIs at every period end; segments add up to the total."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpmkit import kpi
from rpmkit.kpi.base import period_bounds
from rpmkit.kpi.book import book
from rpmkit.kpi.series import period_ends
from rpmkit.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]


def random_ledger(seed: int = 11, n: int = 300) -> Ledger:
    """Two years of invoices in USD and EUR, settled every way the model allows."""
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(10)],
            "segment": ["enterprise", "smb", "public", "smb", "enterprise"] * 2,
        }
    )
    start = pd.Timestamp("2023-01-01")
    inv_date = start + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    terms = rng.choice([0, 30, 45, 60], n)
    amount = rng.integers(1_000, 200_000, n)
    currency = np.where(rng.random(n) < 0.25, "EUR", "USD")
    invoices = pd.DataFrame(
        {
            "invoice_id": [f"I{i:04d}" for i in range(n)],
            "customer_id": rng.choice(customers["customer_id"], n),
            "invoice_date": inv_date,
            "due_date": inv_date + pd.to_timedelta(terms, unit="D"),
            "amount": amount,
            "currency": currency,
            "segment": np.where(rng.random(n) < 0.1, "special", None),
        }
    )
    pays, allocs, adjs = [], [], []
    for i, row in invoices.iterrows():
        scenario = rng.choice(["open", "paid", "two", "credit", "write_off", "credit_only"])
        day = row.invoice_date + pd.Timedelta(days=int(rng.integers(0, 150)))
        cut = int(rng.integers(1, row.amount))
        method = rng.choice(["ach", "wire", "check"])

        cash, credits = [], []  # (id, date, applied, extra, applied_date), (id, date, amount, kind)
        if scenario == "paid":
            extra = int(rng.integers(0, 500)) if rng.random() < 0.2 else 0
            late = day + pd.Timedelta(days=3) if rng.random() < 0.3 else None
            cash.append((f"P{i}", day, row.amount, extra, late))
        elif scenario == "two":
            later = day + pd.Timedelta(days=int(rng.integers(0, 60)))
            cash += [(f"P{i}a", day, cut, 0, None), (f"P{i}b", later, row.amount - cut, 0, None)]
        elif scenario == "credit":
            when = day + pd.Timedelta(days=int(rng.integers(-5, 30)))
            cash.append((f"P{i}", day, cut, 0, None))
            credits.append((f"A{i}", when, row.amount - cut, "credit_note"))
        elif scenario == "write_off":
            cash.append((f"P{i}", day, cut, 0, None))
            credits.append((f"A{i}", day + pd.Timedelta(days=90), row.amount - cut, "write_off"))
        elif scenario == "credit_only":
            credits.append((f"A{i}", day, row.amount, "credit_note"))
        for pid, when, value, extra, applied in cash:
            pays.append((pid, when, value + extra, row.currency, row.customer_id, method))
            allocs.append((pid, row.invoice_id, value, applied))
        for aid, when, value, kind in credits:
            adjs.append((aid, row.invoice_id, max(when, row.invoice_date), value, kind))
    pays.append(("ONACCOUNT", pd.Timestamp("2024-03-03"), 5_000, "USD", "C1", "wire"))
    payments = pd.DataFrame(
        pays, columns=["payment_id", "payment_date", "amount", "currency", "customer_id", "method"]
    )
    allocations = pd.DataFrame(
        allocs, columns=["payment_id", "invoice_id", "amount", "applied_date"]
    )
    allocations["applied_date"] = pd.to_datetime(allocations["applied_date"])
    adjustments = pd.DataFrame(
        adjs, columns=["adjustment_id", "invoice_id", "date", "amount", "kind"]
    )
    months = pd.date_range("2022-12-01", "2025-06-01", freq="MS")
    fx = pd.DataFrame(
        {"date": months, "currency": "EUR", "rate": 1.05 + 0.1 * np.sin(np.arange(len(months)))}
    )
    ledger = Ledger(
        customers=customers,
        invoices=invoices,
        payments=payments,
        allocations=allocations,
        adjustments=adjustments,
        fx_rates=fx,
    )
    ledger.check()
    return ledger


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return random_ledger()


def point(ledger: Ledger, name: str, as_of, period, **options) -> float | None:
    """The point KPI the series must reproduce."""
    if name in ("open_ar", "sales"):
        c = kpi.components(ledger, as_of, period)
        return (c.ar_end if name == "open_ar" else c.sales) / 100
    if name == "receipts":
        p = period_bounds(as_of, period)
        return kpi.receipts(ledger, p.start, p.end) / 100
    if name in ("pct_current", "pct_over_90", "at_risk_rate"):
        return getattr(kpi, name)(ledger, as_of).value
    return getattr(kpi, name)(ledger, as_of, period, **options).value


def same(a, b) -> bool:
    if b is None:
        return math.isnan(a)
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


SPECS = [
    *(
        ("dso", {"method": m})
        for m in ("standard", "average", "three_month", "countback", "direct")
    ),
    ("bpdso", {}),
    ("bpdso", {"method": "countback"}),
    ("add", {}),
    ("add", {"method": "countback"}),
    ("add", {"method": "invoice", "weight": "count"}),
    ("add", {"method": "invoice", "weight": "amount"}),
    ("cei", {}),
    ("cei", {"sales": "monthly_average"}),
    ("cei", {"grace_days": 30}),
    ("pct_current", {}),
    ("pct_over_90", {}),
    ("at_risk_rate", {}),
    ("open_ar", {}),
    ("sales", {}),
    ("receipts", {}),
    ("bad_debt_ratio", {}),
    ("ar_turnover", {}),
    ("days_to_pay", {}),
    ("days_to_pay", {"weight": "amount"}),
    ("days_beyond_terms", {"weight": "amount"}),
]


@pytest.mark.parametrize(("name", "options"), SPECS, ids=lambda x: str(x))
def test_month_end_series_equals_the_point_kpi(ledger, name, options):
    series = kpi.kpi_series(ledger, name, "2023-01-01", "2024-12-31", **options)
    assert len(series) == 24 and (series["kpi"] == name).all()
    assert series["period_end"].iloc[-1] == pd.Timestamp("2024-12-31")
    for row in series.itertuples():
        expected = point(ledger, name, row.period_end, "month", **options)
        assert same(row.value, expected), (row.period_end, row.value, expected)
    assert series["value"].notna().sum() > 12


@pytest.mark.parametrize(
    ("name", "freq", "period", "options"),
    [
        ("dso", "quarter", "quarter", {"method": "countback"}),
        ("cei", "quarter", "quarter", {"sales": "monthly_average"}),
        ("dso", "week", 7, {}),
        ("days_to_pay", "week", 7, {}),
        ("pct_over_90", "week", 7, {}),
        ("dso", "month", "quarter", {"method": "average", "period": "quarter"}),
    ],
)
def test_other_frequencies_and_periods(ledger, name, freq, period, options):
    series = kpi.kpi_series(ledger, name, "2023-03-01", "2024-06-30", freq=freq, **options)
    options.pop("period", None)
    for row in series.itertuples():
        assert period_bounds(row.period_end, period).days == row.D
        assert same(row.value, point(ledger, name, row.period_end, period, **options))


def test_series_components(ledger):
    series = kpi.kpi_series(ledger, "dso", "2024-01-01", "2024-03-31")
    c = kpi.components(ledger, "2024-02-29")
    row = series.set_index("period_end").loc[pd.Timestamp("2024-02-29")]
    assert row["period_start"] == pd.Timestamp("2024-02-01") and row["D"] == 29
    assert (row["AR_begin"], row["AR_end"], row["AR_cur"], row["S"]) == tuple(
        c.units(x) for x in (c.ar_begin, c.ar_end, c.ar_current, c.sales)
    )
    assert row["method"] == "standard" and row["unit"] == "days"
    assert kpi.kpi_series(ledger, "open_ar", "2024-01-01", "2024-01-31")["unit"].item() == "USD"


@pytest.mark.parametrize("name", ["open_ar", "sales", "receipts"])
def test_segments_add_up_to_the_total(ledger, name):
    total = kpi.kpi_series(ledger, name, "2023-01-01", "2024-12-31")
    split = kpi.kpi_series(ledger, name, "2023-01-01", "2024-12-31", by="segment")
    assert set(split["segment"]) >= {"enterprise", "smb", "public", "special"}
    summed = split.groupby("period_end")["value"].sum()
    assert summed.to_numpy() == pytest.approx(total.set_index("period_end")["value"].to_numpy())
    assert split.groupby("period_end")["S"].sum().to_numpy() == pytest.approx(total["S"].to_numpy())


def test_segment_values_equal_the_point_kpi_on_that_segments_invoices(ledger):
    b = book(ledger)
    labels = np.asarray(b.segments)[b.segment]
    ids = ledger.invoices["invoice_id"][labels == "smb"]
    smb = ledger.replace(
        invoices=ledger.invoices[ledger.invoices["invoice_id"].isin(ids)],
        allocations=ledger.allocations[ledger.allocations["invoice_id"].isin(ids)],
        adjustments=ledger.adjustments[ledger.adjustments["invoice_id"].isin(ids)],
    )
    for name, options in [("dso", {"method": "countback"}), ("cei", {}), ("days_to_pay", {})]:
        split = kpi.kpi_series(ledger, name, "2023-06-01", "2024-06-30", by="segment", **options)
        for row in split[split["segment"] == "smb"].itertuples():
            assert same(row.value, point(smb, name, row.period_end, "month", **options))


def test_callable_kpis_run_once_per_period_end(ledger):
    by_name = kpi.kpi_series(ledger, "cei", "2024-01-01", "2024-06-30")
    by_callable = kpi.kpi_series(ledger, kpi.cei, "2024-01-01", "2024-06-30")
    assert by_callable["value"].to_numpy() == pytest.approx(by_name["value"].to_numpy())
    assert by_callable["AR_end"].to_numpy() == pytest.approx(by_name["AR_end"].to_numpy())
    promises = kpi.kpi_series(ledger, kpi.promise_kept_rate, "2024-01-01", "2024-03-31")
    assert promises["value"].isna().all() and len(promises) == 3
    with pytest.raises(ValueError, match="callable"):
        kpi.kpi_series(ledger, kpi.cei, "2024-01-01", "2024-06-30", by="segment")


def test_bad_arguments(ledger):
    with pytest.raises(ValueError, match="kpi must be one of"):
        kpi.kpi_series(ledger, "nope", "2024-01-01", "2024-06-30")
    with pytest.raises(TypeError, match="does not take"):
        kpi.kpi_series(ledger, "sales", "2024-01-01", "2024-06-30", method="standard")
    with pytest.raises(ValueError, match="freq"):
        kpi.kpi_series(ledger, "sales", "2024-01-01", "2024-06-30", freq="day")
    with pytest.raises(ValueError, match="needs period"):
        kpi.kpi_series(
            ledger, "cei", "2024-01-01", "2024-06-30", freq="week", sales="monthly_average"
        )
    assert period_ends("2024-01-02", "2024-01-30", "month").empty


def test_benchmarks():
    assert {k: b.value for k, b in kpi.CRF_BENCHMARKS.items()} == {
        "dso": 38.04,
        "bpdso": 32.02,
        "add": 3.00,
        "cei": 86.52,
        "pct_current": 90.56,
        "pct_over_90": 0.56,
    }
    assert "Credit Research Foundation" in kpi.benchmark("cei").source
    with pytest.raises(KeyError, match="known"):
        kpi.benchmark("dpo")
    values = [kpi.KpiValue("dso", 50.0), kpi.KpiValue("cei", None), kpi.KpiValue("x", 1.0)]
    table = kpi.benchmark_table(values)
    assert table.index.tolist() == ["dso", "cei"]
    assert table.loc["dso", "difference"] == pytest.approx(11.96)
    assert math.isnan(table.loc["cei", "value"])


def test_docs_cover_every_kpi_and_the_benchmarks():
    text = (ROOT / "docs" / "kpis.md").read_text()
    missing = [name for name in kpi.FORMULAS if f"`{name}`" not in text]
    assert not missing, f"docs/kpis.md does not describe: {missing}"
    for b in kpi.CRF_BENCHMARKS.values():
        assert f"{b.value:.2f}" in text
    for example in ("73.71", "76.32", "79.63", "55.93"):
        assert example in text


def test_docs_snippets_run():
    text = (ROOT / "docs" / "kpis.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/kpis.md", "exec"), namespace)
