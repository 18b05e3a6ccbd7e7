"""Dashboard load test: 10 concurrent users on the AR dashboard over a 100k-invoice ledger.

A Voila server with the shipped configuration serves one notebook, a copy of the AR
dashboard whose ``SOURCE`` is a generated ledger of about 100,000 invoices, with a
preheated pool of ``--pool`` kernels and the kernel cap at ``--cap``. Chromium (through
Playwright) then runs, with at most ``--users`` pages at once (never more than 20):

1. **while the pool lasts**: ``--users`` users open the dashboard at the same moment and
   each finds a preheated kernel; page (HTML) time and time to the first drawn chart;
2. **control changes**: every user moves the as-of date; time from the change to the
   redrawn chart (the round trip through the kernel);
3. **cold burst**: the users leave, and ``--users`` new ones arrive before the pool has
   been refilled, so their kernels start and run the notebook while they wait.

Throughout, a watcher samples the server's kernels: how many are alive (never above the
cap) and their resident memory. The run stops by itself (a 3-minute budget per phase).

Usage::

    python benchmarks/dashboard_load.py [--users 10] [--invoices 100000]
    python benchmarks/dashboard_load.py --write-docs   # also update docs/performance.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUTPUT, ROOT, ledger_folder, machine

CHROMIUM = os.environ.get("RPMKIT_CHROMIUM", "/usr/bin/chromium")
READY = ".js-plotly-plot .main-svg"
PHASE_BUDGET_S = 180
REDRAWN = (
    "(day) => { const gd = document.querySelector('.js-plotly-plot');"
    " return gd && (gd.layout.annotations || []).some(a => (a.text || '').includes(day)); }"
)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _kernels(pid: int) -> dict[int, float]:
    """The server's kernel processes and their resident memory in MB."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != pid:
                continue
            cmd = (stat.parent / "cmdline").read_bytes()
            if b"ipykernel" in cmd:
                found[int(stat.parent.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 1e6
        except (OSError, IndexError, ValueError):
            continue
    return found


class Watcher(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.most, self.rss = pid, 0, []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            kernels = _kernels(self.pid)
            self.most = max(self.most, len(kernels))
            self.rss.extend(kernels.values())
            time.sleep(0.25)


def _notebook(folder: Path, source: Path) -> None:
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "02_ar_dashboard.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source += f"\nSOURCE = {str(source)!r}"
    nbformat.write(nb, folder / "ar.ipynb")


def _start(folder: Path, pool: int, cap: int) -> tuple[subprocess.Popen, str]:
    from rpmkit.config import voila_environment

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pools = {"default": {"pool_size": pool}}
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or "voila"
    log = (OUTPUT / "dashboard-load.log").open("w")
    process = subprocess.Popen(
        [
            voila,
            str(folder),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--Voila.config_file_paths={ROOT}",
            f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}",
            f"--CappedKernelManager.max_kernels={cap}",
        ],
        cwd=ROOT,
        env=voila_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("voila did not start") from None
            time.sleep(0.5)
    # preheated = every pool kernel alive and quiet for a few seconds
    deadline = time.monotonic() + 600
    while len(_kernels(process.pid)) < pool and time.monotonic() < deadline:
        time.sleep(1)
    _wait_quiet(process.pid, deadline)
    return process, url


def _cpu(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError):
        return 0


def _wait_quiet(pid: int, deadline: float) -> None:
    before = None
    while time.monotonic() < deadline:
        now = sum(_cpu(k) for k in _kernels(pid))
        if before is not None and now - before <= 5:
            return
        before = now
        time.sleep(2)


async def _user(browser, url: str, day: str | None) -> dict:
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    out: dict = {}
    try:
        start = time.monotonic()
        response = await page.goto(
            url + "/voila/render/ar.ipynb", wait_until="commit", timeout=PHASE_BUDGET_S * 1000
        )
        out["status"] = response.status if response else 0
        await page.wait_for_load_state("domcontentloaded", timeout=PHASE_BUDGET_S * 1000)
        out["page_s"] = time.monotonic() - start
        if out["status"] != 200:
            return out
        await page.wait_for_selector(READY, state="attached", timeout=PHASE_BUDGET_S * 1000)
        out["first_chart_s"] = time.monotonic() - start
        if day:
            await page.wait_for_timeout(500)
            start = time.monotonic()
            await page.locator("input[type=date]").fill(day)
            await page.wait_for_function(REDRAWN, arg=day, timeout=30_000)
            out["round_trip_s"] = time.monotonic() - start
    except Exception as exc:  # a failed user is a result, not a crash of the run
        out["error"] = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        await context.close()
    return out


async def _phase(url: str, users: int, day: str | None) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            return await asyncio.wait_for(
                asyncio.gather(*(_user(browser, url, day) for _ in range(users))),
                timeout=PHASE_BUDGET_S + 60,
            )
        finally:
            await browser.close()


def _summary(phase: str, results: list[dict]) -> dict:
    ok = [r for r in results if r.get("status") == 200 and "error" not in r]
    row = {
        "phase": phase,
        "users": len(results),
        "ok": len(ok),
        "busy_503": sum(r.get("status") == 503 for r in results),
        "errors": sum("error" in r for r in results),
        "page_p95_s": round(p95([r["page_s"] for r in ok]), 2) if ok else None,
        "first_chart_p50_s": None,
        "first_chart_p95_s": None,
        "round_trip_p95_s": None,
    }
    charts = [r["first_chart_s"] for r in ok if "first_chart_s" in r]
    if charts:
        row["first_chart_p50_s"] = round(statistics.median(charts), 2)
        row["first_chart_p95_s"] = round(p95(charts), 2)
    trips = [r["round_trip_s"] for r in ok if "round_trip_s" in r]
    if trips:
        row["round_trip_p95_s"] = round(p95(trips), 2)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--cap", type=int, default=24)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 20:
        parser.error("--users must be between 1 and 20")
    source = ledger_folder(args.invoices)
    folder = OUTPUT / "dashboard-load"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _notebook(folder, source)
    process, url = _start(folder, pool=args.users, cap=args.cap)
    watcher = Watcher(process.pid)
    watcher.start()
    rows = []
    try:
        warm = asyncio.run(_phase(url, args.users, day="2024-06-30"))
        rows.append(_summary("pool lasts (+ as-of change)", warm))
        print(rows[-1], flush=True)
        # the pool is being refilled now: the next wave starts cold
        cold = asyncio.run(_phase(url, args.users, day=None))
        rows.append(_summary("cold burst", cold))
        print(rows[-1], flush=True)
    finally:
        watcher.done.set()
        watcher.join()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    table = pd.DataFrame(rows)
    rss = sorted(watcher.rss)
    notes = (
        f"Kernels alive at most: {watcher.most} (cap {args.cap}). Kernel resident memory: "
        f"median {statistics.median(rss):.0f} MB, max {rss[-1]:.0f} MB over the run. "
        f"Ledger: {args.invoices:,} invoices. Goals: page p95 ≤ 1 s while the pool lasts, "
        "≤ 12 s for a cold burst of 10, round trip p95 ≤ 0.5 s, ≤ 150 MB per kernel."
    )
    print(table.to_string(index=False))
    print(notes)
    if args.write_docs:
        from benchmarks_docs import write_section

        write_section(
            "dashboard-load",
            table,
            machine(),
            "python benchmarks/dashboard_load.py --write-docs",
            notes=notes,
        )
    return 0 if watcher.most <= args.cap else 1


if __name__ == "__main__":
    sys.exit(main())
