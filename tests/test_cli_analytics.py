"""``rpmkit profiles | cohorts | survival | rollrates`` on the sample ledger, table and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rpmkit.cli import main
from rpmkit.config import sample_dir

AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def sample() -> str:
    return str(sample_dir())


@pytest.fixture(scope="module")
def ledger(sample):
    import rpmkit

    return rpmkit.load(sample).ledger


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_profiles_json_is_the_fitted_object(capsys, sample, ledger):
    from rpmkit.behaviour import PaymentProfiles

    payload = run_json(capsys, "profiles", sample, "--as-of", AS_OF)
    expected = PaymentProfiles(by="customer").fit(ledger, AS_OF).to_dict()
    assert payload == json.loads(json.dumps(expected))
    assert payload["flags"]["deteriorating"] > 0
    assert sum(payload["flags"].values()) == len(payload["groups"])


def test_profiles_table_lists_flagged_payers(capsys, sample, ledger):
    from rpmkit.behaviour import PaymentProfiles

    code, out, _ = run(capsys, "profiles", sample, "--as-of", AS_OF, "--top", "3")
    assert code == 0
    worst = PaymentProfiles().fit(ledger, AS_OF).flagged("deteriorating").index[0]
    assert "Deteriorating payers" in out
    assert worst in out
    code, out, _ = run(capsys, "profiles", sample, "--as-of", AS_OF, "--by", "segment")
    assert code == 0
    assert "enterprise" in out and "All groups" in out


def test_cohorts_json_and_table(capsys, sample):
    payload = run_json(capsys, "cohorts", sample, "--as-of", AS_OF)
    assert set(payload) == {"vintages", "acquisition"}
    vintages = payload["vintages"]["vintages"]
    assert vintages[0]["vintage"] == "2023-01"
    collected = [v for v in vintages[0]["collected"] if v is not None]
    assert collected == sorted(collected) and 0 < collected[-1] <= 1
    # the newest vintage has no observed ages beyond the as-of date
    assert vintages[-1]["collected"][-1] is None
    code, out, _ = run(capsys, "cohorts", sample, "--as-of", AS_OF, "--freq", "quarter")
    assert code == 0
    assert "2024Q4" in out and "Customer-acquisition cohorts" in out


def test_survival_json_contract(capsys, sample, ledger):
    from rpmkit.survival import PaymentSurvival

    payload = run_json(capsys, "survival", sample, "--as-of", AS_OF, "--by", "segment")
    groups = payload["groups"]
    assert set(groups) == {"enterprise", "mid_market", "smb"}
    summary = PaymentSurvival(by="segment").fit(ledger, AS_OF).summary()
    for name, g in groups.items():
        row = summary.loc[name]
        assert g["n"] == row["n"] and g["events"] == row["events"]
        assert g["median_days"] == row["median_days"]
        lo, hi = g["median_days_ci"]
        assert lo <= g["median_days"] <= hi
        assert g["restricted_mean_days"] == pytest.approx(row["restricted_mean_days"])
        curve = g["curve"]
        assert len(curve["days"]) <= 200 and curve["survival"] == sorted(curve["survival"])[::-1]
    assert payload["logrank"]["p_value"] < 1e-6  # the segments pay at different speeds


def test_survival_table(capsys, sample):
    code, out, _ = run(capsys, "survival", sample, "--as-of", AS_OF, "--by", "segment")
    assert code == 0
    assert "Log-rank test across segment groups" in out and "median_ci" in out


def test_rollrates_json_contract(capsys, sample):
    payload = run_json(capsys, "rollrates", sample, "--as-of", AS_OF)
    states = payload["states"]
    assert states == ["current", "1-30", "31-60", "61-90", "91+", "paid", "written_off"]
    matrix = np.array(payload["matrix"], dtype=float)
    assert matrix.shape == (7, 7)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-12)
    buckets = payload["allowance"]
    assert set(buckets) >= {"current", "91+"}
    total = sum(b["allowance"] for b in buckets.values())
    assert total == pytest.approx(payload["allowance_total"]["allowance"], abs=0.01)


def test_rollrates_table(capsys, sample):
    code, out, _ = run(capsys, "rollrates", sample, "--as-of", AS_OF, "--weight", "count")
    assert code == 0
    assert "weighted by count" in out and "Allowance by bucket" in out and "total" in out


@pytest.mark.parametrize("command", ["profiles", "cohorts", "survival", "rollrates"])
def test_bad_as_of_is_a_usage_error(capsys, sample, command):
    code, out, err = run(capsys, command, sample, "--as-of", "2024-02-30")
    assert code == 2
    assert "not a calendar date" in err and "Traceback" not in err
