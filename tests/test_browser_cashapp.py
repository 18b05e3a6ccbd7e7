"""The cash-application app in a real browser: renders, follows its threshold slider."""

from __future__ import annotations

import json

import pytest
from browser_support import open_app, record, screenshot, wait_for

pytestmark = pytest.mark.browser

CURVE = (
    "[...document.querySelectorAll('.js-plotly-plot')].find(gd => gd.layout && "
    "((gd.layout.title || {}).text || '').includes('Auto-match vs errors'))"
)
MARKER = (
    f"(() => {{ const gd = {CURVE}; "
    "return gd ? JSON.stringify(gd.data.map(t => [t.name, t.x])) : ''; })()"
)


def test_cash_application_renders_and_follows_the_threshold(page, voila_server):
    record(
        "cash_application_first_chart_s",
        open_app(page, voila_server, "07_cash_application.ipynb"),
    )
    page.wait_for_function(f"() => !!({CURVE})")
    page.wait_for_selector("text=envelope auto-match")
    before = page.evaluate(MARKER)
    assert "threshold 0.90" in before
    screenshot(page, "cash-application")

    readout = page.locator(".widget-slider", has_text="Threshold").locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0.50")
    page.keyboard.press("Enter")
    moved = f"(before) => {MARKER} !== before && {MARKER}.includes('threshold 0.50')"
    record("cash_application_threshold_change_s", wait_for(page, moved, before))
    assert json.loads(page.evaluate(MARKER))[-1][1] == [0.5]
    screenshot(page, "cash-application-threshold")

    page.locator(".lm-TabBar-tab", has_text="Rules and noise").click()
    page.wait_for_selector("text=Auto-matched right, by noise type")
    screenshot(page, "cash-application-rules")
    page.locator(".lm-TabBar-tab", has_text="Review queue").click()
    page.wait_for_selector("text=Review queue: payments below the threshold")
    screenshot(page, "cash-application-review")
    page.locator(".lm-TabBar-tab", has_text="Disputes").click()
    page.wait_for_selector("text=Dispute reasons (Pareto by count)")
    screenshot(page, "cash-application-disputes")
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    page.watch.check()
