"""rpmkit.io.load on every kind of source: folders, workbooks, DuckDB, SQL, presets, manifests."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from rpmkit.io import LoadError, LoadResult, Manifest, load
from rpmkit.ledger import Ledger
from rpmkit.schema import REASONS, TABLES

BAD = Path(__file__).parent / "data" / "bad"
FLAT_HEADER = "invoice_id,customer_id,invoice_date,due_date,amount,currency,paid_date"


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def canonical(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Canonical columns of a table, sorted by key, ready to compare."""
    spec = TABLES[table]
    cols = [c for c in spec.names if c in frame.columns]
    out = frame[cols].sort_values(list(spec.key), kind="stable").reset_index(drop=True)
    for c in cols:
        kind = spec.column(c).kind
        if kind in ("id", "text", "enum", "currency"):
            out[c] = out[c].astype("string")
        elif kind == "money" or kind == "int":
            out[c] = out[c].astype("Int64")
    return out


def assert_same_ledger(a: Ledger, b: Ledger) -> None:
    assert a.reporting_currency == b.reporting_currency
    for name in TABLES:
        left, right = canonical(getattr(a, name), name), canonical(getattr(b, name), name)
        cols = [c for c in left.columns if left[c].notna().any() or right[c].notna().any()]
        pd.testing.assert_frame_equal(left[cols], right[cols], check_dtype=False, obj=name)


# --------------------------------------------------------------------------- flat files
def test_flat_csv_loads_and_expands(tmp_path):
    path = write(
        tmp_path / "ar.csv",
        FLAT_HEADER + ",region",
        "A1,C1,2024-01-05,2024-02-04,100.00,USD,2024-02-01,North",
        "A2,C2,2024-01-09,2024-02-08,250.50,EUR,,South",
    )
    result = load(path)
    assert isinstance(result, LoadResult)
    ledger, rejects, manifest = result
    assert rejects.empty and result.ok
    assert ledger.invoices["amount"].tolist() == [10000, 25050]
    assert ledger.invoices["region"].tolist() == ["North", "South"]  # extras kept as attributes
    assert ledger.payments["payment_id"].tolist() == ["A1"]
    assert ledger.allocations["amount"].tolist() == [10000]
    assert manifest.counts["invoices"] == {
        "input": 2,
        "loaded": 2,
        "rejected": 0,
        "skipped": 0,
        "blank_rows": 0,
    }
    assert manifest.mapping["invoices"]["amount"] == "amount"


def test_all_failures_of_a_row_are_reported_but_it_counts_once(tmp_path):
    path = write(
        tmp_path / "ar.csv",
        FLAT_HEADER,
        "1.0,C1,2024-02-30,2024-01-01,abc,XYZ,",
        "A2,C1,2024-01-05,2024-02-04,10.00,USD,",
    )
    result = load(path)
    reasons = result.rejects.loc[result.rejects["line"] == 2, "reason"].tolist()
    assert sorted(reasons) == ["amount_not_number", "bad_date", "id_float", "unknown_currency"]
    counts = result.manifest.counts["invoices"]
    assert counts["rejected"] == 1 and counts["loaded"] == 1
    record = json.loads(result.rejects["record"].iloc[0])
    assert record == {
        "invoice_id": "1.0",
        "customer_id": "C1",
        "invoice_date": "2024-02-30",
        "due_date": "2024-01-01",
        "amount": "abc",
        "currency": "XYZ",
        "paid_date": None,
    }


def test_rejects_frame_columns_and_types(tmp_path):
    path = write(tmp_path / "ar.csv", FLAT_HEADER, "A1,C1,2024-01-05,2024-02-04,x,USD,")
    rejects = load(path).rejects
    assert list(rejects.columns) == [
        "table",
        "source",
        "line",
        "column",
        "reason",
        "message",
        "value",
        "record",
    ]
    assert str(rejects["line"].dtype) == "Int64"
    assert set(rejects["reason"]) <= set(REASONS)
    assert rejects["source"].iloc[0].endswith("ar.csv")


def test_mapping_yaml_file_and_options(tmp_path):
    path = write(
        tmp_path / "erp.csv",
        "Beleg;Kunde;Datum;Fällig;Betrag",
        "A1;C1;05.01.2024;04.02.2024;1.234,50",
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "date_format: '%d.%m.%Y'\ndecimal: ','\ncurrency: EUR\n"
        "invoice_id: Beleg\ncustomer_id: Kunde\ninvoice_date: Datum\ndue_date: Fällig\n"
        "amount: Betrag\n",
        encoding="utf-8",
    )
    result = load(path, mapping=mapping)
    assert result.rejects.empty
    assert result.ledger.invoices["amount"].tolist() == [123450]
    assert result.ledger.invoices["currency"].tolist() == ["EUR"]
    assert result.manifest.reporting_currency == "EUR"
    assert result.manifest.options["decimal"] == ","


def test_keyword_options_override_mapping_options(tmp_path):
    path = write(
        tmp_path / "ar.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount",
        "A1,C1,2024-01-05,2024-02-04,10",
    )
    result = load(path, mapping={"currency": "GBP"}, currency="JPY")
    assert result.ledger.invoices["currency"].tolist() == ["JPY"]


def test_unknown_option_is_a_load_error_with_a_suggestion(tmp_path):
    path = write(tmp_path / "ar.csv", FLAT_HEADER, "A1,C1,2024-01-05,2024-02-04,10,USD,")
    with pytest.raises(LoadError) as info:
        load(path, date_fromat="%d/%m/%Y")
    assert info.value.reasons == ["bad_option"]
    assert "date_format" in info.value.problems[0]["message"]


def test_missing_column_suggests_the_closest_header(tmp_path):
    path = write(
        tmp_path / "ar.csv", "invoice_id,customer_id,invoice_date,Due Dte,amount", "A1,C1,x,y,1"
    )
    with pytest.raises(LoadError) as info:
        load(path)
    (problem,) = info.value.problems
    assert problem["reason"] == "missing_column" and problem["column"] == "due_date"
    assert "'Due Dte'" in problem["message"] and "invoice_id" in problem["message"]


def test_missing_source_is_a_load_error(tmp_path):
    with pytest.raises(LoadError) as info:
        load(tmp_path / "nope.csv")
    assert info.value.reasons == ["unreadable_file"]


def test_declared_delimiter_and_encoding(tmp_path):
    path = tmp_path / "ar.txt"
    path.write_bytes(
        (
            "invoice_id;customer_id;invoice_date;due_date;amount;currency\n"
            "A1;Café;2024-01-05;2024-02-04;1;EUR\n"
        ).encode("cp1252")
    )
    result = load(path, delimiter=";", encoding="cp1252")
    assert result.ledger.invoices["customer_id"].tolist() == ["Café"]
    assert result.manifest.sources[0]["encoding"] == "cp1252"


def test_excel_serial_dates_in_csv_with_1904_system(tmp_path):
    path = write(tmp_path / "ar.csv", FLAT_HEADER, "A1,C1,43834,43864,1,USD,")
    result = load(path, date_format="excel1904")
    assert result.ledger.invoices["invoice_date"].iloc[0] == pd.Timestamp("2024-01-05")


def test_workbook_dates_follow_the_workbook_date_system():
    result = load(BAD / "excel_1904.xlsx")
    assert result.ledger.invoices["invoice_date"].tolist() == [pd.Timestamp("2024-01-05")] * 2
    assert result.manifest.sources[0]["date_system"] == 1904
    assert result.manifest.date_formats["invoices.invoice_date"]["excel_serials_converted"] == 1


def test_workbook_sheet_option_and_ignored_sheets():
    result = load(BAD / "excel_errors.xlsx")
    assert result.manifest.ignored == ["Notes"]
    assert result.rejects["source"].str.endswith("excel_errors.xlsx#AR").all()


# --------------------------------------------------------------------------- rejects file
def test_write_rejects_neutralises_formulas(tmp_path):
    result = load(BAD / "formula_injection.csv")
    target = result.write_rejects(tmp_path / "rejects.csv")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 1
    for row in rows:
        for key, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (key, value)
    record = rows[0]["record"]
    assert "@SUM(A1)" in record
    # The raw record keeps the dangerous text, only the cell start is neutralised.
    frame = pd.DataFrame(
        {
            "table": ["t"],
            "source": ["=cmd"],
            "line": [2],
            "column": ["+x"],
            "reason": ["-1"],
            "message": ["@me"],
            "value": ["\tv"],
            "record": ["\rr"],
        }
    )
    LoadResult(result.ledger, frame, result.manifest).write_rejects(tmp_path / "r2.csv")
    with open(tmp_path / "r2.csv", encoding="utf-8-sig", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row == {
        "table": "t",
        "source": "'=cmd",
        "line": "2",
        "column": "'+x",
        "reason": "'-1",
        "message": "'@me",
        "value": "'\tv",
        "record": "'\rr",
    }


# --------------------------------------------------------------------------- manifest
def test_manifest_records_sources_versions_and_totals(tmp_path):
    path = BAD / "good_basic.csv"
    result = load(path)
    m = result.manifest
    assert isinstance(m, Manifest)
    (src,) = m.sources
    assert src["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert src["bytes"] == path.stat().st_size
    assert set(m.versions) == {"rpmkit", "python", "pandas", "pyarrow", "numpy"}
    d = m.to_dict()
    assert d["reconciled"] is True and d["counts"]["invoices"]["loaded"] == 3
    written = tmp_path / "manifest.json"
    m.to_json(written)
    assert json.loads(written.read_text())["totals"][0]["loaded_amount"] == 135050
    text = m.summary()
    assert "reconciled: yes" in text and "1350.50" in text


def test_control_totals_are_computed_from_the_ledger(tmp_path):
    """Rows lost behind the loader's back break the identity: loaded comes from the ledger."""
    from rpmkit.io import control_totals
    from rpmkit.io import loader as loader_module

    path = BAD / "duplicates_exact.csv"
    seen = {}
    original = loader_module.control_totals

    def spy(checked, tables, ledger, rep, tallies=None):
        broken = ledger.replace(invoices=ledger.invoices.iloc[1:])
        seen["broken"] = original(checked, tables, broken, rep, tallies)
        return original(checked, tables, ledger, rep, tallies)

    loader_module.control_totals = spy
    try:
        result = load(path)
    finally:
        loader_module.control_totals = original
    assert result.manifest.reconciled
    assert not all(row["balanced"] for row in seen["broken"])
    assert control_totals is original


# --------------------------------------------------------------------------- folders
def test_folder_reports_every_file_problem_at_once(tmp_path):
    (tmp_path / "invoices.csv").write_text("")
    write(tmp_path / "payments.csv", "payment_id,amount,currency", "P1,1,USD")
    write(tmp_path / "customers.csv", "customer_id,name,name", "C1,a,b")
    with pytest.raises(LoadError) as info:
        load(tmp_path)
    assert sorted(info.value.reasons) == ["duplicate_header", "empty_file", "missing_column"]


def test_folder_with_two_files_for_one_table(tmp_path):
    write(tmp_path / "invoices.csv", FLAT_HEADER)
    pd.DataFrame({"invoice_id": ["A"]}).to_parquet(tmp_path / "invoices.parquet")
    with pytest.raises(LoadError) as info:
        load(tmp_path)
    assert info.value.reasons == ["duplicate_table"]


def test_folder_lists_unknown_files_and_reads_ledger_json(tmp_path):
    write(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,currency",
        "I1,C1,2024-01-05,2024-02-04,5,EUR",
    )
    write(tmp_path / "notes.md", "hello")
    write(
        tmp_path / "ledger.json",
        json.dumps({"format": "rpmkit-ledger", "version": 1, "reporting_currency": "GBP"}),
    )
    result = load(tmp_path)
    assert result.manifest.ignored == ["notes.md"]
    assert result.ledger.reporting_currency == "GBP"
    assert result.manifest.reporting_currency_from == "ledger.json"
    assert result.ledger.customers["customer_id"].tolist() == ["C1"]  # derived


@pytest.fixture(scope="module")
def synthetic():
    from rpmkit.synth import generate

    return generate(customers=25, years=1, seed=3).ledger


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_folder_written_by_write_ledger_loads_back_equal(tmp_path, synthetic, fmt):
    from rpmkit.writers import write_ledger

    folder = write_ledger(synthetic, tmp_path / "ledger", format=fmt)
    result = load(folder)
    assert result.rejects.empty, result.rejects.head().to_string()
    assert result.manifest.reconciled
    assert_same_ledger(result.ledger, synthetic)
    result.ledger.check()


def test_duckdb_written_by_write_duckdb_loads_back_equal(tmp_path, synthetic):
    from rpmkit.writers import write_duckdb

    path = write_duckdb(synthetic, tmp_path / "ledger.duckdb")
    result = load(path)
    assert result.rejects.empty
    assert result.manifest.kind == "duckdb"
    assert result.manifest.reporting_currency_from == "ledger.json"
    assert_same_ledger(result.ledger, synthetic)


# --------------------------------------------------------------------------- databases
def _duckdb_file(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE invoices (invoice_id DOUBLE, customer_id VARCHAR, invoice_date DATE, "
        "due_date TIMESTAMP, amount DECIMAL(18, 2), currency VARCHAR)"
    )
    con.execute(
        "INSERT INTO invoices VALUES "
        "(1001, 'C1', DATE '2024-01-05', TIMESTAMP '2024-02-04 00:00:00', 12.50, 'USD'), "
        "(1002.5, 'C1', DATE '2024-01-06', TIMESTAMP '2024-02-05 10:30:00', 1.00, 'USD')"
    )
    con.execute(
        "CREATE TABLE payments "
        "(payment_id VARCHAR, payment_date DATE, amount DOUBLE, currency VARCHAR)"
    )
    con.execute(
        "INSERT INTO payments VALUES ('P1', DATE '2024-01-20', 0.1, 'USD'), "
        "('P2', DATE '2024-01-21', 0.125, 'USD')"
    )
    con.close()
    return path


def test_duckdb_typed_columns_become_exact_text(tmp_path):
    result = load(_duckdb_file(tmp_path / "x.duckdb"))
    got = sorted(
        zip(result.rejects["table"], result.rejects["line"], result.rejects["reason"], strict=True)
    )
    assert got == [
        ("invoices", 2, "id_float"),  # 1001.0 arrived as a float
        ("invoices", 3, "date_has_time"),
        ("invoices", 3, "id_float"),
        ("payments", 3, "amount_too_many_decimals"),  # 0.125 dollars
    ]
    assert result.ledger.payments["amount"].tolist() == [10]  # 0.1 read through its shortest text
    assert result.manifest.sources[0]["source"].endswith("x.duckdb#invoices")


def test_duckdb_single_table_is_the_flat_form(tmp_path):
    path = tmp_path / "flat.db"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE ar AS SELECT 'A1' AS invoice_id, 'C1' AS customer_id, "
        "DATE '2024-01-05' AS invoice_date, DATE '2024-02-04' AS due_date, "
        "CAST(9.99 AS DECIMAL(10,2)) AS amount, DATE '2024-01-31' AS paid_date"
    )
    con.close()
    result = load(path)
    assert result.ledger.invoices["amount"].tolist() == [999]
    assert len(result.ledger.payments) == 1


def _sqlite(path: Path) -> str:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute(
        'CREATE TABLE "AR Items" ("Doc No" TEXT PRIMARY KEY, "Cust; DROP TABLE x" TEXT, '
        "inv TEXT, due TEXT, amt NUMERIC, cur TEXT)"
    )
    con.executemany(
        'INSERT INTO "AR Items" VALUES (?, ?, ?, ?, ?, ?)',
        [
            ("A2", "C1", "2024-01-06", "2024-02-05", "7.5", "USD"),
            ("A1", "C1", "2024-01-05", "2024-02-04", 12.25, "USD"),
            ("A3", "C2", "2024-01-07", "2024-01-01", 3, "USD"),
        ],
    )
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_sqlalchemy_url_with_mapping_and_awkward_identifiers(tmp_path):
    url = _sqlite(tmp_path / "erp.sqlite")
    mapping = {
        "tables": {"flat": "AR Items"},
        "flat": {
            "invoice_id": "Doc No",
            "customer_id": "Cust; DROP TABLE x",
            "invoice_date": "inv",
            "due_date": "due",
            "amount": "amt",
            "currency": "cur",
        },
    }
    result = load(url, mapping=mapping)
    assert result.ledger.invoices["invoice_id"].tolist() == ["A1", "A2"]  # primary-key order
    assert result.ledger.invoices["amount"].tolist() == [1225, 750]
    assert result.rejects[["line", "reason"]].values.tolist() == [[4, "due_before_invoice"]]
    assert result.manifest.kind == "sql"


def test_sqlite_file_by_path_is_read_through_sqlalchemy(tmp_path):
    path = tmp_path / "erp.db"
    _sqlite(path)
    result = load(
        path,
        mapping={
            "flat": {
                "invoice_id": "Doc No",
                "customer_id": "Cust; DROP TABLE x",
                "invoice_date": "inv",
                "due_date": "due",
                "amount": "amt",
                "currency": "cur",
            }
        },
    )
    assert len(result.ledger.invoices) == 2
    assert result.manifest.sources[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.postgres
def test_postgres_ledger_tables():
    url = os.environ.get("RPMKIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("RPMKIT_TEST_POSTGRES_URL is not set")
    import sqlalchemy as sa

    schema = "rpmkit_io_test"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(
            sa.text(
                f"CREATE TABLE {schema}.invoices (invoice_id text PRIMARY KEY, customer_id text, "
                "invoice_date date, due_date date, amount numeric(18, 3), currency char(3))"
            )
        )
        conn.execute(
            sa.text(f"INSERT INTO {schema}.invoices VALUES (:i, :c, :d, :u, :a, :k)"),
            [
                {
                    "i": "I1",
                    "c": "C1",
                    "d": "2024-01-05",
                    "u": "2024-02-04",
                    "a": "10.500",
                    "k": "USD",
                },
                {
                    "i": "I2",
                    "c": "C1",
                    "d": "2024-01-05",
                    "u": "2024-02-04",
                    "a": "1.005",
                    "k": "USD",
                },
                {
                    "i": "I3",
                    "c": "C1",
                    "d": "2024-01-05",
                    "u": "2024-02-04",
                    "a": "1.005",
                    "k": "KWD",
                },
            ],
        )
        conn.execute(
            sa.text(
                f"CREATE TABLE {schema}.payments (payment_id text PRIMARY KEY, "
                "payment_date timestamp, amount double precision, currency text)"
            )
        )
        conn.execute(
            sa.text(f"INSERT INTO {schema}.payments VALUES ('P1', '2024-01-20', 10.5, 'USD')")
        )
        conn.execute(
            sa.text(f'CREATE TABLE {schema}."Allocations Export" (p text, i text, amt numeric)')
        )
        conn.execute(
            sa.text(f"INSERT INTO {schema}.\"Allocations Export\" VALUES ('P1', 'I1', 10.5)")
        )
    engine.dispose()
    try:
        result = load(
            url,
            schema=schema,
            mapping={
                "tables": {"allocations": "Allocations Export"},
                "allocations": {"payment_id": "p", "invoice_id": "i", "amount": "amt"},
            },
        )
        assert result.rejects[["table", "line", "reason"]].values.tolist() == [
            ["invoices", 3, "amount_too_many_decimals"]
        ]
        assert result.ledger.invoices["amount"].tolist() == [1050, 1005]
        assert result.ledger.allocations["amount"].tolist() == [1050]
        assert result.manifest.reconciled
        assert "***" in result.manifest.source or "@" not in result.manifest.source
    finally:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


# --------------------------------------------------------------------------- presets
@dataclass
class TinyPreset:
    """A preset of the contract rpmkit.presets implements: options + transform."""

    name: str = "tiny"
    description: str = "semicolon export with German headers"
    options: dict = field(default_factory=lambda: {"date_format": "%d.%m.%Y", "decimal": ","})

    def transform(self, raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        frame = raw["flat"]
        keep = frame["Art"] == "RE"
        out = pd.DataFrame(
            {
                "invoice_id": frame["Beleg"],
                "customer_id": frame["Kunde"],
                "invoice_date": frame["Datum"],
                "due_date": frame["Fällig"],
                "amount": frame["Betrag"],
                "currency": "EUR",
                "_source": frame["_source"],
                "_line": frame["_line"],
            }
        )[keep]
        ignored = pd.DataFrame(
            {
                "_source": frame["_source"][~keep],
                "_line": frame["_line"][~keep],
                "reason": "unsupported_entry",
                "message": "not an invoice",
            }
        )
        return {"flat": out, "_ignored": ignored}


def test_preset_object_transform_and_ignored_rows(tmp_path):
    path = write(
        tmp_path / "export.csv",
        "Beleg;Kunde;Datum;Fällig;Betrag;Art",
        "1;K1;05.01.2024;04.02.2024;1.000,00;RE",
        "2;K1;06.01.2024;05.02.2024;5,00;ZA",
        "3;K2;07.01.2024;01.01.2024;7,00;RE",
    )
    result = load(path, preset=TinyPreset())
    assert result.manifest.preset == "tiny"
    assert result.ledger.invoices["amount"].tolist() == [100000]
    got = result.rejects[["table", "line", "reason"]].values.tolist()
    assert got == [["invoices", 4, "due_before_invoice"], ["_ignored", 3, "unsupported_entry"]]
    ignored = result.rejects[result.rejects["table"] == "_ignored"].iloc[0]
    assert json.loads(ignored["record"])["Art"] == "ZA"  # the raw row, before the preset
    assert result.manifest.counts["_ignored"]["rejected"] == 1
    assert result.manifest.reconciled


def test_registry_preset_by_name(tmp_path):
    presets = pytest.importorskip("rpmkit.presets")
    assert "ibm-ar" in presets.names()
    path = write(
        tmp_path / "WA_Fn-UseC_-Accounts-Receivable.csv",
        "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,"
        "Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate",
        "391,0379-NEVHP,4/6/2013,611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0",
        "406,8976-AMJEO,3/3/2012,7900770,1/26/2013,2/25/2013,61.74,Yes,3/3/2013,Electronic,36,6",
    )
    result = load(path, preset="ibm-ar")
    assert result.rejects.empty, result.rejects.to_string()
    assert result.ledger.invoices["amount"].tolist() == [5594, 6174]
    assert result.ledger.invoices["invoice_date"].tolist() == [
        pd.Timestamp("2013-01-02"),
        pd.Timestamp("2013-01-26"),
    ]
    assert len(result.ledger.customers) == 2


def test_unknown_preset_name(tmp_path):
    pytest.importorskip("rpmkit.presets")
    path = write(tmp_path / "a.csv", FLAT_HEADER, "A1,C1,2024-01-05,2024-02-04,1,USD,")
    with pytest.raises(LoadError) as info:
        load(path, preset="no-such-preset")
    assert info.value.reasons == ["bad_option"]
    assert "ibm-ar" in info.value.problems[0]["message"]


def test_a_hundred_thousand_rows_with_bad_amounts_reconcile(tmp_path):
    n = 100_000
    rng = np.random.default_rng(1)
    days = rng.integers(0, 700, n)
    inv = pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D")
    frame = pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(n)],
            "customer_id": [f"C{i % 997}" for i in range(n)],
            "invoice_date": inv.strftime("%Y-%m-%d"),
            "due_date": (inv + pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
            "amount": [f"{v // 100}.{v % 100:02d}" for v in rng.integers(100, 10**7, n)],
            "currency": "USD",
        }
    )
    frame.loc[::1000, "amount"] = "oops"
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    result = load(path)
    assert len(result.rejects) == n // 1000
    assert result.manifest.reconciled
