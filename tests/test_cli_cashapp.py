"""``rpmkit cashapp`` and ``rpmkit disputes`` on a small generated ledger."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rpmkit.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("cashapp") / "ledger"
    assert main(["sample", "--out", str(out), "--customers", "80", "--years", "0.5"]) == 0
    return out


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cashapp_scores_the_sources_own_payments(capsys, folder):
    code, out, err = run(capsys, "cashapp", str(folder), "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    n = len(pd.read_csv(folder / "payments.csv"))
    assert payload["payments"] == n
    assert payload["auto_applied"] + payload["review"] + payload["unmatched"] == n
    ev = payload["evaluation"]
    assert ev["envelope_rate"] > 0.9 and ev["precision"] > 0.99
    assert {row["noise"] for row in ev["by_noise"]} >= {"payer_name", "all"}
    assert len(ev["curve"]) == 101


def test_cashapp_with_a_payments_file_writes_allocations(capsys, folder, tmp_path):
    pay = pd.read_csv(folder / "payments.csv", dtype=str)
    pay["customer_id"] = ""
    path = tmp_path / "statement.csv"
    pay.to_csv(path, index=False)
    out_file = tmp_path / "alloc.csv"
    code, out, err = run(
        capsys, "cashapp", str(folder), "--payments", str(path), "--out", str(out_file),
        "--threshold", "0.95",
    )  # fmt: skip
    assert code == 0, err
    assert "Cash application at threshold 0.95" in out
    alloc = pd.read_csv(out_file, dtype=str)
    assert list(alloc.columns) == ["payment_id", "invoice_id", "amount", "applied_date"]
    truth = pd.read_csv(folder / "allocations.csv", dtype=str)
    right = alloc.merge(truth, on=["payment_id", "invoice_id", "amount"])
    assert len(right) / len(alloc) > 0.99
    assert len(alloc) > 0.8 * len(truth)


def test_cashapp_refuses_bad_input(capsys, folder, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("payment_id,amount\nP1,10\n")
    code, _, err = run(capsys, "cashapp", str(folder), "--payments", str(bad))
    assert code == 2 and "payment_date" in err
    with pytest.raises(SystemExit):
        main(["cashapp", str(folder), "--threshold", "1.5"])


def test_disputes_json(capsys, folder):
    code, out, err = run(
        capsys, "disputes", str(folder), "--as-of", "2023-06-30", "--format", "json"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["summary"]["disputes"] == len(pd.read_csv(folder / "disputes.csv"))
    code, out, _ = run(capsys, "disputes", str(folder), "--as-of", "2023-06-30")
    assert code == 0 and "Reason codes" in out
