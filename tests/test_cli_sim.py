"""``rpmkit simulate`` and ``rpmkit compare``: JSON contracts, readable tables, and clear
errors (exit 2, no traceback) for scenario files that cannot be used."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import pytest

from rpmkit import cli
from rpmkit.cli_sim import _value
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
        (
            "horizon_days: [1, 2\n",
            "bad.yaml is not valid YAML at line 2, column 1: expected ',' or ']'",
        ),
        ("dunning:\n- day: 3\n  chanel: sms\n", "dunning[0] has no field(s) chanel"),
        ("sales:\n- name: smb\n  customers: 10\n", "sales[0] (segment 'smb'): missing field"),
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
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert _main(["compare", str(ROOT / "scenarios" / "baseline.yaml"), str(path)]) == 2
    assert message in capsys.readouterr().err


def _sim_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: sub.choices[name] for name in ("simulate", "compare")}


def test_unreachable_scheduler_is_a_one_line_error(files, capsys):
    start = time.monotonic()
    argv = ["simulate", str(files[0]), "--replications", "1", "--scheduler", "tcp://127.0.0.1:1"]
    assert _main([*argv, "--connect-timeout", "0.5"]) == 2
    assert time.monotonic() - start < 15
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("rpmkit simulate: cannot connect to the Dask scheduler at ")
    assert "tcp://127.0.0.1:1" in err and "0.5 s" in err
    argv = ["compare", *map(str, files), "--replications", "1", "--scheduler", "tcp://127.0.0.1:1"]
    assert _main([*argv, "--connect-timeout", "0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rpmkit compare: cannot connect") and err.count("\n") == 1


@pytest.mark.parametrize("where", ["file", "file/sub"])
def test_out_that_cannot_be_a_folder_is_refused_before_simulating(
    files, tmp_path, capsys, monkeypatch, where
):
    from rpmkit.sim.runner import Runner

    (tmp_path / "file").write_text("x", encoding="utf-8")
    monkeypatch.setattr(Runner, "run", lambda self: pytest.fail("simulated anyway"))
    out = tmp_path / where
    assert _main(["simulate", str(files[0]), "--out", str(out), "--replications", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rpmkit simulate: --out ") and str(tmp_path / "file") in err
    assert "not a folder" in err and err.count("\n") == 1
    assert (tmp_path / "file").read_text(encoding="utf-8") == "x"


def test_out_may_be_an_existing_folder(files, tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("kept", encoding="utf-8")
    argv = ["simulate", str(files[0]), "--out", str(tmp_path), "--replications", "1"]
    assert _main([*argv, "--processes", "1", "--format", "json"]) == 0
    assert (tmp_path / "summary.json").is_file() and (tmp_path / "keep.txt").is_file()


def test_percentages_show_the_percent_sign_once(files, capsys):
    assert _main(["simulate", str(files[0]), "--replications", "1", "--processes", "1"]) == 0
    rows = {
        line.strip().split("  ")[0]: line
        for line in capsys.readouterr().out.splitlines()
        if line.lstrip().startswith(("collector utilisation", "CEI", "bad-debt ratio"))
    }
    assert len(rows) == 3, rows
    for line in rows.values():
        assert line.count("%") == 1, line
    assert _value(0.885, "share", "USD") == "88.50" == _value(88.5, "percent", "USD")


def test_compare_refuses_scenarios_of_different_periods(files, tmp_path, capsys):
    base = Scenario.from_yaml(files[0])
    for change in ({"horizon_days": 30}, {"start": "2025-02-01"}):
        path = tmp_path / "other.yaml"
        dataclasses.replace(base, **change).to_yaml(path)
        assert _main(["compare", str(files[0]), str(path), "--replications", "1"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("rpmkit compare: ") and err.count("\n") == 1
        assert "90 days from 2025-01-01" in err
        assert ("30 days from 2025-01-01" if "horizon_days" in change else "2025-02-01") in err


def test_help_and_docs_name_every_option_and_output():
    parsers = _sim_parsers()
    out = next(a for a in parsers["simulate"]._actions if "--out" in a.option_strings)
    for name in ("summary.json", "daily.parquet", "monthly.parquet", "ledger/"):
        assert name in out.help, name
    docs = (ROOT / "docs" / "simulation.md").read_text(encoding="utf-8")
    usage = docs[docs.index("- `rpmkit simulate SCENARIO.yaml") :]
    usage = " ".join(usage[: usage.index("A bad scenario file")].split())
    simulate, compare = usage.split("`rpmkit compare ")
    for text, parser in ((simulate, parsers["simulate"]), (compare, parsers["compare"])):
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert f"[{option}" in text, (parser.prog, option)


def test_simulate_on_a_scheduler_by_address(files, capsys):
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        argv = ["simulate", str(files[0]), "--replications", "2", "--format", "json"]
        assert (
            _main([*argv, "--scheduler", cluster.scheduler_address, "--connect-timeout", "5"]) == 0
        )
    payload = json.loads(capsys.readouterr().out)
    assert payload["timing"]["backend"] == "dask" and payload["replications"] == 2


@pytest.mark.parametrize(
    ("where", "message"), [("", "is a folder"), ("no/run.json", "does not exist")]
)
def test_manifest_that_cannot_be_written_is_refused_before_simulating(
    files, tmp_path, capsys, monkeypatch, where, message
):
    from rpmkit.sim.runner import Runner

    monkeypatch.setattr(Runner, "run", lambda self: pytest.fail("simulated anyway"))
    argv = ["simulate", str(files[0]), "--manifest", str(tmp_path / where), "--replications", "1"]
    assert _main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("rpmkit simulate: --manifest ") and message in err
