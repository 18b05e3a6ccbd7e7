"""Real-browser test of the cash-forecast app under Voila (Chromium, Playwright).

Opens the notebook, waits for the forecast chart, changes the horizon and waits for
the chart to follow, starts the back-test and shows the page still answers while
it runs in its background thread.
"""

from __future__ import annotations

import json

import pytest
from browser_support import open_app, record, screenshot, wait_for

pytestmark = pytest.mark.browser


def _plot_titled(text: str) -> str:
    return (
        "[...document.querySelectorAll('.js-plotly-plot')].find(gd => gd.layout && "
        f"((gd.layout.title || {{}}).text || '').includes({json.dumps(text)}))"
    )


def _p50_weeks(chart: str) -> str:
    return f"(({chart}).data || []).find(t => t.name === 'P50').y.length"


def test_cash_forecast_renders_and_follows_its_controls(page, voila_server):
    record("cash_forecast_first_chart_s", open_app(page, voila_server, "05_cash_forecast.ipynb"))
    chart = _plot_titled("Weekly cash receipts")
    page.wait_for_function(f"() => !!({chart}) && {_p50_weeks(chart)} === 13")
    page.wait_for_function(
        f"() => ({chart}).querySelector('.main-svg').getBoundingClientRect().width > 500"
    )
    text = page.locator(".rpm-app").inner_text().lower()  # tile names are shown in capitals
    assert "13-week receipts (p50)" in text and "$" in text
    assert page.locator(".js-plotly-plot").count() == 2  # forecast and AR/DSO outlook
    screenshot(page, "cash-forecast-latest")

    # an as-of date inside the history: the chart follows and marks what really arrived
    page.locator("input[type=date]").fill("2024-06-30")
    with_actuals = (
        f"() => {{ const gd = {chart}; return gd.layout.title.text.includes('2024-06-30')"
        " && (gd.data || []).some(t => t.name === 'actual'); }"
    )
    record("cash_forecast_as_of_change_s", wait_for(page, with_actuals))
    assert "realised so far" in page.locator(".rpm-app").inner_text().lower()
    screenshot(page, "cash-forecast")

    # the back-test runs in the background: the button locks, the page keeps answering
    page.locator("button", has_text="Run back-test").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some("
        "b => b.innerText.includes('Run back-test') && b.disabled)"
    )
    horizon = page.locator(".widget-dropdown", has_text="Horizon").locator("select")
    horizon.select_option(label="8 weeks")
    record(
        "cash_forecast_horizon_change_during_backtest_s",
        wait_for(page, f"() => {_p50_weeks(chart)} === 8"),
    )
    assert "8-week receipts (p50)" in page.locator(".rpm-app").inner_text().lower()
    page.watch.check()
