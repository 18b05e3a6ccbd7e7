"""Presets: each external format's sample maps onto the expected canonical text tables.

The samples in ``tests/data/presets/`` are hand-written, a dozen rows each,
with the awkward bits of their format (subtotals, credit notes, partial
payments, residual items, report titles). Tests feed them to ``transform`` the
way the loader does (text columns, ``_source``/``_line`` provenance) and check
the tables, that provenance survives, and that every input line comes out
somewhere; then load them end to end with ``rpmkit.load``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rpmkit
from rpmkit import presets
from rpmkit.presets import IGNORED, IGNORED_COLUMNS, MissingColumnsError
from rpmkit.presets.base import parse_money
from rpmkit.schema import REASONS, TABLES

DATA = Path(__file__).resolve().parent / "data" / "presets"
TEXT = pd.StringDtype("pyarrow")

# sample file, read as a grid (report exports), delimiter
SAMPLES = {
    "flat": ("flat.csv", False, ","),
    "ibm-ar": ("ibm-ar.csv", False, ","),
    "erpnext": ("erpnext.csv", False, ","),
    "odoo": ("odoo.csv", False, ","),
    "sap-fbl5n": ("sap-fbl5n.csv", False, ";"),
    "quickbooks": ("quickbooks.csv", True, ","),
    "xero": ("xero.csv", True, ","),
}


def read_raw(file: str, *, grid: bool = False, delimiter: str = ",", key: str = "flat"):
    """A sample as the loader hands it to a preset.

    Text columns, ``_source`` (categorical) and ``_line`` (int, header = 1).
    ``grid``: every line is a row with positional columns ``c0, c1, …``.
    Otherwise the first non-blank line is the header (short headers padded
    with ``column_N`` names, as for a report read with its title as header)
    and blank lines are not rows.
    """
    with (DATA / file).open(newline="", encoding="utf-8") as f:
        records = list(csv.reader(f, delimiter=delimiter))
    numbered = [(i, r) for i, r in enumerate(records, start=1) if grid or any(c.strip() for c in r)]
    width = max(len(r) for _, r in numbered)
    if grid:
        names, body = [f"c{i}" for i in range(width)], numbered
    else:
        (_, first), body = numbered[0], numbered[1:]
        names = first + [f"column_{i + 1}" for i in range(len(first), width)]
    frame = pd.DataFrame([r + [""] * (width - len(r)) for _, r in body], columns=names, dtype=TEXT)
    frame["_source"] = pd.Categorical([file] * len(body))
    frame["_line"] = np.array([i for i, _ in body], dtype=np.int64)
    return {key: frame}


_RUNS: dict[str, tuple] = {}


def run(name: str, **options):
    """``(raw, transform(raw))`` for a sample (cached without options; do not mutate)."""
    if not options and name in _RUNS:
        return _RUNS[name]
    file, grid, delimiter = SAMPLES[name]
    raw = read_raw(file, grid=grid, delimiter=delimiter)
    preset = presets.get(name)
    if options:
        return raw, preset.with_options(**options).transform(raw)
    _RUNS[name] = (raw, preset.transform(raw))
    return _RUNS[name]


def lines(frame: pd.DataFrame) -> set[tuple[str, int]]:
    return set(zip(frame["_source"].astype(str), frame["_line"].astype(int), strict=True))


def records(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(r) for r in frame[columns].itertuples(index=False)]


def reasons(out: dict) -> dict[int, str]:
    ign = out.get(IGNORED, pd.DataFrame(columns=IGNORED_COLUMNS))
    return dict(zip(ign["_line"].astype(int), ign["reason"], strict=True))


# --------------------------------------------------------------------------- registry


def test_names_and_get():
    assert presets.names() == list(SAMPLES)
    for name in presets.names():
        p = presets.get(name)
        assert p.name == name
        assert p.description and p.source_columns
        assert {"date_format", "decimal", "reporting_currency"} <= set(p.options)
        assert not p.describe().empty


def test_get_unknown_lists_the_known_names():
    with pytest.raises(KeyError) as err:
        presets.get("sap")
    assert "sap-fbl5n" in str(err.value) and "quickbooks" in str(err.value)


def test_get_returns_a_copy():
    presets.get("ibm-ar").options["date_format"] = "%d/%m/%Y"
    assert presets.get("ibm-ar").options["date_format"] == "%m/%d/%Y"


@pytest.mark.parametrize("name", list(SAMPLES))
def test_detect_finds_each_sample_from_its_header(name):
    file, grid, delimiter = SAMPLES[name]
    with (DATA / file).open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, delimiter=delimiter)]
    # Report exports: the caller tries the first lines, as the docs say.
    found = [presets.detect(r) for r in rows[:8]]
    assert name in found
    assert all(f in (None, name) for f in found)


def test_detect_returns_none_for_unknown_headers():
    assert presets.detect(["foo", "bar"]) is None
    assert presets.detect([]) is None


# --------------------------------------------------------------------------- all presets


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_input_line_is_accounted_for(name):
    raw, out = run(name)
    produced = set().union(*(lines(f) for f in out.values()))
    assert produced == lines(raw["flat"])


@pytest.mark.parametrize("name", list(SAMPLES))
def test_outputs_are_canonical_text_tables_with_provenance(name):
    raw, out = run(name)
    assert out, "nothing came out"
    for key, frame in out.items():
        assert key in (*TABLES, "flat", IGNORED)
        assert {"_source", "_line"} <= set(frame.columns)
        assert frame["_line"].dtype == np.int64, "provenance must come through unchanged"
        assert lines(frame) <= lines(raw["flat"])
        for col in frame.columns.difference(["_source", "_line"]):
            assert frame[col].map(type).eq(str).all(), f"{key}.{col} is not all text"
        if key == IGNORED:
            assert list(frame.columns) == list(IGNORED_COLUMNS)
            known = set(REASONS) | set(presets.REASONS)
            assert set(frame["reason"]) <= known
        else:
            spec = TABLES.get(key)
            if spec is not None:
                assert set(spec.required) <= set(frame.columns)


def test_docs_describe_every_preset_column_and_reason():
    text = (Path(__file__).resolve().parents[1] / "docs" / "presets.md").read_text()
    for name in presets.names():
        section = text.split(f"## `{name}`", 1)
        assert len(section) == 2, f"docs/presets.md has no section for {name}"
        body = section[1].split("\n## ", 1)[0]
        for col in presets.get(name).source_columns:
            assert f"`{col.name}`" in body, f"{name}: column {col.name} undocumented"
    for code in presets.REASONS:
        assert f"| `{code}` |" in text, f"reason {code} undocumented"


# --------------------------------------------------------------------------- flat


def test_flat_normalises_headers_and_passes_values_through():
    raw, out = run("flat")
    flat = out["flat"]
    assert list(flat.columns[:9]) == [
        "invoice_id",
        "customer_id",
        "invoice_date",
        "due_date",
        "amount",
        "currency",
        "paid_date",
        "disputed",
        "region",
    ]
    assert flat["amount"].tolist()[5] == "0099.90"  # untouched: the loader parses
    assert flat.iloc[-1]["invoice_id"] == "TOTAL"  # left for the loader to reject


def test_flat_never_overwrites_an_exact_canonical_header():
    frame = pd.DataFrame(
        {"invoice_id": ["A"], "Invoice Number": ["B"], "_source": ["x"], "_line": [2]}
    )
    out = presets.get("flat").transform({"flat": frame})["flat"]
    assert out["invoice_id"].tolist() == ["A"]
    assert out["Invoice Number"].tolist() == ["B"]


# --------------------------------------------------------------------------- ibm-ar


def test_ibm_maps_codes_and_builds_the_customer_master():
    _, out = run("ibm-ar")
    flat, cust = out["flat"], out["customers"]
    assert len(flat) == 12 and set(out) == {"flat", "customers"}
    first = flat.iloc[0].to_dict()
    assert {k: first[k] for k in ["invoice_id", "customer_id", "invoice_date", "due_date"]} == {
        "invoice_id": "5000101",
        "customer_id": "0101-KQWXA",
        "invoice_date": "3/2/2012",
        "due_date": "4/1/2012",
    }
    assert (first["amount"], first["currency"], first["paid_date"]) == ("52.10", "USD", "3/20/2012")
    assert set(flat["disputed"]) == {"true", "false"}
    assert set(flat["channel"]) == {"paper", "electronic"}
    assert flat.loc[flat["invoice_id"] == "5000303", "paid_date"].item() == ""  # still open
    assert {"days_to_settle", "days_late"} <= set(flat.columns)
    assert records(cust, ["customer_id", "country", "paperless_date", "_line"]) == [
        ("0101-KQWXA", "391", "2012-06-01", 2),
        ("0202-LMNOP", "406", "2013-02-15", 5),
        ("0303-ZZTOP", "770", "2011-11-30", 7),
        ("0404-BRAVO", "818", "2012-09-09", 10),
        ("0505-ECHOS", "897", "2013-06-30", 12),
    ]


def test_ibm_leaves_unknown_codes_for_the_loader_to_reject():
    raw = read_raw("ibm-ar.csv")
    raw["flat"].loc[0, "Disputed"] = "Maybe"
    raw["flat"].loc[1, "PaperlessBill"] = "Fax"
    flat = presets.get("ibm-ar").transform(raw)["flat"]
    assert flat.loc[0, "disputed"] == "Maybe" and flat.loc[1, "channel"] == "Fax"


def test_ibm_customer_with_conflicting_country_keeps_both_versions():
    raw = read_raw("ibm-ar.csv")
    raw["flat"].loc[1, "countryCode"] = "406"
    cust = presets.get("ibm-ar").transform(raw)["customers"]
    assert (cust["customer_id"] == "0101-KQWXA").sum() == 2  # the loader flags the conflict


def test_other_sheets_of_a_workbook_are_ignored_with_a_reason():
    raw = read_raw("ibm-ar.csv", key="Data")
    notes = pd.DataFrame({"Note": ["exported 2014-01-02"], "_source": ["ar.xlsx#Notes"]})
    notes["_line"] = np.array([2], dtype=np.int64)
    out = presets.get("ibm-ar").transform({**raw, "Notes": notes})
    assert len(out["flat"]) == 12
    assert records(out[IGNORED], ["_source", "_line", "reason"]) == [
        ("ar.xlsx#Notes", 2, "unsupported_entry")
    ]


def test_missing_columns_name_every_one():
    raw = read_raw("ibm-ar.csv")
    raw["flat"] = raw["flat"].drop(columns=["DueDate", "SettledDate"])
    with pytest.raises(MissingColumnsError) as err:
        presets.get("ibm-ar").transform(raw)
    assert err.value.missing == ("DueDate", "SettledDate")


# --------------------------------------------------------------------------- erpnext


def test_erpnext_tables():
    _, out = run("erpnext")
    assert records(
        out["invoices"], ["invoice_id", "customer_id", "due_date", "amount", "_line"]
    ) == [
        ("ACC-SINV-2024-00001", "CUST-0001", "2024-02-04", "1000.00", 2),
        ("ACC-SINV-2024-00002", "CUST-0002", "2024-02-09", "500.00", 3),
        ("ACC-SINV-2024-00003", "CUST-0001", "2024-02-14", "750.00", 4),
        ("ACC-SINV-2024-00005", "CUST-0003", "2024-03-13", "300.00", 10),
    ]
    assert records(
        out["payments"], ["payment_id", "payment_date", "amount", "customer_id", "_line"]
    ) == [
        ("ACC-PAY-2024-00001", "2024-02-01", "1000.00", "CUST-0001", 5),
        ("ACC-PAY-2024-00002", "2024-02-03", "500.00", "CUST-0001", 7),  # its unallocated row
        ("ACC-JV-2024-00001", "2024-02-10", "200.00", "CUST-0002", 9),
    ]
    assert records(out["allocations"], ["payment_id", "invoice_id", "amount", "_line"]) == [
        ("ACC-PAY-2024-00001", "ACC-SINV-2024-00001", "1000.00", 5),
        ("ACC-PAY-2024-00002", "ACC-SINV-2024-00003", "400.00", 6),
        ("ACC-JV-2024-00001", "ACC-SINV-2024-00002", "200.00", 9),
    ]
    assert records(out["adjustments"], ["adjustment_id", "invoice_id", "amount", "kind"]) == [
        ("ACC-SINV-2024-00004", "ACC-SINV-2024-00002", "50.00", "credit_note")
    ]
    assert reasons(out) == {11: "cancelled_entry", 12: "not_receivable", 13: "unapplied_credit"}


def _ple(*rows, labels=False):
    cols = ["posting_date", "party", "voucher_type", "voucher_no", "against_voucher_no", "amount"]
    if labels:
        cols = [
            "Posting Date",
            "Party",
            "Voucher Type",
            "Voucher No",
            "Against Voucher No",
            "Amount",
        ]
    frame = pd.DataFrame(rows, columns=cols, dtype=TEXT)
    frame["_source"] = "ple.csv"
    frame["_line"] = np.arange(2, len(rows) + 2, dtype=np.int64)
    return {"flat": frame}


def test_erpnext_rows_that_net_to_zero_are_cancelled_and_labels_work():
    raw = _ple(
        ("2024-01-01", "C1", "Sales Invoice", "SI-1", "SI-1", "100"),
        ("2024-01-05", "C1", "Payment Entry", "PE-1", "PE-1", "-100"),
        ("2024-01-09", "C1", "Payment Entry", "PE-1", "PE-1", "100"),  # reconciliation…
        ("2024-01-09", "C1", "Payment Entry", "PE-1", "SI-1", "-100"),  # …moved it here
        labels=True,
    )
    out = presets.get("erpnext").transform(raw)
    assert reasons(out) == {3: "cancelled_entry", 4: "cancelled_entry"}
    assert records(out["allocations"], ["payment_id", "invoice_id", "amount", "applied_date"]) == [
        ("PE-1", "SI-1", "100.00", "2024-01-09")
    ]
    assert out["payments"]["amount"].tolist() == ["100.00"]
    assert out["invoices"]["due_date"].tolist() == ["2024-01-01"]  # blank due date: posting date


def test_erpnext_unreadable_amount_is_ignored_with_its_reason():
    raw = _ple(("2024-01-01", "C1", "Sales Invoice", "SI-1", "SI-1", "1,00x"))
    out = presets.get("erpnext").transform(raw)
    assert reasons(out) == {2: "amount_not_number"}
    assert "invoices" not in out


# --------------------------------------------------------------------------- odoo


def test_odoo_tables():
    _, out = run("odoo")
    assert records(
        out["invoices"], ["invoice_id", "customer_id", "due_date", "amount", "currency"]
    ) == [
        ("INV/2024/00001", "Azure Interior", "2024-03-31", "1150.00", "USD"),
        ("INV/2024/00002", "Deco Addict", "2024-04-04", "2000.00", "USD"),
        ("INV/2024/00003", "Azure Interior", "2024-04-09", "500.00", "USD"),
        ("INV/2024/00004#1", "Gemini Furniture", "2024-04-11", "300.00", "USD"),
        ("INV/2024/00004#2", "Gemini Furniture", "2024-05-11", "700.00", "USD"),
        ("INV/2024/00005", "Wood Corner", "2024-04-14", "1000.00", "EUR"),
    ]
    assert records(out["payments"], ["payment_id", "payment_date", "amount", "customer_id"]) == [
        ("PBNK1/2024/00001", "2024-03-20", "1150.00", "Azure Interior"),
        ("BNK1/2024/00007", "2024-04-02", "1800.00", "Deco Addict"),
        ("PBNK1/2024/00002", "2024-04-05", "100.00", "Gemini Furniture"),
        ("PBNK1/2024/00003", "2024-04-07", "400.00", "Lumber Inc"),
    ]
    # Matching group A2: the credit note is applied first, the payment covers the rest.
    assert records(out["allocations"], ["payment_id", "invoice_id", "amount", "_line"]) == [
        ("PBNK1/2024/00001", "INV/2024/00001", "1150.00", 8),
        ("BNK1/2024/00007", "INV/2024/00002", "1800.00", 10),
        ("PBNK1/2024/00002", "INV/2024/00004#1", "100.00", 11),
    ]
    assert records(
        out["adjustments"], ["adjustment_id", "invoice_id", "date", "amount", "kind"]
    ) == [("RINV/2024/00001", "INV/2024/00002", "2024-03-25", "200.00", "credit_note")]
    assert reasons(out) == {
        12: "unapplied_credit",
        14: "unsupported_entry",
        15: "unsupported_entry",
    }


def _aml(*rows, matching="Matching Number"):
    cols = ["Date", "Journal Entry", "Partner", "Due Date", "Debit", "Credit", matching]
    frame = pd.DataFrame(rows, columns=cols, dtype=TEXT)
    frame["_source"] = "aml.csv"
    frame["_line"] = np.arange(2, len(rows) + 2, dtype=np.int64)
    return {"flat": frame}


def test_odoo_applies_oldest_first_and_ignores_a_bare_partial_mark():
    raw = _aml(
        ("2024-01-10", "INV/2024/00002", "P", "2024-02-09", "300.00", "0", "A9"),
        ("2024-01-01", "INV/2024/00001", "P", "2024-01-31", "200.00", "0", "A9"),
        ("2024-02-15", "BNK1/2024/00001", "P", "", "0", "450.00", "A9"),
        ("2024-02-20", "INV/2024/00003", "P", "2024-03-20", "80.00", "0", "P"),
        ("2024-02-21", "BNK1/2024/00002", "P", "", "0", "30.00", "P"),
        matching="Matching #",
    )
    out = presets.get("odoo").transform(raw)
    assert records(out["allocations"], ["payment_id", "invoice_id", "amount"]) == [
        ("BNK1/2024/00001", "INV/2024/00001", "200.00"),
        ("BNK1/2024/00001", "INV/2024/00002", "250.00"),
    ]
    assert out["payments"]["amount"].tolist() == ["450.00", "30.00"]  # the second stays unapplied


def test_odoo_credit_note_larger_than_its_invoice_reports_the_rest():
    raw = _aml(
        ("2024-01-01", "INV/2024/00001", "P", "2024-01-31", "100.00", "0", "A1"),
        ("2024-01-05", "RINV/2024/00001", "P", "", "0", "130.00", "A1"),
    )
    out = presets.get("odoo").transform(raw)
    assert out["adjustments"]["amount"].tolist() == ["100.00"]
    assert reasons(out) == {3: "unapplied_credit"}
    assert "30.00" in out[IGNORED]["message"].item()


# --------------------------------------------------------------------------- sap-fbl5n


def test_sap_tables():
    _, out = run("sap-fbl5n")
    assert records(
        out["invoices"], ["invoice_id", "customer_id", "invoice_date", "due_date", "amount"]
    ) == [
        ("90000001", "100001", "02.01.2024", "01.02.2024", "1190,00"),
        ("90000002", "100002", "05.01.2024", "04.02.2024", "2000,00"),
        ("90000003", "100001", "15.01.2024", "14.02.2024", "1000,00"),
        ("90000004", "100003", "01.02.2024", "02.03.2024", "3000,00"),
        ("90000005", "100004", "10.03.2024", "09.04.2024", "450,00"),
    ]
    # 1400000002 paid 2.000,00 and posted a 500,00 residual in the same document: 1.500,00 cash.
    assert records(out["payments"], ["payment_id", "payment_date", "amount", "_line"]) == [
        ("1400000001", "30.01.2024", "1190,00", 3),
        ("1400000002", "10.02.2024", "1500,00", 5),
        ("1400000003", "12.02.2024", "882,00", 9),
        ("1400000004", "01.03.2024", "1000,00", 11),
        ("1400000005", "15.03.2024", "250,00", 15),
    ]
    assert records(out["allocations"], ["payment_id", "invoice_id", "amount", "applied_date"]) == [
        ("1400000001", "90000001", "1190,00", "30.01.2024"),
        ("1400000002", "90000002", "1500,00", "10.02.2024"),
        ("1400000003", "90000003", "882,00", "12.02.2024"),
        ("1400000004", "90000004", "1000,00", "05.03.2024"),
    ]
    assert records(
        out["adjustments"], ["adjustment_id", "invoice_id", "date", "amount", "kind"]
    ) == [
        ("90000010", "90000003", "20.01.2024", "100,00", "credit_note"),
        ("1400000003/90000003", "90000003", "12.02.2024", "18,00", "discount"),
    ]
    assert reasons(out) == {6: "carried_forward", 12: "carried_forward", 14: "unapplied_credit"}


def _fbl5n(*rows):
    cols = [
        "Customer",
        "Document Number",
        "Document Type",
        "Document Date",
        "Posting Date",
        "Net Due Date",
        "Amount in local currency",
        "Local Currency",
        "Clearing Document",
        "Clearing date",
    ]
    frame = pd.DataFrame(rows, columns=cols, dtype=TEXT)
    frame["_source"] = "fbl5n.csv"
    frame["_line"] = np.arange(2, len(rows) + 2, dtype=np.int64)
    return {"flat": frame}


def test_sap_residual_cleared_later_settles_the_original_invoice():
    raw = _fbl5n(
        (
            "C1",
            "9001",
            "RV",
            "01.01.2024",
            "01.01.2024",
            "31.01.2024",
            "1.000,00",
            "EUR",
            "1401",
            "10.02.2024",
        ),
        (
            "C1",
            "1401",
            "DZ",
            "10.02.2024",
            "10.02.2024",
            "10.02.2024",
            "1.000,00-",
            "EUR",
            "1401",
            "10.02.2024",
        ),
        (
            "C1",
            "1401",
            "DZ",
            "10.02.2024",
            "10.02.2024",
            "31.01.2024",
            "400,00",
            "EUR",
            "1402",
            "01.03.2024",
        ),
        (
            "C1",
            "1402",
            "DZ",
            "01.03.2024",
            "01.03.2024",
            "01.03.2024",
            "400,00-",
            "EUR",
            "1402",
            "01.03.2024",
        ),
    )
    out = presets.get("sap-fbl5n").transform(raw)
    assert records(out["payments"], ["payment_id", "amount"]) == [
        ("1401", "600,00"),
        ("1402", "400,00"),
    ]
    assert records(out["allocations"], ["payment_id", "invoice_id", "amount", "applied_date"]) == [
        ("1401", "9001", "600,00", "10.02.2024"),
        ("1402", "9001", "400,00", "01.03.2024"),
    ]
    assert "adjustments" not in out
    assert reasons(out) == {4: "carried_forward"}


def test_sap_english_notation_with_options():
    raw = _fbl5n(
        (
            "C1",
            "9001",
            "RV",
            "01/01/2024",
            "01/01/2024",
            "01/31/2024",
            "1,234.50",
            "USD",
            "1401",
            "01/20/2024",
        ),
        (
            "C1",
            "1401",
            "DZ",
            "01/20/2024",
            "01/20/2024",
            "01/20/2024",
            "1,234.50-",
            "USD",
            "1401",
            "01/20/2024",
        ),
    )
    preset = presets.get("sap-fbl5n").with_options(decimal=".", date_format="%m/%d/%Y")
    out = preset.transform(raw)
    assert records(out["allocations"], ["payment_id", "invoice_id", "amount"]) == [
        ("1401", "9001", "1234.50")
    ]


def test_sap_other_credit_lines_are_ignored_not_dropped():
    raw = _fbl5n(
        ("C1", "5001", "AB", "01.01.2024", "01.01.2024", "01.01.2024", "10,00-", "EUR", "", ""),
        ("C1", "5002", "RV", "01.01.2024", "01.01.2024", "01.01.2024", "0,00", "EUR", "", ""),
        ("C1", "5003", "RV", "01.01.2024", "01.01.2024", "01.01.2024", "12,3,4", "EUR", "", ""),
    )
    out = presets.get("sap-fbl5n").transform(raw)
    assert reasons(out) == {
        2: "unsupported_entry",
        3: "amount_not_positive",
        4: "amount_not_number",
    }


@pytest.mark.parametrize(
    ("text", "decimal", "minor"),
    [
        ("1.234,56-", ",", -123456),
        ("1234,56", ",", 123456),
        ("-7,00", ",", -700),
        ("1,234.56-", ".", -123456),
        ("(12.50)", ".", -1250),
        ("$1,250.00", ".", 125000),
        ("-$62.50", ".", -6250),
        ("EUR 5", ".", 500),
    ],
)
def test_parse_money_report_notations(text, decimal, minor):
    value, reason = parse_money(pd.Series([text]), "EUR", decimal)
    assert reason.tolist() == [None]
    assert value.tolist() == [minor]


# --------------------------------------------------------------------------- quickbooks


def test_quickbooks_tables():
    _, out = run("quickbooks")
    assert records(
        out["invoices"], ["invoice_id", "customer_id", "invoice_date", "due_date", "amount"]
    ) == [
        ("1045", "Amy's Bird Sanctuary", "2024-03-15", "2024-04-14", "1250.00"),
        ("1046", "Cool Cars", "2024-03-20", "2024-04-19", "800.00"),
        ("1038", "Freeman Sporting Goods", "2024-02-10", "2024-03-11", "462.50"),
        ("1030", "Cool Cars", "2024-01-05", "2024-02-04", "2000.00"),
    ]
    assert records(out["payments"], ["payment_id", "payment_date", "amount", "customer_id"]) == [
        ("paid:1046", "2024-03-31", "500.00", "Cool Cars"),
        ("payment@line9", "2024-03-25", "150.00", "Cool Cars"),
        ("paid:1030", "2024-03-31", "500.00", "Cool Cars"),
    ]
    assert records(out["allocations"], ["payment_id", "invoice_id", "amount", "applied_date"]) == [
        ("paid:1046", "1046", "500.00", "2024-03-31"),
        ("paid:1030", "1030", "500.00", "2024-03-31"),
    ]
    got = reasons(out)
    assert [k for k, v in got.items() if v == "totals_row"] == [10, 14, 17, 18]
    assert got[13] == "unapplied_credit"
    assert {1, 2, 3, 4, 5, 6, 11, 15, 22} <= {k for k, v in got.items() if v == "report_line"}


def test_quickbooks_title_read_as_the_header_gives_the_same_tables():
    grid = run("quickbooks")[1]
    raw = read_raw("quickbooks.csv")  # line 1 taken as the header, as a plain reader would
    out = presets.get("quickbooks").transform(raw)
    for key in ("invoices", "payments", "allocations", "customers"):
        pd.testing.assert_frame_equal(out[key], grid[key])
    assert set(lines(out[IGNORED])) | lines(out["invoices"]) | lines(out["payments"]) == lines(
        raw["flat"]
    )


def test_quickbooks_as_of_option_and_missing_as_of_line():
    raw = read_raw("quickbooks.csv", grid=True)
    raw["flat"] = raw["flat"][raw["flat"]["_line"] != 3]  # drop the "As of" line
    out = presets.get("quickbooks").transform(raw)
    assert set(
        out["payments"].set_index("payment_id").loc[["paid:1046", "paid:1030"], "payment_date"]
    ) == {""}
    out = presets.get("quickbooks").with_options(as_of="2024-04-05").transform(raw)
    assert out["allocations"]["applied_date"].tolist() == ["2024-04-05", "2024-04-05"]


# --------------------------------------------------------------------------- xero


def test_xero_tables():
    _, out = run("xero")
    assert records(
        out["invoices"], ["invoice_id", "customer_id", "invoice_date", "amount", "po_number"]
    ) == [
        ("INV-0010", "Bayside Club", "2024-01-12", "1500.00", "PO-778"),
        ("INV-0014", "Bayside Club", "2024-02-20", "800.00", ""),
        ("INV-0021", "City Agency", "2024-03-15", "650.00", ""),
        ("INV-0016", "Total Tools Ltd", "2024-02-01", "300.00", ""),  # not a "Total" row
    ]
    assert records(out["payments"], ["payment_id", "payment_date", "amount", "customer_id"]) == [
        ("paid:INV-0010", "2024-03-31", "500.00", "Bayside Club"),
        ("Overpayment@line14", "2024-03-28", "75.00", "City Agency"),
        ("paid:INV-0016", "2024-03-31", "120.00", "Total Tools Ltd"),
    ]
    assert records(
        out["adjustments"], ["adjustment_id", "invoice_id", "date", "amount", "kind"]
    ) == [("credited:INV-0014", "INV-0014", "2024-03-31", "100.00", "credit_note")]
    got = reasons(out)
    assert [k for k, v in got.items() if v == "totals_row"] == [11, 15, 18, 20]
    assert got[10] == "unapplied_credit"
    assert {7, 12, 16} <= {k for k, v in got.items() if v == "report_line"}


def _xero(header, *rows):
    cells = [["Aged Receivables Detail"], ["As at 30 June 2024"], header, *rows]
    width = max(map(len, cells))
    frame = pd.DataFrame(
        [r + [""] * (width - len(r)) for r in cells],
        columns=[f"c{i}" for i in range(width)],
        dtype=TEXT,
    )
    frame["_source"] = "xero.xlsx#Sheet1"
    frame["_line"] = np.arange(1, len(cells) + 1, dtype=np.int64)
    return {"Aged Receivables Detail": frame}


def test_xero_contact_column_and_iso_dates_from_a_workbook():
    raw = _xero(
        [
            "Contact",
            "Invoice Date",
            "Invoice Number",
            "Due Date",
            "Total",
            "Paid",
            "Credited",
            "Due",
        ],
        ["Acme", "2024-05-02", "INV-1", "2024-06-01", "100.00", "30.00", "20.00", "50.00"],
        ["Total", "", "", "", "100.00", "30.00", "20.00", "50.00"],
    )
    out = presets.get("xero").transform(raw)
    assert records(out["invoices"], ["invoice_id", "customer_id", "invoice_date", "due_date"]) == [
        ("INV-1", "Acme", "2024-05-02", "2024-06-01")
    ]
    assert records(out["payments"], ["payment_id", "payment_date", "amount"]) == [
        ("paid:INV-1", "2024-06-30", "30.00")
    ]
    assert out["adjustments"]["amount"].tolist() == ["20.00"]


def test_xero_bucket_layout_without_paid_columns_keeps_the_outstanding_amount():
    raw = _xero(
        ["Invoice Date", "Invoice Number", "Due Date", "Current", "1 Month", "Total"],
        ["Acme"],
        ["2 May 2024", "INV-1", "1 Jun 2024", "", "80.00", "80.00"],
    )
    out = presets.get("xero").transform(raw)
    assert records(out["invoices"], ["invoice_id", "customer_id", "amount"]) == [
        ("INV-1", "Acme", "80.00")
    ]
    assert "payments" not in out and "adjustments" not in out


def test_report_without_its_header_is_a_missing_column_error():
    raw = _xero(["Date", "Amount"], ["2024-05-02", "1.00"])
    with pytest.raises(MissingColumnsError):
        presets.get("xero").transform(raw)


# --------------------------------------------------------------------------- end to end


def _load():
    load = getattr(rpmkit, "load", None)
    if load is None:
        io = pytest.importorskip("rpmkit.io")
        load = getattr(io, "load", None)
    if load is None:
        pytest.skip("rpmkit.load is not available yet")
    return load


# name: (as-of date, open AR by currency in minor units, unapplied cash, expected rejects by reason)
END_TO_END = {
    "flat": ("2024-04-30", {"USD": 298093}, 0, {"totals_row": 1}),
    "ibm-ar": ("2013-12-31", {"USD": 6470}, 0, {}),
    "erpnext": (
        "2024-02-29",
        {"USD": 90000},
        10000,
        {
            "cancelled_entry": 1,
            "not_receivable": 1,
            "unapplied_credit": 1,
        },
    ),
    "odoo": (
        "2024-04-30",
        {"USD": 140000, "EUR": 100000},
        40000,
        {
            "unapplied_credit": 1,
            "unsupported_entry": 2,
        },
    ),
    "sap-fbl5n": (
        "2024-03-31",
        {"EUR": 295000},
        25000,
        {"carried_forward": 2, "unapplied_credit": 1},
    ),
    "quickbooks": (
        "2024-03-31",
        {"USD": 351250},
        15000,
        {
            "report_line": 12,
            "totals_row": 4,
            "unapplied_credit": 1,
        },
    ),
    "xero": (
        "2024-03-31",
        {"USD": 253000},
        7500,
        {
            "report_line": 10,
            "totals_row": 4,
            "unapplied_credit": 1,
        },
    ),
}


@pytest.mark.parametrize("name", list(END_TO_END))
def test_load_end_to_end(name):
    load = _load()
    as_of, open_ar, unapplied, expected = END_TO_END[name]
    result = load(DATA / SAMPLES[name][0], preset=name)
    got = result.rejects["reason"].value_counts().to_dict()
    assert got == expected, result.rejects[["line", "reason", "message"]].to_string()
    assert result.manifest.reconciled
    items = result.ledger.open_items(as_of)
    assert items.groupby("currency")["open_amount"].sum().to_dict() == open_ar
    assert int(result.ledger.unapplied_cash(as_of)["unapplied"].sum()) == unapplied
    result.ledger.check()


def test_loader_options_reach_the_preset(tmp_path):
    """A decimal declared at load time is the one the preset reads amounts with."""
    load = _load()
    text = (DATA / SAMPLES["sap-fbl5n"][0]).read_text(encoding="utf-8")
    dotted = text.replace(".", "").replace(",", ".")  # 1.190,00 -> 1190.00; 02.01.2024 -> 02012024
    path = tmp_path / "fbl5n_point.csv"
    path.write_text(dotted, encoding="utf-8")
    comma = load(DATA / SAMPLES["sap-fbl5n"][0], preset="sap-fbl5n")
    point = load(path, preset="sap-fbl5n", decimal=".", date_format="%d%m%Y")
    assert point.manifest.reconciled
    assert point.ledger.invoices["amount"].sum() == comma.ledger.invoices["amount"].sum()
