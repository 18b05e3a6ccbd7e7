"""What the real-browser tests share: console and network watch, opening an app,
reading plotly's state, waiting for a change, timings and screenshots.

Each ``tests/test_browser*.py`` module imports from here; the ``page`` fixture
(a fresh Chromium context with a :class:`Watch`) is in ``conftest.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

ERROR_TEXT = "There was an error when executing cell"
TEST_OUTPUT = Path(__file__).resolve().parents[1] / "test-output"
SHOTS = TEST_OUTPUT / "screenshots"
TIMINGS = TEST_OUTPUT / "browser-timings.json"
PAGE_TIMEOUT_MS = 90_000
CHANGE_TIMEOUT_MS = 30_000

BAD_FLAT = """invoice_id,customer_id,invoice_date,due_date,amount,currency,paid_date
A1,C1,2024-01-05,2024-02-04,100.00,USD,2024-02-01
A2,C1,2024-01-07,2024-02-06,1.234,USD,
A3,C2,2024-13-01,2024-02-06,50.00,USD,
"""


def record(name: str, seconds: float) -> None:
    """Add one timing to ``test-output/browser-timings.json`` (measured, not asserted)."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    try:
        timings = json.loads(TIMINGS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        timings = {}
    timings[name] = round(seconds, 2)
    TIMINGS.write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")


class Watch:
    """What a page said on the console and asked of other hosts."""

    def __init__(self, page, origin: str) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []
        self.requests: list[str] = []
        self.origin = origin
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith((self.origin, "data:", "blob:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and url in self.external:
            return
        self.errors.append(message.text)

    def check(self) -> None:
        assert not self.errors, f"errors in the browser console: {self.errors}"
        assert not self.external, f"the page asked other hosts for: {self.external}"


FIRST_CHART = ".rpm-first-chart"
"""The early drawing of a cell's first chart (``rpmkit.ui.charts.first_chart_output``),
there until the live chart in its slot has drawn."""

LIVE = "() => !document.querySelector('.rpm-first-chart')"
"""The early drawing has handed over to the live chart (or there was none)."""


def open_app(page, server, notebook: str, ready: str = ".js-plotly-plot .main-svg") -> float:
    """Open a notebook's app and wait for ``ready``; returns the seconds it took.

    With the default ``ready`` that is the first chart on screen, early drawing or
    live; it then also waits for the live charts, so the caller reads and drives
    the widgets, never the early drawing.
    """
    start = time.monotonic()
    page.goto(f"{server.url}/voila/render/{notebook}", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(ready, state="attached", timeout=PAGE_TIMEOUT_MS)
    elapsed = time.monotonic() - start
    if ready == ".js-plotly-plot .main-svg":
        page.wait_for_function(LIVE, timeout=PAGE_TIMEOUT_MS)
    assert ERROR_TEXT not in page.content(), server.log_text()[-4000:]
    return elapsed


def open_app_live(page, server, notebook: str) -> tuple[float, float]:
    """Open a notebook's app; seconds to the first chart on screen and to the live chart."""
    start = time.monotonic()
    first = open_app(page, server, notebook)
    return first, time.monotonic() - start


def plot_state(page, index: int = 0) -> str:
    """The traces a chart draws (names and values), as plotly.js holds them."""
    return page.evaluate(
        """(i) => {
            const gd = document.querySelectorAll('.js-plotly-plot')[i];
            return JSON.stringify((gd.data || []).map(t => [t.name, t.x, t.y]));
        }""",
        index,
    )


def wait_for(page, predicate: str, arg=None) -> float:
    """Seconds until the JavaScript ``predicate(arg)`` holds on the page."""
    start = time.monotonic()
    page.wait_for_function(predicate, arg=arg, timeout=CHANGE_TIMEOUT_MS)
    return time.monotonic() - start


def wait_for_change(page, script: str, before: str) -> float:
    return wait_for(page, f"(before) => ({script}) !== before", before)


def tile_text(page, title: str) -> str:
    return page.locator(".rpm-tile", has_text=title).first.locator(".rpm-tile-value").inner_text()


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


PLOT_JS = (
    "JSON.stringify((document.querySelector('.js-plotly-plot').data || [])"
    ".map(t => [t.name, t.x, t.y]))"
)
