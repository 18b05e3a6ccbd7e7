"""The credit-risk subcommands of ``rpmkit``: ``risk evaluate``, ``worklist`` and ``letters``.

* ``rpmkit risk evaluate SOURCE --split time --test-fraction 0.2 [--predictions FILE]``
  fits the late-payment model on the earlier invoices, prints the test metrics
  at ``--threshold`` and at the threshold chosen on the training period (unless
  ``--no-tune``) beside the published references, and writes
  ``invoice_id,p_late,expected_days_late`` for the test invoices;
* ``rpmkit worklist SOURCE --as-of DATE [--top N] [--hours H] [--policy YAML]``
  prints today's ranked actions with the reason for each;
* ``rpmkit letters SOURCE --as-of DATE --out DIR [--hours H]`` writes the day's
  letters, statements and a mail-merge CSV (nothing is sent).

``--format json`` prints the result object's ``to_dict()``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable

__all__ = ["add_parsers"]


def _print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, allow_nan=False))


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from rpmkit.cli import _load_for_kpis
    from rpmkit.risk import REFERENCE, RiskEvaluation

    ledger = _load_for_kpis(args)
    ev = RiskEvaluation(
        test_fraction=args.test_fraction,
        split=args.split,
        threshold=args.threshold,
        seed=args.seed,
        dispute_flag=args.dispute_flag,
        tune=not args.no_tune,
    ).fit(ledger)
    if args.predictions:
        pred = ev.predictions_[["invoice_id", "p_late", "expected_days_late"]]
        pd.DataFrame(pred).round({"p_late": 6, "expected_days_late": 3}).to_csv(
            args.predictions, index=False
        )
    if args.format == "json":
        _print_json(ev.to_dict())
        return 0
    m = ev.metrics_
    print(
        f"Late-payment model, {args.split} split: trained on {m['n_train']:,} invoices, "
        f"tested on {m['n']:,} from {ev.split_date_.date()} ({m['late_share']:.1%} late)"
    )
    table = ev.summary()
    trained = f"at {ev.threshold_:g}"
    print(f"  {'metric':<14} {'at ' + format(ev.threshold, 'g'):>8} {trained:>8}")
    for row in table.itertuples(index=False):
        ref = "" if math.isnan(row.reference) else f"   (published {row.reference:g})"
        print(f"  {row.metric:<14} {_fmt(row.value):>8} {_fmt(row.trained):>8}{ref}")
    if ev.inner_ is not None:
        iv = ev.inner_
        print(
            f"\nThreshold {iv.threshold:g} chosen on the training period only: half the best "
            f"F1 ({iv.best_f1:.3f}) of {iv.n_validation:,} out-of-time validation invoices; "
            f"days late by the Gamma {iv.days_point}"
        )
    r = ev.metrics_at_reference_recall_
    if r:
        print(
            f"At the published recall ({REFERENCE['recall']:g}), threshold {r['threshold']:.3g} "
            f"read off the test set: precision {r['precision']:.3f}, accuracy "
            f"{r['accuracy']:.3f}, F1 {r['f1']:.3f} (recall {r['recall']:.3f})"
        )
    print("\nCalibration by decile:")
    cal = ev.calibration_
    for row in cal.itertuples(index=False):
        print(
            f"  {int(row.bin):>2}  n {int(row.n):>6,}  predicted {row.predicted:6.1%}  "
            f"observed {row.observed:6.1%}  z {_fmt(row.z, 2)}"
        )
    if args.predictions:
        print(
            f"\npredictions for {len(ev.predictions_):,} test invoices "
            f"written to {args.predictions}"
        )
    return 0


def _worklist(args: argparse.Namespace):
    from rpmkit.cli import _as_of, _load_for_kpis
    from rpmkit.worklist import DunningPolicy, Worklist

    as_of = _as_of(args.as_of)
    ledger = _load_for_kpis(args)
    policy = DunningPolicy.from_yaml(args.policy) if args.policy else None
    return Worklist(policy, hours=args.hours, top=args.top).fit(ledger, as_of)


def _cmd_worklist(args: argparse.Namespace) -> int:
    wl = _worklist(args)
    if args.format == "json":
        _print_json(wl.to_dict())
        return 0
    acts = wl.actions_
    counts = wl.items_["excluded"].value_counts()
    print(
        f"Worklist as of {wl.as_of_.date()} ({wl.currency_}): {len(acts):,} actions, "
        f"{acts['minutes'].sum() / 60:,.1f} collector hours, expected "
        f"{acts['expected_cash'].sum():,.0f} within {wl.horizon_days} days"
    )
    print(
        f"  {len(wl.items_):,} open items; left out: {int(counts.get('dispute', 0)):,} in dispute, "
        f"{int(counts.get('promise', 0)):,} under a promise to pay"
    )
    for row in acts.itertuples(index=False):
        name = "" if row.name is None or str(row.name) == "nan" else f" {row.name}"
        print(f"{row.rank:>4}. {row.customer_id}{name} [grade {row.grade}]: {row.reason}")
    return 0


def _cmd_letters(args: argparse.Namespace) -> int:
    from rpmkit.worklist import write_letters

    wl = _worklist(args)
    merge = write_letters(wl, args.out, sender=args.sender, payment_link=args.payment_link)
    if args.format == "json":
        _print_json({"as_of": str(wl.as_of_.date()), "letters": len(merge), "out": str(args.out)})
        return 0
    print(
        f"{len(merge):,} letters and statements for {wl.as_of_.date()} written to {args.out} "
        "(with mailmerge.csv); nothing was sent"
    )
    return 0


def _positive_fraction(value: str) -> float:
    f = float(value)
    if not 0.0 < f < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {value}")
    return f


def _non_negative(value: str) -> float:
    f = float(value)
    if f < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {value}")
    return f


def add_parsers(sub, add_source: Callable, add_format: Callable) -> None:
    """Add ``risk``, ``worklist`` and ``letters`` to the ``rpmkit`` parser's subparsers."""
    risk = sub.add_parser("risk", help="late-payment risk models")
    risk_sub = risk.add_subparsers(dest="risk_command", required=True, metavar="ACTION")
    p = risk_sub.add_parser("evaluate", help="fit on earlier invoices, score later ones")
    add_source(p)
    p.add_argument("--split", choices=("time", "random"), default="time", help="split (time)")
    p.add_argument(
        "--test-fraction", type=_positive_fraction, default=0.2, help="share held out (0.2)"
    )
    p.add_argument("--threshold", type=_positive_fraction, default=0.5, help="P(late) cut (0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random split (0)")
    p.add_argument(
        "--dispute-flag",
        action="store_true",
        help="also use an undated per-invoice disputed flag (not point-in-time)",
    )
    p.add_argument(
        "--no-tune",
        action="store_true",
        help="do not choose a threshold and days-late point on the training period",
    )
    p.add_argument("--predictions", help="CSV to write: invoice_id,p_late,expected_days_late")
    add_format(p)
    p.set_defaults(handler=_cmd_evaluate)

    def worklist_options(p: argparse.ArgumentParser) -> None:
        add_source(p)
        p.add_argument("--as-of", required=True, help="as-of date, YYYY-MM-DD")
        p.add_argument("--hours", type=_non_negative, help="team capacity in collector hours")
        p.add_argument("--top", type=int, help="at most this many actions")
        p.add_argument("--policy", help="dunning policy YAML (default: the built-in one)")

    p = sub.add_parser("worklist", help="today's collection actions ranked by cash per hour")
    worklist_options(p)
    add_format(p)
    p.set_defaults(handler=_cmd_worklist, top=None)

    p = sub.add_parser("letters", help="write the day's letters, statements and mail-merge CSV")
    worklist_options(p)
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--sender", default="Accounts Receivable", help="signature line")
    p.add_argument(
        "--payment-link",
        default="https://pay.example.com/{customer_id}",
        help="payment link placeholder; {customer_id} is filled in",
    )
    add_format(p)
    p.set_defaults(handler=_cmd_letters)
