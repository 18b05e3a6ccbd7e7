"""Charts in apps: a ``FigureWidget`` per app, redrawn in place, sized to its container.

Under Voila, each chart's front-end code comes from one URL the browser caches
(:class:`ServedFigureWidget`), not as a 5 MB string inside every chart's state, and
the first chart of a cell is also drawn before the kernel connects
(:func:`first_chart_output`): the page carries its figure, the ``rpmkit`` template
draws it as soon as plotly's bundle runs and hands its place to the live chart.

Examples
--------
>>> import plotly.graph_objects as go
>>> fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
>>> out = first_chart_output(fig, slot="m1", config={"displaylogo": False})
>>> spec = out[FIRST_CHART_MIME]
>>> spec["slot"], spec["figure"]["data"][0]["type"], spec["config"]
('m1', 'bar', {'displaylogo': False})
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading

import anywidget
import ipywidgets as w
import plotly.graph_objects as go

from rpmkit.config import PLOTLY_BUNDLE_URL, serve_plotly_bundle

__all__ = [
    "FIRST_CHART_MIME",
    "ChartSlot",
    "ServedFigureWidget",
    "figure_widget",
    "first_chart_output",
    "refresh_figure",
]

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


def _plot_config(filename: str) -> dict:
    # the camera button (download as PNG) is how a chart is exported
    return {
        "responsive": True,
        "displaylogo": False,
        "toImageButtonOptions": {"filename": filename, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }


def figure_widget(fig: go.Figure, *, filename: str = "rpmkit-chart") -> go.FigureWidget:
    """A ``FigureWidget`` of ``fig`` whose camera button saves ``filename``.png.

    Under Voila it is a :class:`ServedFigureWidget`; in JupyterLab plotly's own.
    """
    fw = ServedFigureWidget(fig) if _served() else go.FigureWidget(fig)
    # plotly has no public setter for the widget's plot config
    fw._config = _plot_config(filename)
    return fw


FIRST_CHART_MIME = "application/vnd.rpmkit.first-chart+json"
"""The output type the ``rpmkit`` Voila template draws as a cell's first chart.

Voila's front end has no renderer for it and leaves it alone; JupyterLab never
gets one (:meth:`ChartSlot.show` emits it only under Voila).
"""

FIRST_CHART_MAX_CHARS = 400_000
"""A bigger figure is not repeated in the page: its bytes would cost more than they save."""

# message ids of the cells (execute requests) that already carry a first chart
_cells_with_first_chart: set[str] = set()


def first_chart_output(fig: go.Figure, *, slot: str, config: dict) -> dict:
    """The output that lets the page draw ``fig`` before the kernel connects.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure the live chart starts with.
    slot : str
        The model id of the :class:`ChartSlot` the live chart goes in; the page finds
        the slot by its ``rpm-slot-<id>`` class, moves the early drawing into it and
        removes the drawing once the live chart has drawn.
    config : dict
        plotly.js config of the live chart (so both look and export the same).

    Returns
    -------
    dict
        A mime bundle with :data:`FIRST_CHART_MIME` only, for ``display(..., raw=True)``.
    """
    # plotly's own encoder: numpy arrays become typed-array specs plotly.js reads
    return _first_chart_bundle(fig.to_json(), slot, config)


def _first_chart_bundle(figure_json: str, slot: str, config: dict) -> dict:
    if not slot:
        raise ValueError("first_chart_output needs the slot's model id")
    figure = json.loads(figure_json)
    return {FIRST_CHART_MIME: {"slot": slot, "figure": figure, "config": config}}


def _running_cell() -> str | None:
    """The message id of the cell being run, when called from the cell itself.

    Callbacks (comm messages) and worker threads answer ``None``: their output
    would not land where the page can draw it before the widgets.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipywidgets needs IPython
        return None
    shell = get_ipython()
    header = (getattr(shell, "parent_header", None) or {}).get("header") or {}
    if header.get("msg_type") != "execute_request":
        return None
    return header.get("msg_id") or None


def _announce_first_chart(fig: go.Figure, slot: str, config: dict) -> None:
    # once per cell: the page draws one chart early; the rest arrive live, and a
    # chart in a tab not yet shown must not appear above the app meanwhile
    if not _served() or os.environ.get("RPMKIT_FIRST_CHART") == "live":
        return
    cell = _running_cell()
    if cell is None or cell in _cells_with_first_chart:
        return
    _cells_with_first_chart.add(cell)
    try:
        text = fig.to_json()
        if len(text) > FIRST_CHART_MAX_CHARS:
            return
        bundle = _first_chart_bundle(text, slot, config)
    except (TypeError, ValueError) as exc:  # an unusual figure: the live chart suffices
        log.info("no early drawing of a chart: %s", exc)
        return
    from IPython.display import display

    display(bundle, raw=True)


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
        # where the page puts the early drawing of this slot's first chart
        self.add_class(f"rpm-slot-{self.model_id}")

    def show(self, fig: go.Figure) -> None:
        """Show ``fig``: the first one creates the chart, later ones update it in place."""
        if self.figure is None:
            self.figure = figure_widget(fig, filename=self._filename)
            self.children = (_PlotResizer(), self.figure)
            _announce_first_chart(fig, self.model_id, self.figure._config)
        else:
            refresh_figure(self.figure, fig)
