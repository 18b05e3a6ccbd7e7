"""Simulator benchmarks: the model against a bare SimPy loop, the app's Run, Dask.

1. One replication of ``scenarios/baseline.yaml`` (5,000 customers, one year, about
   100k invoices) is timed three times; its event loop (``SimResult.sim_seconds``,
   ``sim_events``) is set against a bare SimPy loop that schedules and processes the
   same number of timeout events with no model code, timed in the same run. The
   ratio of time per event is the model's overhead; it is given with Python's cyclic
   garbage collector on (``Model.run()`` as called) and off in both loops (as
   ``run_replication`` runs a replication). Building the outputs is timed apart.
2. What the policy-simulator app's Run button does: ``run_comparison(base, changed,
   replications=100)`` on the sample ledger calibrated at the app's as-of (``baseline``:
   ``Scenario.from_ledger`` and its open items), 180 days (the app's default) and one
   year, from a second thread (so on a ``forkserver`` pool, as in a Jupyter kernel), with
   the time broken down: calibration, the first pool (which waits for the forkserver to
   import the simulator; the app starts it in the background when it opens), a later
   pool's start, the replications (processor time of the
   event loop and of the summary, per replication, against a bare SimPy loop of the same
   number of events in the same process), the first result and the folding after the last.
3. A small scenario on a Dask ``LocalCluster``: the client's peak memory for 100 and
   1,000 replications (workers send back summaries, never events), and the parallel
   efficiency of 2 workers against 1.

Each measurement runs in a fresh subprocess so peak memory is its own.

Usage::

    python benchmarks/sim.py
    python benchmarks/sim.py --write-docs   # also update docs/performance.md
    python benchmarks/sim.py --only model   # one table: model, compare or dask
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine, peak_mb, reset_peak, run_child

SCENARIO = ROOT / "scenarios" / "baseline.yaml"
REPEAT = 3


def run_model() -> dict:
    import gc

    from rpmkit.sim import Model, Scenario
    from rpmkit.sim import records as rec

    # processor time of building the outputs, to take out of the run's: on a
    # shared machine wall times measure the other jobs as much as this one
    build, spent = rec.build_result, []

    def timed_build(*args, **kwargs):
        c = time.process_time()
        out = build(*args, **kwargs)
        spent.append(time.process_time() - c)
        return out

    rec.build_result = timed_build
    # and of the vectorised work before the loop (drawing the orders, the walk that
    # settles what nothing can touch), to set the loop proper against the bare one
    import rpmkit.sim.fastpath as fastpath
    import rpmkit.sim.model as model

    before: list[float] = []

    def timed(f):
        def run(*args, **kwargs):
            c = time.process_time()
            out = f(*args, **kwargs)
            before.append(time.process_time() - c)
            return out

        return run

    model.draw_orders = timed(model.draw_orders)
    fastpath.presettle = timed(fastpath.presettle)
    # and of SimPy's run alone: the events, without the per-invoice lists set up before
    import simpy

    runs: list[float] = []
    simpy_run = simpy.Environment.run

    def timed_run(env, until=None):
        c = time.process_time()
        out = simpy_run(env, until)
        runs.append(time.process_time() - c)
        return out

    simpy.Environment.run = timed_run
    scenario = Scenario.from_yaml(SCENARIO)
    loop, total, cpu, loop_cpu, events, invoices = [], [], [], [], 0, 0
    for _ in range(REPEAT):
        t, c = time.perf_counter(), time.process_time()
        result = Model(scenario).run()
        total.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        loop_cpu.append(cpu[-1] - spent[-1])
        loop.append(result.sim_seconds)
        events, invoices = result.sim_events, len(result.ledger.invoices)
    quiet, proper, run_only = [], [], []
    for _ in range(REPEAT):
        gc.disable()
        before.clear()
        c = time.process_time()
        Model(scenario).run()
        quiet.append(time.process_time() - c - spent[-1])
        proper.append(quiet[-1] - sum(before))
        run_only.append(runs[-1])
        gc.enable()
    simpy.Environment.run = simpy_run
    # how many wake-ups wait in SimPy's queue as the loop goes (about a day's): a bare
    # loop keeping as many pending pops from as deep a heap
    sizes, step = [], simpy.Environment.step

    def counting_step(env):
        sizes.append(len(env._queue))
        return step(env)

    simpy.Environment.step = counting_step
    Model(scenario).run()
    simpy.Environment.step = step
    return {
        "engine": "model",
        "events": events,
        "pending_mean": sum(sizes) / max(len(sizes), 1),
        "invoices": invoices,
        # best of the repeats: the least disturbed by other jobs
        "loop_s": min(loop),
        "loop_cpu_s": min(loop_cpu),
        "loop_cpu_nogc_s": min(quiet),
        "simpy_loop_cpu_nogc_s": min(proper),
        "simpy_run_cpu_nogc_s": min(run_only),
        "total_s": min(total),
        "cpu_s": min(cpu),
        "peak_mb": peak_mb(),
    }


def run_bare(events: int, chains: int = 280) -> dict:
    """``events`` wake-ups through SimPy with no model code, the way the model schedules
    them: a ``Timeout`` whose callback schedules the next one, ``chains`` chains at once
    (so as many timeouts pending). Processor time, best of three, with the garbage
    collector on and off."""
    import gc

    import numpy as np
    import simpy
    from simpy.events import Timeout

    gaps = np.random.default_rng(0).exponential(1.0, events).tolist()
    seconds, cpu, cpu_nogc = [], [], []
    for collect in (True, False) * REPEAT:
        env = simpy.Environment()
        queues = [iter(gaps[k::chains]) for k in range(chains)]

        def wake(event, env=env, queues=queues):
            gap = next(queues[event.value], None)
            if gap is not None:
                Timeout(env, gap, event.value).callbacks.append(wake)

        for k in range(chains):
            Timeout(env, next(queues[k]), k).callbacks.append(wake)
        if not collect:
            gc.disable()
        t, c = time.perf_counter(), time.process_time()
        env.run()
        (cpu if collect else cpu_nogc).append(time.process_time() - c)
        seconds.append(time.perf_counter() - t)
        gc.enable()
    return {
        "engine": "bare",
        "events": events,
        "loop_s": min(seconds),
        "cpu_s": min(cpu),
        "cpu_nogc_s": min(cpu_nogc),
    }


def run_bare_processes(events: int, chains: int = 280) -> dict:
    """The same wake-ups written as SimPy models usually are: ``chains`` processes, each
    a generator yielding ``env.timeout(gap)``. Each wake-up is still one event in the
    queue, but resuming a generator through its ``Process`` costs more than a callback:
    the idiomatic SimPy loop, beside the cheapest one of :func:`run_bare`."""
    import gc

    import numpy as np
    import simpy

    gaps = np.random.default_rng(0).exponential(1.0, events).tolist()
    cpu_nogc = []
    for _ in range(REPEAT):
        env = simpy.Environment()

        def chain(env, gaps):
            for gap in gaps:
                yield env.timeout(gap)

        for k in range(chains):
            env.process(chain(env, gaps[k::chains]))
        gc.disable()
        c = time.process_time()
        env.run()
        cpu_nogc.append(time.process_time() - c)
        gc.enable()
    return {"engine": "bare-processes", "events": events, "cpu_nogc_s": min(cpu_nogc)}


def run_app(horizon: int) -> dict:
    """The app's Run button on the sample ledger, with where the time goes."""
    import dataclasses
    import threading
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import forkserver

    import numpy as np

    import rpmkit
    from rpmkit.sim import workers
    from rpmkit.ui.data import default_as_of
    from rpmkit.ui.simulator.outcome import baseline, run_comparison

    t = time.perf_counter()
    ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    base = baseline(ledger, default_as_of(ledger), horizon)
    calibrate_s = time.perf_counter() - t
    week_earlier = tuple(dataclasses.replace(d, day=d.day - 7) for d in base.scenario.dunning)
    other = dataclasses.replace(base.scenario, dunning=week_earlier)
    out: dict = {}

    def app_thread() -> None:
        # as in a Jupyter kernel: more than one thread, so pools fork from a forkserver
        def pool_start() -> float:
            t = time.perf_counter()
            with ProcessPoolExecutor(
                2,
                mp_context=workers._mp_context(),
                initializer=workers._start_worker,
                initargs=([base.scenario, other], None, base.opening),
            ) as pool:
                list(pool.map(abs, range(2)))
            return time.perf_counter() - t

        assert workers.warm_up(None)
        forkserver.ensure_running()
        # the first pool waits for the forkserver to import the simulator
        out["first_pool_s"] = pool_start()
        out["pool_start_s"] = pool_start()
        t = out["compare_start"] = time.perf_counter()
        c = run_comparison(
            base, other, 100, 20250101, progress=lambda d, n: stamps.append(time.perf_counter())
        )
        out["compare_end"] = time.perf_counter()
        out["compare_s"] = out["compare_end"] - t
        out["comparison"] = c

    stamps: list[float] = []
    runner = threading.Thread(target=app_thread)
    start = time.perf_counter()
    runner.start()
    runner.join()
    end = time.perf_counter()
    c = out["comparison"]
    runs = pd.concat([c.base.runs, c.other.runs])
    events = int(runs["sim_events"].mean())
    bare = run_bare(events)
    sim_cpu = float(runs["sim_cpu_seconds"].median())
    # stamps[0] is the progress call before any replication ran
    first = stamps[1] - out["compare_start"] if len(stamps) > 1 else np.nan
    return {
        "horizon": horizon,
        "load_s": load_s,
        "calibrate_s": calibrate_s,
        "first_pool_s": out["first_pool_s"],
        "pool_start_s": out["pool_start_s"],
        "rep_cpu_s": float(runs["cpu_seconds"].median()),
        "rep_loop_cpu_s": sim_cpu,
        "rep_summary_cpu_s": float((runs["cpu_seconds"] - runs["sim_cpu_seconds"]).median()),
        "events_per_rep": events,
        "loop_vs_bare": sim_cpu / bare["cpu_nogc_s"],
        "all_reps_cpu_s": float(runs["cpu_seconds"].sum()),
        "first_result_s": first,
        "folding_s": out["compare_end"] - stamps[-1],
        "compare_s": out["compare_s"],
        "wall_s": end - start,
        "load_average": os.getloadavg()[0],
        "peak_mb": peak_mb(),
    }


def small_scenario():
    from rpmkit.sim import Behaviour, PayerBehaviour, Scenario, SegmentSales

    return Scenario(
        horizon_days=90,
        sales=(SegmentSales("smb", 300, 20.0, 800.0),),
        behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
    )


def run_dask(replications: int, workers: int) -> dict:
    """``replications`` of :func:`small_scenario` on a fresh ``LocalCluster``."""
    from distributed import Client, LocalCluster

    from rpmkit.sim import Runner

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        Runner(small_scenario(), replications=workers, client=client, progress=False).run()
        before = peak_mb()
        reset_peak()
        t = time.perf_counter()
        run = Runner(small_scenario(), replications=replications, client=client, progress=False)
        result = run.run()
        wall = time.perf_counter() - t
        peak = peak_mb()
    return {
        "replications": replications,
        "workers": workers,
        "wall_s": wall,
        "replication_cpu_s": float(result.runs["cpu_seconds"].sum()),
        "load_average": os.getloadavg()[0],
        "client_peak_mb": peak,
        "client_before_mb": before,
        "summary_mb": (result.daily.nbytes + result.monthly.nbytes) / 1e6,
    }


def model_table() -> pd.DataFrame:
    model = run_child(__file__, "model")
    bare = run_child(__file__, "bare", str(model["events"]))
    deep = run_child(__file__, "bare", str(model["events"]), str(round(model["pending_mean"])))
    procs = run_child(__file__, "bare-processes", str(model["events"]))
    return pd.DataFrame(
        [
            {
                "invoices": model["invoices"],
                "events": model["events"],
                "events_per_invoice": model["events"] / model["invoices"],
                "event_loop_cpu_s": model["loop_cpu_s"],
                "with_outputs_cpu_s": model["cpu_s"],
                "bare_simpy_cpu_s": bare["cpu_s"],
                "per_event_vs_bare": model["loop_cpu_s"] / bare["cpu_s"],
                "loop_only_cpu_gc_off_s": model["simpy_loop_cpu_nogc_s"],
                "bare_cpu_gc_off_s": bare["cpu_nogc_s"],
                "loop_only_vs_bare_gc_off": model["simpy_loop_cpu_nogc_s"] / bare["cpu_nogc_s"],
                "simpy_run_cpu_gc_off_s": model["simpy_run_cpu_nogc_s"],
                "simpy_run_vs_bare_gc_off": model["simpy_run_cpu_nogc_s"] / bare["cpu_nogc_s"],
                "pending_events_mean": model["pending_mean"],
                "bare_as_many_pending_cpu_gc_off_s": deep["cpu_nogc_s"],
                "loop_only_vs_bare_as_many_pending": model["simpy_loop_cpu_nogc_s"]
                / deep["cpu_nogc_s"],
                "bare_processes_cpu_gc_off_s": procs["cpu_nogc_s"],
                "loop_only_vs_bare_processes": model["simpy_loop_cpu_nogc_s"] / procs["cpu_nogc_s"],
                "load_average": os.getloadavg()[0],
                "peak_mb": model["peak_mb"],
            }
        ]
    )


def compare_table() -> pd.DataFrame:
    rows = []
    for horizon in (180, 365):
        c = run_child(__file__, "app", str(horizon))
        rows.append(
            {
                "pairs × days": f"100 × {c['horizon']}",
                "calibrate_s": c["calibrate_s"],
                "first_pool_s": c["first_pool_s"],
                "pool_start_s": c["pool_start_s"],
                "rep_loop_cpu_s": c["rep_loop_cpu_s"],
                "rep_summary_cpu_s": c["rep_summary_cpu_s"],
                "events_per_rep": c["events_per_rep"],
                "loop_vs_bare": c["loop_vs_bare"],
                "all_reps_cpu_s": c["all_reps_cpu_s"],
                "two_core_floor_s": c["all_reps_cpu_s"] / 2,
                "first_result_s": c["first_result_s"],
                "folding_s": c["folding_s"],
                "run_wall_s": c["compare_s"],
                "load_average": c["load_average"],
                "goal_s": 20.0,
            }
        )
    return pd.DataFrame(rows)


def dask_table() -> pd.DataFrame:
    rows = [run_child(__file__, "dask", str(r), str(w)) for r, w in ((100, 1), (100, 2), (1000, 2))]
    t1 = rows[0]["wall_s"]
    out = pd.DataFrame(rows)
    # wall time of 1 worker on the same work over (workers × wall time)
    per_rep_1 = t1 / rows[0]["replications"]
    out["parallel_efficiency"] = per_rep_1 * out["replications"] / (out["workers"] * out["wall_s"])
    return out[
        [
            "replications",
            "workers",
            "wall_s",
            "replication_cpu_s",
            "parallel_efficiency",
            "client_peak_mb",
            "summary_mb",
            "load_average",
        ]
    ]


NOTES = {
    "model": """
`event_loop_cpu_s`: processor time of drawing the orders, the walk that settles what
nothing can touch and the SimPy run, garbage collector on (`Model.run()` as called);
`per_event_vs_bare` sets it against the bare loop's processor time for as many events.
The `gc_off` columns switch Python's cyclic garbage collector off in both loops (as
`run_replication` runs a replication) and count the loop (`loop_only`: without drawing
and the walk, with the per-invoice lists the loop reads set up) or SimPy's `run` call
alone (`simpy_run`). The bare loop keeps 280 timeouts pending; the model keeps about a
day of wake-ups in SimPy's queue (`pending_events_mean`; later days' wait in a list per
day): `loop_only_vs_bare_as_many_pending` sets the loop against a bare loop with as many
pending. The bare loops wake through callbacks on timeouts, the cheapest way SimPy
has; `loop_only_vs_bare_processes` sets the loop against the same wake-ups written as
SimPy models usually are, processes yielding timeouts (hardly dearer). Processor
times are the figures to trust on a shared machine (`load_average`).
""",
    "compare": """
The app's Run button (`run_comparison`, 100 paired replications, base against dunning a
week earlier) on the sample ledger at the app's as-of, from a second thread as in a
Jupyter kernel. `first_pool_s`: the first process pool, which waits for the forkserver
to import the simulator (the app starts the forkserver in the background when it opens);
`pool_start_s`: a later pool. Per replication (median): `rep_loop_cpu_s` drawing and the
event loop, `rep_summary_cpu_s` the summary sent back (daily series, monthly KPIs,
headline KPIs, Little's law) computed from the event records;
`loop_vs_bare` the loop's processor time over a bare SimPy loop of as many events in the
same process. `two_core_floor_s` is half the processor time of the 200 replications:
what two otherwise idle cores need at least. `first_result_s` is the wait for the first
replication, `folding_s` the time from the last one to the comparison returned, and
`run_wall_s` the run as the machine was (`load_average`).
""",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--only", choices=("model", "compare", "dask"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine = args.child[0]
        if engine == "model":
            out = run_model()
        elif engine == "bare":
            out = run_bare(*(int(x) for x in args.child[1:]))
        elif engine == "bare-processes":
            out = run_bare_processes(int(args.child[1]))
        elif engine == "app":
            out = run_app(int(args.child[1]))
        else:
            out = run_dask(int(args.child[1]), int(args.child[2]))
        print("RESULT " + json.dumps(out))
        return 0
    tables = {"model": model_table, "compare": compare_table, "dask": dask_table}
    sections = {"model": "sim", "compare": "sim-compare", "dask": "sim-dask"}
    for name, make in tables.items():
        if args.only not in (None, name):
            continue
        table = make()
        print(table.to_string(index=False))
        if args.write_docs:
            from benchmarks_docs import write_section

            command = "python benchmarks/sim.py --write-docs"
            write_section(sections[name], table, machine(), command, NOTES.get(name, ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
