"""``rpmkit simulate`` and ``rpmkit compare``: JSON contracts, readable tables, and clear
errors (exit 2, no traceback) for scenario files that cannot be used."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import pytest

from rpmkit import cli
from rpmkit.sim import Scenario
from rpmkit.sim.workers import KPIS

ROOT = Path(__file__).resolve().parents[1]


def _main(argv: list[str]) -> int:
    """``rpmkit.cli.main``, or the same handling around the sim parsers until they are hooked in."""
    if "cli_sim" in Path(cli.__file__).read_text(encoding="utf-8"):
        return cli.main(argv)
    from rpmkit.cli_sim import add_parsers

    parser = argparse.ArgumentParser(prog="rpmkit")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parsers(sub, cli._add_source_options, cli._add_format)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"rpmkit {args.command}: {exc}", file=sys.stderr)
        return 2


def _small_yaml(tmp_path: Path, name: str) -> Path:
    s = Scenario.from_yaml(ROOT / "scenarios" / f"{name}.yaml")
    sales = tuple(
        dataclasses.replace(
            x, customers=x.customers // 50, invoices_per_day=x.invoices_per_day / 50
        )
        for x in s.sales
    )
    path = tmp_path / f"{name}.yaml"
    dataclasses.replace(s, horizon_days=90, sales=sales).to_yaml(path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("scenarios")
    return _small_yaml(d, "baseline"), _small_yaml(d, "earlier_dunning")


def test_simulate_json_contract_and_out_folder(files, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["simulate", str(files[0]), "--replications", "3", "--seed", "5", "--out", str(out)]
    assert _main([*argv, "--format", "json", "--processes", "1"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["replications"] == 3 and payload["seed"] == 5
    assert payload["out"] == str(out) and payload["currency"] == "USD"
    assert set(payload["kpis"]) == set(KPIS)
    for row in payload["kpis"].values():
        assert {"label", "unit", "mean", "sd", "p10", "p50", "p90"} <= set(row)
    assert len(payload["replication_kpis"]["dso"]) == 3
    assert payload["monthly"]["period_end"] == ["2025-01-31", "2025-02-28", "2025-03-31"]
    assert set(payload["validity"]) >= {"littles_law_mean_relative_error"}
    assert payload["timing"]["backend"] == "inline"
    for name in ("summary.json", "daily.parquet", "monthly.parquet", "ledger"):
        assert (out / name).exists(), name


def test_simulate_table(files, capsys):
    assert _main(["simulate", str(files[0]), "--replications", "2", "--processes", "2"]) == 0
    text = capsys.readouterr().out
    assert "2 replications of 90 days" in text and "processes" in text
    assert "DSO" in text and "P50" in text and "Little's law" in text


def test_compare_json_contract_and_table(files, capsys):
    argv = ["compare", *map(str, files), "--replications", "4", "--processes", "1"]
    assert _main([*argv, "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["names"] == ["baseline", "earlier_dunning"]
    assert payload["replications"] == 4 and payload["confidence"] == 0.95
    dso = payload["kpis"]["dso"]
    assert {
        "base",
        "other",
        "difference",
        "ci_low",
        "ci_high",
        "variance_ratio",
        "sentence",
    } <= set(dso)
    assert dso["ci_low"] <= dso["difference"] <= dso["ci_high"]
    assert dso["sentence"].startswith("DSO ")
    assert _main(argv) == 0
    text = capsys.readouterr().out
    assert "earlier_dunning vs baseline: 4 paired replications" in text
    assert "95% CI" in text and "DSO" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("collectors:\n  count: -1\n", "Collectors.count"),
        ("horizon_days: [1, 2\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("colectors: {}\n", "has no field"),
        (None, "does not exist"),
    ],
)
def test_bad_scenario_exits_2_without_traceback(tmp_path, capsys, content, message):
    path = tmp_path / "bad.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert _main(["simulate", str(path), "--replications", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rpmkit simulate: ") and message in err
    assert "Traceback" not in err
    assert _main(["compare", str(ROOT / "scenarios" / "baseline.yaml"), str(path)]) == 2
    assert message in capsys.readouterr().err
