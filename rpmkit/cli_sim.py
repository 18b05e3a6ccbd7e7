"""The simulation subcommands of ``rpmkit``: ``simulate`` and ``compare``.

``rpmkit simulate SCENARIO.yaml`` runs replications of a scenario (local
processes, or Dask with ``--scheduler``) and prints the headline KPIs across
replications; ``--out DIR`` writes ``summary.json``, ``daily.parquet``,
``monthly.parquet`` and replication 0's ledger in ``DIR/ledger`` (so
``rpmkit kpis DIR/ledger`` runs on it). ``rpmkit compare BASE.yaml OTHER.yaml``
runs both under common random numbers and prints each KPI's change with its
95 % confidence interval and a sentence. ``--format json`` prints the result's
``to_dict()``. A scenario that cannot be read or is invalid, an ``--out`` that
cannot be a folder, scenarios of different periods to compare or a scheduler
that cannot be reached exit with code 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
from collections.abc import Callable, Iterator
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
        raise ValueError(f"scenario {path} is not valid YAML{_yaml_problem(exc)}") from None
    except (ValueError, TypeError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"scenario {path}: {exc}") from None


def _yaml_problem(exc) -> str:
    """Where and what, on one line: `` at line 2, column 1: expected ',' or ']' …``.

    >>> import yaml
    >>> try:
    ...     yaml.safe_load("horizon_days: [1, 2\\n")
    ... except yaml.YAMLError as exc:
    ...     print("not valid YAML" + _yaml_problem(exc))  # doctest: +ELLIPSIS
    not valid YAML at line 2, column 1: expected ',' or ']', but got '<stream end>' (while ...)
    """
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is None or not problem:
        return ": " + " ".join(str(exc).split())
    text = f" at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start is not None:
        text += f" ({context} from line {start.line + 1}, column {start.column + 1})"
    elif context:
        text += f" ({context})"
    return text


def _check_out(out: str) -> None:
    """Refuse, before simulating, an ``--out`` that cannot be (or be made) a folder.

    An existing folder is used as it is (the files ``simulate`` writes replaced)."""
    path = Path(out)
    for p in (path, *path.parents):
        if p.is_symlink() or p.exists():
            where = f"--out {out}" + ("" if p == path else f": {p}")
            if not p.is_dir():
                raise ValueError(f"{where} exists and is not a folder")
            if not os.access(p, os.W_OK | os.X_OK):
                raise ValueError(f"{where} is a folder this user cannot write to")
            return


def _check_manifest(manifest: str) -> None:
    """Refuse, before simulating, a ``--manifest`` path that cannot be written."""
    path = Path(manifest)
    if path.is_dir():
        raise ValueError(f"--manifest {manifest} is a folder, not a file")
    if not path.parent.is_dir():
        raise ValueError(f"--manifest {manifest}: the folder {path.parent} does not exist")


@contextlib.contextmanager
def _connect_timeout(args: argparse.Namespace) -> Iterator[None]:
    """Dask's connect timeout set to ``--connect-timeout`` for a ``--scheduler`` run."""
    if args.scheduler is None or args.connect_timeout is None:
        yield
        return
    if not (args.connect_timeout > 0 and math.isfinite(args.connect_timeout)):
        raise ValueError(
            f"--connect-timeout must be a positive number of seconds, got {args.connect_timeout:g}"
        )
    import dask
    import distributed  # noqa: F401 - its config defaults must exist before the override

    with dask.config.set({"distributed.comm.timeouts.connect": args.connect_timeout}):
        yield


def _progress(args: argparse.Namespace):
    # a tqdm bar when stderr is a terminal; nothing in JSON pipelines
    return args.format != "json"


def _value(v: float, unit: str, currency: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if unit == "money":
        return f"{v:,.0f}"
    if unit == "share":  # in % like the "percent" rows: the unit column says so
        return f"{100 * v:,.2f}"
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
    if args.out:
        _check_out(args.out)
    if args.manifest:
        _check_manifest(args.manifest)
    with _connect_timeout(args):
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
    names = (Path(args.base).stem, Path(args.other).stem)
    if names[0] == names[1]:
        names = ("base", "other")
    with _connect_timeout(args):
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
            "--connect-timeout",
            type=float,
            metavar="SECONDS",
            help="how long to try to reach --scheduler (default: Dask's "
            "distributed.comm.timeouts.connect, 30 s unless configured)",
        )
        p.add_argument(
            "--processes", type=int, help="local worker processes (default: all CPUs; 1 inline)"
        )
        add_format(p)

    p = sub.add_parser("simulate", help="simulate a policy scenario (Monte Carlo replications)")
    p.add_argument("scenario", help="scenario YAML file (see scenarios/)")
    p.add_argument(
        "--out",
        help="folder for summary.json, daily.parquet, monthly.parquet and ledger/ "
        "(created if needed; an existing folder is reused)",
    )
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
