"""KPI suite benchmark: rpmkit vs the same computation written as DuckDB SQL, side by side.

The suite: aging by customer and overall at one as-of date, plus a 24-month
series of standard and countback DSO. Both engines start from the same Parquet
ledger folder (generated once by ``rpmkit.synth`` and cached under
``benchmarks/output/``); each run happens in a fresh subprocess so peak memory
is measured per engine. Results must agree to the minor unit (aging) and to
1e-9 days (DSO) or the benchmark fails.

Usage::

    python benchmarks/kpis.py                      # 1M and 10M invoices
    python benchmarks/kpis.py --invoices 200000    # a quick run
    python benchmarks/kpis.py --write-docs         # also update docs/performance.md

The reference ledger is single-currency (``foreign_currency_share=0``): the
SQL reproduces rpmkit's open-item and countback definitions, while the
multi-currency conversion is covered by exactness tests, not by this timing.
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
CUTOFFS = (0, 30, 60, 90)


def month_ends(as_of: pd.Timestamp, n: int = 24) -> list[pd.Timestamp]:
    return [pd.Timestamp(as_of - pd.offsets.MonthEnd(k)) if k else as_of for k in range(n)][::-1]


# --------------------------------------------------------------- engines
def dso_series(ledger) -> pd.DataFrame:
    from rpmkit import kpi

    start, end = month_ends(AS_OF)[0], AS_OF
    return pd.concat(
        [kpi.kpi_series(ledger, "dso", start, end, method=m) for m in ("standard", "countback")]
    )


def run_rpmkit(folder: Path) -> dict:
    import rpmkit
    from rpmkit import kpi
    from rpmkit.kpi.book import clear_cache
    from rpmkit.ledger import Ledger

    ledger = rpmkit.load(folder).ledger
    size = sum(int(f.memory_usage(deep=True).sum()) for _, f in ledger)
    reset_peak()  # the loader's own peak is not the KPI suite's
    base_rss = rss_mb()
    timings = []
    for _ in range(3):
        # a fresh ledger object with no cached joins or book: the whole job is timed
        clear_cache()
        fresh = Ledger._trusted(ledger.reporting_currency, None, **ledger.tables)
        t = time.perf_counter()
        overall = kpi.aging(fresh, AS_OF, cutoffs=CUTOFFS)
        by_customer = kpi.aging(fresh, AS_OF, cutoffs=CUTOFFS, by="customer")
        series = dso_series(fresh)
        timings.append(time.perf_counter() - t)
    series = series.sort_values(["period_end", "method"])
    return {
        "engine": "rpmkit",
        "seconds": timings,
        "ledger_mb": size / 1e6,
        "base_rss_mb": base_rss,
        "peak_rss_mb": peak_mb(),
        "aging_total": [int(x) for x in overall.totals()[overall.labels]],
        "aging_customers": int(len(by_customer.amounts)),
        "aging_customer_checksum": int(
            (by_customer.amounts[overall.labels].to_numpy() * np.arange(1, 6)).sum() % (2**61)
        ),
        "dso_standard": series[series["method"] == "standard"]["value"].tolist(),
        "dso_countback": series[series["method"] == "countback"]["value"].tolist(),
    }


SQL_LOAD = """
CREATE TABLE invoices AS SELECT * FROM read_parquet('{f}/invoices.parquet');
CREATE TABLE payments AS SELECT * FROM read_parquet('{f}/payments.parquet');
CREATE TABLE allocations AS SELECT * FROM read_parquet('{f}/allocations.parquet');
CREATE TABLE adjustments AS SELECT * FROM read_parquet('{f}/adjustments.parquet');
"""

# Timed with the queries: the joins that prepare open items, as rpmkit's timing
# includes its own joins and preparation.
SQL_PREPARE = """
CREATE OR REPLACE TEMP TABLE inv AS SELECT invoice_id, customer_id, invoice_date, due_date,
    CAST(round(amount * 100) AS BIGINT) AS amount FROM invoices;
CREATE OR REPLACE TEMP TABLE ev AS
    SELECT a.invoice_id,
           greatest(coalesce(a.applied_date, p.payment_date), p.payment_date, i.invoice_date) AS d,
           CAST(round(a.amount * 100) AS BIGINT) AS amt
    FROM allocations a JOIN payments p USING (payment_id) JOIN inv i USING (invoice_id)
    UNION ALL
    SELECT j.invoice_id, greatest(j.date, i.invoice_date), CAST(round(j.amount * 100) AS BIGINT)
    FROM adjustments j JOIN inv i USING (invoice_id);
"""

SQL_AGING = """
WITH s AS (SELECT invoice_id, sum(amt) AS settled FROM ev WHERE d <= DATE '{t}' GROUP BY ALL),
o AS (
    SELECT i.customer_id, DATE '{t}' - i.due_date AS dpd, i.amount - coalesce(s.settled, 0) AS open
    FROM inv i LEFT JOIN s USING (invoice_id) WHERE i.invoice_date <= DATE '{t}'
)
SELECT customer_id,
       CASE WHEN dpd <= 0 THEN 0 WHEN dpd <= 30 THEN 1 WHEN dpd <= 60 THEN 2
            WHEN dpd <= 90 THEN 3 ELSE 4 END AS bucket,
       sum(open)::BIGINT AS amount, count(*) AS n
FROM o WHERE open > 0 GROUP BY ALL
"""

SQL_SERIES = """
WITH ends AS (SELECT unnest([{ends}]::DATE[]) AS t),
months AS (
    SELECT date_trunc('month', invoice_date)::DATE AS m, sum(amount) AS sales FROM inv GROUP BY ALL
),
ar AS (
    SELECT t,
        (SELECT sum(amount) FROM inv WHERE invoice_date <= t)
        - coalesce((SELECT sum(amt) FROM ev WHERE d <= t), 0) AS ar
    FROM ends
),
walk AS (
    SELECT ar.t, ar.ar, m.m, m.sales,
        (last_day(m.m) - m.m + 1) AS days,
        sum(m.sales) OVER (PARTITION BY ar.t ORDER BY m.m DESC
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
    FROM ar JOIN months m ON m.m <= date_trunc('month', ar.t)
),
countback AS (
    SELECT t,
        sum(CASE WHEN cum < ar THEN days ELSE 0 END)
        + coalesce(max(CASE WHEN cum - sales < ar AND cum >= ar
                            THEN (ar - (cum - sales)) / sales * days END), 0) AS dso_countback
    FROM walk GROUP BY t
)
SELECT ar.t, ar.ar / s.sales * (last_day(ar.t) - date_trunc('month', ar.t)::DATE + 1)
           AS dso_standard,
       c.dso_countback
FROM ar JOIN months s ON s.m = date_trunc('month', ar.t) JOIN countback c USING (t)
ORDER BY ar.t
"""


def run_duckdb(folder: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(SQL_LOAD.format(f=folder.as_posix()))
    reset_peak()
    base_rss = rss_mb()
    ends = ", ".join(f"DATE '{d.date()}'" for d in month_ends(AS_OF))
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        con.execute(SQL_PREPARE)
        aging = con.execute(SQL_AGING.format(t=AS_OF.date())).df()
        series = con.execute(SQL_SERIES.format(ends=ends)).df()
        timings.append(time.perf_counter() - t)
    totals = aging.groupby("bucket")["amount"].sum().reindex(range(5), fill_value=0)
    wide = aging.pivot_table(index="customer_id", columns="bucket", values="amount", aggfunc="sum")
    wide = wide.reindex(columns=range(5), fill_value=0).fillna(0).astype("int64")
    return {
        "engine": "duckdb",
        "seconds": timings,
        "base_rss_mb": base_rss,
        "peak_rss_mb": peak_mb(),
        "aging_total": [int(x) for x in totals],
        "aging_customers": int(len(wide)),
        "aging_customer_checksum": int((wide.to_numpy() * np.arange(1, 6)).sum() % (2**61)),
        "dso_standard": [float(x) for x in series["dso_standard"]],
        "dso_countback": [float(x) for x in series["dso_countback"]],
    }


# ----------------------------------------------------------------- driver
def child(engine: str, folder: Path) -> None:
    result = run_rpmkit(folder) if engine == "rpmkit" else run_duckdb(folder)
    print("RESULT " + json.dumps(result))


def compare(ours: dict, ref: dict) -> None:
    assert ours["aging_total"] == ref["aging_total"], (ours["aging_total"], ref["aging_total"])
    assert ours["aging_customers"] == ref["aging_customers"]
    assert ours["aging_customer_checksum"] == ref["aging_customer_checksum"]
    for key in ("dso_standard", "dso_countback"):
        np.testing.assert_allclose(ours[key], ref[key], rtol=0, atol=1e-9, err_msg=key)


def main(argv=None) -> int:
    args = benchmark_args(__doc__, argv)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    rows = []
    for n in args.invoices:
        folder = ledger_folder(n)
        ref = run_child(__file__, "duckdb", str(folder))
        ours = run_child(__file__, "rpmkit", str(folder))
        compare(ours, ref)
        t_ours, t_ref = statistics.median(ours["seconds"]), statistics.median(ref["seconds"])
        work = ours["peak_rss_mb"] - ours["base_rss_mb"]
        rows.append(
            {
                "invoices": n,
                "rpmkit_s": t_ours,
                "duckdb_s": t_ref,
                "ratio": t_ours / t_ref,
                "ledger_mb": ours["ledger_mb"],
                "rpmkit_peak_mb": ours["peak_rss_mb"],
                "rpmkit_working_mb": work,
                "duckdb_peak_mb": ref["peak_rss_mb"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if args.write_docs:
        from benchmarks_docs import write_section

        write_section("kpis", table, machine(), "python benchmarks/kpis.py --write-docs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
