"""``rpmkit cashapp`` and ``rpmkit disputes``.

``rpmkit cashapp SOURCE --payments FILE`` applies the payments in FILE (CSV:
``payment_id, payment_date, amount, currency`` and optionally
``customer_id, payer_name, method, remittance_text``; amounts as decimal
text) to SOURCE's open items and writes the auto-applied allocations to
``--out``. Without ``--payments`` it applies SOURCE's own payments with their
allocations withheld and scores the result against them.

Examples
--------
>>> parser = __import__("rpmkit.cli", fromlist=["build_parser"]).build_parser()
>>> parser.parse_args(["cashapp", "data", "--threshold", "0.8"]).threshold
0.8
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

__all__ = ["add_parsers", "read_payments"]


def read_payments(path: str | Path) -> pd.DataFrame:
    """Payments from a CSV file, amounts parsed exactly into minor units."""
    from rpmkit import money

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no payments file {path.name}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = [c for c in ("payment_id", "payment_date", "amount", "currency") if c not in frame]
    if missing:
        raise ValueError(f"payments file lacks columns: {', '.join(missing)}")
    minor, reason = money.parse_amounts(frame["amount"], frame["currency"])
    bad = reason.notna()
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} payment amount(s) unreadable, first: {reason[bad].iloc[0]}"
        )
    frame["amount"] = minor.astype("int64")
    frame["payment_date"] = pd.to_datetime(frame["payment_date"], format="%Y-%m-%d").astype(
        "datetime64[us]"
    )
    return frame


def _threshold(value: str) -> float:
    t = float(value)
    if not 0 <= t <= 1:
        raise argparse.ArgumentTypeError(f"threshold must be in [0, 1], got {value}")
    return t


def _cmd_cashapp(args: argparse.Namespace) -> int:
    from rpmkit import money
    from rpmkit.cashapp import CashApplication
    from rpmkit.cashapp.report import CashAppEvaluation, read_noise
    from rpmkit.cli import _load_for_kpis
    from rpmkit.jsonable import plain

    ledger = _load_for_kpis(args)
    if args.payments:
        payments = read_payments(args.payments)
        cash = CashApplication(threshold=args.threshold).fit(ledger, payments)
        evaluation = None
    else:
        noise = read_noise(args.source) if Path(args.source).is_dir() else None
        evaluation = CashAppEvaluation(args.threshold, args.blank_customers).fit(ledger, noise)
        cash = evaluation.engine
    pays = cash.payments_
    alloc = cash.allocations_
    if args.out:
        cur = alloc["payment_id"].map(pays.set_index("payment_id")["currency"])
        out = alloc.assign(amount=money.format_amounts(alloc["amount"], cur))
        out["applied_date"] = out["applied_date"].dt.strftime("%Y-%m-%d")
        out.to_csv(args.out, index=False)
    counts = {
        "payments": len(pays),
        "auto_applied": int(pays["auto"].sum()),
        "review": int(((~pays["auto"]) & (pays["rule"] != "unmatched")).sum()),
        "unmatched": int((pays["rule"] == "unmatched").sum()),
        "allocations": len(alloc),
    }
    by_rule = pays["rule"].value_counts().to_dict()
    if args.format == "json":
        payload = {"threshold": args.threshold, **counts, "by_rule": by_rule}
        if evaluation is not None:
            payload["evaluation"] = evaluation.to_dict()
        print(json.dumps(plain(payload), indent=2, allow_nan=False))
        return 0
    print(f"Cash application at threshold {args.threshold:.2f}")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print("\nPayments by rule:")
    print(pd.Series(by_rule, name="payments").to_string())
    if evaluation is not None:
        r = evaluation.rates_
        print(
            f"\nAgainst the ledger's allocations: envelope auto-match {r['envelope_rate']:.1%}, "
            f"line auto-match {r['line_rate']:.1%}, precision {r['precision']:.2%}, "
            f"error rate {r['error_rate']:.2%}"
        )
        if evaluation.by_noise_ is not None:
            shown = evaluation.by_noise_[["payments", "envelope_rate", "precision"]].copy()
            shown["payments"] = shown["payments"].astype(int)
            print("\nBy noise type:")
            print(shown.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.out:
        print(f"\n{len(alloc):,} allocations written to {args.out}")
    return 0


def _cmd_disputes(args: argparse.Namespace) -> int:
    from rpmkit.cli import _as_of, _load_for_kpis
    from rpmkit.disputes import DisputeAnalysis

    as_of = _as_of(args.as_of)
    ledger = _load_for_kpis(args)
    d = DisputeAnalysis(period=args.period).fit(ledger, as_of)
    if args.format == "json":
        print(json.dumps(d.to_dict(), indent=2, allow_nan=False))
        return 0
    print(f"Disputes as of {as_of.date()} ({d.currency_})")
    print(d.summary().to_string())
    print("\nReason codes:")
    print(d.pareto_.to_string(float_format=lambda v: f"{v:,.1f}"))
    print("\nOutcomes:")
    print(d.outcomes_.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\nDSO and ADD with and without disputed invoices:")
    print(d.dso_add_.to_string(float_format=lambda v: f"{v:.1f}"))
    return 0


def add_parsers(sub, add_source: Callable, add_format: Callable) -> None:
    """Add ``cashapp`` and ``disputes`` to the ``rpmkit`` parser's subparsers."""
    p = sub.add_parser("cashapp", help="match payments to open invoices (cash application)")
    add_source(p)
    p.add_argument("--payments", help="payments CSV; default: the source's own, scored")
    p.add_argument("--out", help="write the auto-applied allocations to this CSV")
    p.add_argument("--threshold", type=_threshold, default=0.9, help="auto-apply confidence (0.9)")
    p.add_argument(
        "--blank-customers",
        action="store_true",
        help="hide the payments' customer ids (find payers from references and names)",
    )
    add_format(p)
    p.set_defaults(handler=_cmd_cashapp)

    p = sub.add_parser("disputes", help="dispute Pareto, resolution times and cash impact")
    add_source(p)
    p.add_argument("--as-of", required=True, help="as-of date, YYYY-MM-DD")
    p.add_argument("--period", default="quarter", help="DSO/ADD period (quarter)")
    add_format(p)
    p.set_defaults(handler=_cmd_disputes)
