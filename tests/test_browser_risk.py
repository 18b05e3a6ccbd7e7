"""Real-browser test of the credit-risk app: Chromium against a Voila server (see conftest)."""

from __future__ import annotations

import pytest
from browser_support import PLOT_JS, open_app, plot_state, record, screenshot, wait_for

pytestmark = pytest.mark.browser


def test_credit_risk_renders_and_follows_its_controls(page, voila_server):
    record("credit_risk_first_chart_s", open_app(page, voila_server, "06_credit_risk.ipynb"))
    page.wait_for_selector(".rpm-table")
    # the worklist chart takes the page's width and names customers by rank
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot .main-svg').getBoundingClientRect().width"
        " > 0.9 * document.querySelector('.rpm-app').clientWidth"
    )
    assert "1. " in plot_state(page)
    assert "/hour" in page.locator(".rpm-table").first.inner_text()
    assert "actions" in page.locator(".rpm-sub", has_text="collector hours").first.inner_text()
    shot = screenshot(page, "credit-risk")

    # more team capacity: a longer list, so the chart and the summary change
    before = plot_state(page)
    summary = page.locator(".rpm-sub", has_text="collector hours").first.inner_text()
    capacity = page.locator(".widget-dropdown", has_text="Team capacity").locator("select")
    capacity.select_option(label="37.5 h (a collector-week)")
    record(
        "credit_risk_capacity_change_s",
        wait_for(page, f"(before) => ({PLOT_JS}) !== before", before),
    )
    page.wait_for_function(
        "(t) => { const e = [...document.querySelectorAll('.rpm-sub')].find("
        "x => x.innerText.includes('collector hours')); return e && e.innerText !== t; }",
        arg=summary,
    )
    assert (
        "37.5 collector hours"
        in page.locator(".rpm-sub", has_text="collector hours").first.inner_text()
    )

    # the model-quality tab draws the ROC curve and the calibration
    page.locator(".lm-TabBar-tab", has_text="Model quality").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')].some("
        "gd => (gd.data || []).some(t => t.name === 'observed'))"
    )
    assert "There was an error when executing cell" not in page.content()
    page.watch.check()
    assert shot.exists()
