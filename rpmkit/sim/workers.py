"""Where and how replications run: one replication summarised by a worker, and the backends.

:func:`run_replication` is what a worker does: ``Model(scenario, r).run()``,
then the summary sent back (:class:`Replica`: the daily series as one compact
array, the monthly KPIs, the headline :data:`KPIS`), never the events.
:func:`execute` runs a list of :class:`Task` inline, on a pool of local
processes or on Dask distributed, and yields each summary as it completes;
its position in the list says where it belongs, so the completion order
never shows in a result.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.ledger import Ledger
from rpmkit.sim.model import Model
from rpmkit.sim.outputs import DAILY_COLUMNS
from rpmkit.sim.params import Scenario
from rpmkit.sim.policies import Rule
from rpmkit.sim.records import SimResult

__all__ = [
    "DAILY_MEASURES",
    "KPIS",
    "MONEY_MEASURES",
    "MONTHLY_KPIS",
    "Replica",
    "Task",
    "backend_name",
    "execute",
    "run_replication",
]

Progress = bool | Callable[[int, int], object] | None

DAILY_MEASURES: tuple[str, ...] = tuple(DAILY_COLUMNS)
"""Daily series kept per replication (``outputs.DAILY_COLUMNS``), money in currency units."""

_NOT_MONEY = {"disputes_open", "lost_orders", "calls", "collector_utilisation", "queue_length"}
MONEY_MEASURES = frozenset(m for m in DAILY_MEASURES if m not in _NOT_MONEY)

MONTHLY_KPIS: tuple[str, ...] = ("dso", "bpdso", "add", "cei", "bad_debt_ratio")
"""Columns of ``SimResult.monthly_kpis()`` kept per replication (bands per month end)."""

KPIS: dict[str, tuple[str, str, int]] = {
    "dso": ("DSO", "days", -1),
    "bpdso": ("best-possible DSO", "days", -1),
    "add": ("average days delinquent", "days", -1),
    "cei": ("CEI", "percent", 1),
    "bad_debt_ratio": ("bad-debt ratio", "percent", -1),
    "cash_collected": ("cash collected", "money", 1),
    "sales": ("sales invoiced", "money", 1),
    "open_ar_end": ("open AR at the end", "money", -1),
    "write_offs": ("write-offs", "money", -1),
    "credit_notes": ("credit notes", "money", 0),
    "discount_cost": ("discount cost", "money", -1),
    "agency_fees": ("agency fees", "money", -1),
    "dunning_cost": ("dunning and call cost", "money", -1),
    "collection_cost": ("collection cost", "money", -1),
    "lost_sales": ("lost sales", "money", -1),
    "calls": ("calls made", "count", 0),
    "collector_utilisation": ("collector utilisation", "share", 0),
}
"""Headline KPIs of a replication: name → (label, unit, +1 if higher is better, −1 if lower, 0).

``dso``, ``bpdso``, ``add``, ``cei``: the last month end of
``SimResult.monthly_kpis()`` (``rpmkit.kpi``; month periods). ``bad_debt_ratio``:
write-offs over the whole horizon as a percentage of its credit sales
(``rpmkit.kpi.bad_debt_ratio`` with the horizon as the period). Money totals over
the horizon in currency units; ``collection_cost`` = dunning and call cost +
discount cost + agency fees; ``collector_utilisation`` is the mean of the daily
series.
"""


# ----------------------------------------------------------------------- worker
@dataclass(frozen=True, eq=False)
class Replica:
    """What a worker sends back for one replication (small: no events).

    Attributes
    ----------
    replication
        The replication index.
    daily
        ``(days, len(DAILY_MEASURES))`` float64, money in currency units.
    monthly
        ``(month ends, len(MONTHLY_KPIS))`` float64 (NaN where a KPI is undefined).
    period_ends
        The month ends of ``monthly``.
    kpis
        The :data:`KPIS` of the replication.
    stats
        ``sim_events``, ``sim_seconds`` (event loop), ``seconds`` (the whole
        replication with its outputs and KPIs), ``cpu_seconds`` (its processor
        time: what a busy machine does not inflate), ``littles_law_error``.
    ledger, result
        Replication 0's ledger (when asked for) and the full ``SimResult`` (``keep``).
    """

    replication: int
    daily: np.ndarray
    monthly: np.ndarray
    period_ends: np.ndarray
    kpis: dict[str, float]
    stats: dict[str, float]
    ledger: Ledger | None = None
    result: SimResult | None = None


def _number(value) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


def run_replication(
    scenario: Scenario,
    replication: int,
    rule: str | Rule | None = None,
    opening: pd.DataFrame | None = None,
    keep: bool = False,
    with_ledger: bool = False,
) -> Replica:
    """Run one replication and summarise it (what each worker does)."""
    from rpmkit.kpi import bad_debt_ratio
    from rpmkit.sim.validity import littles_law

    t0, cpu0 = time.perf_counter(), time.process_time()
    r = Model(scenario, replication, rule=rule, opening=opening).run()
    scale = 10 ** money.exponent(scenario.currency)
    d = r.daily
    daily = np.empty((len(d), len(DAILY_MEASURES)))
    for j, name in enumerate(DAILY_MEASURES):
        col = d[name].to_numpy(dtype=float)
        daily[:, j] = col / scale if name in MONEY_MEASURES else col
    m = r.monthly_kpis()
    monthly = m[list(MONTHLY_KPIS)].to_numpy(dtype=float, na_value=np.nan)
    last = monthly[-1] if len(monthly) else np.full(len(MONTHLY_KPIS), np.nan)
    total = dict(zip(DAILY_MEASURES, daily.sum(axis=0), strict=True))
    h = scenario.horizon_days
    kpis = {name: float(last[k]) for k, name in enumerate(MONTHLY_KPIS[:4])}
    kpis["bad_debt_ratio"] = _number(bad_debt_ratio(r.ledger, scenario.end_date, h).value)
    kpis["cash_collected"] = total["receipts"]
    kpis["sales"] = total["sales"]
    kpis["open_ar_end"] = float(daily[-1, DAILY_MEASURES.index("open_ar")])
    for name in ("write_offs", "credit_notes", "discount_cost", "agency_fees", "dunning_cost"):
        kpis[name] = total[name]
    kpis["collection_cost"] = total["dunning_cost"] + total["discount_cost"] + total["agency_fees"]
    kpis["lost_sales"] = total["lost_sales"]
    kpis["calls"] = total["calls"]
    kpis["collector_utilisation"] = total["collector_utilisation"] / h
    try:
        error = littles_law(r, h // 4, h // 4)["relative_error"]
    except (ValueError, ZeroDivisionError):
        error = math.nan
    stats = {
        "sim_events": float(r.sim_events),
        "sim_seconds": r.sim_seconds,
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - cpu0,
        "littles_law_error": float(error),
    }
    return Replica(
        replication=replication,
        daily=daily,
        monthly=monthly,
        period_ends=m["period_end"].to_numpy(dtype="datetime64[ns]"),
        kpis={k: kpis[k] for k in KPIS},
        stats=stats,
        ledger=r.ledger if with_ledger else None,
        result=r if keep else None,
    )


# -------------------------------------------------------------------- execution
@dataclass(frozen=True)
class Task:
    """One replication to run: which scenario (an index into the run's list) and which index."""

    scenario: int
    replication: int
    keep: bool = False
    with_ledger: bool = False


class _Progress:
    def __init__(self, total: int, progress: Progress) -> None:
        self.total, self.done = total, 0
        self.callback = progress if callable(progress) else None
        self.bar = None
        if progress is True:
            from tqdm.auto import tqdm

            # disable=None: shown only when stderr is a terminal
            self.bar = tqdm(total=total, unit="rep", desc="replications", disable=None)
        if self.callback is not None:
            self.callback(0, total)

    def step(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _mp_context():
    """``fork`` while this process runs one thread (fast, and a script needs no
    ``__main__`` guard); else ``forkserver`` (Linux), since forking a process
    with threads (a Jupyter kernel, a Dask client) can deadlock; ``spawn``
    elsewhere. The forkserver imports the simulator once for all workers."""
    if sys.platform.startswith("linux"):
        if threading.active_count() == 1:
            return multiprocessing.get_context("fork")
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["rpmkit.sim.workers"])
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover


def execute(
    scenarios: Sequence[Scenario],
    tasks: Sequence[Task],
    *,
    rule: str | Rule | None = None,
    opening: pd.DataFrame | None = None,
    client=None,
    scheduler: str | None = None,
    processes: int | None = None,
    progress: Progress = True,
) -> Iterator[tuple[int, Replica]]:
    """Run ``tasks`` and yield ``(task position, Replica)`` as each completes.

    Dask when ``client`` or ``scheduler`` is given; inline when ``processes == 1``
    or there is one task; else a pool of ``processes`` local processes (default:
    the CPUs this process may use). The caller places results by position, so
    the completion order does not matter.
    """
    dask = client is not None or scheduler is not None
    local = not dask and processes != 1 and len(tasks) > 1
    context = _mp_context() if local else None  # before a progress bar starts a thread
    bar = _Progress(len(tasks), progress)
    try:
        if dask:
            runs = _on_dask(scenarios, tasks, rule, opening, client, scheduler)
        elif not local:
            runs = (
                (
                    k,
                    run_replication(
                        scenarios[t.scenario], t.replication, rule, opening, t.keep, t.with_ledger
                    ),
                )
                for k, t in enumerate(tasks)
            )
        else:
            workers = min(processes or _cpu_count(), len(tasks))
            runs = _on_processes(scenarios, tasks, rule, opening, workers, context)
        for item in runs:
            bar.step()
            yield item
    finally:
        bar.close()


def _on_processes(scenarios, tasks, rule, opening, workers, context) -> Iterator:
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {
            pool.submit(
                run_replication,
                scenarios[t.scenario],
                t.replication,
                rule,
                opening,
                t.keep,
                t.with_ledger,
            ): k
            for k, t in enumerate(tasks)
        }
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield pending.pop(fut), fut.result()
        finally:
            for fut in pending:
                fut.cancel()


def _on_dask(scenarios, tasks, rule, opening, client, scheduler) -> Iterator[tuple[int, Replica]]:
    from distributed import Client, as_completed

    own = client is None
    if own:
        client = Client(scheduler)
    futures = []
    try:
        shared = client.scatter(opening, broadcast=True) if opening is not None else None
        futures = [
            client.submit(
                run_replication,
                scenarios[t.scenario],
                t.replication,
                rule,
                shared,
                t.keep,
                t.with_ledger,
                pure=False,
            )
            for t in tasks
        ]
        position = {f.key: k for k, f in enumerate(futures)}
        for fut in as_completed(futures):
            replica = fut.result()
            yield position[fut.key], replica
            fut.release()  # the summary is ours now: the cluster may forget it
    finally:
        pending = [f for f in futures if f.status == "pending"]
        if pending:
            client.cancel(pending)
        if own:
            client.close()


def backend_name(client=None, scheduler: str | None = None, processes: int | None = None) -> str:
    """``dask``, ``inline`` or ``processes``: where :func:`execute` runs the replications."""
    if client is not None or scheduler is not None:
        return "dask"
    return "inline" if processes == 1 else "processes"
