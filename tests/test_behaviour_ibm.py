"""Payment profiles on the IBM AR sample agree with plain pandas on the raw CSV.

The sample is third-party data read from ``../shared/datasets/ibm-ar`` beside the
repository; the test skips when it is absent. Every invoice of the sample is
settled by 2014-01-09, so profiling as of 2014-01-31 sees all 2,466 of them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import rpmkit
from rpmkit.behaviour import PaymentProfiles, payment_trends

CSV = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "datasets"
    / "ibm-ar"
    / "WA_Fn-UseC_-Accounts-Receivable.csv"
)

pytestmark = pytest.mark.skipif(not CSV.exists(), reason="IBM AR sample not present")
AS_OF = "2014-01-31"


@pytest.fixture(scope="module")
def ledger():
    return rpmkit.load(CSV, preset="ibm-ar").ledger


@pytest.fixture(scope="module")
def raw():
    df = pd.read_csv(CSV)
    for c in ("InvoiceDate", "DueDate", "SettledDate"):
        df[c] = pd.to_datetime(df[c], format="%m/%d/%Y")
    df["to_settle"] = (df["SettledDate"] - df["InvoiceDate"]).dt.days
    df["beyond"] = (df["SettledDate"] - df["DueDate"]).dt.days
    df["late"] = df["beyond"].clip(lower=0)
    df["cents"] = (df["InvoiceAmount"] * 100).round().astype("int64")
    return df


def independent(raw: pd.DataFrame, column: str | None) -> pd.DataFrame:
    key = raw[column] if column else pd.Series("(all)", index=raw.index)
    groups = raw.groupby(key)
    weighted = (raw["beyond"] * raw["cents"]).groupby(key).sum()
    return pd.DataFrame(
        {
            "invoices": groups.size(),
            "share_late": groups["beyond"].apply(lambda s: (s > 0).mean() * 100),
            "days_late": groups["late"].mean(),
            "days_to_settle": groups["to_settle"].mean(),
            "days_beyond_terms": groups["beyond"].mean(),
            "amount_weighted": weighted / groups["cents"].sum(),
        }
    )


def test_the_raw_outcome_columns_are_what_we_think(raw):
    assert (raw["to_settle"] == raw["DaysToSettle"]).all()
    assert (raw["late"] == raw["DaysLate"]).all()


@pytest.mark.parametrize(
    ("by", "column", "relabel"),
    [
        (None, None, {"(all)": "(all)"}),
        ("disputed", "Disputed", {"True": "Yes", "False": "No"}),
        ("channel", "PaperlessBill", {"paper": "Paper", "electronic": "Electronic"}),
    ],
)
def test_profiles_match_plain_pandas(ledger, raw, by, column, relabel):
    ours = PaymentProfiles(by=by).fit(ledger, AS_OF).profiles_.rename(index=relabel)
    theirs = independent(raw, column).loc[ours.index]
    assert (ours["invoices"] == theirs["invoices"]).all()
    pd.testing.assert_series_equal(
        100 - ours["on_time_share"], theirs["share_late"], check_names=False
    )
    for mine, ref in (
        ("days_late", "days_late"),
        ("days_to_pay", "days_to_settle"),
        ("days_beyond_terms", "days_beyond_terms"),
        ("days_beyond_terms_amount_weighted", "amount_weighted"),
    ):
        pd.testing.assert_series_equal(ours[mine], theirs[ref], check_names=False, rtol=1e-12)


def test_the_contrasts(ledger):
    disputed = PaymentProfiles(by="disputed").fit(ledger, AS_OF).profiles_
    channel = PaymentProfiles(by="channel").fit(ledger, AS_OF).profiles_
    # disputed invoices settle about 13 days later and are late far more often
    gap = disputed.loc["True", "days_to_pay"] - disputed.loc["False", "days_to_pay"]
    assert gap == pytest.approx(12.92, abs=0.01)
    assert disputed.loc["True", "on_time_share"] < disputed.loc["False", "on_time_share"] - 30
    # paper bills settle about 5.6 days later than electronic ones
    gap = channel.loc["paper", "days_to_pay"] - channel.loc["electronic", "days_to_pay"]
    assert gap == pytest.approx(5.58, abs=0.01)


def test_monthly_trend_totals(ledger, raw):
    t = payment_trends(ledger, AS_OF, by="disputed")
    overall = t[t["disputed"] == "(all)"].set_index("period")
    per_month = raw.groupby(raw["SettledDate"].dt.to_period("M").dt.to_timestamp())
    pd.testing.assert_series_equal(
        overall["invoices"],
        per_month.size(),
        check_names=False,
        check_index_type=False,
        check_freq=False,
    )
    pd.testing.assert_series_equal(
        overall["late_share"],
        per_month["beyond"].apply(lambda s: (s > 0).mean() * 100),
        check_names=False,
        check_index_type=False,
        check_freq=False,
    )
