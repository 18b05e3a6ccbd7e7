"""Charts in apps: a ``FigureWidget`` per app, redrawn in place, sized to its container.

Under Voila, each chart's front-end code comes from one URL the browser caches
(:class:`ServedFigureWidget`), not as a 5 MB string inside every chart's state.
"""

from __future__ import annotations

import functools
import logging
import os

import anywidget
import ipywidgets as w
import plotly.graph_objects as go

from rpmkit.config import PLOTLY_BUNDLE_URL, serve_plotly_bundle

__all__ = ["ChartSlot", "ServedFigureWidget", "figure_widget", "refresh_figure"]

log = logging.getLogger("rpmkit.ui")

# anywidget imports a chart's ``_esm`` text as a module. This short one imports
# plotly's bundle from the Voila template's static route, the URL the template
# already started loading with the page: import() caches modules by URL, so the
# browser fetches and runs the bundle once per page, whatever the number of charts.
_LOADER_ESM = """
const base = (document.body && document.body.dataset.baseUrl) || "/voila/";
const bundle = await import(new URL(base + "BUNDLE", document.baseURI).href);
export default bundle.default;
"""


class ServedFigureWidget(go.FigureWidget):
    """A ``FigureWidget`` whose front end is loaded from the Voila server by URL.

    plotly's ``FigureWidget`` sends its whole 5 MB front-end bundle as part of
    every chart's widget state, and the browser compiles it again for each chart.
    Use only where the ``rpmkit`` template's static folder is served (under Voila);
    :func:`figure_widget` decides.
    """

    _esm = _LOADER_ESM.replace("BUNDLE", PLOTLY_BUNDLE_URL)


def _under_voila() -> bool:
    # Voila sets VOILA_KERNEL_ID in every kernel it starts (preheated ones too) before
    # running a notebook. RPMKIT_PLOTLY_INLINE=1 keeps plotly's default (bundle inline).
    return bool(os.environ.get("VOILA_KERNEL_ID")) and not os.environ.get("RPMKIT_PLOTLY_INLINE")


@functools.cache
def _bundle_ready() -> bool:
    # once per kernel: comparing the 5 MB bundle for every chart would sit on the
    # path to each chart
    try:
        serve_plotly_bundle()
    except OSError:
        log.warning("cannot copy plotly's widget bundle to %s; charts carry it inline", "static")
        return False
    return True


def _served() -> bool:
    return _under_voila() and _bundle_ready()


def figure_widget(fig: go.Figure, *, filename: str = "rpmkit-chart") -> go.FigureWidget:
    """A ``FigureWidget`` of ``fig`` whose camera button saves ``filename``.png.

    Under Voila it is a :class:`ServedFigureWidget`; in JupyterLab plotly's own.
    """
    fw = ServedFigureWidget(fig) if _served() else go.FigureWidget(fig)
    # plotly has no public setter for the widget's plot config; the camera button
    # (download as PNG) is how a chart is exported.
    fw._config = {
        "responsive": True,
        "displaylogo": False,
        "toImageButtonOptions": {"filename": filename, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }
    return fw


def _without(props: dict, keys: tuple[str, ...]) -> dict:
    return {k: v for k, v in props.items() if k not in keys}


def refresh_figure(fw: go.FigureWidget, fig: go.Figure) -> None:
    """Make ``fw`` show ``fig``: traces updated in place when their kinds match, in one batch."""
    new = [t.to_plotly_json() for t in fig.data]
    same = len(new) == len(fw.data) and all(
        t.type == n.get("type") for t, n in zip(fw.data, new, strict=True)
    )
    with fw.batch_update():
        if same:
            for trace, props in zip(fw.data, new, strict=True):
                old = trace.to_plotly_json()
                props = _without(props, ("type", "uid"))
                props.update({k: None for k in old if k not in props and k not in ("type", "uid")})
                trace.update(props, overwrite=True)
        else:
            fw.data = []
            fw.add_traces(list(fig.data))
        # width/height/autosize are the browser's to keep (it reports its own size back).
        keep = ("template", "width", "autosize")
        layout = _without(fig.layout.to_plotly_json(), keep)
        stale = _without(fw.layout.to_plotly_json(), keep)
        layout.update({k: None for k in stale if k not in layout})
        fw.layout.update(layout, overwrite=True)


_RESIZE_ESM = """
function watch(gd, seen) {
  if (!gd || seen.has(gd)) return;
  seen.add(gd);
  let queued = false;
  new ResizeObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      window.dispatchEvent(new Event("resize"));
    });
  }).observe(gd);
}
export default {
  render({ el }) {
    const seen = new WeakSet();
    const onRender = (event) => watch(event.detail && event.detail.element, seen);
    document.addEventListener("plotlywidget-after-render", onRender);
    document.querySelectorAll(".js-plotly-plot").forEach((gd) => watch(gd, seen));
    el.style.display = "none";
    return () => document.removeEventListener("plotlywidget-after-render", onRender);
  },
};
"""


class _PlotResizer(anywidget.AnyWidget):
    """Makes each plotly chart take its container's width once it is on the page.

    A ``FigureWidget`` draws itself before its element is attached, measures no
    width and falls back to plotly's 700 px default; nothing resizes it later.
    This watches every chart's element and, when its size changes (it got
    attached), fires the window ``resize`` event that plotly's ``responsive``
    charts listen to.
    """

    _esm = _RESIZE_ESM


class ChartSlot(w.VBox):
    """Where an app's chart lives: a ``FigureWidget`` made from the first figure shown.

    A ``FigureWidget`` sends later changes as messages to views that exist, and
    an app computes its first state before anyone displays it; so the widget is
    created with the first figure's data, and only later figures update it in place
    (:func:`refresh_figure`).
    """

    def __init__(self, filename: str) -> None:
        # A column stretches its child to the full width; plotly then sizes to it.
        super().__init__(layout=w.Layout(width="100%", align_items="stretch"))
        self._filename = filename
        self.figure: go.FigureWidget | None = None

    def show(self, fig: go.Figure) -> None:
        if self.figure is None:
            self.figure = figure_widget(fig, filename=self._filename)
            self.children = (_PlotResizer(), self.figure)
        else:
            refresh_figure(self.figure, fig)
