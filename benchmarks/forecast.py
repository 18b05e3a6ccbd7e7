"""Cash-forecast benchmark: a 13-week forecast with Monte Carlo bands on a large ledger.

On the same loaded ledger (a generated Parquet folder, cached under
``benchmarks/output/``) the script times, median of three:

* the prepared book (:func:`rpmkit.kpi.book.book`, shared with every analysis), once;
* fitting the open-item payment curves and placing the open items (``OpenItems``);
* the full ``CashForecast`` (curves, ETS on weekly sales per segment, calendar
  ratios, 1,000 Monte Carlo draws over every open item, bands, AR and DSO);
* the references side by side: the due-date and ETS-on-receipts baselines, and the
  exact expectation of the open items' cash (no simulation).

The Monte Carlo mean of the open items' cash must agree with the exact expectation
to 1 % in every week, or the benchmark fails.

Usage::

    python benchmarks/forecast.py                      # 1M invoices
    python benchmarks/forecast.py --invoices 200000    # a quick run
    python benchmarks/forecast.py --write-docs         # also update docs/performance.md
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import benchmark_args, ledger_folder, machine, peak_mb, reset_peak, rss_mb, run_child

AS_OF = pd.Timestamp("2024-09-30")
WEEKS, DRAWS = 13, 1000


def timed(fn, repeat: int = 3):
    seconds, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds), out


def child(folder: Path) -> None:
    import rpmkit
    from rpmkit.forecast import CashForecast, OpenItems
    from rpmkit.forecast.baselines import due_date, ets_receipts
    from rpmkit.kpi.book import book

    ledger = rpmkit.load(folder).ledger
    view = ledger.as_of(AS_OF)
    reset_peak()
    base = rss_mb()
    result = {"invoices": len(ledger.invoices), "base_rss_mb": base}
    t = time.perf_counter()
    book(view)
    result["prepare_s"] = time.perf_counter() - t
    sec = {}
    sec["open_items_curves"], items = timed(lambda: OpenItems().fit(view))
    sec["forecast_13w_1000_draws"], fc = timed(lambda: CashForecast(WEEKS, DRAWS, seed=1).fit(view))
    sec["exact_open_item_expectation"], exact = timed(lambda: items.expected(WEEKS))
    sec["due_date_baseline"], _ = timed(lambda: due_date(view, WEEKS))
    sec["ets_receipts_baseline"], _ = timed(lambda: ets_receipts(view, WEEKS))
    check = CashForecast(WEEKS, DRAWS, seed=2, new_sales=False, timing=False).fit(view)
    gap = np.abs(check.weekly_["mean"].to_numpy() / exact - 1).max()
    assert gap < 0.01, f"Monte Carlo mean differs from the exact expectation by {gap:.2%}"
    result["open_items"] = len(items.items_)
    result["mc_vs_exact_max_gap"] = float(gap)
    result["seconds"] = sec
    result["peak_rss_mb"] = peak_mb()
    print("RESULT " + json.dumps(result))


def main(argv=None) -> int:
    args = benchmark_args(__doc__, argv)
    if args.child:
        child(Path(args.child[1]))
        return 0
    sizes = args.invoices if args.invoices != [1_000_000, 10_000_000] else [1_000_000]
    columns = {}
    for n in sizes:
        r = run_child(__file__, "rpmkit", str(ledger_folder(n)))
        label = f"{r['invoices']:,} invoices"
        sec = r["seconds"]
        col = {"prepared book (shared, once)": r["prepare_s"]}
        col |= {name.replace("_", " "): s for name, s in sec.items()}
        col["open items at the as-of date"] = r["open_items"]
        col["Monte Carlo mean vs exact, worst week"] = r["mc_vs_exact_max_gap"]
        col["working MB (peak above the loaded ledger)"] = r["peak_rss_mb"] - r["base_rss_mb"]
        columns[label] = col
        print(json.dumps({label: col}), flush=True)
    table = pd.DataFrame(columns)
    table.index.name = f"seconds (median of 3) as of {AS_OF.date()}, unless named"
    print(table.to_string())
    if args.write_docs:
        from benchmarks_docs import write_section

        command = "python benchmarks/forecast.py --write-docs"
        notes = (
            f"The forecast covers {WEEKS} weeks with {DRAWS:,} draws; its Monte Carlo runs over "
            "draws × open items in chunks of about four million cells. The exact expectation "
            "is what the P50 converges to for the open items alone; the baselines are the "
            "reference forecasts of the back-test."
        )
        write_section("forecast", table.reset_index(), machine(), command, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
