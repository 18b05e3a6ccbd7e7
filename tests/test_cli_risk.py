"""``rpmkit risk evaluate | worklist | letters`` on the sample ledger, table and JSON."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import rpmkit
from rpmkit.cli import build_parser, main
from rpmkit.config import sample_dir
from rpmkit.risk import RiskEvaluation
from rpmkit.worklist import Worklist

AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def sample() -> str:
    return str(sample_dir())


@pytest.fixture(scope="module")
def ledger(sample):
    return rpmkit.load(sample).ledger


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_risk_evaluate_writes_predictions_and_prints_metrics(capsys, tmp_path, sample, ledger):
    target = tmp_path / "pred.csv"
    code, out, err = run(
        capsys,
        "risk",
        "evaluate",
        sample,
        "--split",
        "time",
        "--test-fraction",
        "0.2",
        "--predictions",
        str(target),
        "--format",
        "json",
    )
    assert code == 0, err
    payload = json.loads(out)
    ev = RiskEvaluation(test_fraction=0.2).fit(ledger)
    assert payload["metrics"]["auc"] == pytest.approx(ev.metrics_["auc"])
    assert payload["metrics"]["accuracy"] == pytest.approx(ev.metrics_["accuracy"])
    assert payload["reference"]["accuracy"] == 0.85
    pred = pd.read_csv(target, dtype={"invoice_id": str})
    assert list(pred.columns) == ["invoice_id", "p_late", "expected_days_late"]
    assert len(pred) == int(ev.test_mask_.sum())
    assert pred["p_late"].between(0, 1).all() and (pred["expected_days_late"] >= 0).all()
    assert pred["invoice_id"].iloc[0] == ev.predictions_["invoice_id"].iloc[0]
    code, out, _ = run(capsys, "risk", "evaluate", sample, "--test-fraction", "0.2")
    assert code == 0
    assert "accuracy" in out and "(published 0.85)" in out and "Calibration by decile" in out
    # both thresholds side by side; the trained one chosen on the training period only
    assert payload["trained_threshold"] == pytest.approx(ev.threshold_)
    assert payload["metrics_trained"]["f1"] == pytest.approx(ev.metrics_trained_["f1"])
    assert payload["inner_validation"]["threshold"] == ev.threshold_
    assert f"at {ev.threshold_:g}" in out and "chosen on the training period only" in out
    assert build_parser().parse_args(["risk", "evaluate", sample, "--no-tune"]).no_tune


def test_risk_evaluate_rejects_a_bad_fraction(capsys, sample):
    with pytest.raises(SystemExit):
        main(["risk", "evaluate", sample, "--test-fraction", "1.5"])
    assert "strictly between 0 and 1" in capsys.readouterr().err


def test_worklist_json_matches_the_object(capsys, sample, ledger):
    code, out, err = run(
        capsys, "worklist", sample, "--as-of", AS_OF, "--hours", "3", "--format", "json"
    )
    assert code == 0, err
    payload = json.loads(out)
    wl = Worklist(hours=3).fit(ledger, AS_OF)
    assert [a["customer_id"] for a in payload["actions"]] == wl.actions_["customer_id"].tolist()
    assert sum(a["minutes"] for a in payload["actions"]) <= 180
    assert payload["excluded"]["dispute"] == int((wl.items_["excluded"] == "dispute").sum())
    code, out, _ = run(capsys, "worklist", sample, "--as-of", AS_OF, "--top", "4")
    assert code == 0
    lines = [ln for ln in out.splitlines() if ln.strip()[:2].rstrip(".").isdigit()]
    assert len(lines) == 4 and "/hour" in lines[0]


def test_worklist_bad_date_is_a_readable_error(capsys, sample):
    code, _, err = run(capsys, "worklist", sample, "--as-of", "30/06/2024")
    assert code != 0 and "--as-of must be a date" in err


def test_letters_writes_files(capsys, tmp_path, sample):
    code, out, err = run(
        capsys, "letters", sample, "--as-of", AS_OF, "--top", "2", "--out", str(tmp_path)
    )
    assert code == 0, err
    assert "nothing was sent" in out
    assert len(list((tmp_path / "letters").glob("*.html"))) == 2
    assert len(list((tmp_path / "statements").glob("*.html"))) == 2
    assert (tmp_path / "mailmerge.csv").exists()
