"""Payment-behaviour analytics benchmark: profiles, trends, vintages, cohorts, survival, roll rates.

Each analysis is fitted on the same loaded ledger (a generated Parquet folder,
cached under ``benchmarks/output/``), three times, with the prepared book
(:func:`rpmkit.kpi.book.book`) built once first and timed on its own, as every
analysis shares it. Peak memory is the process's peak above its size after
loading (the mark is reset after loading).

The reference, timed in the same run on the same ledger: invoice vintage curves
written directly in pandas (merge allocations onto payments and invoices, bin by
age, cumulative sums per vintage), the way an analyst would. Both must agree to
1e-12 on every observed cell of the collected share or the benchmark fails.

Usage::

    python benchmarks/behaviour.py                      # 1M invoices
    python benchmarks/behaviour.py --invoices 200000    # a quick run
    python benchmarks/behaviour.py --write-docs         # also update docs/performance.md
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

AS_OF = pd.Timestamp("2024-12-31")
STEP, MAX_AGE = 15, 360


def _analyses():
    from rpmkit.behaviour import PaymentProfiles, payment_trends
    from rpmkit.cohorts import AcquisitionCohorts, VintageCurves
    from rpmkit.hazards import PaymentHazards
    from rpmkit.rollrate import RollRates
    from rpmkit.survival import PaymentSurvival

    return {
        "profiles_by_customer": lambda lg: PaymentProfiles(by="customer").fit(lg, AS_OF),
        "trends_by_segment": lambda lg: payment_trends(lg, AS_OF, by="segment"),
        "vintages": lambda lg: VintageCurves(max_age_days=MAX_AGE, step_days=STEP).fit(lg, AS_OF),
        "acquisition_cohorts": lambda lg: AcquisitionCohorts().fit(lg, AS_OF),
        "survival_by_segment": lambda lg: PaymentSurvival(by="segment").fit(lg, AS_OF),
        "survival_by_customer": lambda lg: PaymentSurvival(by="customer").fit(lg, AS_OF),
        "cox_hazards_250k_sample": lambda lg: PaymentHazards().fit(lg, AS_OF),
        "roll_rates": lambda lg: RollRates().fit(lg, AS_OF),
    }


def pandas_vintages(ledger) -> pd.DataFrame:
    """Share of each invoice month's amount collected in cash by age, in plain pandas.

    Single-currency ledgers only (the benchmark's are). An allocation takes
    effect on its application date, else its payment's date, never before the
    payment nor the invoice; ages snap up to the next grid age; cells whose age
    is not yet observed at the as-of date are missing.
    """
    inv = ledger.invoices[["invoice_id", "invoice_date", "amount"]]
    inv = inv[inv["invoice_date"] <= AS_OF]
    alloc = ledger.allocations.merge(
        ledger.payments[["payment_id", "payment_date"]], on="payment_id"
    ).merge(inv, on="invoice_id", suffixes=("", "_inv"))
    when = alloc["applied_date"].fillna(alloc["payment_date"])
    when = np.maximum(np.maximum(when, alloc["payment_date"]), alloc["invoice_date"])
    alloc = alloc[when <= AS_OF]
    when = when[when <= AS_OF]
    ages = np.arange(0, MAX_AGE + 1, STEP)
    age = (when - alloc["invoice_date"]).dt.days.to_numpy()
    slot = np.searchsorted(ages, age, side="left")
    vintage = alloc["invoice_date"].dt.to_period("M")
    on_grid = slot < len(ages)
    cells = (
        pd.DataFrame({"vintage": vintage, "slot": slot, "amount": alloc["amount"]})[on_grid]
        .groupby(["vintage", "slot"])["amount"]
        .sum()
        .unstack(fill_value=0)
        .reindex(columns=range(len(ages)), fill_value=0)
        .cumsum(axis=1)
    )
    invoiced = inv.groupby(inv["invoice_date"].dt.to_period("M"))["amount"].sum()
    cells = cells.reindex(invoiced.index, fill_value=0)
    share = cells.div(invoiced, axis=0)
    share.columns = ages
    last_day = invoiced.index.to_timestamp(how="end").normalize()
    observed = (last_day.to_numpy()[:, None] + pd.to_timedelta(ages, "D").to_numpy()) <= AS_OF
    return share.where(observed)


def timed(fn, repeat: int = 3):
    seconds, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds), out


def child(folder: Path) -> None:
    import rpmkit
    from rpmkit.kpi.book import book
    from rpmkit.kpi.payment import paid_invoices

    ledger = rpmkit.load(folder).ledger
    size = sum(int(f.memory_usage(deep=True).sum()) for _, f in ledger)
    reset_peak()
    base = rss_mb()
    result = {"ledger_mb": size / 1e6, "invoices": len(ledger.invoices), "base_rss_mb": base}
    t = time.perf_counter()
    paid_invoices(book(ledger))
    result["prepare_s"] = time.perf_counter() - t
    seconds = {}
    for name, fit in _analyses().items():
        seconds[name], out = timed(lambda fit=fit: fit(ledger))
        if name == "vintages":
            ours = out.matrix("collected")
    seconds["pandas_vintages"], ref = timed(lambda: pandas_vintages(ledger))
    ours.index = ref.index  # Period labels of the same months
    ours.columns = ref.columns
    diff = (ours - ref).abs().to_numpy()
    assert np.array_equal(np.isnan(ours.to_numpy()), np.isnan(ref.to_numpy())), "observed cells"
    assert np.nanmax(diff) < 1e-12, f"vintages differ by {np.nanmax(diff)}"
    result["seconds"] = seconds
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
        col = {"prepared book (shared, once)": r["prepare_s"]}
        col |= {name.replace("_", " "): sec for name, sec in r["seconds"].items()}
        sec = r["seconds"]
        col["vintages: rpmkit / pandas"] = sec["vintages"] / sec["pandas_vintages"]
        col["ledger MB"] = r["ledger_mb"]
        col["working MB (peak above the loaded ledger)"] = r["peak_rss_mb"] - r["base_rss_mb"]
        columns[label] = col
        print(json.dumps({label: col}), flush=True)
    table = pd.DataFrame(columns)
    table.index.name = "seconds (median of 3), unless named"
    print(table.to_string())
    if args.write_docs:
        from benchmarks_docs import write_section

        command = "python benchmarks/behaviour.py --write-docs"
        write_section("behaviour", table.reset_index(), machine(), command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
