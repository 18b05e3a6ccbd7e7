"""Cost of promises to pay and of payment channels/methods in one simulator replication.

One replication (replication 0, one year, 5,000 customers, about 100k
invoices) of each example scenario, three times each, in one process, after
one warm-up replication: ``baseline.yaml`` (both features off: the
reference), ``promises.yaml``, ``payment_channels.yaml``, ``e_invoicing.yaml``
and promises plus channels together. Reported per scenario: SimPy events, the
median wall and processor seconds of ``Model(...).run()`` (orders, event loop
and outputs) and the ratio of processor time to the baseline's. The run fails
if the baseline's events or outputs differ from those of the same scenario
with the feature sections written out explicitly as off (the "off costs
nothing" contract).

Usage::

    python benchmarks/sim_levers.py                # print the table
    python benchmarks/sim_levers.py --write-docs   # also update docs/performance.md
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import benchmark_args, machine

ROOT = Path(__file__).resolve().parents[1]


def _scenarios() -> dict:
    from rpmkit.sim import Scenario

    load = lambda name: Scenario.from_yaml(ROOT / "scenarios" / f"{name}.yaml")  # noqa: E731
    promises, channels = load("promises"), load("payment_channels")
    return {
        "baseline (reference, both off)": load("baseline"),
        "promises.yaml": promises,
        "payment_channels.yaml": channels,
        "e_invoicing.yaml": load("e_invoicing"),
        "promises + channels": dataclasses.replace(promises, channels=channels.channels),
    }


def _run(scenario, repeat: int = 3):
    from rpmkit.sim import Model

    wall, cpu, result = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = Model(scenario, 0).run()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), result


def main(argv=None) -> int:
    args = benchmark_args(__doc__, argv)
    from rpmkit.sim import Channels, Model, Promises

    rows, base_cpu, base = [], None, None
    scenarios = _scenarios()
    Model(next(iter(scenarios.values())), 1).run()  # warm-up: imports and first-call caches
    for name, scenario in scenarios.items():
        wall, cpu, r = _run(scenario)
        if base is None:
            base_cpu, base = cpu, r
            off = Model(
                dataclasses.replace(scenario, promises=Promises(), channels=Channels())
            ).run()
            assert off.sim_events == r.sim_events and off.daily.equals(r.daily), "off differs"
        rows.append(
            {
                "scenario": name,
                "invoices": int(r.orders["accepted"].sum()),
                "SimPy events": int(r.sim_events),
                "wall s (median of 3)": wall,
                "processor s": cpu,
                "processor / baseline": cpu / base_cpu,
                "promises made": int(r.daily["promises_made"].sum()),
                "fees (currency units)": float(r.daily["fees"].sum()) / 100,
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string())
    if args.write_docs:
        from benchmarks_docs import write_section

        notes = (
            "Promises add the follow-up calls of broken promises (more events); channels "
            "are drawn with the orders, vectorised, and add no event: in "
            "`e_invoicing.yaml` earlier payers even need fewer calls. Off, both cost nothing "
            "(the baseline's events and outputs are checked equal to an explicit off)."
        )
        command = "python benchmarks/sim_levers.py --write-docs"
        write_section("sim_levers", table, machine(), command, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
