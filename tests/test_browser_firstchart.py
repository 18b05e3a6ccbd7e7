"""The first chart on screen before the kernel connects, then handed to the live chart.

The page carries the figure of a cell's first chart (``rpmkit.ui.charts.first_chart_output``);
the ``rpmkit`` Voila template draws it as soon as plotly's bundle has run and removes it
once the live ``FigureWidget`` in the same slot has drawn. The browser test watches that
sequence with a recorder installed before the page's own scripts, checks the slot ends
with one chart, the live one, showing what the early drawing showed, and that a control
still drives it. The other tests check the Python side without a browser.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest
from browser_support import open_app_live, record, screenshot, wait_for

from rpmkit.ui import charts

pytestmark = pytest.mark.browser

# Times (ms since navigation) of what the page did, and the early drawing's traces.
RECORDER = r"""
window.__rpm = {};
const at = (name) => { if (!(name in window.__rpm)) window.__rpm[name] = performance.now(); };
// _fullData: the values plotly draws (the page's figure carries typed arrays encoded)
const traces = (gd) =>
  JSON.stringify((gd._fullData || []).map(t => [t.name, Array.from(t.y || [])]));
const NativeSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new NativeSocket(...args);
  socket.addEventListener("open", () => at("socket"));
  return socket;
};
window.WebSocket.prototype = NativeSocket.prototype;
Object.assign(window.WebSocket, NativeSocket);
new MutationObserver(() => {
  const early = document.querySelector(".rpm-first-chart .js-plotly-plot");
  if (early && early.querySelector(".main-svg") && !("early" in window.__rpm)) {
    at("early");
    window.__rpm.earlyTraces = traces(early);
    window.__rpm.earlyVisible = early.getBoundingClientRect().width > 0;
  }
  if ("early" in window.__rpm && !document.querySelector(".rpm-first-chart")) at("handed");
  if (document.querySelector(".jupyter-widgets")) at("widgets");
}).observe(document, { childList: true, subtree: true });
"""

SLOT_CHART = (
    "() => { const slot = document.querySelector('[class*=\"rpm-slot-\"]');"
    " const gds = slot ? slot.querySelectorAll('.js-plotly-plot') : [];"
    " return [gds.length, gds.length ? JSON.stringify([...gds[0]._fullData].map("
    "t => [t.name, Array.from(t.y || [])])) : ''];"
    " }"
)


def test_first_chart_comes_before_the_kernel_and_hands_over(page, voila_server):
    page.add_init_script(RECORDER)
    first, live = open_app_live(page, voila_server, "02_ar_dashboard.ipynb")
    record("ar_dashboard_first_chart_on_screen_s", first)
    record("ar_dashboard_live_chart_s", live)
    marks = page.evaluate("window.__rpm")
    # drawn from the page, visible, before the widgets existed and before the live chart
    assert marks["earlyVisible"], marks
    assert marks["early"] < marks["widgets"] < marks["handed"], marks
    record("ar_dashboard_early_before_socket_s", (marks["socket"] - marks["early"]) / 1000)
    # the page carried one early chart (a cell's first), and Voila left it alone
    carried = page.evaluate(
        """() => [...document.querySelectorAll(
            'script[type="application/vnd.voila.cell-output+json"]')]
            .filter(s => s.textContent.includes('application/vnd.rpmkit.first-chart+json'))
            .length"""
    )
    assert carried == 1
    # one chart in the slot, the live one, showing the same traces the early one showed
    count, live_traces = page.evaluate(SLOT_CHART)
    assert count == 1
    assert page.locator(".rpm-first-chart").count() == 0
    early = json.loads(marks["earlyTraces"])
    assert early and json.loads(live_traces) == early
    assert any(name for name, _ in early) and any(len(y) for _, y in early)

    # the live chart follows the controls: an earlier as-of date redraws it
    page.locator("input[type=date]").fill("2024-06-30")
    changed = (
        "(before) => { const slot = document.querySelector('[class*=\"rpm-slot-\"]');"
        " const gd = slot && slot.querySelector('.js-plotly-plot');"
        " return gd && JSON.stringify([...gd._fullData].map("
        "t => [t.name, Array.from(t.y || [])])) !== before; }"
    )
    record("ar_dashboard_as_of_after_handover_s", wait_for(page, changed, live_traces))
    count, after = page.evaluate(SLOT_CHART)
    assert count == 1 and json.loads(after) != early
    assert "2024-06-30" in page.locator(".js-plotly-plot").first.inner_text()
    screenshot(page, "first-chart-handed-over")
    page.watch.check()


# ----------------------------------------------------------------- Python side


@pytest.fixture
def in_a_voila_cell(monkeypatch):
    """ChartSlot.show as if run by a cell under Voila; collects what it displays."""
    shown: list[dict] = []
    cell = {"id": "cell-1"}
    monkeypatch.setattr(charts, "_served", lambda: True)
    monkeypatch.setattr(charts, "_running_cell", lambda: cell["id"])
    monkeypatch.setattr("IPython.display.display", lambda bundle, raw=False: shown.append(bundle))
    monkeypatch.delenv("RPMKIT_FIRST_CHART", raising=False)
    charts._cells_with_first_chart.clear()
    yield shown, cell
    charts._cells_with_first_chart.clear()


def _bars(values) -> go.Figure:
    return go.Figure(go.Bar(x=["current", "1-30"], y=values, name="all"))


def test_one_early_chart_per_cell_for_the_first_slot(in_a_voila_cell, monkeypatch):
    shown, cell = in_a_voila_cell
    monkeypatch.setattr(charts, "ServedFigureWidget", go.FigureWidget)  # no anywidget front end
    first, second = charts.ChartSlot("a"), charts.ChartSlot("b")
    first.show(_bars([10, 20]))
    second.show(_bars([1, 2]))
    first.show(_bars([30, 40]))  # an update, not a first chart
    assert len(shown) == 1
    spec = shown[0][charts.FIRST_CHART_MIME]
    assert spec["slot"] == first.model_id
    assert f"rpm-slot-{first.model_id}" in first._dom_classes
    trace = spec["figure"]["data"][0]
    assert trace["type"] == "bar" and trace["x"] == ["current", "1-30"]
    assert spec["config"]["toImageButtonOptions"]["filename"] == "a"
    # the next cell gets its own early chart
    cell["id"] = "cell-2"
    charts.ChartSlot("c").show(_bars([5, 6]))
    assert len(shown) == 2


def test_no_early_chart_outside_a_cell_when_switched_off_or_too_big(in_a_voila_cell, monkeypatch):
    shown, cell = in_a_voila_cell
    monkeypatch.setattr(charts, "ServedFigureWidget", go.FigureWidget)
    cell["id"] = None  # a callback or a worker thread
    charts.ChartSlot("a").show(_bars([1, 2]))
    cell["id"] = "cell-3"
    monkeypatch.setenv("RPMKIT_FIRST_CHART", "live")
    charts.ChartSlot("b").show(_bars([1, 2]))
    monkeypatch.delenv("RPMKIT_FIRST_CHART")
    monkeypatch.setattr(charts, "FIRST_CHART_MAX_CHARS", 50)
    charts.ChartSlot("c").show(_bars([1, 2]))
    assert shown == []
    with pytest.raises(ValueError, match="slot's model id"):
        charts.first_chart_output(_bars([1]), slot="", config={})
