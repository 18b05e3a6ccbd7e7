"""Where replications run: inline, on local processes or on Dask distributed.

:func:`~rpmkit.sim.replica.run_replication` is what a worker does: one
replication and its summary (:class:`~rpmkit.sim.replica.Replica`: the daily
series as one compact array, the monthly KPIs, the headline :data:`KPIS`),
never the events. :func:`execute` runs a list of :class:`Task` and yields
each summary as it completes; its position in the list says where it
belongs, so the completion order never shows in a result. A local pool gets
the scenarios, rule and opening balance once per worker process (not with
every task) and takes its tasks two at a time.

>>> backend_name(processes=1), backend_name(), _chunk_size(200, 2), _chunk_size(6, 2)
('inline', 'processes', 2, 1)
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

import pandas as pd

from rpmkit.sim.params import Scenario
from rpmkit.sim.policies import Rule
from rpmkit.sim.replica import (
    DAILY_MEASURES,
    KPIS,
    MONEY_MEASURES,
    MONTHLY_KPIS,
    Replica,
    run_replication,
)

__all__ = [
    "DAILY_MEASURES",
    "KPIS",
    "MONEY_MEASURES",
    "MONTHLY_KPIS",
    "Replica",
    "SchedulerUnreachable",
    "Task",
    "backend_name",
    "execute",
    "run_replication",
    "warm_up",
]

Progress = bool | Callable[[int, int], object] | None


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


def warm_up(processes: int | None = None) -> bool:
    """Start, in the background, the server local pools fork their workers from.

    Only where pools use ``forkserver`` (a process with threads, e.g. a Jupyter
    kernel) and ``processes`` is not 1: the server imports the simulator once
    (about two seconds) and every later pool forks from it. True when it was
    started (or already running).
    """
    if processes == 1 or not sys.platform.startswith("linux"):
        return False
    context = _mp_context()
    if context.get_start_method() != "forkserver":
        return False
    from multiprocessing import forkserver

    threading.Thread(
        target=forkserver.ensure_running, name="rpmkit-forkserver", daemon=True
    ).start()
    return True


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


# What a local worker process was given when it started (see _on_processes).
_given: dict = {}


def _start_worker(scenarios, rule, opening) -> None:
    _given.update(scenarios=scenarios, rule=rule, opening=opening)


def _run_chunk(chunk: list[tuple[int, Task]]) -> list[tuple[int, Replica]]:
    scenarios, rule, opening = _given["scenarios"], _given["rule"], _given["opening"]
    return [
        (k, run_replication(scenarios[t.scenario], t.replication, rule, opening, t.keep,
                            t.with_ledger))
        for k, t in chunk
    ]  # fmt: skip


def _chunk_size(tasks: int, workers: int) -> int:
    """Tasks per submission: two (the pair of a comparison's replication), or one when
    there are fewer than eight per worker, so the last ones still balance the load."""
    return 2 if tasks >= 8 * workers else 1


def _on_processes(scenarios, tasks, rule, opening, workers, context) -> Iterator:
    size = _chunk_size(len(tasks), workers)
    numbered = list(enumerate(tasks))
    chunks = [numbered[k : k + size] for k in range(0, len(numbered), size)]
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(list(scenarios), rule, opening),
    ) as pool:
        pending = {pool.submit(_run_chunk, chunk) for chunk in chunks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield from fut.result()
        finally:
            for fut in pending:
                fut.cancel()


class SchedulerUnreachable(ConnectionError):
    """No Dask scheduler could be reached at the address given; the message says why."""


def _reason(exc: BaseException) -> str:
    """The first cause in ``exc``'s chain the system named (``Connection refused``)."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    named = [e.strerror for e in reversed(seen) if isinstance(e, OSError) and e.strerror]
    return named[0] if named else "no answer"


def _connect(scheduler: str):
    """A ``distributed.Client`` of ``scheduler``, trying for Dask's connect timeout
    (``distributed.comm.timeouts.connect``); else :class:`SchedulerUnreachable`."""
    import dask
    from dask.utils import parse_timedelta
    from distributed import Client

    timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
    try:
        return Client(scheduler, timeout=timeout)
    except OSError as exc:  # Dask's "Timed out trying to connect", refusals, DNS failures
        raise SchedulerUnreachable(
            f"cannot connect to the Dask scheduler at {scheduler}: {_reason(exc)} "
            f"(gave up after {timeout:g} s)"
        ) from exc


def _on_dask(scenarios, tasks, rule, opening, client, scheduler) -> Iterator[tuple[int, Replica]]:
    from distributed import as_completed

    own = client is None
    if own:
        client = _connect(scheduler)
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
