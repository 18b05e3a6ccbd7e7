"""The runner: replications reproducible wherever they run (inline, local processes,
a real Dask LocalCluster), percentile bands, paired comparison under common random
numbers, and outputs that ``rpmkit.load`` and ``rpmkit kpis`` read."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import rpmkit
from rpmkit import cli
from rpmkit.sim import Scenario
from rpmkit.sim.comparison import compare, paired_difference
from rpmkit.sim.runner import Runner
from rpmkit.sim.workers import DAILY_MEASURES, KPIS, MONTHLY_KPIS, run_replication

ROOT = Path(__file__).resolve().parents[1]


def small(path: str = "baseline.yaml") -> Scenario:
    """A scenario of ``scenarios/`` at 1/25 of its size (200 customers) over 120 days."""
    s = Scenario.from_yaml(ROOT / "scenarios" / path)
    sales = tuple(
        dataclasses.replace(
            x, customers=x.customers // 25, invoices_per_day=x.invoices_per_day / 25
        )
        for x in s.sales
    )
    return dataclasses.replace(s, horizon_days=120, sales=sales)


BASE = small()


@pytest.fixture(scope="module")
def inline():
    return Runner(BASE, replications=4, seed=7, processes=1, progress=False).run()


def test_same_seed_same_result_inline_processes_and_dask(inline):
    from distributed import Client, LocalCluster

    local = Runner(BASE, replications=4, seed=7, processes=2, progress=False).run()
    assert local.backend == "processes" and local.equals(inline)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        dask = Runner(BASE, replications=4, seed=7, client=client, progress=False).run()
    assert dask.backend == "dask" and dask.equals(inline)
    # replication r is reproducible on its own
    alone = run_replication(dataclasses.replace(BASE, seed=7), 2)
    np.testing.assert_array_equal(alone.daily, inline.daily[2])
    assert alone.kpis == inline.kpis.loc[2].to_dict()


def test_other_seed_differs_and_replications_differ(inline):
    other = Runner(BASE, replications=4, seed=8, processes=1, progress=False).run()
    assert not other.equals(inline)
    assert not np.array_equal(other.daily[0], inline.daily[0])
    assert not np.array_equal(inline.daily[0], inline.daily[1])
    assert inline.seed == 7 and inline.scenario.seed == 7


def test_bands_are_ordered_for_every_series(inline):
    for measure in DAILY_MEASURES + MONTHLY_KPIS:
        b = inline.bands(measure).dropna()
        assert len(b) > 0, measure
        assert (b["p10"] <= b["p50"]).all() and (b["p50"] <= b["p90"]).all(), measure
    assert len(inline.bands("receipts")) == BASE.horizon_days
    long = inline.bands()
    assert set(long["measure"]) == set(DAILY_MEASURES)
    assert list(inline.kpis_.columns) == list(KPIS) and len(inline.kpis_) == 4
    s = inline.summary()
    assert (s["p10"] <= s["p90"]).all()
    assert 30 < s.loc["dso", "p50"] < 70
    # cash collected is the summed receipts
    np.testing.assert_allclose(
        inline.kpis["cash_collected"], inline.series("receipts").sum(axis=0).to_numpy()
    )
    fig = inline.plot("open_ar")
    assert len(fig.data) == 3


def test_progress_callback_and_keep():
    calls = []
    run = Runner(
        BASE, replications=3, processes=1, progress=lambda d, n: calls.append((d, n)), keep=True
    ).run()
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [r.replication for r in run.results] == [0, 1, 2]
    ar = run.results[1].daily["open_ar"].to_numpy() / 100
    np.testing.assert_allclose(run.series("open_ar")[1].to_numpy(), ar)
    with pytest.raises(ValueError, match="replications must be"):
        Runner(BASE, replications=0)


def test_paired_comparison_under_crn_beats_independent_runs():
    early = small("earlier_dunning.yaml")
    c = compare(BASE, early, replications=12, seed=3, independent=True, processes=2, progress=False)
    d = c.differences
    dso = d.loc["dso"]
    # earlier dunning collects sooner: DSO falls, the interval excludes zero
    assert dso["ci_high"] < 0 and dso["ci_low"] < dso["difference"] < dso["ci_high"]
    assert "falls" in dso["sentence"] and "better" in dso["sentence"]
    # the paired difference keeps a small share of the independent runs' variance
    print(
        f"\nCRN variance ratio, DSO: {dso['variance_ratio']:.4f} (vs Var(base) + Var(other)), "
        f"{dso['independent_variance_ratio']:.4f} (vs an actual independent run)"
    )
    assert dso["variance_ratio"] < 0.25
    assert dso["independent_variance_ratio"] < 0.25
    assert c.base.equals(Runner(BASE, 12, seed=3, processes=1, progress=False).run())
    assert c.independent.seed == 4
    json.dumps(c.to_dict(), allow_nan=False)


def test_compare_refuses_scenarios_of_other_periods_or_currencies():
    # paired days must be the same days: refused before anything runs
    later = dataclasses.replace(BASE, start="2025-02-01")
    with pytest.raises(ValueError, match="cover different periods"):
        compare(BASE, later, replications=1, processes=1)
    with pytest.raises(ValueError, match="cover different periods"):
        compare(BASE, dataclasses.replace(BASE, horizon_days=BASE.horizon_days + 1), 1)
    with pytest.raises(ValueError, match="currencies differ"):
        compare(BASE, dataclasses.replace(BASE, currency="EUR"), replications=1)


def test_paired_difference_matches_a_t_interval():
    rng = np.random.default_rng(0)
    b = rng.normal(10, 2, 30)
    o = b - 1 + rng.normal(0, 0.1, 30)
    d = paired_difference(b, o)
    assert d["ci_low"] < -1 < d["ci_high"]
    assert d["variance_ratio"] < 0.01


def test_write_loads_and_rpmkit_kpis_runs(inline, tmp_path, capsys):
    out = inline.write(tmp_path / "run")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 4 and summary["seed"] == 7
    assert set(summary["kpis"]) == set(KPIS)
    assert Scenario.from_dict(summary["scenario"]) == inline.scenario
    import pandas as pd

    daily = pd.read_parquet(out / "daily.parquet")
    assert len(daily) == BASE.horizon_days * len(DAILY_MEASURES)
    loaded = rpmkit.load(out / "ledger")
    assert loaded.ok
    assert len(loaded.ledger.invoices) == len(inline.ledger.invoices)
    capsys.readouterr()
    end = str(inline.scenario.end_date.date())
    assert cli.main(["kpis", str(out / "ledger"), "--as-of", end, "--format", "json"]) == 0
    snap = json.loads(capsys.readouterr().out)
    expected = inline.series("open_ar")[0].iloc[-1]
    assert snap["open_ar"] == pytest.approx(expected, abs=0.01)


def test_a_money_sentence_shows_whole_units_when_three_digits_hide_the_change():
    from rpmkit.sim.comparison import sentence

    row = {
        "base": 286_608_942.0,
        "other": 287_311_090.0,
        "difference": 702_148.0,
        "ci_low": 619_769.0,
        "ci_high": 784_526.0,
    }
    text = sentence("cash_collected", row, "USD", ("base", "e_invoicing"))
    assert text == (
        "Cash collected rises by $702k with e_invoicing, from $286,608,942 to $287,311,090 "
        "(95 % CI of the change +$620k to +$785k), better."
    )
    row |= {"other": 300_000_000.0, "difference": 13_391_058.0}
    assert "from $287M to $300M" in sentence("cash_collected", row, "USD", ("a", "b"))
