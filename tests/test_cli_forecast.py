"""``rpmkit forecast`` and ``rpmkit backtest`` on the sample ledger: tables and JSON contracts."""

from __future__ import annotations

import json

import pytest

from rpmkit.cli import main
from rpmkit.config import sample_dir


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_forecast_json(capsys):
    code, out, _ = run(
        capsys,
        "forecast", str(sample_dir()), "--as-of", "2024-06-30",
        "--weeks", "4", "--draws", "100", "--seed", "3", "--format", "json",
    )  # fmt: skip
    assert code == 0
    d = json.loads(out)
    assert d["as_of"] == "2024-06-30" and d["currency"] == "USD" and d["weeks"] == 4
    weeks = d["forecast"]
    assert [w["start"] for w in weeks] == ["2024-07-01", "2024-07-08", "2024-07-15", "2024-07-22"]
    for w in weeks:
        assert w["p10"] <= w["p50"] <= w["p90"]
        assert w["open_items"] + w["new_sales"] == pytest.approx(w["mean"], rel=1e-9)
    # open items dominate the first week, new sales grow later
    assert weeks[0]["open_items"] > 5 * weeks[0]["new_sales"]
    assert weeks[-1]["new_sales"] > weeks[0]["new_sales"]
    assert d["open_ar"] == pytest.approx(19_894_836.91)  # the sample's open AR that day


def test_forecast_table_and_bad_input(capsys):
    code, out, _ = run(
        capsys, "forecast", str(sample_dir()), "--as-of", "2024-06-30", "--weeks", "2",
        "--draws", "50",
    )  # fmt: skip
    assert code == 0 and "2024-07-01" in out and "open AR 19,894,837" in out
    code, _, err = run(
        capsys, "forecast", str(sample_dir()), "--as-of", "2024-06-30", "--weeks", "60"
    )
    assert code == 2 and "weeks must be between 1 and 52" in err


def test_backtest_json(capsys):
    code, out, _ = run(
        capsys, "backtest", str(sample_dir()), "--weeks", "4", "--origins", "2", "--draws", "60",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    d = json.loads(out)
    assert d["origins"] == ["2024-01-02", "2024-12-03"] and d["weeks"] == 4
    methods = d["methods"]
    assert methods["forecast"]["baseline"] is False
    assert methods["forecast"]["coverage_80"] is not None
    for name in ("due_date", "customer_average", "ets_receipts", "seasonal_naive"):
        assert methods[name]["baseline"] is True and methods[name]["coverage_80"] is None
        assert methods[name]["wape"] > 0
