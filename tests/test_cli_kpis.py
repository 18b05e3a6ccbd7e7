"""``rpmkit kpis`` on a tiny ledger whose KPIs are computed by hand below."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from rpmkit.cli import main
from rpmkit.ledger import Ledger
from rpmkit.writers import write_ledger

# invoice, customer, invoice date, due date, amount (cents), paid date
ROWS = [
    ("I1", "C1", "2024-03-01", "2024-03-31", 100_000, None),  # 91 days past due at 06-30
    ("I2", "C1", "2024-05-01", "2024-05-31", 200_000, None),  # 30 past due
    ("I3", "C2", "2024-04-15", "2024-05-15", 50_000, None),  # 46 past due
    ("I4", "C2", "2024-06-10", "2024-07-10", 300_000, None),  # current, June sale
    ("I5", "C3", "2024-06-01", "2024-06-30", 150_000, None),  # due today: current, June sale
    ("I6", "C3", "2024-05-05", "2024-06-04", 400_000, "2024-06-03"),  # paid in June
    ("I7", "C1", "2024-06-05", "2024-07-05", 250_000, "2024-06-25"),  # June sale, paid in June
    ("I8", "C2", "2024-03-21", "2024-04-20", 80_000, None),  # 71 past due
]
# At the end of 2024-06-30, June (D = 30):
#   open: I1 1,000 + I2 2,000 + I3 500 + I8 800 (past due 4,300) + I4 3,000 + I5 1,500 (current)
#   AR_end 8,800; AR_cur 4,500; AR_begin (end of 05-31) = I1 + I2 + I3 + I8 + I6 = 8,300
#   S (June sales) = I4 + I5 + I7 = 7,000; receipts = I6 + I7 = 6,500
AR_END, AR_CUR, AR_BEGIN, SALES, DAYS = 8_800, 4_500, 8_300, 7_000, 30
DSO = AR_END / SALES * DAYS  # 37.71
BPDSO = AR_CUR / SALES * DAYS  # 19.29
CEI = (AR_BEGIN + SALES - AR_END) / (AR_BEGIN + SALES - AR_CUR) * 100  # 60.19
# countback: June's 7,000 < 8,800 → 30 days; May's sales (I2 + I6 = 6,000) cover the 1,800 left
COUNTBACK = 30 + 1_800 / 6_000 * 31  # 39.30

REQUIRED = {
    "as_of",
    "period_start",
    "period_end",
    "currency",
    "open_ar",
    "current_ar",
    "past_due_ar",
    "open_invoices",
    "aging",
    "sales",
    "receipts",
    "dso",
    "bpdso",
    "add",
    "cei",
}


def tiny_ledger() -> Ledger:
    flat = pd.DataFrame(
        ROWS,
        columns=["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "paid_date"],
    )
    for col in ("invoice_date", "due_date", "paid_date"):
        flat[col] = pd.to_datetime(flat[col])
    customers = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": ["Acme", "Bolt", "Crane"]})
    return Ledger.from_flat(flat, customers=customers)


@pytest.fixture
def ledger_dir(tmp_path):
    return str(write_ledger(tiny_ledger(), tmp_path / "ledger"))


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_the_contract_keys_and_hand_computed_values(capsys, ledger_dir):
    code, out, err = run(capsys, "kpis", ledger_dir, "--as-of", "2024-06-30", "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) >= REQUIRED
    assert (data["as_of"], data["period_start"], data["period_end"]) == (
        "2024-06-30",
        "2024-06-01",
        "2024-06-30",
    )
    assert data["currency"] == "USD"
    assert (data["open_ar"], data["current_ar"], data["past_due_ar"]) == (8_800, 4_500, 4_300)
    assert data["open_invoices"] == 6
    assert data["aging"] == {
        "current": 4_500,
        "1-30": 2_000,
        "31-60": 500,
        "61-90": 800,
        "91+": 1_000,
    }
    assert (data["sales"], data["receipts"]) == (7_000, 6_500)
    assert {"standard", "average", "countback"} <= set(data["dso"])
    assert data["dso"]["standard"] == pytest.approx(DSO, abs=1e-4)
    assert data["dso"]["average"] == pytest.approx((AR_BEGIN + AR_END) / 2 / SALES * DAYS, abs=1e-4)
    assert data["dso"]["countback"] == pytest.approx(COUNTBACK, abs=1e-4)
    assert data["bpdso"] == pytest.approx(BPDSO, abs=1e-4)
    assert data["add"] == pytest.approx(DSO - BPDSO, abs=1e-4)
    assert data["cei"] == pytest.approx(CEI, abs=1e-4)
    # numbers are JSON numbers, not strings
    assert '"open_ar": 8800.0' in out and '"open_invoices": 6' in out


def test_quarter_period_ends_at_as_of(capsys, ledger_dir):
    code, out, _ = run(
        capsys,
        "kpis",
        ledger_dir,
        "--as-of",
        "2024-06-30",
        "--period",
        "quarter",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert code == 0 and data["period_start"] == "2024-04-01"
    # Q2 sales: April I3 500, May I2 2,000 + I6 4,000, June 7,000; 91 days
    assert data["sales"] == 13_500
    assert data["dso"]["standard"] == pytest.approx(AR_END / 13_500 * 91, abs=1e-4)


def test_undefined_kpis_are_null_in_json_and_na_in_the_table(capsys, ledger_dir):
    # no invoice is dated in July 2024: no sales, so the DSO family is undefined
    code, out, _ = run(capsys, "kpis", ledger_dir, "--as-of", "2024-07-31", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["sales"] == 0
    assert data["dso"]["standard"] is None and data["bpdso"] is None
    code, out, _ = run(capsys, "kpis", ledger_dir, "--as-of", "2024-07-31")
    assert code == 0
    assert any(
        line.split()[:2] == ["DSO,", "standard"] and "n/a" in line for line in out.splitlines()
    )


def test_table_is_aligned_with_thousands_separators_and_currency(capsys, ledger_dir):
    code, out, _ = run(capsys, "kpis", ledger_dir, "--as-of", "2024-06-30")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Receivables KPIs as of 2024-06-30 (USD)"
    assert "Balances (USD)" in lines
    money_lines = [
        line
        for line in lines
        if line.strip().startswith(("Open AR", "Current", "Past due", "current", "91+", "Credit"))
    ]
    assert any("8,800.00" in line for line in money_lines)
    # every amount ends in the same column
    ends = {line.index(".00") for line in money_lines}
    assert len(ends) == 1
    dso_line = next(line for line in lines if line.strip().startswith("DSO, standard"))
    assert "37.71" in dso_line and dso_line.rstrip().endswith("days")
    cei_line = next(line for line in lines if line.strip().startswith("CEI"))
    assert "60.19" in cei_line and cei_line.rstrip().endswith("%")


def test_csv_has_one_key_value_row_per_flattened_key(capsys, ledger_dir):
    code, out, _ = run(capsys, "kpis", ledger_dir, "--as-of", "2024-06-30", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["key", "value"]
    values = dict(rows[1:])
    assert len(values) == len(rows) - 1  # keys are unique
    assert values["as_of"] == "2024-06-30" and values["currency"] == "USD"
    assert float(values["open_ar"]) == 8_800
    assert float(values["aging.91+"]) == 1_000 and float(values["aging.current"]) == 4_500
    assert float(values["dso.standard"]) == pytest.approx(DSO, abs=1e-4)
    assert float(values["cei"]) == pytest.approx(CEI, abs=1e-4)
    assert {"aging.1-30", "dso.average", "dso.countback", "bpdso", "add"} <= set(values)


@pytest.mark.parametrize("bad", ["2024-13-01", "2024-06-31", "yesterday", "30/06/2024"])
def test_bad_date_exits_2_with_a_clear_message(capsys, ledger_dir, bad):
    code, out, err = run(capsys, "kpis", ledger_dir, "--as-of", bad)
    assert code == 2 and out == ""
    assert "--as-of" in err and bad in err and "Traceback" not in err


def test_unreadable_source_exits_2(capsys, tmp_path):
    code, out, err = run(capsys, "kpis", str(tmp_path / "missing"), "--as-of", "2024-06-30")
    assert code == 2 and out == "" and "cannot read" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(capsys, "kpis", str(empty), "--as-of", "2024-06-30")
    assert code == 2 and "cannot read" in err


def test_missing_as_of_is_a_usage_error(capsys, ledger_dir):
    with pytest.raises(SystemExit) as exc:
        main(["kpis", ledger_dir])
    assert exc.value.code == 2
    assert "--as-of" in capsys.readouterr().err


def test_rejected_rows_warn_once_and_kpis_use_what_loaded(capsys, ledger_dir, tmp_path):
    invoices = tmp_path / "ledger" / "invoices.csv"
    with invoices.open("a") as f:
        f.write("BAD,C1,2024-06-20,2024-06-01,999.00,USD\n")  # due before invoice date
    code, out, err = run(capsys, "kpis", ledger_dir, "--as-of", "2024-06-30", "--format", "json")
    assert code == 0
    warnings = err.strip().splitlines()
    assert len(warnings) == 1 and "warning" in warnings[0] and "1 input row" in warnings[0]
    assert json.loads(out)["open_ar"] == 8_800
