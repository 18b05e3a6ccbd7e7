"""The policy simulator in a real browser: opens on the ledger's chart, runs in the background.

The notebook runs as published (100 replications); the test turns the run down
to a few replications over 90 days through the app's own controls, changes the
terms, presses Run and waits for the bands, the tiles and the summary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from browser_support import open_app, record, screenshot, wait_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHART = (
    "[...document.querySelectorAll('.js-plotly-plot')].find(gd => gd.layout && "
    "(gd.layout.annotations || []).some(a => (a.text || '').includes('Cash received')))"
)
NAMES = (
    f"(() => {{ const gd = {CHART}; "
    "return gd ? JSON.stringify(gd.data.map(t => t.name)) : ''; })()"
)
LAST_X = (
    f"(() => {{ const gd = {CHART}; if (!gd) return ''; const t = gd.data.find("
    "d => d.name === 'open items falling due'); return t ? String(t.x[t.x.length - 1]) : ''; })()"
)


def _set_text(page, label: str, value: str) -> None:
    box = page.locator(".widget-text", has_text=label).locator("input")
    box.fill(value)
    box.press("Enter")


def test_policy_simulator_runs_a_comparison(page, voila_server):
    record(
        "policy_simulator_first_chart_s",
        open_app(page, voila_server, "04_policy_simulator.ipynb"),
    )
    page.wait_for_function(f"() => !!({CHART})")
    assert json.loads(page.evaluate(NAMES)) == ["open items falling due", "ledger"]
    page.wait_for_selector("text=Press Run to simulate")
    page.wait_for_selector("text=Net 28–44")

    # a shorter horizon recalibrates the baseline: the due-date schedule ends earlier
    before = page.evaluate(LAST_X)
    page.locator(".widget-dropdown", has_text="Horizon").locator("select").select_option(
        label="90 days"
    )
    record(
        "policy_simulator_horizon_change_s",
        wait_for(page, f"(before) => {LAST_X} !== before && {LAST_X} !== ''", before),
    )
    assert page.evaluate(LAST_X).startswith("2025-03-31")
    _set_text(page, "Replications", "4")

    # an invalid lever: a message, no traceback, no run
    collectors = page.locator(".rpm-lever", has_text="Collectors").locator("input")
    collectors.fill("-2")
    collectors.press("Enter")
    page.wait_for_selector("text=Collectors must be a whole number from 0 to 1,000; got -2.")
    collectors.fill("3")
    collectors.press("Enter")
    page.wait_for_function(
        "() => !document.body.innerText.includes('Collectors must be a whole number')"
    )

    # tighter terms, then Run: the bands of both policies, the tiles and the summary
    terms = page.locator(".rpm-lever", has_text="Payment terms").locator("select")
    terms.select_option(label="Net 15")
    page.locator("button", has_text="Run").click()
    start = time.monotonic()
    page.wait_for_function(
        f"() => {NAMES}.includes('changed policy P50')", timeout=240_000, polling=500
    )
    record("policy_simulator_run_s", time.monotonic() - start)
    page.wait_for_selector("text=Moving from Net 28–44 to Net 15 brings in about")
    page.wait_for_selector("text=paired replications in")
    cash = page.locator(".rpm-tile", has_text="Cash in the first 90 days")
    assert cash.locator(".rpm-tile-value").inner_text().startswith("+$")
    dso = page.locator(".rpm-tile", has_text="DSO at the end").locator(".rpm-tile-value")
    assert dso.inner_text().startswith("−")
    assert "rpm-good" in dso.get_attribute("class")
    names = json.loads(page.evaluate(NAMES))
    assert names.count("changed policy P50") == 2 and names.count("baseline P50") == 2
    method = page.locator(".rpm-app").get_by_text("How is this computed?")
    method.click()
    page.wait_for_selector("text=common random numbers")
    method.click()
    # Voila scrolls inside its own containers: bring every one back to the top
    page.evaluate(
        "document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })"
    )
    # the README's picture is test-output/screenshots/policy-simulator.png, copied by hand
    screenshot(page, "policy-simulator")
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    page.watch.check()
