"""Typed columns (Parquet, DuckDB) load exactly as their text would.

Dates and amounts from typed sources are parsed without making text; these
tests write one ledger, with planted bad rows, both as Parquet and as the
CSV text the readers make of that Parquet, and compare ledger, rejects and
control totals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from rpmkit import money, synth
from rpmkit.io import load
from rpmkit.io.readers import arrow_to_text
from rpmkit.validation import parse_dates, parse_money
from rpmkit.writers import write_ledger


def _table(folder: Path, name: str) -> pa.Table:
    return pq.read_table(folder / f"{name}.parquet")


def _set(table: pa.Table, col: str, values, typ=None) -> pa.Table:
    i = table.schema.get_field_index(col)
    typ = typ or table.schema.field(col).type
    return table.set_column(i, col, pa.array(values, type=typ))


def _append_rows(table: pa.Table, rows: list[dict]) -> pa.Table:
    extra = pa.Table.from_pylist(rows, schema=table.schema)
    return pa.concat_tables([table, extra])


def _plant(folder: Path) -> None:
    """Bad and awkward rows, in typed form, in every kind of typed column."""
    inv = _table(folder, "invoices")
    rows = inv.to_pylist()
    # amounts with three decimals: 1.230 is fine in USD, 12.345 is not; JPY takes none.
    scale3 = [Decimal(str(r["amount"])).quantize(Decimal("0.001")) for r in rows]
    scale3[0] = Decimal("12.345")
    scale3[1] = Decimal("1.230")
    scale3[2] = Decimal("0.000")
    scale3[3] = Decimal("-5.000")
    scale3[4] = Decimal("123456789012345678.000")  # out of range
    inv = _set(inv, "amount", scale3, pa.decimal128(38, 3))
    cur = inv.column("currency").to_pylist()
    cur[5] = "JPY"  # 100.xx JPY: too many decimals unless whole
    cur[6] = "XXX"  # unknown currency
    cur[7] = "JPY"
    inv = _set(inv, "currency", cur)
    amounts = inv.column("amount").to_pylist()
    amounts[7] = Decimal("4200.000")
    inv = _set(inv, "amount", amounts)
    dates = inv.column("invoice_date").to_pylist()
    dates[8] = None  # missing required date
    dates[9] = dt.date(1750, 6, 1)  # in the datetime64 range, before 1800
    inv = _set(inv, "invoice_date", dates)
    due = inv.column("due_date").to_pylist()
    due[10] = dates[10] - dt.timedelta(days=3)  # due before invoice
    inv = _set(inv, "due_date", due)
    extra = inv.slice(11, 1).to_pylist()
    conflict = dict(extra[0], amount=Decimal("1.000"))
    inv = _append_rows(inv, [extra[0], conflict])  # exact repeat, then a conflicting copy
    pq.write_table(inv, folder / "invoices.parquet")

    pay = _table(folder, "payments")
    # payment dates as midnight timestamps; amounts unchanged otherwise
    pdates = pay.column("payment_date").to_pylist()
    stamps = [None if d is None else dt.datetime.combine(d, dt.time()) for d in pdates]
    pay = _set(pay, "payment_date", stamps, pa.timestamp("us"))
    pay = _append_rows(pay, [pay.slice(0, 1).to_pylist()[0]])  # exact duplicate
    pq.write_table(pay, folder / "payments.parquet")

    alloc = _table(folder, "allocations")
    amounts = alloc.column("amount").to_pylist()
    amounts[0] = amounts[0] * 1000  # beyond the invoice and the payment
    alloc = _set(alloc, "amount", amounts)
    applied = alloc.column("applied_date").to_pylist()
    applied[1] = None
    alloc = _set(alloc, "applied_date", applied)
    pq.write_table(alloc, folder / "allocations.parquet")

    adj = _table(folder, "adjustments")
    if adj.num_rows > 2:
        d = adj.column("date").to_pylist()
        d[0] = dt.date(1500, 1, 1)  # outside datetime64[ns]: the whole column goes as text
        adj = _set(adj, "date", d)
        a = adj.column("amount").to_pylist()
        a[1] = None
        adj = _set(adj, "amount", a)
        pq.write_table(adj, folder / "adjustments.parquet")

    disp = _table(folder, "disputes")
    if disp.num_rows > 1:
        opened = disp.column("opened_date").to_pylist()
        stamps = [None if d is None else dt.datetime.combine(d, dt.time()) for d in opened]
        stamps[0] = stamps[0] + dt.timedelta(hours=9)  # a time of day: read as text
        disp = _set(disp, "opened_date", stamps, pa.timestamp("ms"))
        pq.write_table(disp, folder / "disputes.parquet")

    cust = _table(folder, "customers")
    limits = cust.column("credit_limit").to_pylist()
    whole = [None if v is None else int(v) for v in limits]
    whole[0] = -10
    cust = _set(cust, "credit_limit", whole, pa.int64())
    pq.write_table(cust, folder / "customers.parquet")


def _as_csv(parquet: Path, folder: Path) -> None:
    """Every Parquet table as the CSV text the readers make of it."""
    folder.mkdir()
    for f in parquet.glob("*.parquet"):
        t = pq.read_table(f)
        text = pa.table(
            {n: arrow_to_text(c) for n, c in zip(t.column_names, t.columns, strict=True)}
        )
        pacsv.write_csv(text, folder / f"{f.stem}.csv")
    (folder / "ledger.json").write_text(
        (parquet / "ledger.json").read_text().replace(".parquet", ".csv")
    )


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("typed")
    result = synth.generate(
        customers=40, years=1.0, start="2023-01-01", seed=3, foreign_currency_share=0.3
    )
    parquet = write_ledger(result.ledger, base / "parquet", format="parquet")
    _plant(parquet)
    _as_csv(parquet, base / "csv")
    return parquet, base / "csv"


def _same_rejects(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a = a.assign(source=a["source"].map(lambda s: Path(s).stem))
    b = b.assign(source=b["source"].map(lambda s: Path(s).stem))
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_typed_load_equals_text_load(folders):
    parquet, csv = folders
    typed = load(parquet)
    text = load(csv)
    for (name, frame), (_, other) in zip(typed.ledger, text.ledger, strict=True):
        pd.testing.assert_frame_equal(frame, other, obj=name)
    _same_rejects(typed.rejects, text.rejects)
    assert typed.manifest.totals == text.manifest.totals
    assert typed.manifest.counts == text.manifest.counts
    assert typed.manifest.date_formats == text.manifest.date_formats
    assert typed.manifest.reconciled
    reasons = set(typed.rejects["reason"])
    for planted in (
        "amount_too_many_decimals",
        "amount_not_positive",
        "amount_out_of_range",
        "unknown_currency",
        "missing_value",
        "due_before_invoice",
        "duplicate_exact",
        "duplicate_conflict",
        "bad_date",
        "date_has_time",
        "allocation_exceeds_open",
    ):
        assert planted in reasons, planted


def test_rejects_quote_typed_values_as_text(folders):
    parquet, _ = folders
    rej = load(parquet).rejects
    row = rej[rej["reason"] == "amount_too_many_decimals"].iloc[0]
    assert row["value"] == "12.345"
    assert '"amount":"12.345"' in row["record"]
    assert '"invoice_date":"' in row["record"]


def test_typed_dates_match_text():
    days = pa.array([dt.date(2024, 2, 29), None, dt.date(1700, 1, 1)], pa.date32())
    typed = parse_dates(days)
    text = parse_dates(pd.Series(arrow_to_text(days).to_pylist(), dtype="string"))
    assert np.array_equal(typed.dates, text.dates, equal_nan=True)
    assert typed.errors == text.errors
    # Out of the datetime64[ns] range: the text path decides (bad_date before 1800).
    old = pa.array([dt.date(1500, 1, 1), dt.date(2024, 1, 1)], pa.date32())
    parsed = parse_dates(old)
    assert parsed.errors["bad_date"].tolist() == [True, False]


@pytest.mark.parametrize(
    "typ",
    [pa.decimal128(38, 2), pa.decimal128(20, 4), pa.decimal128(38, 0), pa.int64(), pa.int32()],
)
@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "XXX"])
def test_typed_amounts_match_text(typ, currency):
    rng = np.random.default_rng(5)
    scale = typ.scale if pa.types.is_decimal(typ) else 0
    raw = [0, 1, -1, 5, -120, 999999, 10**15, 10**17, -(10**18), 123456789012345678]
    raw += rng.integers(-(10**9), 10**9, 50).tolist()
    if pa.types.is_int32(typ):
        raw = [v for v in raw if abs(v) < 2**31]
    if pa.types.is_decimal(typ):
        values = [Decimal(v).scaleb(-scale) for v in raw] + [None]
    else:
        values = raw + [None]
    arr = pa.array(values, type=typ)
    text = pd.Series(arr.cast(pa.string()).to_pylist(), dtype="string")
    for required in (True, False):
        a, ea = parse_money(arr, currency, required=required)
        b, eb = parse_money(text, currency, required=required)
        pd.testing.assert_series_equal(a, b, check_names=False)
        assert sorted(ea) == sorted(eb)
        for k in ea:
            assert np.array_equal(ea[k], eb[k]), k
    got, reason = money.parse_amounts(pd.Series(pd.array(arr, dtype=pd.ArrowDtype(typ))), currency)
    want, want_reason = money.parse_amounts(text, currency)
    pd.testing.assert_series_equal(got, want, check_names=False)
    assert reason.tolist() == want_reason.tolist()


def test_per_row_currencies_typed():
    arr = pa.array([Decimal("1.50"), Decimal("2.00"), Decimal("3.25"), None], pa.decimal128(10, 2))
    cur = pd.Series(["USD", "JPY", "BHD", "JPY"], dtype="string")
    text = pd.Series(pc.cast(arr, pa.string()).to_pylist(), dtype="string")
    a, ea = parse_money(arr, cur)
    b, eb = parse_money(text, cur)
    pd.testing.assert_series_equal(a, b, check_names=False)
    assert {k: v.tolist() for k, v in ea.items()} == {k: v.tolist() for k, v in eb.items()}


def test_duckdb_typed_equals_text(folders, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    parquet, csv = folders
    db = tmp_path / "ledger.duckdb"
    con = duckdb.connect(str(db))
    for f in sorted(parquet.glob("*.parquet")):
        con.register("t", pq.read_table(f))
        con.execute(f'CREATE TABLE "{f.stem}" AS SELECT * FROM t')
        con.unregister("t")
    con.close()
    typed = load(db)
    text = load(csv)
    for (name, frame), (_, other) in zip(typed.ledger, text.ledger, strict=True):
        pd.testing.assert_frame_equal(frame, other, obj=name)
    assert typed.manifest.totals == text.manifest.totals
    assert len(typed.rejects) == len(text.rejects)
    assert typed.rejects["value"].tolist() == text.rejects["value"].tolist()
    assert typed.rejects["record"].tolist() == text.rejects["record"].tolist()
