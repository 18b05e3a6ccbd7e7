"""Replications of a scenario, in parallel: :class:`Runner` → :class:`RunResult`.

Replication ``r`` is ``Model(scenario, r).run()``: its random streams are
``Streams(seed, r)``, so it is reproducible on its own and its output does
not depend on where or in which order it ran. Replications run inline
(``processes=1``), on local processes (the default,
:class:`concurrent.futures.ProcessPoolExecutor`) or on Dask distributed
(given a ``distributed.Client`` or a scheduler address), with no other
change. Each worker returns a :class:`~rpmkit.sim.replica.Replica` — the daily
series as one compact array, the monthly KPIs and the replication's headline
KPIs, computed from the event records without building the canonical ledger —
never its events, so memory grows with replications × days, not with events.

>>> import dataclasses
>>> from rpmkit.sim import Behaviour, PayerBehaviour, Scenario, SegmentSales
>>> s = Scenario(
...     horizon_days=60,
...     sales=(SegmentSales("smb", 50, 4.0, 800.0),),
...     behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
... )
>>> run = Runner(s, replications=3, processes=1, progress=False).run()
>>> run
RunResult(3 replications of 60 days, seed 20250101: open AR at the end P50 122,658.09 USD)
>>> band = run.bands("open_ar")
>>> bool((band["p10"] <= band["p50"]).all() and (band["p50"] <= band["p90"]).all())
True
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rpmkit.jsonable import plain
from rpmkit.ledger import Ledger
from rpmkit.plots.sim import band_figure
from rpmkit.sim.bands import BAND_COLUMNS, percentile_bands
from rpmkit.sim.params import Scenario
from rpmkit.sim.policies import Rule
from rpmkit.sim.records import SimResult
from rpmkit.sim.workers import (
    DAILY_MEASURES,
    KPIS,
    MONEY_MEASURES,
    MONTHLY_KPIS,
    Progress,
    Replica,
    Task,
    backend_name,
    execute,
)

__all__ = ["Collector", "RunResult", "Runner"]


# ------------------------------------------------------------------------ runner
class Runner:
    """``replications`` replications of a scenario, in parallel.

    Parameters
    ----------
    scenario
        The scenario.
    replications
        Number of replications, ≥ 1; replication ``r`` uses ``Streams(seed, r)``.
    seed
        Root seed; ``None`` keeps ``scenario.seed``.
    rule
        Prioritisation rule overriding the scenario's (a name, or a picklable callable).
    opening
        Invoices open at the start (see :class:`~rpmkit.sim.model.Model`).
    client, scheduler
        A ``distributed.Client``, or a scheduler address (``tcp://host:8786``)
        for a client the run opens and closes: run on Dask.
    processes
        Local worker processes (default: the CPUs available); ``1`` runs inline.
    progress
        ``True``: a tqdm bar when stderr is a terminal; a callable
        ``(done, total)`` called after each replication (and with 0 first);
        ``False``: silent.
    keep
        Keep every replication's full :class:`SimResult` in ``RunResult.results``
        (events and all: for small runs only).
    """

    def __init__(
        self,
        scenario: Scenario,
        replications: int = 10,
        seed: int | None = None,
        *,
        rule: str | Rule | None = None,
        opening: pd.DataFrame | None = None,
        client=None,
        scheduler: str | None = None,
        processes: int | None = None,
        progress: Progress = True,
        keep: bool = False,
    ) -> None:
        if not isinstance(scenario, Scenario):
            raise ValueError(f"scenario must be a Scenario, got {type(scenario).__name__}")
        if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
            raise ValueError(f"replications must be an integer >= 1, got {replications!r}")
        if processes is not None and (not isinstance(processes, int) or processes < 1):
            raise ValueError(f"processes must be an integer >= 1, got {processes!r}")
        self.scenario = scenario if seed is None else dataclasses.replace(scenario, seed=seed)
        self.replications = replications
        self.seed = self.scenario.seed
        self.rule, self.opening, self.keep = rule, opening, keep
        self.client, self.scheduler, self.processes = client, scheduler, processes
        self.progress = progress

    def __repr__(self) -> str:
        where = backend_name(self.client, self.scheduler, self.processes)
        return f"Runner({self.replications} replications, seed {self.seed}, {where})"

    def run(self) -> RunResult:
        """Run every replication and collect the :class:`RunResult`."""
        n = self.replications
        tasks = [Task(0, r, self.keep, r == 0) for r in range(n)]
        collect = Collector(self.scenario, n, keep=self.keep)
        t0 = time.perf_counter()
        for k, replica in execute(
            [self.scenario],
            tasks,
            rule=self.rule,
            opening=self.opening,
            client=self.client,
            scheduler=self.scheduler,
            processes=self.processes,
            progress=self.progress,
        ):
            collect.add(tasks[k].replication, replica)
        where = backend_name(self.client, self.scheduler, self.processes)
        return collect.result(where, time.perf_counter() - t0)


class Collector:
    """Places replicas into preallocated arrays as they arrive (each replica then dropped)."""

    def __init__(self, scenario: Scenario, replications: int, *, keep: bool = False) -> None:
        self.scenario, self.n = scenario, replications
        self.daily = np.full((replications, scenario.horizon_days, len(DAILY_MEASURES)), np.nan)
        self.monthly: np.ndarray | None = None
        self.period_ends = np.array([], dtype="datetime64[ns]")
        self.kpis = np.full((replications, len(KPIS)), np.nan)
        self.stats: list[dict | None] = [None] * replications
        self.ledger: Ledger | None = None
        self.results: list[SimResult | None] | None = [None] * replications if keep else None

    def add(self, r: int, replica: Replica) -> None:
        self.daily[r] = replica.daily
        if self.monthly is None:
            self.period_ends = replica.period_ends
            shape = (self.n, len(replica.period_ends), len(MONTHLY_KPIS))
            self.monthly = np.full(shape, np.nan)
        self.monthly[r] = replica.monthly
        self.kpis[r] = [replica.kpis[k] for k in KPIS]
        self.stats[r] = replica.stats
        if replica.ledger is not None:
            self.ledger = replica.ledger
        if self.results is not None:
            self.results[r] = replica.result

    def result(self, backend: str, seconds: float) -> RunResult:
        index = pd.RangeIndex(self.n, name="replication")
        monthly = self.monthly
        if monthly is None:
            monthly = np.zeros((self.n, 0, len(MONTHLY_KPIS)))
        return RunResult(
            scenario=self.scenario,
            daily=self.daily,
            monthly=monthly,
            period_ends=pd.DatetimeIndex(self.period_ends, name="period_end"),
            kpis=pd.DataFrame(self.kpis, index=index, columns=list(KPIS)),
            runs=pd.DataFrame(self.stats, index=index),
            ledger=self.ledger,
            results=self.results,
            backend=backend,
            wall_seconds=seconds,
        )


# ------------------------------------------------------------------------ result
@dataclass(frozen=True, eq=False)
class RunResult:
    """The replications of a scenario, summarised.

    Attributes
    ----------
    scenario
        The scenario run (its ``seed`` is the run's seed).
    daily
        ``(replications, days, measures)``: the :data:`DAILY_MEASURES` of every
        replication, money in currency units.
    monthly, period_ends
        ``(replications, month ends, 5)``: :data:`MONTHLY_KPIS` per month end.
    kpis
        One row per replication, the :data:`KPIS` (also as ``kpis_``).
    runs
        One row per replication: ``sim_events``, ``sim_seconds``, ``seconds``, ``cpu_seconds``,
        ``sim_cpu_seconds`` (the part of ``cpu_seconds`` spent drawing and in the
        event loop; the rest is the summary), ``littles_law_error``
        (:func:`rpmkit.sim.littles_law`, window without the first and last
        quarter of the horizon).
    ledger
        Replication 0's simulated ledger.
    results
        Every replication's :class:`SimResult` when the run kept them, else None.
    backend, wall_seconds
        Where the replications ran (``inline``, ``processes``, ``dask``) and the
        wall time of the run.
    """

    scenario: Scenario = field(repr=False)
    daily: np.ndarray = field(repr=False)
    monthly: np.ndarray = field(repr=False)
    period_ends: pd.DatetimeIndex = field(repr=False)
    kpis: pd.DataFrame = field(repr=False)
    runs: pd.DataFrame = field(repr=False)
    ledger: Ledger | None = field(default=None, repr=False)
    results: list | None = field(default=None, repr=False)
    backend: str = "inline"
    wall_seconds: float = 0.0

    # ------------------------------------------------------------- basics
    @property
    def replications(self) -> int:
        return self.daily.shape[0]

    @property
    def seed(self) -> int:
        return self.scenario.seed

    @property
    def currency(self) -> str:
        return self.scenario.currency

    @property
    def kpis_(self) -> pd.DataFrame:
        """Per-replication headline KPIs (the ``kpis`` field)."""
        return self.kpis

    @property
    def dates(self) -> pd.DatetimeIndex:
        """The simulated days."""
        return pd.date_range(self.scenario.start_date, periods=self.daily.shape[1], name="date")

    def series(self, measure: str) -> pd.DataFrame:
        """A measure per replication: one row per day (or month end), one column per replication."""
        if measure in DAILY_MEASURES:
            values, index = self.daily[:, :, DAILY_MEASURES.index(measure)], self.dates
        elif measure in MONTHLY_KPIS:
            values, index = self.monthly[:, :, MONTHLY_KPIS.index(measure)], self.period_ends
        else:
            known = list(DAILY_MEASURES) + list(MONTHLY_KPIS)
            raise ValueError(f"measure must be one of {known}, got {measure!r}")
        return pd.DataFrame(values.T, index=index, columns=pd.RangeIndex(len(values)))

    def bands(self, measure: str | None = None) -> pd.DataFrame:
        """P10, P50, P90 and mean across replications, per day.

        ``measure`` is a daily series (:data:`DAILY_MEASURES`: one row per day,
        column ``date``) or a monthly KPI (:data:`MONTHLY_KPIS`: one row per
        month end, column ``period_end``). Without one: every daily measure,
        long (``date, measure, p10, p50, p90, mean``; what ``daily.parquet`` holds).
        """
        if measure is None:
            frames = [self.bands(m).assign(measure=m) for m in DAILY_MEASURES]
            out = pd.concat(frames, ignore_index=True)
            out["measure"] = pd.Categorical(out["measure"], categories=list(DAILY_MEASURES))
            return out[["date", "measure", *BAND_COLUMNS]]
        s = self.series(measure)
        out = pd.DataFrame(percentile_bands(s.to_numpy().T), columns=list(BAND_COLUMNS))
        out.insert(0, s.index.name, s.index.to_numpy())
        return out

    def monthly_bands(self) -> pd.DataFrame:
        """Bands of every monthly KPI, long: ``period_end, kpi, p10, p50, p90, mean``."""
        frames = [self.bands(k).assign(kpi=k) for k in MONTHLY_KPIS]
        out = pd.concat(frames, ignore_index=True)
        return out[["period_end", "kpi", *BAND_COLUMNS]]

    def summary(self) -> pd.DataFrame:
        """Per headline KPI across replications: label, unit, mean, sd, P10, P50, P90."""
        k = self.kpis
        q = k.quantile([0.1, 0.5, 0.9]).T
        out = pd.DataFrame(
            {
                "label": [KPIS[c][0] for c in k.columns],
                "unit": [KPIS[c][1] for c in k.columns],
                "mean": k.mean(),
                "sd": k.std(ddof=1) if len(k) > 1 else np.nan,
                "p10": q[0.1],
                "p50": q[0.5],
                "p90": q[0.9],
            },
            index=pd.Index(k.columns, name="kpi"),
        )
        return out

    def validity(self) -> dict[str, float]:
        """Little's law over the replications: mean and largest absolute relative error."""
        e = self.runs["littles_law_error"].to_numpy(dtype=float)
        e = e[~np.isnan(e)]
        h = self.scenario.horizon_days
        return {
            "littles_law_window_start": float(h // 4),
            "littles_law_window_end": float(h - 1 - h // 4),
            "littles_law_mean_relative_error": float(e.mean()) if len(e) else math.nan,
            "littles_law_max_abs_relative_error": float(np.abs(e).max()) if len(e) else math.nan,
        }

    def timing(self) -> dict[str, float | str]:
        r = self.runs
        return {
            "backend": self.backend,
            "wall_seconds": self.wall_seconds,
            "replication_seconds_total": float(r["seconds"].sum()),
            "sim_seconds_total": float(r["sim_seconds"].sum()),
            "cpu_seconds_total": float(r["cpu_seconds"].sum()) if "cpu_seconds" in r else math.nan,
            "sim_events_total": float(r["sim_events"].sum()),
        }

    def to_dict(self) -> dict:
        """Plain JSON-ready content (``summary.json``): scenario, KPI summary and
        per-replication values, monthly KPI bands, validity and timing."""
        summ = self.summary()
        mb = self.monthly_bands()
        monthly = {
            k: {c: mb.loc[mb["kpi"] == k, c].tolist() for c in BAND_COLUMNS} for k in MONTHLY_KPIS
        }
        return plain(
            {
                "replications": self.replications,
                "seed": self.seed,
                "currency": self.currency,
                "horizon_days": self.scenario.horizon_days,
                "start": self.scenario.start,
                "kpis": {
                    k: {c: row[c] for c in ("label", "unit", "mean", "sd", "p10", "p50", "p90")}
                    for k, row in summ.iterrows()
                },
                "replication_kpis": {k: self.kpis[k].tolist() for k in self.kpis.columns},
                "monthly": {
                    "period_end": [str(d.date()) for d in self.period_ends],
                    **monthly,
                },
                "validity": self.validity(),
                "timing": self.timing(),
                "scenario": self.scenario.to_dict(),
            }
        )

    def write(self, out_dir: str | os.PathLike) -> Path:
        """Write ``summary.json``, ``daily.parquet`` (daily bands, long),
        ``monthly.parquet`` (monthly KPI bands) and ``ledger/`` (replication 0's
        simulated ledger in the canonical layout, Parquet); return the folder."""
        from rpmkit.writers import write_ledger

        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        (folder / "summary.json").write_text(text + "\n", encoding="utf-8")
        self.bands().to_parquet(folder / "daily.parquet", index=False)
        self.monthly_bands().to_parquet(folder / "monthly.parquet", index=False)
        if self.ledger is not None:
            write_ledger(self.ledger, folder / "ledger", format="parquet")
        return folder

    def plot(self, measure: str = "open_ar", *, label: str = "scenario"):
        """P10–P90 band and P50 of a measure over time (a plotly Figure)."""
        return band_figure(
            {label: self.bands(measure)},
            title=f"{measure.replace('_', ' ')}: P10–P90 over {self.replications} replications",
            y_title=measure.replace("_", " "),
            currency=self.currency if measure in MONEY_MEASURES else None,
        )

    def equals(self, other: RunResult) -> bool:
        """Same scenario, daily and monthly arrays and KPIs (timings aside)."""
        return (
            self.scenario == other.scenario
            and np.array_equal(self.daily, other.daily, equal_nan=True)
            and np.array_equal(self.monthly, other.monthly, equal_nan=True)
            and self.period_ends.equals(other.period_ends)
            and self.kpis.equals(other.kpis)
        )

    def __repr__(self) -> str:
        ar = float(np.median(self.daily[:, -1, DAILY_MEASURES.index("open_ar")]))
        return (
            f"RunResult({self.replications} replications of {self.scenario.horizon_days} days, "
            f"seed {self.seed}: open AR at the end P50 {ar:,.2f} {self.currency})"
        )
