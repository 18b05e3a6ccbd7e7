"""Month-end KPIs on the IBM AR sample agree with an independent pandas computation.

The sample is third-party data read from ``../shared/datasets/ibm-ar`` beside the
repository; the test skips when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rpmkit
from rpmkit import kpi

CSV = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "datasets"
    / "ibm-ar"
    / "WA_Fn-UseC_-Accounts-Receivable.csv"
)

pytestmark = pytest.mark.skipif(not CSV.exists(), reason="IBM AR sample not present")


@pytest.fixture(scope="module")
def ledger():
    return rpmkit.load(CSV, preset="ibm-ar").ledger


@pytest.fixture(scope="module")
def raw():
    df = pd.read_csv(CSV)
    for c in ("InvoiceDate", "DueDate", "SettledDate"):
        df[c] = pd.to_datetime(df[c], format="%m/%d/%Y")
    df["cents"] = (df["InvoiceAmount"] * 100).round().astype("int64")
    return df


def independent(raw: pd.DataFrame, t: pd.Timestamp) -> dict:
    """The definitions of kpi-definitions.md, straight from the CSV, for the month ending t."""
    start = t.replace(day=1)
    open_at = lambda d: raw[(raw.InvoiceDate <= d) & (raw.SettledDate > d)]  # noqa: E731
    ar_end = open_at(t)
    ar_begin = open_at(start - pd.Timedelta(days=1)).cents.sum()
    current = ar_end[ar_end.DueDate >= t].cents.sum()
    sales = raw[(raw.InvoiceDate >= start) & (raw.InvoiceDate <= t)].cents.sum()
    days = t.day
    return {
        "open_ar": ar_end.cents.sum(),
        "current": current,
        "sales": sales,
        "dso": ar_end.cents.sum() / sales * days,
        "bpdso": current / sales * days,
        "cei": (ar_begin + sales - ar_end.cents.sum()) / (ar_begin + sales - current) * 100,
        "over_90": ar_end[(t - ar_end.DueDate).dt.days > 90].cents.sum(),
    }


MONTH_ENDS = pd.date_range("2012-01-31", "2013-12-31", freq="ME")


@pytest.mark.parametrize("t", MONTH_ENDS, ids=lambda t: t.strftime("%Y-%m"))
def test_month_end_kpis_match_an_independent_computation(ledger, raw, t):
    expected = independent(raw, t)
    c = kpi.components(ledger, t, "month")
    assert c.ar_end == expected["open_ar"]
    assert c.ar_current == expected["current"]
    assert c.sales == expected["sales"]
    assert kpi.dso(ledger, t).value == pytest.approx(expected["dso"], rel=1e-12)
    assert kpi.bpdso(ledger, t).value == pytest.approx(expected["bpdso"], rel=1e-12)
    assert kpi.cei(ledger, t).value == pytest.approx(expected["cei"], rel=1e-12)
    aging = kpi.aging(ledger, t)
    assert int(aging.totals()["91+"]) == expected["over_90"]


def test_series_equals_point_values(ledger, raw):
    series = kpi.kpi_series(ledger, "dso", MONTH_ENDS[0], MONTH_ENDS[-1])
    expected = [independent(raw, t)["dso"] for t in MONTH_ENDS]
    np.testing.assert_allclose(series["value"].to_numpy(), expected, rtol=1e-12)
