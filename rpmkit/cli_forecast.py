"""The forecasting subcommands of ``rpmkit``: ``forecast`` and ``backtest``.

``rpmkit forecast SOURCE --as-of DATE`` prints the weekly cash-receipts forecast
(P10/P50/P90, the part from open items and from new sales, AR and DSO outlook);
``rpmkit backtest SOURCE`` runs the walk-forward back-test against the baselines.
Both load SOURCE like ``rpmkit kpis`` and print JSON with ``--format json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

import pandas as pd

__all__ = ["add_parsers"]


def _print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, allow_nan=False))


def _money(v: float) -> str:
    return "–" if pd.isna(v) else f"{v:,.0f}"


def _cmd_forecast(args: argparse.Namespace) -> int:
    from rpmkit.cli import _as_of, _load_for_kpis
    from rpmkit.forecast import CashForecast

    as_of = _as_of(args.as_of)
    loaded = _load_for_kpis(args, result=True)
    fc = CashForecast(weeks=args.weeks, draws=args.draws, seed=args.seed).fit(loaded.ledger, as_of)
    if args.manifest:
        from rpmkit.manifest import forecast_manifest

        forecast_manifest(fc, args.source, preset=args.preset, load_result=loaded).write(
            args.manifest
        )
    if args.format == "json":
        _print_json(fc.to_dict())
        return 0
    cur = fc.currency_
    print(
        f"Cash receipts forecast as of {as_of.date()} ({cur}; {fc.draws:,} Monte Carlo draws, "
        f"seed {fc.seed})"
    )
    print(
        f"  open AR {_money(fc.open_ar_)} in {len(fc.open_items_.items_):,} open items; "
        f"expected never paid in cash {_money(fc.expected_write_off_)}"
    )
    w = fc.weekly_
    table = pd.DataFrame(
        {
            "start": w["start"].dt.strftime("%Y-%m-%d"),
            "p10": w["p10"].map(_money),
            "p50": w["p50"].map(_money),
            "p90": w["p90"].map(_money),
            "open_items": w["open_items"].map(_money),
            "new_sales": w["new_sales"].map(_money),
            "ar_p50": w["ar_p50"].map(_money),
            "dso": w["dso"].map(lambda v: "–" if pd.isna(v) else f"{v:.1f}"),
        }
    )
    print(table.to_string())
    print("(open_items and new_sales split the mean; P10/P50/P90 are per-week percentiles)")
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from rpmkit.cli import _load_for_kpis
    from rpmkit.forecast import Backtest

    ledger = _load_for_kpis(args)
    bt = Backtest(weeks=args.weeks, origins=args.origins, draws=args.draws, seed=args.seed)

    def progress(done: int, total: int) -> None:
        if args.format != "json":
            print(f"\r  origin {done}/{total}", end="", file=sys.stderr, flush=True)

    bt.fit(ledger, progress=progress)
    if args.format != "json":
        print(file=sys.stderr)
    if args.format == "json":
        _print_json(bt.to_dict())
        return 0
    o = bt.origins_
    print(
        f"Walk-forward back-test: {len(o)} origins {o[0].date()} … {o[-1].date()}, "
        f"{bt.weeks} weeks ahead ({bt.currency_})"
    )
    m = bt.metrics_
    pct = lambda v: "–" if v is None or pd.isna(v) else f"{100 * v:.1f}%"  # noqa: E731
    table = pd.DataFrame(
        {
            "WAPE": m["wape"].map(pct),
            "bias": m["bias"].map(pct),
            "coverage_80": m["coverage_80"].map(pct),
            "pinball": m["pinball"].map(pct),
            "baseline": m["baseline"].map(lambda b: "yes" if b else ""),
        }
    )
    print(table.to_string())
    gain = bt.improvement()
    word = "lower" if gain >= 0 else "higher"
    print(f"WAPE {100 * abs(gain):.1f}% {word} than the best baseline")
    return 0


def add_parsers(sub, add_source: Callable, add_format: Callable) -> None:
    """Add ``forecast`` and ``backtest`` to the ``rpmkit`` parser's subparsers."""
    p = sub.add_parser("forecast", help="13-week cash-receipts forecast with P10/P50/P90 bands")
    add_source(p)
    p.add_argument("--as-of", required=True, help="as-of date, YYYY-MM-DD")
    p.add_argument("--weeks", type=int, default=13, help="horizon in weeks (13)")
    p.add_argument("--draws", type=int, default=1000, help="Monte Carlo draws (1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument(
        "--manifest", help="write a run manifest (JSON) to re-run it exactly: rpmkit rerun FILE"
    )
    add_format(p)
    p.set_defaults(handler=_cmd_forecast)

    p = sub.add_parser("backtest", help="walk-forward back-test of the forecast and baselines")
    add_source(p)
    p.add_argument("--weeks", type=int, default=13, help="horizon in weeks (13)")
    p.add_argument("--origins", type=int, default=12, help="forecast origins (12)")
    p.add_argument("--draws", type=int, default=500, help="Monte Carlo draws per origin (500)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    add_format(p)
    p.set_defaults(handler=_cmd_backtest)
