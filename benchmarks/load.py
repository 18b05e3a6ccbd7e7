"""Loading benchmark: generate 1M and 10M invoices, load them from Parquet, time and memory.

For each size, in fresh processes: ``rpmkit.load`` of the Parquet ledger folder
(reading, parsing, validation, control totals and the Ledger) side by side with
the reference, a plain ``pandas.read_parquet`` of the same files with Arrow
dtypes (reading only: no validation). Peak memory is the process's peak RSS.
Goal from the issue: 10M invoices load in under 8 GiB peak.

Usage::

    python benchmarks/load.py                       # 1M and 10M
    python benchmarks/load.py --invoices 200000     # quick
    python benchmarks/load.py --write-docs          # also update docs/performance.md
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import benchmark_args, ledger_folder, machine, peak_mb, rss_mb, run_child


def child(engine: str, folder: Path) -> None:
    base = rss_mb()
    t = time.perf_counter()
    if engine == "rpmkit":
        import rpmkit

        result = rpmkit.load(folder)
        rows = len(result.ledger.invoices)
        extra = {"rejects": len(result.rejects), "reconciled": bool(result.manifest.reconciled)}
        size = sum(int(f.memory_usage(deep=True).sum()) for _, f in result.ledger)
    else:
        frames = {
            p.stem: pd.read_parquet(p, dtype_backend="pyarrow") for p in folder.glob("*.parquet")
        }
        rows = len(frames["invoices"])
        extra = {}
        size = sum(int(f.memory_usage(deep=True).sum()) for f in frames.values())
    seconds = time.perf_counter() - t
    out = {
        "seconds": seconds,
        "rows": rows,
        "base_mb": base,
        "peak_mb": peak_mb(),
        "size_mb": size / 1e6,
    }
    print("RESULT " + json.dumps({**out, **extra}))


def main(argv=None) -> int:
    args = benchmark_args(__doc__, argv)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    rows = []
    for n in args.invoices:
        folder = ledger_folder(n)
        meta = folder / "generation.json"
        gen = (
            json.loads(meta.read_text())
            if meta.exists()
            else {"seconds": None, "peak_rss_mb": None}
        )
        ref = run_child(__file__, "pandas", str(folder))
        ours = run_child(__file__, "rpmkit", str(folder))
        if ours["rejects"] or not ours["reconciled"]:
            raise SystemExit(f"the generated ledger did not load cleanly: {ours}")
        rows.append(
            {
                "invoices": ours["rows"],
                "generate_s": gen["seconds"],
                "generate_peak_gb": gen["peak_rss_mb"] and gen["peak_rss_mb"] / 1e3,
                "rpmkit_load_s": ours["seconds"],
                "read_parquet_s": ref["seconds"],
                "ratio": ours["seconds"] / ref["seconds"],
                "rpmkit_peak_gb": ours["peak_mb"] / 1e3,
                "read_parquet_peak_gb": ref["peak_mb"] / 1e3,
                "ledger_gb": ours["size_mb"] / 1e3,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if args.write_docs:
        from benchmarks_docs import write_section

        write_section(
            "load",
            table,
            machine(),
            "python benchmarks/load.py --write-docs",
            "`rpmkit_load` parses, validates and reconciles every row; `read_parquet` only "
            "reads the same files with Arrow dtypes. Peak = the process's peak RSS.",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
