"""Simulator benchmarks: the model against a bare SimPy loop, the app's comparison, Dask.

1. One replication of ``scenarios/baseline.yaml`` (5,000 customers, one year, about
   100k invoices) is timed three times; its event loop (``SimResult.sim_seconds``,
   ``sim_events``) is set against a bare SimPy loop that schedules and processes the
   same number of timeout events with no model code, timed in the same run. The
   ratio of time per event is the model's overhead. Building the outputs (ledger,
   daily series) is timed apart.
2. What the policy-simulator app's Run button does: ``compare(base, other,
   replications=100)`` on the sample ledger calibrated at its last full month
   (``Scenario.from_ledger`` and its open items), on local processes, with the time
   broken down (loading, calibration, one replication's loop and outputs, the pool).
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
    return {
        "engine": "model",
        "events": events,
        "invoices": invoices,
        # best of the repeats: the least disturbed by other jobs
        "loop_s": min(loop),
        "loop_cpu_s": min(loop_cpu),
        "total_s": min(total),
        "cpu_s": min(cpu),
        "peak_mb": peak_mb(),
    }


def run_bare(events: int) -> dict:
    """``events`` wake-ups through SimPy with no model code, the way the model schedules
    them: a ``Timeout`` whose callback schedules the next one, a few hundred chains at once."""
    import numpy as np
    import simpy
    from simpy.events import Timeout

    gaps = np.random.default_rng(0).exponential(1.0, events).tolist()
    chains = 280
    seconds, cpu = [], []
    for _ in range(REPEAT):
        env = simpy.Environment()
        queues = [iter(gaps[k::chains]) for k in range(chains)]

        def wake(event, env=env, queues=queues):
            gap = next(queues[event.value], None)
            if gap is not None:
                Timeout(env, gap, event.value).callbacks.append(wake)

        for k in range(chains):
            Timeout(env, next(queues[k]), k).callbacks.append(wake)
        t, c = time.perf_counter(), time.process_time()
        env.run()
        seconds.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"engine": "bare", "events": events, "loop_s": min(seconds), "cpu_s": min(cpu)}


def run_compare() -> dict:
    """The app's Run button on the sample ledger, with where the time goes."""
    import dataclasses

    import rpmkit
    from rpmkit.sim import Scenario, compare
    from rpmkit.sim.calibrate import opening_balance
    from rpmkit.sim.workers import run_replication

    t = time.perf_counter()
    ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
    load_s = time.perf_counter() - t
    last = ledger.invoices["invoice_date"].max()
    as_of = (last.to_period("M").start_time - pd.Timedelta(days=1)).date()
    t = time.perf_counter()
    base = Scenario.from_ledger(ledger, as_of)
    opening = opening_balance(ledger, as_of)
    calibrate_s = time.perf_counter() - t
    week_earlier = tuple(dataclasses.replace(d, day=d.day - 7) for d in base.dunning)
    other = dataclasses.replace(base, dunning=week_earlier)
    one = run_replication(base, 0, opening=opening)
    t = time.perf_counter()
    c = compare(base, other, replications=100, opening=opening, progress=False)
    compare_s = time.perf_counter() - t
    runs = pd.concat([c.base.runs, c.other.runs])
    return {
        "load_s": load_s,
        "calibrate_s": calibrate_s,
        "one_loop_s": one.stats["sim_seconds"],
        "one_outputs_s": one.stats["seconds"] - one.stats["sim_seconds"],
        "one_cpu_s": one.stats["cpu_seconds"],
        "compare_s": compare_s,
        "replication_cpu_s": float(runs["cpu_seconds"].sum()),
        "events_per_replication": float(runs["sim_events"].mean()),
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
    return pd.DataFrame(
        [
            {
                "invoices": model["invoices"],
                "events": model["events"],
                "events_per_invoice": model["events"] / model["invoices"],
                "event_loop_s": model["loop_s"],
                "event_loop_cpu_s": model["loop_cpu_s"],
                "with_outputs_cpu_s": model["cpu_s"],
                "bare_simpy_cpu_s": bare["cpu_s"],
                "per_event_vs_bare": model["loop_cpu_s"] / bare["cpu_s"],
                "load_average": os.getloadavg()[0],
                "peak_mb": model["peak_mb"],
            }
        ]
    )


def compare_table() -> pd.DataFrame:
    c = run_child(__file__, "compare")
    return pd.DataFrame(
        [
            {
                "replications": "2 × 100",
                "load_s": c["load_s"],
                "calibrate_s": c["calibrate_s"],
                "one_rep_loop_s": c["one_loop_s"],
                "one_rep_outputs_kpis_s": c["one_outputs_s"],
                "one_rep_cpu_s": c["one_cpu_s"],
                "all_reps_cpu_s": c["replication_cpu_s"],
                "two_core_floor_s": c["replication_cpu_s"] / 2,
                "compare_wall_s": c["compare_s"],
                "load_average": c["load_average"],
                "goal_s": 20.0,
            }
        ]
    )


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
            out = run_bare(int(args.child[1]))
        elif engine == "compare":
            out = run_compare()
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
            write_section(sections[name], table, machine(), command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
