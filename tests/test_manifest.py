"""Run manifests: a simulation and a forecast re-run from their manifest alone give the
same numbers bit for bit; a changed parameter or source is caught."""

from __future__ import annotations

import json
import shutil

import pytest

from rpmkit.cli import main
from rpmkit.config import REPO_ROOT, sample_dir
from rpmkit.manifest import RunManifest, versions


def test_versions_name_what_the_numbers_depend_on():
    v = versions()
    for name in ("python", "rpmkit", "numpy", "pandas", "simpy", "statsmodels"):
        assert v[name] and v[name] != "not installed"


def test_simulation_reruns_from_its_manifest(tmp_path, capsys):
    scenario = REPO_ROOT / "scenarios" / "baseline.yaml"
    path = tmp_path / "run.json"
    args = ["simulate", str(scenario), "--replications", "2", "--processes", "1", "--seed", "7"]
    assert main([*args, "--manifest", str(path), "--format", "json"]) == 0
    capsys.readouterr()
    manifest = RunManifest.read(path)
    assert manifest.kind == "simulate" and manifest.parameters["seed"] == 7
    assert manifest.parameters["replications"] == 2
    assert set(manifest.versions) >= {"numpy", "simpy", "statsmodels", "rpmkit"}
    assert main(["rerun", str(path)]) == 0
    assert "reproduced" in capsys.readouterr().out
    # the same manifest with another seed is caught
    data = json.loads(path.read_text())
    data["parameters"]["scenario"]["seed"] = 8
    data["parameters"]["seed"] = 8
    path.write_text(json.dumps(data))
    assert main(["rerun", str(path)]) == 1
    assert "NOT reproduced" in capsys.readouterr().out


def test_forecast_reruns_from_its_manifest_and_refuses_a_changed_source(tmp_path, capsys):
    source = tmp_path / "ledger"
    shutil.copytree(sample_dir(), source)
    path = tmp_path / "forecast.json"
    args = ["forecast", str(source), "--as-of", "2024-06-30", "--draws", "50", "--weeks", "4"]
    assert main([*args, "--manifest", str(path)]) == 0
    capsys.readouterr()
    manifest = RunManifest.read(path)
    assert manifest.kind == "forecast" and manifest.parameters["as_of"] == "2024-06-30"
    assert manifest.parameters["settings"]["draws"] == 50
    assert len(manifest.parameters["files"]) >= 5
    assert manifest.check().same
    with (source / "payments.csv").open("a", encoding="utf-8") as fh:
        fh.write("PAY-9999999,2024-06-01,1.00,USD,C0001,,wire,\n")
    with pytest.raises(ValueError, match="payments.csv"):
        manifest.rerun()


def test_a_broken_manifest_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "simulate"}')
    with pytest.raises(ValueError, match="not a run manifest"):
        RunManifest.read(bad)
    with pytest.raises(ValueError, match="kind"):
        RunManifest("backtest", {}, "", {})
