"""Dashboards benchmark: time from opening an app to its first chart, servers side by side.

Voila servers run the repo's configuration on loopback at the same time:

- ``shipped``: as shipped — the page carries the figure of each cell's first chart and
  the ``rpmkit`` template draws it as soon as plotly's bundle has run, before the
  kernel connects; the live ``FigureWidget`` then takes its place
  (``rpmkit.ui.charts.first_chart_output``);
- ``live``: the same server with that early drawing switched off
  (``RPMKIT_FIRST_CHART=live``) and the extension denylist as it was
  (``jupyterlab-plotly`` only): the first chart on screen is the live widget, as before;
- ``inline`` (``--with-inline``): plotly's default — the 5 MB front end inside every
  chart's widget state and the ``jupyterlab-plotly`` extension loaded
  (``RPMKIT_PLOTLY_INLINE=1``, no denylist): what the apps did first.

Debian's Chromium (through Playwright) opens each app on one server, then the other,
in alternation, each time in a fresh browser context (a cold cache, the worst case), and
times the first drawn chart (early drawing or live) and the live chart (no early drawing
left), from the request and not from the page's load event: Voila's own scripts often
hold that event back past the early drawing, and waiting for it (Playwright's default)
added 0-0.3 s to a first chart already on screen. The page also times itself
from its navigation start: the first chart, plotly's bundle run (the early drawing's
marks) and the load event. Between openings it waits for the server's preheated kernel
to be replaced, so every opening finds one. The figures to read are the ratios; the
absolute times depend on what else the machine runs.

Usage::

    python benchmarks/dashboards.py [--rounds 3] [--apps 02_ar_dashboard ...] [--with-inline]
    python benchmarks/dashboards.py --write-docs   # also update docs/performance.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUTPUT, ROOT, machine

APPS = (
    "01_data_quality",
    "02_ar_dashboard",
    "03_payment_behaviour",
    "04_policy_simulator",
    "05_cash_forecast",
    "06_credit_risk",
    "07_cash_application",
)
READY = ".js-plotly-plot .main-svg"
LIVE = "() => !document.querySelector('.rpm-first-chart')"
CHROMIUM = os.environ.get("RPMKIT_CHROMIUM", "/usr/bin/chromium")
SETTLE_S = 25  # a used preheated kernel is replaced (fill_delay + running the notebook)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(name: str, extra_env: dict[str, str], extra_args: list[str]):
    from rpmkit.config import voila_environment

    env = voila_environment()
    env.update(extra_env)
    port = _port()
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or "voila"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = (OUTPUT / f"dashboards-{name}.log").open("w")
    process = subprocess.Popen(
        [
            voila,
            "notebooks/",
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--Voila.config_file_paths={ROOT}",
            *extra_args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"voila ({name}) did not start; see {log.name}")


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


# Times in the page (ms since navigation start): the first chart element drawn, the page's
# load event, and the early drawing's mark of plotly's bundle run, read after the live
# chart is there.
RECORDER = r"""
const times = (window.__rpmBench = {});
const at = (name) => { if (!(name in times)) times[name] = performance.now(); };
new MutationObserver(() => {
  if (document.querySelector(".js-plotly-plot .main-svg")) at("chart");
}).observe(document, { childList: true, subtree: true });
window.addEventListener("load", () => at("load"));
"""
PAGE_TIMES = """() => Object.assign({}, window.__rpmBench, Object.fromEntries(
  performance.getEntriesByType("mark").map((e) => [e.name, e.startTime])))"""


def _first_chart(browser, url: str, app: str) -> dict[str, float]:
    """Seconds to the first chart on screen and to the live chart, in a fresh context.

    ``first``/``live`` are timed by this script from the request; ``page_*`` by the page
    from its navigation start (no Playwright round trips in them). The opening waits
    for the chart, not for the page's load event, which Voila's own scripts often hold
    back past the first chart.
    """
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.add_init_script(RECORDER)
    try:
        start = time.monotonic()
        page.goto(f"{url}/voila/render/{app}.ipynb", wait_until="commit", timeout=120_000)
        page.wait_for_selector(READY, state="attached", timeout=120_000)
        first = time.monotonic() - start
        page.wait_for_function(LIVE, timeout=120_000)
        page.wait_for_selector(READY, state="attached", timeout=120_000)
        live = time.monotonic() - start
        page.wait_for_function("() => 'load' in window.__rpmBench", timeout=120_000)
        marks = page.evaluate(PAGE_TIMES)
    finally:
        page.close(run_before_unload=True)  # as a visitor leaving: the kernel stops
        context.close()
    nan = float("nan")
    return {
        "first": first,
        "live": live,
        "page_first": marks.get("chart", nan) / 1000,
        "page_load": marks.get("load", nan) / 1000,
        "page_plotly": marks.get("rpm:first-chart:plotly", nan) / 1000,
    }


def measure(apps: list[str], rounds: int, with_inline: bool = False) -> pd.DataFrame:
    from playwright.sync_api import sync_playwright

    servers = {
        "shipped": _start("shipped", {}, []),
        "live": _start(
            "live",
            {"RPMKIT_FIRST_CHART": "live"},
            ['--VoilaConfiguration.extension_denylist=["jupyterlab-plotly"]'],
        ),
    }
    if with_inline:
        servers["inline"] = _start(
            "inline",
            {"RPMKIT_PLOTLY_INLINE": "1"},
            ["--VoilaConfiguration.extension_denylist=[]"],
        )
    times: dict[tuple[str, str], list[dict[str, float]]] = {}
    try:
        time.sleep(SETTLE_S * len(servers))  # every pool preheated (every notebook once)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for r in range(rounds):
                for app in apps:
                    # alternate which server goes first, so neither always meets a busier machine
                    order = list(servers.items())[:: 1 if r % 2 == 0 else -1]
                    for name, (_, url) in order:
                        t = _first_chart(browser, url, app)
                        times.setdefault((app, name), []).append(t)
                        print(
                            f"round {r + 1} {app:<22} {name:<7} first {t['first']:5.2f} s"
                            f"  live {t['live']:5.2f} s  in page: first {t['page_first']:5.2f} s"
                            f"  plotly run {t['page_plotly']:5.2f} s  load {t['page_load']:5.2f} s",
                            flush=True,
                        )
                        time.sleep(SETTLE_S)
            browser.close()
    finally:
        for process, _ in servers.values():
            _stop(process)
    return _table(apps, times, list(servers))


def _table(apps: list[str], times: dict, servers: list[str]) -> pd.DataFrame:
    def med(app: str, name: str, key: str) -> float:
        return statistics.median(t[key] for t in times[(app, name)])

    rows = []
    for app in apps:
        row = {
            "app": app,
            "openings": len(times[(app, "shipped")]),
            "first_median_s": round(med(app, "shipped", "first"), 2),
            "first_best_s": round(min(t["first"] for t in times[(app, "shipped")]), 2),
            "page_first_median_s": round(med(app, "shipped", "page_first"), 2),
            "page_plotly_median_s": round(med(app, "shipped", "page_plotly"), 2),
            "page_load_median_s": round(med(app, "shipped", "page_load"), 2),
            "live_median_s": round(med(app, "shipped", "live"), 2),
            "before_median_s": round(med(app, "live", "first"), 2),
            "before_best_s": round(min(t["first"] for t in times[(app, "live")]), 2),
            "first_ratio": round(med(app, "shipped", "first") / med(app, "live", "first"), 2),
            "live_ratio": round(med(app, "shipped", "live") / med(app, "live", "live"), 2),
        }
        if "inline" in servers:
            row["inline_median_s"] = round(med(app, "inline", "first"), 2)
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--apps", nargs="*", default=list(APPS))
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--with-inline", action="store_true", help="also a server with plotly's default front end"
    )
    args = parser.parse_args(argv)
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        print(f"no Chromium at {CHROMIUM} (set RPMKIT_CHROMIUM)", file=sys.stderr)
        return 2
    table = measure(args.apps, args.rounds, args.with_inline)
    print(table.to_string(index=False))
    if args.write_docs:
        from benchmarks_docs import write_section

        write_section(
            "dashboards",
            table,
            machine(),
            "python benchmarks/dashboards.py --write-docs",
            notes=(
                "`first`: opening → first chart on screen, as shipped (the page's early "
                "drawing of the first chart), timed from the request, not waiting for the "
                "page's load event. `page_first`, `page_plotly`, `page_load`: the same "
                "opening timed by the page from its navigation start: the first chart, "
                "plotly's bundle run (ready to draw) and the load event. `live`: opening → "
                "the live chart in its place, as shipped. `before`: opening → first chart "
                "on a second server without the early drawing (`RPMKIT_FIRST_CHART=live`, "
                "the live widget is the first chart, as before). Fresh browser context "
                "(cold cache) per opening; ratios = shipped / before medians (first chart, "
                "live chart)."
            ),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
