"""Simulator benchmark: one replication of the baseline against a bare SimPy loop, side by side.

One replication of ``scenarios/baseline.yaml`` (5,000 customers, one year, about
100k invoices) is timed three times; its event loop (``SimResult.sim_seconds``,
``sim_events``) is set against a bare SimPy loop that schedules and processes the
same number of timeout events with no model code, timed in the same run. The ratio
of time per event is the model's overhead. Building the outputs (ledger, daily
series) is timed apart. Each engine runs in a fresh subprocess so peak memory is
its own.

Usage::

    python benchmarks/sim.py
    python benchmarks/sim.py --write-docs   # also update docs/performance.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine, peak_mb, run_child

SCENARIO = ROOT / "scenarios" / "baseline.yaml"
REPEAT = 3


def run_model() -> dict:
    from rpmkit.sim import Model, Scenario

    scenario = Scenario.from_yaml(SCENARIO)
    loop, total, events, invoices = [], [], 0, 0
    for _ in range(REPEAT):
        t = time.perf_counter()
        result = Model(scenario).run()
        total.append(time.perf_counter() - t)
        loop.append(result.sim_seconds)
        events, invoices = result.sim_events, len(result.ledger.invoices)
    return {
        "engine": "model",
        "events": events,
        "invoices": invoices,
        "loop_s": statistics.median(loop),
        "total_s": statistics.median(total),
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
    seconds = []
    for _ in range(REPEAT):
        env = simpy.Environment()
        queues = [iter(gaps[k::chains]) for k in range(chains)]

        def wake(event, env=env, queues=queues):
            gap = next(queues[event.value], None)
            if gap is not None:
                Timeout(env, gap, event.value).callbacks.append(wake)

        for k in range(chains):
            Timeout(env, next(queues[k]), k).callbacks.append(wake)
        t = time.perf_counter()
        env.run()
        seconds.append(time.perf_counter() - t)
    return {"engine": "bare", "events": events, "loop_s": statistics.median(seconds)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine = args.child[0]
        out = run_model() if engine == "model" else run_bare(int(args.child[1]))
        print("RESULT " + json.dumps(out))
        return 0
    model = run_child(__file__, "model")
    bare = run_child(__file__, "bare", str(model["events"]))
    per_event = model["loop_s"] / model["events"]
    bare_per_event = bare["loop_s"] / bare["events"]
    table = pd.DataFrame(
        [
            {
                "invoices": model["invoices"],
                "events": model["events"],
                "event_loop_s": model["loop_s"],
                "with_outputs_s": model["total_s"],
                "events_per_s": model["events"] / model["loop_s"],
                "bare_simpy_s": bare["loop_s"],
                "per_event_vs_bare": per_event / bare_per_event,
                "peak_mb": model["peak_mb"],
            }
        ]
    )
    print(table.to_string(index=False))
    if args.write_docs:
        from benchmarks_docs import write_section

        write_section("sim", table, machine(), "python benchmarks/sim.py --write-docs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
