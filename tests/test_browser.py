"""Real-browser tests: Debian's Chromium, driven by Playwright, against a real Voila server.

Voila answers HTTP 200 even when a cell fails, so each test looks for Voila's
error text, listens to the browser console, waits for the chart to render,
changes a control and waits for the chart and the KPI text to follow. Requests
to anything but the local server are blocked (the apps must work offline) and
listed. Screenshots go to ``test-output/screenshots/``; the time from opening a
page to its first chart and from a control change to the redrawn chart go to
``test-output/browser-timings.json`` (measured, not asserted).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from browser_support import (
    BAD_FLAT,
    PLOT_JS,
    open_app,
    plot_state,
    record,
    screenshot,
    tile_text,
    wait_for,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]


def test_index_links_every_app(page, voila_server):
    open_app(page, voila_server, "index.ipynb", ready=".rpm-index a")
    links = page.locator(".rpm-index a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    apps = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert hrefs == apps
    assert hrefs[:3] == [
        "01_data_quality.ipynb",
        "02_ar_dashboard.ipynb",
        "03_payment_behaviour.ipynb",
    ]
    for i in range(links.count()):
        item = page.locator(".rpm-index li").nth(i).inner_text()
        assert " — " in item and item.endswith("?")
    screenshot(page, "index")
    page.watch.check()


def test_ar_dashboard_renders_and_follows_its_controls(page, voila_server):
    record("ar_dashboard_first_chart_s", open_app(page, voila_server, "02_ar_dashboard.ipynb"))
    page.wait_for_selector(".rpm-tile-value")
    assert "$" in tile_text(page, "Open AR")
    dso_before = tile_text(page, "DSO")
    assert dso_before.endswith("days")
    # the charts take the page's width (plotly's 700 px default would leave half of it empty)
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot .main-svg')"
        ".getBoundingClientRect().width > 0.9 * document.querySelector('.rpm-app').clientWidth"
    )
    screenshot(page, "ar-dashboard")
    # plotly's widget bundle comes once from the template's static folder, whatever the
    # number of charts, and the jupyterlab-plotly extension's copy of plotly.js not at all
    bundle = [u for u in page.watch.requests if "plotly-widget.js" in u]
    assert len(bundle) == 1 and "/voila/templates/rpmkit/static/" in bundle[0], bundle
    assert not [u for u in page.watch.requests if "jupyterlab-plotly" in u]

    # a segment: the aging bars shrink to that segment's one trace
    segment = page.locator(".widget-dropdown", has_text="Segment").locator("select")
    options = segment.locator("option").all_inner_texts()
    segment.select_option(label=options[-1])
    # redrawn when the bars are that segment's alone (traces are replaced, then restyled)
    only_segment = (
        "([chosen, all]) => { const gd = document.querySelector('.js-plotly-plot');"
        " const names = (gd.data || []).map(t => t.name).filter(n => all.includes(n));"
        " return names.length === 1 && names[0] === chosen; }"
    )
    record("ar_dashboard_segment_change_s", wait_for(page, only_segment, [options[-1], options]))
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('.rpm-tile')].some("
        "e => e.innerText.startsWith('DSO') && !e.innerText.includes(t))",
        arg=dso_before,
    )

    # an earlier as-of date: KPI text and chart follow
    before = plot_state(page)
    dso_segment = tile_text(page, "DSO")
    page.locator("input[type=date]").fill("2024-06-30")
    redrawn = (
        "(before) => { const gd = document.querySelector('.js-plotly-plot');"
        " const titled = (gd.layout.annotations || []).some(a => a.text.includes('2024-06-30'));"
        f" return titled && ({PLOT_JS}) !== before; }}"
    )
    record("ar_dashboard_as_of_change_s", wait_for(page, redrawn, before))
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('.rpm-tile')].some("
        "e => e.innerText.startsWith('DSO') && !e.innerText.includes(t))",
        arg=dso_segment,
    )
    assert "2024-06-30" in page.locator(".js-plotly-plot").first.inner_text()

    # the formula behind a tile is one click away
    page.locator(".rpm-tile", has_text="DSO").first.get_by_role("button").click()
    page.wait_for_selector("text=AR_end / S × D")
    screenshot(page, "ar-dashboard-segment-formula")
    page.watch.check()


def test_data_quality_loads_a_source_and_refuses_a_bad_one(page, voila_server):
    (voila_server.data_root / "bad_flat.csv").write_text(BAD_FLAT, encoding="utf-8")
    record("data_quality_first_chart_s", open_app(page, voila_server, "01_data_quality.ipynb"))
    page.wait_for_selector("text=Loaded the sample ledger")
    screenshot(page, "data-quality")

    source = page.locator(".widget-text", has_text="Source").locator("input")
    source.fill("bad_flat.csv")
    page.get_by_role("button", name="Load", exact=True).click()
    shows_rejects = f"() => ({PLOT_JS}).includes('bad_date')"
    record("data_quality_load_change_s", wait_for(page, shows_rejects))
    page.wait_for_selector("text=2 rejected")
    screenshot(page, "data-quality-rejects")

    source.fill("/etc/hostname")
    page.get_by_role("button", name="Load", exact=True).click()
    notice = page.locator(".rpm-notice-error")
    notice.wait_for()
    assert notice.inner_text().startswith("This app may only read ledgers from its data folder")
    body = page.locator("body").inner_text()
    assert "/etc/hostname" not in body and "Traceback" not in body
    page.watch.check()


def _plot_titled(text: str) -> str:
    """JavaScript: the chart with ``text`` in its title (or a side-by-side half's title)."""
    return (
        "[...document.querySelectorAll('.js-plotly-plot')].find(gd => gd.layout && "
        "[(gd.layout.title || {}).text, ...(gd.layout.annotations || []).map(a => a.text)]"
        f".some(t => (t || '').includes({json.dumps(text)})))"
    )


def _sized(page, plot: str) -> None:
    """Wait until the chart ``plot`` (JavaScript) has been drawn at its container's width."""
    page.wait_for_function(
        f"() => {{ const gd = {plot}; return !!gd && !!gd._fullLayout && Math.abs("
        "gd._fullLayout.width - gd.parentElement.getBoundingClientRect().width) < 4; }"
    )


def test_payment_behaviour_renders_and_follows_its_controls(page, voila_server):
    record(
        "payment_behaviour_first_chart_s",
        open_app(page, voila_server, "03_payment_behaviour.ipynb"),
    )
    trends = _plot_titled("by month of payment")
    page.wait_for_function(f"() => !!({trends})")
    page.wait_for_function(
        f"() => ({trends}).querySelector('.main-svg').getBoundingClientRect().width"
        " > 0.9 * document.querySelector('.rpm-app').clientWidth"
    )
    assert page.locator(".js-plotly-plot").count() == 1  # other tabs draw when opened
    screenshot(page, "payment-behaviour")

    # a segment: the trend lines become that segment's one line
    segment = page.locator(".widget-dropdown", has_text="Segment").locator("select")
    options = segment.locator("option").all_inner_texts()
    segment.select_option(label=options[-1])
    only_segment = (
        f"([chosen, all]) => {{ const gd = {trends};"
        " const names = (gd.data || []).map(t => t.name).filter(n => all.includes(n)"
        " || n === 'all invoices');"
        " return names.length === 1 && names[0] === chosen; }"
    )
    record(
        "payment_behaviour_segment_change_s", wait_for(page, only_segment, [options[-1], options])
    )

    # an earlier as-of date: the trend ends there
    page.locator("input[type=date]").fill("2024-06-30")
    redrawn = f"() => ({trends}).layout.title.text.includes('2024-06-30')"
    record("payment_behaviour_as_of_change_s", wait_for(page, redrawn))
    assert "needs 24 complete months" in page.locator(".rpm-app").inner_text()

    # another tab draws its chart for the current controls when opened
    page.locator(".lm-TabBar-tab", has_text="Time to payment").click()
    km = _plot_titled("Unpaid share")
    start = time.monotonic()
    page.wait_for_function(
        f"(chosen) => {{ const gd = {km}; return !!gd && gd.layout.title.text.includes("
        "'2024-06-30') && (gd.data || []).some(t => t.name === chosen); }",
        arg=options[-1],
    )
    record("payment_behaviour_tab_open_s", time.monotonic() - start)
    page.wait_for_selector("text=One segment: no log-rank test")

    # back to every segment: the log-rank test compares them
    segment.select_option(label=options[0])
    page.wait_for_selector("text=Log-rank test that every segment has the same curve")
    # the method behind the curves is one click away
    page.get_by_text("How is this computed?").locator("visible=true").first.click()
    page.wait_for_selector("text=censored there")
    _sized(page, km)
    screenshot(page, "payment-behaviour-survival")

    page.locator(".lm-TabBar-tab", has_text="Changing payers").click()
    _sized(page, _plot_titled("payers, 2024-06-30"))
    screenshot(page, "payment-behaviour-payers")
    page.locator(".lm-TabBar-tab", has_text="Vintages").click()
    _sized(page, _plot_titled("Vintage curves, known at 2024-06-30"))
    screenshot(page, "payment-behaviour-vintages")
    page.locator(".lm-TabBar-tab", has_text="Roll rates").click()
    _sized(page, _plot_titled("Allowance by aging bucket"))
    page.wait_for_selector("text=Allowance by bucket at 2024-06-30")
    screenshot(page, "payment-behaviour-roll-rates")
    page.watch.check()
