"""Hostile sources: SQL identifiers that are attacks, and tables spread over overlapping files."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rpmkit.io import LoadError, load

HEADER = "invoice_id,customer_id,invoice_date,due_date,amount,currency"
HOSTILE_TABLES = [
    "x; DROP TABLE canary",
    'ar"; DROP TABLE canary; --',
    "ar' OR '1'='1",
    "ar /* comment */ -- tail",
]
HOSTILE_COLUMN = 'amt"); DROP TABLE canary; --'
ROWS = [
    ("A1", "C1", "2024-01-05", "2024-02-04", "12.25", "USD"),
    ("A2", "C1", "2024-01-06", "2024-02-05", "7.50", "USD"),
]
MAPPING = {
    "invoice_id": "doc",
    "customer_id": "cust",
    "invoice_date": "inv",
    "due_date": "due",
    "amount": HOSTILE_COLUMN,
    "currency": "cur",
}


# --------------------------------------------------------------------------- SQL
@pytest.fixture
def statements():
    """Every SQL statement SQLAlchemy sends while the test runs."""
    import sqlalchemy as sa

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def _sqlite_with(path: Path, table: str) -> None:
    import sqlalchemy as sa

    # Built with SQLAlchemy objects: the hostile names are identifiers here too.
    md = sa.MetaData()
    cols = ["doc", "cust", "inv", "due", HOSTILE_COLUMN, "cur"]
    hostile = sa.Table(table, md, *[sa.Column(c, sa.Text) for c in cols])
    canary = sa.Table("canary", md, sa.Column("alive", sa.Integer))
    engine = sa.create_engine(sa.engine.URL.create("sqlite", database=str(path)))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(hostile.insert(), [dict(zip(cols, r, strict=True)) for r in ROWS])
        conn.execute(canary.insert(), [{"alive": 1}])
    engine.dispose()


def _canary_alive(path: Path) -> bool:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT alive FROM canary").fetchall() == [(1,)]
    finally:
        con.close()


@pytest.mark.parametrize("table", HOSTILE_TABLES)
def test_hostile_table_and_column_names_are_identifiers(tmp_path, table, statements):
    path = tmp_path / "erp.sqlite"
    _sqlite_with(path, table)
    result = load(f"sqlite:///{path}", mapping={"tables": {"flat": table}, "flat": MAPPING})
    assert result.ledger.invoices["invoice_id"].tolist() == ["A1", "A2"]
    assert result.ledger.invoices["amount"].tolist() == [1225, 750]
    assert _canary_alive(path)
    # The names only ever reach the database as quoted identifiers.
    quoted = '"' + table.replace('"', '""') + '"'
    uses = [s for s in statements if table in s or quoted in s]
    assert uses and all(quoted in s for s in uses)
    assert not any("DROP" in s.replace(quoted, "").replace(HOSTILE_COLUMN.replace('"', '""'), "")
                   for s in statements)  # fmt: skip


def test_a_table_the_database_does_not_have_never_reaches_sql(tmp_path, statements):
    path = tmp_path / "erp.sqlite"
    _sqlite_with(path, "ar")
    attack = "ar; DROP TABLE canary"
    with pytest.raises(LoadError) as info:
        load(f"sqlite:///{path}", tables={"flat": attack})
    assert info.value.reasons == ["missing_table"]
    message = info.value.problems[0]["message"]
    assert repr(attack) in message and "'ar'" in message and "'canary'" in message
    assert not any(attack in s for s in statements)
    assert _canary_alive(path)


def test_hostile_schema_is_refused_by_name(tmp_path, statements):
    path = tmp_path / "erp.sqlite"
    _sqlite_with(path, "ar")
    attack = "main; DROP TABLE canary; --"
    with pytest.raises(LoadError) as info:
        load(f"sqlite:///{path}", schema=attack)
    assert info.value.reasons == ["missing_table"]
    assert f"no schema {attack!r}" in info.value.problems[0]["message"]
    assert not any(attack in s for s in statements)
    assert _canary_alive(path)


def test_unknown_canonical_table_in_tables_is_a_bad_option(tmp_path):
    path = tmp_path / "erp.sqlite"
    _sqlite_with(path, "ar")
    with pytest.raises(LoadError) as info:
        load(f"sqlite:///{path}", tables={"invoices; --": "ar"})
    assert info.value.reasons == ["bad_option"]


def test_hostile_duckdb_names(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "erp.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE canary (alive INTEGER)")
    con.execute("INSERT INTO canary VALUES (1)")
    # A dot inside a name in schema main: once misread as schema "ar", table "2024".
    for name in ('x"; DROP TABLE canary; --', "ar.2024"):
        ident = '"' + name.replace('"', '""') + '"'
        con.execute(
            f"CREATE TABLE {ident} (doc VARCHAR, cust VARCHAR, inv DATE, due DATE, "
            f'"{HOSTILE_COLUMN.replace(chr(34), chr(34) * 2)}" DECIMAL(12, 2), cur VARCHAR)'
        )
        con.executemany(f"INSERT INTO {ident} VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    con.close()
    for name in ('x"; DROP TABLE canary; --', "ar.2024"):
        result = load(path, mapping={"tables": {"flat": name}, "flat": MAPPING})
        assert result.ledger.invoices["amount"].tolist() == [1225, 750]
        assert result.manifest.sources[0]["source"].endswith("#" + name)
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT alive FROM canary").fetchall() == [(1,)]
    con.close()


@pytest.mark.postgres
def test_postgres_hostile_names():
    url = os.environ.get("RPMKIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("RPMKIT_TEST_POSTGRES_URL is not set")
    import sqlalchemy as sa

    schema, table = "rpmkit_hostile_test", 'x"; DROP TABLE canary; --'
    engine = sa.create_engine(url)
    md = sa.MetaData(schema=schema)
    cols = ["doc", "cust", "inv", "due", HOSTILE_COLUMN, "cur"]
    hostile = sa.Table(table, md, *[sa.Column(c, sa.Text) for c in cols])
    canary = sa.Table("canary", md, sa.Column("alive", sa.Integer))
    with engine.begin() as conn:
        conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        conn.execute(sa.schema.CreateSchema(schema))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(hostile.insert(), [dict(zip(cols, r, strict=True)) for r in ROWS])
        conn.execute(canary.insert(), [{"alive": 1}])
    try:
        result = load(url, schema=schema, mapping={"tables": {"flat": table}, "flat": MAPPING})
        assert result.ledger.invoices["amount"].tolist() == [1225, 750]
        with pytest.raises(LoadError) as info:
            load(url, schema=f"{schema}; DROP TABLE canary")
        assert info.value.reasons == ["missing_table"]
        with engine.connect() as conn:
            assert conn.execute(sa.select(canary.c.alive)).scalars().all() == [1]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        engine.dispose()


# --------------------------------------------------------------------------- several files
def _write(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


JAN = [
    "I1,C1,2024-01-05,2024-02-04,10.00,USD",
    "I2,C1,2024-01-29,2024-02-28,20.00,USD",
    "I3,C2,2024-01-30,2024-02-29,30.00,USD",
]
FEB = [
    "I2,C1,2024-01-29,2024-02-28,20.00,USD",
    "I3,C2,2024-01-30,2024-02-29,31.00,USD",
    "I4,C2,2024-02-02,2024-03-03,40.00,USD",
]


def test_overlapping_exports_as_a_list_of_files(tmp_path):
    jan = _write(tmp_path / "ar_jan.csv", *JAN)
    feb = _write(tmp_path / "ar_feb.csv", *FEB)
    result = load([jan, feb])
    inv = result.ledger.invoices.set_index("invoice_id")["amount"]
    assert inv.to_dict() == {"I1": 1000, "I2": 2000, "I4": 4000}
    rej = result.rejects
    conflict = rej[rej["reason"] == "duplicate_conflict"]
    # Both copies are reported, each naming the other file and line.
    assert sorted(zip(conflict["source"], conflict["line"].tolist(), strict=True)) == [
        (str(feb), 3),
        (str(jan), 4),
    ]
    by_source = dict(zip(conflict["source"], conflict["message"], strict=True))
    assert f"line(s) 3 of {feb}" in by_source[str(jan)]
    assert f"line(s) 4 of {jan}" in by_source[str(feb)]
    skipped = rej[rej["reason"] == "duplicate_exact"]
    assert skipped[["source", "line"]].values.tolist() == [[str(feb), 2]]
    assert skipped["message"].iloc[0] == f"exact repeat of line 3 of {jan}; skipped, counted once"
    counts = result.manifest.counts["invoices"]
    assert counts == {
        "input": 6,
        "loaded": 3,
        "rejected": 2,
        "skipped": 1,
        "blank_rows": 0,
        "deduplicated_across_files": 1,
    }
    assert result.manifest.reconciled
    assert [s["source"] for s in result.manifest.sources] == [str(jan), str(feb)]
    assert result.manifest.kind == "files"


def test_the_same_file_twice_adds_nothing(tmp_path):
    one = _write(tmp_path / "ar.csv", *JAN, "I9,C1,2024-01-05,bad,1,USD")
    copy = tmp_path / "ar (1).csv"
    shutil.copy(one, copy)
    alone = load(one)
    twice = load([one, copy])
    pd.testing.assert_frame_equal(twice.ledger.invoices, alone.ledger.invoices)
    assert twice.manifest.counts["invoices"]["skipped"] == 4
    assert twice.manifest.counts["invoices"]["deduplicated_across_files"] == 4
    assert twice.manifest.counts["invoices"]["rejected"] == 1  # the bad row, once
    # The very same path given twice is read once, and the manifest says so.
    same = load([one, one])
    pd.testing.assert_frame_equal(same.ledger.invoices, alone.ledger.invoices)
    assert same.manifest.counts["invoices"]["input"] == 4
    assert same.manifest.ignored == [f"{one} (given twice; read once)"]


def test_folder_parts_of_mixed_formats_stack_as_text(tmp_path):
    _write(tmp_path / "invoices.csv", *JAN)
    frame = pd.DataFrame(
        {
            "invoice_id": ["I3", "I5"],
            "customer_id": ["C2", "C2"],
            "invoice_date": pd.to_datetime(["2024-01-30", "2024-02-03"]).date,
            "due_date": pd.to_datetime(["2024-02-29", "2024-03-04"]).date,
            "amount": [30.0, 50.5],
            "currency": ["USD", "USD"],
        }
    )
    frame.to_parquet(tmp_path / "invoices_2024-02.parquet")
    result = load(tmp_path)
    inv = result.ledger.invoices.set_index("invoice_id")["amount"].to_dict()
    # I3 from Parquet is 30.0 as a float: the same value, but not the same text as 30.00.
    assert inv == {"I1": 1000, "I2": 2000, "I5": 5050}
    assert sorted(result.rejects["reason"]) == ["duplicate_conflict", "duplicate_conflict"]
    assert result.manifest.reconciled


def test_folder_part_with_other_headers_is_named(tmp_path):
    _write(tmp_path / "invoices_a.csv", *JAN)
    (tmp_path / "invoices_b.csv").write_text("invoice_id,customer_id\nI9,C1\n")
    with pytest.raises(LoadError) as info:
        load(tmp_path)
    assert set(info.value.reasons) == {"missing_column"}
    assert info.value.problems[0]["source"].endswith("invoices_b.csv")
    assert "invoices_a.csv" in info.value.problems[0]["message"]


def test_a_list_of_files_with_a_missing_one(tmp_path):
    one = _write(tmp_path / "ar.csv", *JAN)
    with pytest.raises(LoadError) as info:
        load([one, tmp_path / "nope.csv"])
    assert info.value.reasons == ["unreadable_file"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(1, 12),
    cut=st.data(),
)
def test_any_overlapping_split_loads_like_the_whole(tmp_path_factory, n, cut):
    """Split a file's rows into two parts that share a stretch: the ledger is the whole file's."""
    rows = [
        f"I{i},C{i % 3},2024-01-{i + 1:02d},2024-02-{i + 1:02d},{i + 1}.50,USD" for i in range(n)
    ]
    a_end = cut.draw(st.integers(1, n))
    b_start = cut.draw(st.integers(0, a_end))
    folder = tmp_path_factory.mktemp("split")
    whole = _write(folder / "whole.csv", *rows)
    a = _write(folder / "a.csv", *rows[:a_end])
    b = _write(folder / "b.csv", *rows[b_start:])
    parts = load([a, b])
    pd.testing.assert_frame_equal(parts.ledger.invoices, load(whole).ledger.invoices)
    assert parts.manifest.counts["invoices"]["skipped"] == a_end - b_start
    assert parts.manifest.counts["invoices"]["deduplicated_across_files"] == a_end - b_start
    assert len(parts.rejects) == a_end - b_start
    assert parts.manifest.reconciled


def test_quality_report_counts_repeats_across_files():
    from rpmkit.quality import format_quality, quality_report

    report = quality_report(load(Path(__file__).parent / "data" / "bad" / "parts_overlap"))
    assert (report["duplicates_skipped"], report["duplicates_across_files"]) == (1, 1)
    assert "Exact duplicate rows skipped: 1 (1 repeated from another file)" in format_quality(
        report
    )


def test_sqlite_file_with_a_url_like_name_is_a_file(tmp_path):
    """The path becomes a URL object, so ``?`` and ``#`` in a file name are not URL syntax."""
    path = tmp_path / "erp?mode=memory&cache=shared#x.db"
    _sqlite_with(path, "ar")
    result = load(path, mapping={"tables": {"flat": "ar"}, "flat": MAPPING})
    assert result.ledger.invoices["amount"].tolist() == [1225, 750]
    assert result.manifest.kind == "sql"
