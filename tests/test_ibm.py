"""The ``ibm-ar`` preset on the real IBM Watson Analytics Accounts Receivable sample.

The file is third-party sample data kept outside the project, next to it in
``shared/datasets/ibm-ar/`` (see its ``SOURCE.md``); it is never copied into
the repository. These tests skip cleanly when it is absent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rpmkit
from rpmkit import presets
from rpmkit.presets.ibm import LEAKY_COLUMNS

DATASET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "ibm-ar"
CSV = DATASET / "WA_Fn-UseC_-Accounts-Receivable.csv"

N_INVOICES = 2_466
N_CUSTOMERS = 100
TOTAL_MINOR = 14_770_318  # 147,703.18 USD

pytestmark = pytest.mark.skipif(not CSV.exists(), reason=f"IBM sample not present at {CSV}")


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def transformed() -> dict[str, pd.DataFrame]:
    with CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=pd.StringDtype("pyarrow"))
    frame["_source"] = pd.Categorical([CSV.name] * len(frame))
    frame["_line"] = np.arange(2, len(frame) + 2, dtype=np.int64)
    return presets.get("ibm-ar").transform({"flat": frame})


@pytest.fixture(scope="module")
def loaded():
    load = getattr(rpmkit, "load", None)
    if load is None:
        io = pytest.importorskip("rpmkit.io")
        load = getattr(io, "load", None)
    if load is None:
        pytest.skip("rpmkit.load is not available yet")
    return load(CSV, preset="ibm-ar")


def test_detect_recognises_the_file(source):
    assert presets.detect(list(source.columns)) == "ibm-ar"


def test_transform_keeps_every_row_and_its_line(transformed, source):
    flat = transformed["flat"]
    assert set(transformed) == {"flat", "customers"}
    assert len(flat) == N_INVOICES
    assert flat["_line"].tolist() == list(range(2, N_INVOICES + 2))
    assert flat["invoice_id"].tolist() == source["invoiceNumber"].tolist()
    assert flat["paid_date"].tolist() == source["SettledDate"].tolist()
    assert set(flat["disputed"]) == {"true", "false"}
    assert set(flat["channel"]) == {"paper", "electronic"}
    assert set(LEAKY_COLUMNS) <= set(flat.columns)


def test_transform_customer_master(transformed):
    cust = transformed["customers"]
    assert len(cust) == N_CUSTOMERS
    assert cust["customer_id"].is_unique
    assert set(cust["country"]) == {"391", "406", "770", "818", "897"}
    assert pd.to_datetime(cust["paperless_date"], format="%Y-%m-%d").notna().all()


def test_transform_amounts_total_exactly(transformed):
    from rpmkit.money import parse_amounts

    minor, reason = parse_amounts(transformed["flat"]["amount"], "USD")
    assert reason.isna().all()
    assert int(minor.sum()) == TOTAL_MINOR


def test_load_everything_with_no_rejects(loaded):
    ledger = loaded.ledger
    assert len(loaded.rejects) == 0, loaded.rejects.head().to_string()
    assert loaded.manifest.reconciled
    assert len(ledger.invoices) == N_INVOICES
    assert len(ledger.customers) == N_CUSTOMERS
    assert int(ledger.invoices["amount"].sum()) == TOTAL_MINOR
    assert set(ledger.invoices["currency"]) == {"USD"}
    assert ledger.reporting_currency == "USD"
    ledger.check()


def test_paid_dates_round_trip_to_settled_date(loaded, source):
    flat = loaded.ledger.to_flat().set_index("invoice_id")
    settled = pd.to_datetime(source.set_index("invoiceNumber")["SettledDate"], format="%m/%d/%Y")
    paid = flat["paid_date"].reindex(settled.index)
    assert paid.notna().all()
    assert (paid == settled).all()


def test_loaded_dates_and_codes(loaded, source):
    inv = loaded.ledger.invoices.set_index("invoice_id")
    src = source.set_index("invoiceNumber")
    due = pd.to_datetime(src["DueDate"], format="%m/%d/%Y")
    assert (inv["due_date"].reindex(src.index) == due).all()
    assert (inv["due_date"] - inv["invoice_date"]).dt.days.eq(30).all()
    assert (inv["disputed"].reindex(src.index) == src["Disputed"].eq("Yes")).all()
    assert (inv["channel"].reindex(src.index) == src["PaperlessBill"].str.lower()).all()
