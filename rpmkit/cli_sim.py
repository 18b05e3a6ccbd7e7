"""The simulation subcommands of ``rpmkit``: ``simulate`` and ``compare``.

``rpmkit simulate SCENARIO.yaml`` runs replications of a scenario (local
processes, or Dask with ``--scheduler``) and prints the headline KPIs across
replications; ``--out DIR`` writes ``summary.json``, ``daily.parquet``,
``monthly.parquet`` and replication 0's ledger in ``DIR/ledger`` (so
``rpmkit kpis DIR/ledger`` runs on it). ``rpmkit compare BASE.yaml OTHER.yaml``
runs both under common random numbers and prints each KPI's change with its
95 % confidence interval and a sentence. ``--format json`` prints the result's
``to_dict()``. A scenario that cannot be read or is invalid exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path

__all__ = ["add_parsers", "load_scenario"]


def load_scenario(path: str):
    """A :class:`~rpmkit.sim.Scenario` from YAML; ``ValueError`` naming the file otherwise."""
    import yaml

    from rpmkit.sim import Scenario

    if not Path(path).is_file():
        raise ValueError(f"scenario file {path} does not exist")
    try:
        return Scenario.from_yaml(path)
    except yaml.YAMLError as exc:
        raise ValueError(f"scenario {path} is not valid YAML: {exc}") from None
    except (ValueError, TypeError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"scenario {path}: {exc}") from None


def _progress(args: argparse.Namespace):
    # a tqdm bar when stderr is a terminal; nothing in JSON pipelines
    return args.format != "json"


def _value(v: float, unit: str, currency: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if unit == "money":
        return f"{v:,.0f}"
    if unit == "share":
        return f"{100 * v:.1f}%"
    if unit == "count":
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def _unit(unit: str, currency: str) -> str:
    return {"money": currency, "percent": "%", "share": "%"}.get(unit, unit)


def _print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, allow_nan=False))


# --------------------------------------------------------------------------- simulate
def _cmd_simulate(args: argparse.Namespace) -> int:
    import pandas as pd

    from rpmkit.sim.runner import Runner

    scenario = load_scenario(args.scenario)
    run = Runner(
        scenario,
        replications=args.replications,
        seed=args.seed,
        scheduler=args.scheduler,
        processes=args.processes,
        progress=_progress(args),
    ).run()
    out = run.write(args.out) if args.out else None
    if args.manifest:
        from rpmkit.manifest import simulation_manifest

        simulation_manifest(run).write(args.manifest)
    if args.format == "json":
        _print_json({"scenario_file": str(args.scenario), "out": out and str(out), **run.to_dict()})
        return 0
    cur = run.currency
    print(
        f"Simulated {Path(args.scenario).name}: {run.replications} replications of "
        f"{scenario.horizon_days} days from {scenario.start}, seed {run.seed} "
        f"({run.backend}, {run.wall_seconds:.1f} s)"
    )
    s = run.summary()
    table = pd.DataFrame(
        {
            "KPI": s["label"],
            "unit": [_unit(u, cur) for u in s["unit"]],
            **{
                c.upper() if c != "mean" else "mean": [
                    _value(v, u, cur) for v, u in zip(s[c], s["unit"], strict=True)
                ]
                for c in ("mean", "p10", "p50", "p90")
            },
        }
    )
    print(table.to_string(index=False))
    v = run.validity()
    print(
        f"Little's law (days {v['littles_law_window_start']:.0f}–"
        f"{v['littles_law_window_end']:.0f}): mean relative error "
        f"{100 * v['littles_law_mean_relative_error']:+.2f}%"
    )
    if out:
        print(f"Wrote summary.json, daily.parquet, monthly.parquet and ledger/ to {out}")
    return 0


# --------------------------------------------------------------------------- compare
def _cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from rpmkit.sim.comparison import compare

    base, other = load_scenario(args.base), load_scenario(args.other)
    if base.currency != other.currency:
        raise ValueError(f"the scenarios' currencies differ: {base.currency}, {other.currency}")
    names = (Path(args.base).stem, Path(args.other).stem)
    if names[0] == names[1]:
        names = ("base", "other")
    c = compare(
        base,
        other,
        replications=args.replications,
        seed=args.seed,
        names=names,
        independent=args.independent,
        scheduler=args.scheduler,
        processes=args.processes,
        progress=_progress(args),
    )
    if args.format == "json":
        _print_json({"base_file": str(args.base), "other_file": str(args.other), **c.to_dict()})
        return 0
    cur = c.base.currency
    d = c.differences
    print(
        f"{names[1]} vs {names[0]}: {c.base.replications} paired replications "
        f"(common random numbers, seed {c.base.seed}; {c.base.backend}, {c.wall_seconds:.1f} s)"
    )
    ci = [
        f"{_value(lo, u, cur)} … {_value(hi, u, cur)}"
        for lo, hi, u in zip(d["ci_low"], d["ci_high"], d["unit"], strict=True)
    ]
    table = pd.DataFrame(
        {
            "KPI": d["label"],
            "unit": [_unit(u, cur) for u in d["unit"]],
            names[0]: [_value(v, u, cur) for v, u in zip(d["base"], d["unit"], strict=True)],
            names[1]: [_value(v, u, cur) for v, u in zip(d["other"], d["unit"], strict=True)],
            "change": [_value(v, u, cur) for v, u in zip(d["difference"], d["unit"], strict=True)],
            "95% CI": ci,
            "var ratio": [_value(v, "", cur) for v in d["variance_ratio"]],
        }
    )
    print(table.to_string(index=False))
    print(
        "\n"
        + "\n".join(c.sentences(("dso", "cash_collected", "bad_debt_ratio", "collection_cost")))
    )
    print(
        "\nvar ratio: variance of the paired difference / (variance of base + of other), "
        "the share of the noise of independent runs left with common random numbers."
    )
    if args.independent:
        r = d.loc["dso", "independent_variance_ratio"]
        print(f"DSO against an actual independent run (seed {c.independent.seed}): {r:.3f}")
    return 0


# --------------------------------------------------------------------------- parsers
def add_parsers(sub, add_source: Callable, add_format: Callable) -> None:
    """Add ``simulate`` and ``compare`` to the ``rpmkit`` parser's subparsers.

    ``add_source`` is unused (the inputs are scenario files, not ledgers); it
    is taken so every command module plugs in the same way.
    """

    def common(p: argparse.ArgumentParser, default_reps: int) -> None:
        p.add_argument(
            "--replications",
            type=int,
            default=default_reps,
            help=f"replications ({default_reps})",
        )
        p.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
        p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
        p.add_argument(
            "--processes", type=int, help="local worker processes (default: all CPUs; 1 inline)"
        )
        add_format(p)

    p = sub.add_parser("simulate", help="simulate a policy scenario (Monte Carlo replications)")
    p.add_argument("scenario", help="scenario YAML file (see scenarios/)")
    p.add_argument("--out", help="folder for summary.json, daily.parquet and ledger/")
    p.add_argument(
        "--manifest", help="write a run manifest (JSON) to re-run it exactly: rpmkit rerun FILE"
    )
    common(p, 20)
    p.set_defaults(handler=_cmd_simulate)

    p = sub.add_parser("compare", help="compare two scenarios under common random numbers")
    p.add_argument("base", help="baseline scenario YAML")
    p.add_argument("other", help="changed scenario YAML")
    p.add_argument(
        "--independent",
        action="store_true",
        help="also run OTHER with seed + 1 to measure the variance of unpaired runs",
    )
    common(p, 100)
    p.set_defaults(handler=_cmd_compare)
