"""The analytics subcommands of ``rpmkit``: profiles, cohorts, survival, rollrates.

Each loads SOURCE like ``rpmkit kpis`` does (rejected rows are left out, with a
one-line warning), fits the result object of its module at ``--as-of`` and prints
either a short readable report or, with ``--format json``, the object's
``to_dict()``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable

import pandas as pd

__all__ = ["add_parsers"]


def _number(value, digits: int = 1, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}{suffix}"


def _share(value) -> str:
    return _number(None if value is None else 100 * value, 1, "%")


def _print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, allow_nan=False))


def _table(frame: pd.DataFrame, formats: dict[str, Callable]) -> str:
    cols = [c for c in formats if c in frame.columns]
    shown = frame[cols].copy()
    for c in cols:
        shown[c] = [formats[c](v) for v in frame[c]]
    return shown.to_string()


# --------------------------------------------------------------------------- profiles
def _cmd_profiles(args: argparse.Namespace) -> int:
    from rpmkit.behaviour import PaymentProfiles
    from rpmkit.cli import _as_of, _load_for_kpis

    as_of = _as_of(args.as_of)
    ledger = _load_for_kpis(args)
    prof = PaymentProfiles(by=args.by, recent_months=args.recent_months).fit(ledger, as_of)
    if args.format == "json":
        _print_json(prof.to_dict())
        return 0
    counts = prof.flag_counts()
    print(f"Payment profiles by {args.by} as of {as_of.date()} ({prof.currency_})")
    print("  " + ", ".join(f"{k} {int(v):,}" for k, v in counts.items()))
    fmt = {
        "segment": str,
        "invoices": lambda v: f"{int(v):,}",
        "days_to_pay": _number,
        "days_beyond_terms": _number,
        "on_time_share": lambda v: _number(v, 1, "%"),
        "recent_days_beyond_terms": _number,
        "slope_days_per_year": lambda v: _number(v, 1, "/yr"),
        "flag": str,
    }
    for flag in ("deteriorating", "improving"):
        rows = prof.flagged(flag)
        if len(rows):
            print(f"\n{flag.capitalize()} payers (strongest evidence first, top {args.top}):")
            print(_table(rows.head(args.top), fmt))
    if args.by != "customer":
        print("\nAll groups:")
        print(_table(prof.profiles_, fmt))
    return 0


# --------------------------------------------------------------------------- cohorts
def _cmd_cohorts(args: argparse.Namespace) -> int:
    from rpmkit.cli import _as_of, _load_for_kpis
    from rpmkit.cohorts import AcquisitionCohorts, VintageCurves

    as_of = _as_of(args.as_of)
    ledger = _load_for_kpis(args)
    vint = VintageCurves(freq=args.freq, basis=args.basis).fit(ledger, as_of)
    acq = AcquisitionCohorts(freq="quarter" if args.freq == "quarter" else "month")
    acq.fit(ledger, as_of)
    if args.format == "json":
        _print_json({"vintages": vint.to_dict(), "acquisition": acq.to_dict()})
        return 0
    print(f"Invoice vintages as of {as_of.date()} (share of {args.basis} collected in cash)")
    summary = vint.summary()
    fmt = {"n_invoices": lambda v: f"{int(v):,}", "invoiced": lambda v: f"{v:,.0f}"}
    fmt |= {c: _share for c in summary.columns if c.startswith("collected_")}
    fmt |= {"written_off": _share, "open": _share}
    print(_table(summary, fmt))
    known = acq.existing_customers_
    print(f"\nCustomer-acquisition cohorts ({known:,} customers predate the data)")
    fmt = {
        "customers": lambda v: f"{int(v):,}",
        "months_observed": lambda v: f"{int(v)}",
        "sales": lambda v: f"{v:,.0f}",
        "active_3m": _share,
        "active_12m": _share,
        "late_share": _share,
        "days_to_pay": _number,
        "written_off_share": _share,
    }
    print(_table(acq.summary(), fmt))
    return 0


# --------------------------------------------------------------------------- survival
def _cmd_survival(args: argparse.Namespace) -> int:
    from rpmkit.cli import _as_of, _load_for_kpis
    from rpmkit.survival import PaymentSurvival

    as_of = _as_of(args.as_of)
    ledger = _load_for_kpis(args)
    model = PaymentSurvival(
        by=args.by, origin=args.origin, closures=args.closures, horizon_days=args.horizon
    ).fit(ledger, as_of)
    if args.format == "json":
        _print_json(model.to_dict())
        return 0
    since = "invoice date" if args.origin == "invoice" else "due date"
    print(
        f"Days from {since} to payment as of {as_of.date()} "
        f"(Kaplan-Meier; open invoices censored at {as_of.date()}, "
        f"write-offs and credit-only closures: {args.closures})"
    )
    table = model.summary()
    days = lambda v: _number(v, 0)  # noqa: E731
    table["median_ci"] = [
        f"{days(lo)}–{days(hi)}"
        for lo, hi in zip(table["median_lower"], table["median_upper"], strict=True)
    ]
    fmt = {
        "n": lambda v: f"{int(v):,}",
        "events": lambda v: f"{int(v):,}",
        "censored": lambda v: f"{int(v):,}",
        "median_days": days,
        "median_ci": str,
        "p25_days": days,
        "p75_days": days,
        "p90_days": days,
        "restricted_mean_days": _number,
    }
    print(_table(table, fmt))
    print(f"(restricted mean: mean of min(days, {args.horizon:g}))")
    if model.logrank_:
        lr = model.logrank_
        p = f"p = {lr['p_value']:.3g}" if lr["p_value"] > 0 else "p < 1e-300"
        print(
            f"\nLog-rank test across {args.by} groups: chi-square {lr['statistic']:,.1f} "
            f"on {lr['df']} df, {p}"
        )
    return 0


# --------------------------------------------------------------------------- roll rates
def _money(currency: str) -> Callable:
    from rpmkit.money import to_units

    return lambda v: "–" if pd.isna(v) else f"{to_units(int(v), currency):,.2f}"


def _cmd_rollrates(args: argparse.Namespace) -> int:
    from rpmkit.cli import _as_of, _load_for_kpis
    from rpmkit.rollrate import RollRates

    as_of = _as_of(args.as_of)
    ledger = _load_for_kpis(args)
    model = RollRates(weight=args.weight, months=args.months).fit(ledger, as_of)
    if args.format == "json":
        _print_json(model.to_dict())
        return 0
    print(
        f"Roll rates: month-end transitions weighted by {args.weight}, "
        f"{model.months_used_} months to {model.snapshots_[-1].date()} ({model.currency_})"
    )
    matrix = model.summary()
    print(_table(matrix, {c: _share for c in matrix.columns}))
    chain = model.absorption_.join(model.expected_months_)
    print("\nWhere each bucket ends (absorbing chain):")
    fmt = {"paid": _share, "written_off": _share, "to_absorption": _number, "to_cash": _number}
    print(_table(chain, fmt))
    print(f"\nAllowance by bucket as of {as_of.date()} (open balance × write-off probability):")
    money = _money(model.currency_)
    fmt = {
        "invoices": lambda v: f"{int(v):,}",
        "open_amount": money,
        "loss_rate": _share,
        "allowance": money,
    }
    print(_table(model.allowance_, fmt))
    return 0


# --------------------------------------------------------------------------- parsers
def add_parsers(sub, add_source: Callable, add_format: Callable) -> None:
    """Add the analytics subcommands to the ``rpmkit`` parser's subparsers."""

    def as_of(p: argparse.ArgumentParser) -> None:
        p.add_argument("--as-of", required=True, help="as-of date, YYYY-MM-DD")

    p = sub.add_parser("profiles", help="payment profiles and deteriorating/improving payers")
    add_source(p)
    as_of(p)
    p.add_argument("--by", default="customer", help="customer, segment or an invoice column")
    p.add_argument("--recent-months", type=int, default=6, help="recent window (6 months)")
    p.add_argument("--top", type=int, default=15, help="flagged payers to list (15)")
    add_format(p)
    p.set_defaults(handler=_cmd_profiles)

    p = sub.add_parser("cohorts", help="invoice vintage curves and customer-acquisition cohorts")
    add_source(p)
    as_of(p)
    p.add_argument("--freq", choices=("month", "quarter"), default="month", help="vintage size")
    p.add_argument("--basis", choices=("amount", "count"), default="amount", help="weights")
    add_format(p)
    p.set_defaults(handler=_cmd_cohorts)

    p = sub.add_parser("survival", help="Kaplan-Meier time to payment with open invoices censored")
    add_source(p)
    as_of(p)
    p.add_argument("--by", help="segment, customer, disputed, channel or another invoice column")
    p.add_argument("--origin", choices=("invoice", "due"), default="invoice", help="day 0")
    p.add_argument(
        "--closures",
        choices=("censor", "competing", "exclude"),
        default="censor",
        help="write-offs and credit-only closures (censor)",
    )
    p.add_argument("--horizon", type=float, default=180.0, help="restricted-mean horizon (days)")
    add_format(p)
    p.set_defaults(handler=_cmd_survival)

    p = sub.add_parser("rollrates", help="roll-rate matrix, absorbing chain, allowance by bucket")
    add_source(p)
    as_of(p)
    p.add_argument("--weight", choices=("amount", "count"), default="amount", help="weights")
    p.add_argument("--months", type=int, default=12, help="transitions pooled (12 months)")
    add_format(p)
    p.set_defaults(handler=_cmd_rollrates)
