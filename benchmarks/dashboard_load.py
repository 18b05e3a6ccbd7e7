"""Dashboard load test: 10 concurrent users on the AR dashboard over a 100k-invoice ledger.

A Voila server with the shipped configuration serves one notebook, a copy of the AR
dashboard whose ``SOURCE`` is a generated ledger of about 100,000 invoices, with a
preheated pool of ``--users`` kernels and the kernel cap at ``--cap``. Then, with at most
``--users`` users at once (never more than 20):

1. **while the pool lasts**: the users open the dashboard at the same moment and each
   finds a preheated kernel: page time (to the page's last byte) and time until the app
   is live (the kernel's websocket open and every widget's state received, which is
   when a browser can draw the charts);
2. **control changes**: each user moves the as-of date ``--changes`` times, first all at
   the same moment, then spread out with a think time of 2-8 s between changes (as a
   Locust user would): time from the change to the kernel's answer (its new chart
   figures sent, the kernel idle again);
3. **cold burst**: the users leave, and as many new ones arrive before the pool has been
   refilled, so their kernels start and run the notebook while they wait.

Users are headless (``--client protocol``, the default): each speaks HTTP and the kernel
websocket as Voila's front end does (:class:`rpmkit.server_client.DashboardVisitor`), so
the two cores serve the server and its kernels, not ten browsers. The round trip then
stops when the kernel has sent the new figures, before a browser would draw them
(``--client browser`` runs ten Chromium pages instead and times to the drawn chart).

Throughout, a watcher samples the server's kernels: how many are alive (never above the
cap) and their resident memory. The run stops by itself (a 3-minute budget per phase).

Usage::

    python benchmarks/dashboard_load.py [--users 10] [--invoices 100000]
    python benchmarks/dashboard_load.py --client browser
    python benchmarks/dashboard_load.py --write-docs   # also update docs/performance.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
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


def _kernel_id_of(pid: int) -> str | None:
    """The kernel id in a kernel process's connection-file argument."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None
    found = re.search(r"kernel-([0-9a-f-]{36})\.json", cmd)
    return found.group(1) if found else None


def _memory(pid: int) -> dict[str, float] | None:
    """Resident, proportional and unique memory of a process in MB (``smaps_rollup``).

    PSS divides each shared page (libraries, the memory-mapped ledger cache) among the
    processes that map it, so the PSS of all kernels adds up to what they take together;
    USS is what a kernel alone holds and would give back if it stopped.
    """
    try:
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value, *_ = line.split()
            fields[name.rstrip(":")] = int(value) / 1024
    except (OSError, ValueError):
        return None
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"rss": fields.get("Rss", 0), "pss": fields.get("Pss", 0), "uss": uss}


class Watcher(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.most, self.rss = pid, 0, []
        self.memory: dict[int, dict[str, float]] = {}  # each kernel's latest reading
        self.peak: dict[int, dict[str, float]] = {}
        self.first_seen: dict[int, float] = {}  # when each kernel process appeared
        self.done = threading.Event()

    def run(self) -> None:
        tick = 0
        while not self.done.is_set():
            kernels = _kernels(self.pid)
            for kernel in kernels:
                self.first_seen.setdefault(kernel, time.monotonic())
            self.most = max(self.most, len(kernels))
            self.rss.extend(kernels.values())
            if tick % 8 == 0:  # smaps_rollup walks every mapping: every 2 s is enough
                for kernel in kernels:
                    reading = _memory(kernel)
                    if reading is not None:
                        self.memory[kernel] = reading
                        peak = self.peak.setdefault(kernel, dict(reading))
                        for key, value in reading.items():
                            peak[key] = max(peak[key], value)
            tick += 1
            time.sleep(0.25)

    def settled(self, kernel_ids: set[str] | None = None) -> dict[str, float]:
        """Median over the kernels alive now (those of ``kernel_ids`` if given) of their
        current RSS, PSS and USS (MB)."""
        now = [
            m
            for k, m in self.memory.items()
            if Path(f"/proc/{k}").exists()
            and (kernel_ids is None or _kernel_id_of(k) in kernel_ids)
        ]
        if not now:
            return {}
        return {key: statistics.median(m[key] for m in now) for key in ("rss", "pss", "uss")}


def _notebook(folder: Path, source: Path) -> None:
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "02_ar_dashboard.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source += f"\nSOURCE = {str(source)!r}"
    nbformat.write(nb, folder / "ar.ipynb")


def _start(
    folder: Path, pool: int, cap: int, *, cache: Path | None, refill_quiet: float | None
) -> tuple[subprocess.Popen, str]:
    from rpmkit.config import voila_environment

    env = voila_environment()
    # a fresh ledger cache: the first preheated kernel pays for the load, as on a new server
    env["RPMKIT_CACHE_DIR"] = str(cache) if cache is not None else "off"
    extra = [] if refill_quiet is None else [f"--CappedKernelManager.refill_quiet={refill_quiet}"]

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
            *extra,
        ],
        cwd=ROOT,
        env=env,
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


def kernel_cpu_s(pid: int) -> list[float]:
    """CPU seconds each kernel of the server has used so far (user + system).

    Read once the preheated pool is quiet, it is what starting a kernel and running the
    notebook costs, a figure that a busy machine slows down but does not inflate.
    """
    tick = os.sysconf("SC_CLK_TCK")
    return [_cpu(k) / tick for k in _kernels(pid)]


def _cpu(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError):
        return 0


def _wait_quiet(pid: int, deadline: float) -> None:
    """Until every kernel has run the notebook (used a second of CPU) and all are idle.

    A kernel waiting for a busy server to send it the notebook is idle too: CPU alone
    would call the pool preheated before any notebook ran.
    """
    before = None
    tick = os.sysconf("SC_CLK_TCK")
    while time.monotonic() < deadline:
        used = [_cpu(k) for k in _kernels(pid)]
        now = sum(used)
        ran = bool(used) and min(used) >= tick
        if ran and before is not None and now - before <= 5:
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
        await page.close(run_before_unload=True)  # as a visitor leaving: the kernel stops
        await context.close()
    return out


DAYS = ("2024-06-30", "2024-03-31", "2024-09-30", "2024-05-31", "2024-08-31", "2024-04-30")


class _StartLine:
    """Holds every user's first change until all users are live (or have failed)."""

    def __init__(self, users: int) -> None:
        self.waiting, self.event = users, asyncio.Event()

    def arrive(self) -> None:
        self.waiting -= 1
        if self.waiting <= 0:
            self.event.set()


async def _visitor(url: str, line: _StartLine, changes: int) -> dict:
    """One headless user: page, live app, then ``changes`` as-of changes: the first at
    the same moment as every other user's, the later ones after a 2-8 s think time.
    The phase makes the user leave (as a closed page does: the kernel is shut down).
    """
    import datetime as dt
    import random

    from rpmkit.server_client import DashboardVisitor, date_state, find_model

    visitor = DashboardVisitor(url, "ar.ipynb", timeout=PHASE_BUDGET_S)
    out: dict = {"together_s": [], "round_trips_s": []}
    arrived = False
    try:
        start = time.monotonic()
        await visitor.open()
        out["status"], out["page_s"] = visitor.status, visitor.page_seconds
        out["kernel"] = visitor.kernel_id
        if visitor.status != 200:
            return out
        await visitor.connect()
        states = await visitor.widget_states()
        out["first_chart_s"] = time.monotonic() - start  # the app is live: charts can draw
        picker = find_model(states, "DatePickerModel", description="As of")
        charts = {k for k, m in states.items() if "Figure" in m["state"].get("_anywidget_id", "")}
        line.arrive()
        arrived = True
        for i in range(changes):
            if i == 0:
                await line.event.wait()
            else:
                await asyncio.sleep(random.uniform(2, 8))
            day = DAYS[i % len(DAYS)]
            reply = await visitor.change(picker, {"value": date_state(dt.date.fromisoformat(day))})
            if not reply.carries(day, charts):
                raise RuntimeError(f"no chart answered the change to {day}")
            out["together_s" if i == 0 else "round_trips_s"].append(reply.seconds)
            out.setdefault("sent_at", []).append(time.monotonic() - reply.seconds)
    except Exception as exc:  # a failed user is a result, not a crash of the run
        out["error"] = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        if not arrived:
            line.arrive()
    out["visitor"] = visitor
    return out


async def _protocol_phase(
    url: str, users: int, changes: int, while_here=None, *, drain: bool = False
) -> list[dict]:
    """``users`` headless users at once; ``while_here(kernel_ids)`` runs (in a thread)
    when all have done their changes, before they leave. With ``drain``, as many other
    visitors first take every preheated kernel (and stay idle), so the users' kernels
    all start cold."""
    from rpmkit.server_client import DashboardVisitor

    drainers = [
        DashboardVisitor(url, "ar.ipynb", timeout=PHASE_BUDGET_S) for _ in range(users * drain)
    ]
    await asyncio.gather(*(d.open() for d in drainers))
    line = _StartLine(users)
    results: list[dict] = []
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(_visitor(url, line, changes) for _ in range(users))),
            timeout=PHASE_BUDGET_S + 60,
        )
        if while_here is not None:
            kernels = {r["kernel"] for r in results if r.get("kernel")}
            await asyncio.to_thread(while_here, kernels)
    finally:
        leaving = [r["visitor"].close() for r in results]
        leaving += [d.close() for d in drainers]
        await asyncio.gather(*leaving, return_exceptions=True)
    for r in results:
        del r["visitor"]
    return results


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
        "round_trip_p95_s": None,  # every user's change at the same moment
    }
    charts = [r["first_chart_s"] for r in ok if "first_chart_s" in r]
    if charts:
        row["first_chart_p50_s"] = round(statistics.median(charts), 2)
        row["first_chart_p95_s"] = round(p95(charts), 2)
    trips = [r["round_trip_s"] for r in ok if "round_trip_s" in r]  # browser users
    together = [t for r in ok for t in r.get("together_s", [])] + trips
    if together:
        row["round_trip_p95_s"] = round(p95(together), 2)
    spread = [t for r in ok for t in r.get("round_trips_s", [])]
    row["changes_with_think_time"] = len(spread)
    row["round_trip_think_p50_s"] = round(statistics.median(spread), 3) if spread else None
    row["round_trip_think_p95_s"] = round(p95(spread), 3) if spread else None
    return row


_KERNEL_COST = r"""
import json, sys, time
cpu = time.process_time
t = cpu()
if sys.argv[2] == "eager":
    import jsonschema._format  # what plotly's widget import cost before rpmkit.ui._lean
else:
    import rpmkit.ui._lean
from rpmkit.ui.dashboard import ARDashboardApp
out = {"imports": cpu() - t}
t = cpu()
from rpmkit.ui.loading import load_ledger
ledger, message = load_ledger(sys.argv[1])
out["load"] = cpu() - t
t = cpu()
app = ARDashboardApp(ledger)
out["first render"] = cpu() - t
import pandas as pd
trips = []
for day in ("2024-06-30", "2024-03-31", "2024-09-30", "2024-05-31", "2024-08-31"):
    t = cpu()
    app._as_of.value = pd.Timestamp(day).date()
    trips.append(cpu() - t)
out["as-of change (median of 5)"] = sorted(trips)[2]
fields = {}
for line in open("/proc/self/smaps_rollup").read().splitlines()[1:]:
    name, value, *_ = line.split()
    fields[name.rstrip(":")] = int(value) / 1024
out["rss_mb"] = fields["Rss"]
out["private_dirty_mb"] = fields["Private_Dirty"]
print(json.dumps(out))
"""


def kernel_cost(source: Path) -> pd.DataFrame:
    """CPU seconds a dashboard kernel spends, by step, before and after the lean changes.

    Each variant runs in a fresh Python process (as a kernel does) and is timed with
    ``process_time``, so a busy machine slows it down without inflating the figures:

    - *imports eager, no cache*: as a kernel was (plotly's import chain builds
      jsonschema's IRI grammar; every kernel reads and checks the source itself);
    - *first kernel (cache miss)*: lean imports, loads the source and writes the cache;
    - *later kernels (cache hit)*: lean imports, memory-maps the cached ledger.

    ``private_dirty_mb`` is the memory only this kernel can hold (its heap): not the
    libraries or the mapped ledger, whose pages the kernels of a server share.
    """
    cache = OUTPUT / "dashboard-load-cost-cache"
    shutil.rmtree(cache, ignore_errors=True)
    rows = []
    variants = (
        ("imports eager, no cache", "eager", "off"),
        ("first kernel (cache miss)", "lean", str(cache)),
        ("later kernels (cache hit)", "lean", str(cache)),
    )
    for label, imports, cache_dir in variants:
        env = {**os.environ, "RPMKIT_CACHE_DIR": cache_dir}
        done = subprocess.run(
            [sys.executable, "-c", _KERNEL_COST, str(source), imports],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        costs = json.loads(done.stdout.strip().splitlines()[-1])
        steps = ("imports", "load", "first render")
        row = {"kernel": label, **{f"{k}_s": round(costs[k], 2) for k in steps}}
        row["notebook_cpu_s"] = round(sum(costs[k] for k in steps), 2)
        row["as_of_change_s"] = round(costs["as-of change (median of 5)"], 3)
        row["rss_mb"] = round(costs["rss_mb"])
        row["private_dirty_mb"] = round(costs["private_dirty_mb"])
        rows.append(row)
        print(row, flush=True)
    return pd.DataFrame(rows)


def _print_errors(results: list[dict]) -> None:
    for error in sorted({r["error"] for r in results if "error" in r}):
        print("  error:", error, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--cap", type=int, default=24)
    parser.add_argument(
        "--no-cache", action="store_true", help="every kernel loads the ledger itself"
    )
    parser.add_argument(
        "--refill-quiet",
        type=float,
        default=None,
        help="CappedKernelManager.refill_quiet (default: voila.json's; 0 refills at once)",
    )
    parser.add_argument(
        "--client",
        choices=("protocol", "browser"),
        default="protocol",
        help="headless users speaking Voila's protocols (default) or Chromium pages",
    )
    parser.add_argument(
        "--changes",
        type=int,
        default=6,
        help="as-of changes per user (protocol client): one all together, then spread out",
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 20:
        parser.error("--users must be between 1 and 20")
    source = ledger_folder(args.invoices)
    costs = kernel_cost(source)
    folder = OUTPUT / "dashboard-load"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _notebook(folder, source)
    cache = None if args.no_cache else OUTPUT / "dashboard-load-cache"
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)
    process, url = _start(
        folder, pool=args.users, cap=args.cap, cache=cache, refill_quiet=args.refill_quiet
    )
    preheat_cpu = kernel_cpu_s(process.pid)
    watcher = Watcher(process.pid)
    watcher.start()
    rows, memory = [], {}
    try:
        time.sleep(2.5)  # one memory reading of the preheated pool
        memory["preheated pool"] = watcher.settled()

        def reading(label):
            def read(kernels):
                time.sleep(2.5)  # a fresh memory reading of the users' own kernels
                memory[label] = watcher.settled(kernels)

            return read

        if args.client == "protocol":
            warm = asyncio.run(
                _protocol_phase(url, args.users, args.changes, reading("the users' kernels"))
            )
        else:
            warm = asyncio.run(_phase(url, args.users, day="2024-06-30"))
            memory["after the first users"] = watcher.settled()
        raw = {"pool lasts": warm}
        rows.append(_summary("pool lasts (+ as-of change)", warm))
        _print_errors(warm)
        print(rows[-1], flush=True)
        if args.client == "protocol":  # others hold the pool: every user's kernel starts cold
            cold = asyncio.run(
                _protocol_phase(url, args.users, 0, reading("cold-burst kernels"), drain=True)
            )
        else:  # the pool is being refilled now: the next wave starts cold
            cold = asyncio.run(_phase(url, args.users, day=None))
            time.sleep(2.5)
            memory["after the cold burst"] = watcher.settled()
        raw["cold burst"] = cold
        raw["kernels_first_seen"] = sorted(watcher.first_seen.values())
        (OUTPUT / "dashboard-load-users.json").write_text(json.dumps(raw, indent=1))
        rows.append(_summary("cold burst", cold))
        _print_errors(cold)
        print(rows[-1], flush=True)
    finally:
        watcher.done.set()
        watcher.join()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    table = pd.DataFrame(rows)
    rss = sorted(watcher.rss)
    readings = "; ".join(
        f"{when}: RSS {m['rss']:.0f}, PSS {m['pss']:.0f}, USS {m['uss']:.0f}"
        for when, m in memory.items()
        if m
    )
    peak_pss = max((m["pss"] for m in watcher.peak.values()), default=float("nan"))
    clients = {
        "protocol": f"{args.users} headless users (HTTP + kernel websocket, as Voila's front "
        "end); first_chart = the app live (every widget's state received); round trip = "
        "change sent to the kernel's answer (new figures sent), every user at the same "
        f"moment, then {max(args.changes - 1, 0)} more per user after 2-8 s of think time",
        "browser": f"{args.users} Chromium pages on the same machine; first_chart = a chart "
        "drawn; round trip = change to the redrawn chart, every user at the same moment",
    }[args.client]
    notes = (
        f"Users: {clients}. "
        f"CPU to start a preheated kernel and run the notebook: median "
        f"{statistics.median(preheat_cpu):.1f} s, max {max(preheat_cpu):.1f} s "
        f"({len(preheat_cpu)} kernels). "
        f"Kernels alive at most: {watcher.most} (cap {args.cap}). Kernel resident memory: "
        f"median {statistics.median(rss):.0f} MB, max {rss[-1]:.0f} MB over the run. "
        f"Per kernel, median MB of the kernels alive ({readings}); largest PSS "
        f"{peak_pss:.0f} MB. Ledger cache: {'off' if args.no_cache else 'on'}; refill_quiet "
        f"{'as shipped' if args.refill_quiet is None else args.refill_quiet}. "
        f"Ledger: {args.invoices:,} invoices. Goals: page p95 ≤ 1 s while the pool lasts, "
        "≤ 12 s for a cold burst of 10, round trip p95 ≤ 0.5 s, ≤ 150 MB per kernel."
    )
    from benchmarks_docs import markdown

    notes += (
        "\n\nWhat one kernel of this dashboard costs, by step (CPU seconds in a fresh "
        "process, so a busy machine does not inflate them; private dirty MB = the heap no "
        "other process can share):\n\n" + markdown(costs)
    )
    print(table.to_string(index=False))
    print(costs.to_string(index=False))
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
