"""Credit-risk and worklist benchmark: features, model, grades, and ranking a million open items.

Two parts, each in a fresh interpreter:

* **ranking**: :func:`rpmkit.worklist.rank_items` on one million open items of
  200,000 customers (random amounts, days past due, risks and segments from a
  seeded generator), against a plain-pandas reference written the way an
  analyst would (every item joined to every policy step, filtered, the best
  step kept per item with ``groupby().idxmax()``, customers aggregated with
  ``groupby().agg()``). Both must give the same customers, steps and expected
  cash, or the benchmark fails.
* **pipeline**: on a generated ledger (cached Parquet under ``benchmarks/output/``):
  point-in-time features for every invoice (the model's and the opt-in extra
  ones), the model fit, the inner validation that chooses the threshold and the
  days-late point on the training period (three rolling-origin refits), customer
  grades at the as-of date and the full worklist (open items, exclusions,
  calibration, ranking).

Usage::

    python benchmarks/risk.py                      # 1M invoices
    python benchmarks/risk.py --invoices 200000    # a quick run
    python benchmarks/risk.py --write-docs         # also update docs/performance.md
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import benchmark_args, ledger_folder, machine, peak_mb, reset_peak, rss_mb, run_child

AS_OF = "2024-11-30"
ITEMS = 1_000_000
CUSTOMERS = 200_000


def timed(fn, repeat: int = 3):
    seconds, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds), out


def random_items(n: int = ITEMS) -> pd.DataFrame:
    rng = np.random.default_rng(np.random.SeedSequence(20241130))
    return pd.DataFrame(
        {
            "customer_id": pd.Series(
                np.char.add("C", rng.integers(0, CUSTOMERS, n).astype(str)), dtype="string"
            ),
            "invoice_id": pd.Series(np.char.add("I", np.arange(n).astype(str)), dtype="string"),
            "segment": rng.choice(["enterprise", "mid_market", "smb"], n, p=[0.1, 0.3, 0.6]),
            "open_amount": np.round(rng.lognormal(7.5, 1.2, n), 2),
            "days_past_due": rng.integers(-40, 240, n),
            "p_risk": rng.random(n),
        }
    )


def pandas_ranking(items: pd.DataFrame, policy) -> pd.DataFrame:
    """The same ranking in plain pandas: cross join with the steps, filter, best step, aggregate."""
    steps = policy.table().reset_index(names="step_index")
    joined = items.reset_index(names="item").merge(steps, how="cross")
    ok = (joined["days_past_due"] >= joined["from_day"]) & (
        joined["to_day"].isna() | (joined["days_past_due"] <= joined["to_day"])
    )
    ok &= np.array(
        [(not s) or (g in s) for g, s in zip(joined["segment"], joined["segments"], strict=True)]
    )
    ok &= joined["open_amount"] >= joined["min_amount"]
    cand = joined[ok]
    best = cand.loc[cand.sort_values(["item", "level", "step_index"]).groupby("item").tail(1).index]
    best = best.assign(risk=best["open_amount"] * best["p_risk"])
    top = (
        best.sort_values(["customer_id", "level", "days_past_due"], kind="stable")
        .groupby("customer_id")
        .tail(1)
    )
    agg = best.groupby("customer_id").agg(
        open_amount=("open_amount", "sum"), at_risk=("risk", "sum")
    )
    agg = agg.join(top.set_index("customer_id")[["name", "uplift", "minutes"]])
    agg["expected_cash"] = agg["at_risk"] * agg["uplift"]
    agg["cash_per_hour"] = agg["expected_cash"] / (agg["minutes"] / 60)
    return agg.sort_values(
        ["cash_per_hour", "open_amount"], ascending=False, kind="stable"
    ).reset_index()


def child_ranking() -> None:
    from rpmkit.worklist import DunningPolicy, rank_items

    policy = DunningPolicy.default()
    items = random_items()
    reset_peak()
    base = rss_mb()
    ours_s, ours = timed(lambda: rank_items(items, policy, hours=None))
    capped_s, capped = timed(lambda: rank_items(items, policy, hours=7.5 * 10))
    ref_s, ref = timed(lambda: pandas_ranking(items, policy), repeat=1)
    assert ours["customer_id"].astype(str).tolist() == ref["customer_id"].astype(str).tolist()
    assert ours["step"].tolist() == ref["name"].tolist()
    assert np.allclose(ours["expected_cash"], ref["expected_cash"], rtol=1e-9)
    print(
        "RESULT "
        + json.dumps(
            {
                "items": len(items),
                "actions": len(ours),
                "capped_actions": len(capped),
                "rank_s": ours_s,
                "rank_capped_s": capped_s,
                "pandas_s": ref_s,
                "peak_mb": peak_mb() - base,
            }
        )
    )


def child_pipeline(folder: Path) -> None:
    import rpmkit
    from rpmkit.risk import CustomerRisk, LatePaymentModel, inner_validation, invoice_features
    from rpmkit.worklist import Worklist

    ledger = rpmkit.load(folder).ledger
    reset_peak()
    base = rss_mb()
    view = ledger.as_of(AS_OF)
    out = {"invoices": len(ledger.invoices)}
    out["features_s"], feats = timed(lambda: invoice_features(view))
    out["model_fit_s"], _ = timed(lambda: LatePaymentModel().fit(feats), repeat=1)
    out["inner_s"], iv = timed(lambda: inner_validation(feats), repeat=1)
    out["threshold"] = iv.threshold
    out["grades_s"], risk = timed(lambda: CustomerRisk().fit(ledger, AS_OF), repeat=1)
    out["worklist_s"], wl = timed(lambda: Worklist(hours=75).fit(ledger, AS_OF, risk), repeat=1)
    out["open_items"] = len(wl.items_)
    out["peak_mb"] = peak_mb() - base
    print("RESULT " + json.dumps(out))


def main(argv=None) -> int:
    args = benchmark_args(__doc__, argv)
    if args.child:
        if args.child[0] == "ranking":
            child_ranking()
        else:
            child_pipeline(Path(args.child[1]))
        return 0
    sizes = args.invoices if args.invoices != [1_000_000, 10_000_000] else [1_000_000]
    r = run_child(__file__, "ranking", "-")
    print(json.dumps(r), flush=True)
    rows = [
        ("rank 1M open items (all actions)", r["rank_s"]),
        ("rank 1M open items, 75 h capacity", r["rank_capped_s"]),
        ("plain-pandas reference ranking (same result)", r["pandas_s"]),
        ("reference / rpmkit", r["pandas_s"] / r["rank_s"]),
        ("ranking: working MB (peak)", r["peak_mb"]),
    ]
    for n in sizes:
        p = run_child(__file__, "pipeline", str(ledger_folder(n)))
        print(json.dumps(p), flush=True)
        label = f"{p['invoices']:,}-invoice ledger"
        rows += [
            (f"{label}: point-in-time features, every invoice", p["features_s"]),
            (f"{label}: late-payment model fit (2 GLMs)", p["model_fit_s"]),
            (
                f"{label}: inner validation (3 refits; threshold {p['threshold']:g}, days point)",
                p["inner_s"],
            ),
            (f"{label}: customer grades at the as-of date (fit + score)", p["grades_s"]),
            (f"{label}: worklist, {p['open_items']:,} open items", p["worklist_s"]),
            (f"{label}: working MB (peak)", p["peak_mb"]),
        ]
    table = pd.DataFrame(rows, columns=["measure", "seconds, unless named"])
    print(table.to_string(index=False))
    if args.write_docs:
        from benchmarks_docs import write_section

        notes = (
            f"Ranking: {r['items']:,} random open items of {CUSTOMERS:,} customers → "
            f"{r['actions']:,} actions; the reference joins every item to every policy step in "
            "pandas and must give the same order, steps and expected cash. Pipeline at "
            f"{AS_OF}: features for every invoice known then, two statsmodels GLMs, the inner "
            "validation (three rolling-origin refits on the latest tenths), the grades "
            "(which refit the model on what was known) and the worklist with its exclusions and "
            "its recalibration on three earlier snapshots. Times include whatever else the "
            f"machine was running (load average {os.getloadavg()[0]:.1f} at the end)."
        )
        write_section("risk", table, machine(), "python benchmarks/risk.py --write-docs", notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
