"""Shared pieces of the benchmark scripts: cached generated ledgers, machine, memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "benchmarks" / "output"
INVOICES_PER_CUSTOMER_YEAR = 16.5  # what the generator's default segment mix gives


def ledger_folder(invoices: int, *, foreign_currency_share: float = 0.0) -> Path:
    """A generated Parquet ledger of about ``invoices`` invoices over two years, cached."""
    tag = "" if foreign_currency_share == 0 else f"_fx{foreign_currency_share:g}"
    folder = OUTPUT / f"ledger_{invoices}{tag}"
    if (folder / "ledger.json").exists():
        return folder
    from rpmkit import synth
    from rpmkit.writers import write_ledger

    customers = max(50, round(invoices / (2 * INVOICES_PER_CUSTOMER_YEAR)))
    t = time.perf_counter()
    result = synth.generate(
        customers=customers,
        years=2.0,
        start="2023-01-01",
        seed=7,
        foreign_currency_share=foreign_currency_share,
    )
    generated = time.perf_counter() - t
    write_ledger(result.ledger, folder, format="parquet")
    n = len(result.ledger.invoices)
    print(f"generated {n:,} invoices for {customers:,} customers in {generated:.1f} s", flush=True)
    (folder / "generation.json").write_text(
        json.dumps(
            {"invoices": n, "customers": customers, "seconds": generated, "peak_rss_mb": peak_mb()}
        )
    )
    return folder


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM).

    Not ``ru_maxrss``: on Linux that survives ``exec``, so a child started by a
    large parent would report the parent's size as its own peak.
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e3
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak() -> None:
    """Restart this process's peak-memory mark from its current size (Linux clear_refs)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def run_child(script: str, *args: str) -> dict:
    """Run ``script --child ARGS`` in a fresh interpreter; return its ``RESULT {json}`` line."""
    out = subprocess.run(
        [sys.executable, script, "--child", *args], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, {cpu}"


def benchmark_args(doc: str, argv=None):
    """The options every benchmark script takes: sizes, ``--write-docs`` and the child hook."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--invoices", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)
