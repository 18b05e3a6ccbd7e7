"""Parsers and one-table rules of rpmkit.validation, on tiny hand-built columns."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpmkit.schema import FLAT_INVOICE, REASONS, TABLES
from rpmkit.validation import (
    Problems,
    check_table,
    duplicate_keys,
    parse_bool,
    parse_currency,
    parse_dates,
    parse_enum,
    parse_ids,
    parse_int,
    parse_money,
    parse_rate,
    totals_rows,
)


def s(*values) -> pd.Series:
    return pd.Series(list(values), dtype="string")


def where(errors: dict) -> dict:
    return {reason: np.flatnonzero(mask).tolist() for reason, mask in errors.items() if mask.any()}


def iso(dates: np.ndarray) -> list:
    return [None if np.isnat(d) else str(d.astype("datetime64[D]")) for d in dates]


# --------------------------------------------------------------------------- dates
def test_iso_dates_fast_path_and_blanks():
    p = parse_dates(s("2024-01-31", "", None, " 2024-02-29 "))
    assert iso(p.dates) == ["2024-01-31", None, None, "2024-02-29"]
    assert p.missing.tolist() == [False, True, True, False]
    assert p.errors == {}


def test_impossible_dates_are_bad_not_rolled_over():
    p = parse_dates(s("2024-02-30", "2023-02-29", "2024-13-01", "1/1/99"))
    assert where(p.errors) == {"bad_date": [0, 1, 2, 3]}


def test_day_first_needs_evidence_in_the_column():
    p = parse_dates(s("13/01/2024", "02/03/2024", "05/05/2024"))
    assert p.detected == "%d/%m/%Y" and p.evidence == 1
    assert iso(p.dates) == ["2024-01-13", "2024-03-02", "2024-05-05"]
    q = parse_dates(s("02/03/2024", "05/05/2024"))
    assert q.detected is None
    assert where(q.errors) == {"ambiguous_date": [0]}
    assert iso(q.dates) == [None, "2024-05-05"]


def test_month_first_and_dots():
    p = parse_dates(s("01.13.2024", "02.03.2024"))
    assert p.detected == "%m.%d.%Y"
    assert iso(p.dates) == ["2024-01-13", "2024-02-03"]


def test_mixed_orders_refuse_the_ambiguous_and_the_contradicting():
    p = parse_dates(s("13/01/2024", "01/13/2024", "02/02/2024"))
    assert p.mixed
    assert where(p.errors) == {"ambiguous_date": [0, 1]}
    assert iso(p.dates)[2] == "2024-02-02"


def test_excel_serials_need_a_declared_or_known_date_system():
    text = s("45296", "60", "59", "61", "1")
    assert where(parse_dates(text).errors) == {"excel_serial_date": [0], "bad_date": [1, 2, 3, 4]}
    p = parse_dates(text, date_format="excel1900")
    # 60 is Excel's fictitious 1900-02-29; below it the serials run one day later.
    assert iso(p.dates) == ["2024-01-05", None, "1900-02-28", "1900-03-01", "1900-01-01"]
    assert where(p.errors) == {"bad_date": [1]}
    q = parse_dates(s("0", "43834"), date_format="excel1904")
    assert iso(q.dates) == [None, "2024-01-05"]
    per_row = parse_dates(s("45296", "45296"), systems=np.array([1, 2]))
    assert iso(per_row.dates) == ["2024-01-05", "2028-01-06"]
    assert per_row.serials == 2


def test_times_of_day():
    p = parse_dates(
        s("2024-01-05 00:00:00", "2024-01-05T00:00", "2024-01-05 13:00", "45296.25"),
        date_format="excel1900",
    )
    assert iso(p.dates)[:2] == ["2024-01-05", "2024-01-05"]
    assert where(p.errors) == {"date_has_time": [2, 3]}


def test_declared_format_still_accepts_iso():
    p = parse_dates(s("05.01.2024", "2024-01-06", "Jan 5"), date_format="%d.%m.%Y")
    assert iso(p.dates)[:2] == ["2024-01-05", "2024-01-06"]
    assert where(p.errors) == {"bad_date": [2]}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2199, 12, 31)), min_size=1)
)
def test_iso_round_trip(dates):
    text = s(*[d.isoformat() for d in dates])
    assert iso(parse_dates(text).dates) == [d.isoformat() for d in dates]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 1, 1)), min_size=1),
    st.booleans(),
)
def test_day_first_or_month_first_with_evidence_round_trips(dates, day_first):
    witness = dt.date(2024, 1, 13)  # day 13: proof of the order
    dates = [witness, *dates]
    fmt = "%d/%m/%Y" if day_first else "%m/%d/%Y"
    p = parse_dates(s(*[d.strftime(fmt) for d in dates]))
    assert p.detected == fmt
    assert iso(p.dates) == [d.isoformat() for d in dates]


# --------------------------------------------------------------------------- ids
def test_ids_damaged_by_floats_and_spreadsheets():
    ids, errors = parse_ids(
        s(
            "A-1",
            "12345.0",
            "1.2E+5",
            "12345678901234567.0",
            "1.234567890123457e+18",
            "00123",
            " B7 ",
            "",
            "1E5X",
            "123.5",
        )
    )
    assert where(errors) == {"id_precision_lost": [3, 4], "id_float": [1, 9], "id_scientific": [2]}
    assert ids.tolist()[5:8] == ["00123", "B7", pd.NA]


# --------------------------------------------------------------------------- money and codes
def test_money_uses_the_row_currency_and_checks_syntax_where_unknown():
    minor, errors = parse_money(
        s("12.50", "12.5", "7", "abc", "1.005"), s("USD", "JPY", "XXX", None, "KWD")
    )
    assert minor.tolist() == [1250, pd.NA, pd.NA, pd.NA, 1005]
    # Unknown currency: only the syntax is judged ("abc" is text; "7" is fine as text).
    assert where(errors) == {"amount_too_many_decimals": [1], "amount_not_number": [3]}


def test_money_constant_currency_and_optional_blanks():
    minor, errors = parse_money(s("1,5", "", "2"), "EUR", decimal=",", required=False)
    assert minor.tolist() == [150, pd.NA, 200]
    assert errors == {}


def test_codes():
    codes, errors = parse_currency(s("usd", " EUR", "XYZ", None))
    assert codes.tolist()[:2] == ["USD", "EUR"] and where(errors) == {"unknown_currency": [2]}
    kinds, errors = parse_enum(
        s("Credit Note", "write-off", "refund"), TABLES["adjustments"].column("kind").values
    )
    assert kinds.tolist()[:2] == ["credit_note", "write_off"] and where(errors) == {"bad_enum": [2]}
    flags, errors = parse_bool(s("Yes", "n", "TRUE", "0", "maybe", None))
    assert flags.tolist() == [True, False, True, False, pd.NA, pd.NA] and where(errors) == {
        "bad_bool": [4]
    }
    days, errors = parse_int(s("30", "45.0", "net30"))
    assert days.tolist() == [30, 45, pd.NA] and where(errors) == {"bad_number": [2]}
    rates, errors = parse_rate(s("1.10", "0", "-1", "x", "1,25"))
    assert rates.iloc[0] == pytest.approx(1.10)
    assert where(errors) == {"rate_not_positive": [1, 2], "bad_number": [3, 4]}


# --------------------------------------------------------------------------- rows
def frame(rows: list[list], columns=FLAT_INVOICE.names[:6]) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=list(columns)).astype("string")
    f["_source"] = "t.csv"
    f["_line"] = np.arange(2, len(rows) + 2)
    return f


def test_totals_rows():
    f = frame(
        [
            ["A1", "C1", "2024-01-01", "2024-01-02", "1", "USD"],
            ["Total", None, None, None, "1", None],
            [None, None, "Grand total:", None, "1", None],
            ["Totals USD", "C1", None, None, "1", None],
        ]
    )
    assert totals_rows(f, ["invoice_id"]).tolist() == [False, True, True, True]


def test_duplicate_keys():
    f = frame(
        [
            ["A1", "C1", "d", "d", "1", "USD"],
            ["A1", "C1", "d", "d", "1", "USD"],
            ["A2", "C1", "d", "d", "1", "USD"],
            ["A2", "C2", "d", "d", "1", "USD"],
            ["A3", "C1", "d", "d", "1", "USD"],
        ]
    )
    exact, conflict, others = duplicate_keys(f, ["invoice_id"], np.ones(5, bool))
    assert exact.tolist() == [False, True, False, False, False]
    assert conflict.tolist() == [False, False, True, True, False]
    assert others.to_dict() == {2: "5", 3: "4"}


def test_check_table_reports_every_failure_of_a_row():
    f = frame(
        [
            ["A1", "C1", "2024-02-01", "2024-01-01", "-3", "usd"],
            ["A2", "C1", "2024-02-01", "2024-03-01", "3", "EUR"],
        ]
    )
    checked = check_table(FLAT_INVOICE, f, name="invoices")
    problems = checked.problems.frame()
    assert sorted(problems["reason"]) == ["amount_not_positive", "due_before_invoice"]
    assert checked.accepted().tolist() == [False, True]
    assert checked.typed["currency"].tolist() == ["USD", "EUR"]
    assert checked.typed["amount"].tolist() == [-300, 300]


def test_problems_only_take_known_reason_codes():
    p = Problems("invoices", 3)
    with pytest.raises(KeyError):
        p.add(np.array([True, False, False]), "amount", "no_such_reason", "x")
    p.add(np.array([True, False, True]), "amount", "amount_missing", "blank")
    assert p.mask().tolist() == [True, False, True]
    assert "amount_missing" in REASONS
