"""The ``rpmkit`` command: one entry point, one subcommand per analysis.

Every subcommand prints a readable report by default and JSON with
``--format json``. Exit codes: 0 success, 1 the data had problems (for
``validate``: anything was rejected), 2 wrong usage or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rpmkit._version import __version__

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _cmd_sample(args: argparse.Namespace) -> int:
    from rpmkit import synth
    from rpmkit.writers import write_ledger

    params = synth.SynthParams(
        customers=args.customers, years=args.years, seed=args.seed, start=args.start
    )
    result = synth.generate(params)
    folder = write_ledger(result.ledger, args.out, format=args.file_format)
    synth.write_truth(result, Path(folder) / "truth")
    summary = result.ledger.summary()
    if args.format == "json":
        payload = {
            "out": str(folder),
            "params": {
                "customers": args.customers,
                "years": args.years,
                "seed": args.seed,
                "start": args.start,
            },
            "rows": {name: int(n) for name, n in summary["rows"].items()},
        }
        print(json.dumps(payload, indent=2))
    else:
        print(f"Wrote a synthetic ledger to {folder} ({args.file_format})")
        print(
            f"  seed {args.seed}, {args.customers:,} customers, "
            f"{args.years:g} year{'s' if args.years != 1 else ''} from {args.start}"
        )
        for name, n in summary["rows"].items():
            print(f"  {name:<12} {int(n):>10,} rows")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from rpmkit import io, quality

    try:
        result = io.load(args.source, preset=args.preset, mapping=args.mapping)
    except io.LoadError as exc:
        if args.format == "json":
            print(json.dumps({"ok": False, "error": str(exc), "problems": exc.problems}, indent=2))
        else:
            print(f"Could not load {args.source}:\n{exc}", file=sys.stderr)
        return 1
    report = quality.quality_report(result)
    if args.rejects:
        result.write_rejects(args.rejects)
    if args.manifest:
        result.manifest.to_json(args.manifest)
    if args.format == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        print(quality.format_quality(report))
        if args.rejects and len(result.rejects):
            print(f"\nRejected rows written to {args.rejects}")
    return 0 if result.ok else 1


def _as_of(value: str):
    """``--as-of`` as a calendar date; ``ValueError`` with a readable message otherwise."""
    from rpmkit.ledger import to_date

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"--as-of must be a date like 2024-06-30, got {value!r}")
    try:
        return to_date(value.strip())
    except ValueError:
        raise ValueError(f"--as-of {value!r} is not a calendar date") from None


def _load_for_kpis(args: argparse.Namespace, *, result: bool = False):
    """Load SOURCE; warn on stderr (one line) when input rows were rejected.

    Returns the ledger, or with ``result=True`` the whole load result (its manifest too).
    """
    from rpmkit import io

    try:
        loaded = io.load(args.source, preset=args.preset, mapping=args.mapping)
    except io.LoadError as exc:
        problems = "\n".join(str(exc).splitlines()[1:])  # without the "cannot load:" header
        raise ValueError(f"cannot read {args.source}:\n{problems}") from None
    counts = loaded.manifest.counts or {}
    rejected = sum(int(c.get("rejected", 0)) for c in counts.values())
    if rejected:
        print(
            f"warning: {rejected:,} input row(s) rejected and left out of the KPIs; "
            f"see `rpmkit validate {args.source}`",
            file=sys.stderr,
        )
    return loaded if result else loaded.ledger


def _cmd_kpis(args: argparse.Namespace) -> int:
    import csv

    from rpmkit.kpi import snapshot
    from rpmkit.report import flatten_kpis, format_kpis

    as_of = _as_of(args.as_of)
    ledger = _load_for_kpis(args)
    snap = snapshot(ledger, as_of, args.period)
    if args.format == "json":
        print(json.dumps(snap, indent=2))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["key", "value"])
        writer.writerows((k, "" if v is None else v) for k, v in flatten_kpis(snap))
    else:
        print(format_kpis(snap))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from rpmkit.report import write_report

    as_of = _as_of(args.as_of)
    if Path(args.out).suffix.lower() not in (".html", ".htm", ".xlsx"):
        raise ValueError(f"--out must end in .html or .xlsx, got {args.out!r}")
    ledger = _load_for_kpis(args)
    label = "" if "://" in str(args.source) else Path(args.source).name
    out = write_report(ledger, as_of, args.out, args.period, source_label=label)
    print(f"Wrote the KPI pack as of {as_of.date()} to {out}")
    return 0


def _cmd_rerun(args: argparse.Namespace) -> int:
    from rpmkit.manifest import RunManifest

    manifest = RunManifest.read(args.manifest)
    check = manifest.check()
    print(f"{manifest.kind} run of {manifest.created or 'unknown date'}: {check}")
    return 0 if check.same else 1


def _cmd_serve(args: argparse.Namespace) -> int:
    import subprocess

    from rpmkit.config import REPO_ROOT, voila_environment
    from rpmkit.server import refuse_open_bind

    why = refuse_open_bind(args.ip, authenticated=bool(args.token))
    if why:
        raise ValueError(why)
    command = [
        sys.executable,
        "-m",
        "voila",
        str(REPO_ROOT / "notebooks"),
        "--no-browser",
        f"--port={args.port}",
        f"--Voila.ip={args.ip}",
        f"--Voila.config_file_paths={REPO_ROOT}",
    ]
    if args.token:
        command.append(f"--Voila.token={args.token}")
    print(f"Serving the rpmkit apps at http://{args.ip}:{args.port}/voila/render/index.ipynb")
    return subprocess.call(command, cwd=REPO_ROOT, env=voila_environment())


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "source", help="ledger folder, flat file, Excel workbook, DuckDB file or SQL URL"
    )
    p.add_argument("--preset", help="external format, e.g. ibm-ar, erpnext, odoo, sap-fbl5n")
    p.add_argument("--mapping", help="YAML file mapping source columns to canonical ones")


def _add_format(p: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")) -> None:
    p.add_argument("--format", choices=choices, default="table", help="output format")


def _add_as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", required=True, help="as-of date, YYYY-MM-DD (the period ends then)")
    p.add_argument(
        "--period",
        choices=("month", "quarter", "year"),
        default="month",
        help="period ending at --as-of (month)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rpmkit", description="Receivables performance management workbench."
    )
    parser.add_argument("--version", action="version", version=f"rpmkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sample", help="generate a realistic synthetic ledger")
    p.add_argument("--out", required=True, help="folder to write the ledger into")
    p.add_argument("--customers", type=int, default=1000, help="number of customers (1000)")
    p.add_argument("--years", type=float, default=2.0, help="years of history (2)")
    p.add_argument("--seed", type=int, default=20240101, help="random seed (20240101)")
    p.add_argument("--start", default="2023-01-01", help="first day of history (2023-01-01)")
    p.add_argument(
        "--file-format", choices=("csv", "parquet"), default="csv", help="table files (csv)"
    )
    _add_format(p)
    p.set_defaults(handler=_cmd_sample)

    p = sub.add_parser("validate", help="load a source and print a data-quality report")
    _add_source_options(p)
    p.add_argument("--rejects", help="write rejected rows (Excel-safe CSV) to this file")
    p.add_argument("--manifest", help="write the load manifest (JSON) to this file")
    _add_format(p)
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("kpis", help="headline KPIs (aging, DSO family, BPDSO, ADD, CEI) at a date")
    _add_source_options(p)
    _add_as_of(p)
    _add_format(p, ("table", "json", "csv"))
    p.set_defaults(handler=_cmd_kpis)

    p = sub.add_parser("report", help="a KPI pack as a standalone HTML page or an Excel workbook")
    _add_source_options(p)
    _add_as_of(p)
    p.add_argument("--out", required=True, help="FILE.html or FILE.xlsx to write")
    p.set_defaults(handler=_cmd_report)

    from rpmkit.cli_analytics import add_parsers

    add_parsers(sub, _add_source_options, _add_format)

    from rpmkit.cli_sim import add_parsers as add_sim_parsers

    add_sim_parsers(sub, _add_source_options, _add_format)
    from rpmkit.cli_risk import add_parsers as add_risk_parsers

    add_risk_parsers(sub, _add_source_options, _add_format)
    from rpmkit.cli_forecast import add_parsers as add_forecast_parsers

    add_forecast_parsers(sub, _add_source_options, _add_format)
    from rpmkit.cli_cashapp import add_parsers as add_cashapp_parsers

    add_cashapp_parsers(sub, _add_source_options, _add_format)

    p = sub.add_parser("rerun", help="repeat a simulation or forecast from its run manifest")
    p.add_argument("manifest", help="a manifest written with --manifest")
    p.set_defaults(handler=_cmd_rerun)

    p = sub.add_parser("serve", help="serve the dashboards with Voila (what make dashboards runs)")
    p.add_argument("--port", type=int, default=8866, help="port (8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to bind (127.0.0.1)")
    p.add_argument(
        "--token",
        help="require this token from visitors (needed to bind anything but loopback; "
        "see docs/deployment.md)",
    )
    p.set_defaults(handler=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BrokenPipeError:
        raise  # stdout closed (``| head``): not a mistake of the user's
    except (ValueError, FileNotFoundError, KeyError, ConnectionError) as exc:
        # ConnectionError: nothing answers at an address given (``--scheduler``)
        print(f"rpmkit {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
