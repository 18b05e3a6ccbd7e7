"""Simulation figures: percentile bands of a measure over time, one colour per scenario.

The same two colours mean the same thing everywhere: the first scenario of a
figure (the baseline, ``base``) is slate, the second (the changed policy,
``other``) is magenta; what the ledger itself says is drawn in dark grey.

>>> import pandas as pd
>>> days = pd.date_range("2025-01-01", periods=3)
>>> band = pd.DataFrame({"date": days, "p10": [1.0, 2, 3], "p50": [2.0, 3, 4], "p90": [3.0, 4, 5]})
>>> fig = band_figure({"baseline": band, "changed policy": band}, title="t", y_title="y")
>>> [t.name for t in fig.data if t.showlegend is not False]
['baseline P10–P90', 'baseline P50', 'changed policy P10–P90', 'changed policy P50']
>>> fig.data[2].line.color == SCENARIO_COLOURS[0], fig.data[5].line.color == SCENARIO_COLOURS[1]
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["LEDGER_COLOUR", "SCENARIO_COLOURS", "band_figure", "policy_figure", "scenario_colour"]

SCENARIO_COLOURS: tuple[str, ...] = ("#546e7a", "#c2185b", "#2ca02c", "#9467bd")
"""Scenario colours by position: baseline slate, changed policy magenta, then others.

Away from the aging ramp (green to dark red) and the segment blues, so a
scenario never reads as an age or a segment."""

LEDGER_COLOUR = "#262626"
"""What the ledger says (history, the due-date schedule of open items)."""

_PALETTE = SCENARIO_COLOURS


def scenario_colour(position: int) -> str:
    """The colour of the ``position``-th scenario of a figure (0: the baseline).

    >>> scenario_colour(0), scenario_colour(1)
    ('#546e7a', '#c2185b')
    """
    return SCENARIO_COLOURS[position % len(SCENARIO_COLOURS)]


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def band_figure(
    bands: Mapping[str, pd.DataFrame],
    *,
    title: str,
    y_title: str,
    currency: str | None = None,
    colours: Sequence[str] = _PALETTE,
    reference: pd.DataFrame | None = None,
    reference_name: str = "ledger",
    reference_dash: str = "solid",
    note: str | None = None,
    showlegend: bool = True,
):
    """A P10–P90 band and the P50 line per scenario, over time.

    Parameters
    ----------
    bands
        Scenario label → a frame with a date column (the first column) and
        ``p10, p50, p90`` (what :meth:`RunResult.bands` returns). May be empty.
    title, y_title
        Figure and y-axis titles.
    currency
        When given, the y axis is money in this currency.
    colours
        Colour of each scenario, by position (default :data:`SCENARIO_COLOURS`).
    reference
        Optional line of what the ledger says: a date column (the first) and ``value``.
    reference_name, reference_dash
        Its legend label and line dash (``solid``, ``dash``, ``dot``).
    note
        Optional text written in the middle of the plot (e.g. what to do next).
    showlegend
        False hides the scenarios' legend entries (the right half of a pair repeats
        the left); the reference line keeps its entry.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    from rpmkit.plots.core import money_axis

    money = currency is not None
    hover = "%{y:,.0f}" if money else "%{y:,.1f}"
    fig = go.Figure()
    if reference is not None and len(reference):
        fig.add_trace(
            go.Scatter(
                x=reference.iloc[:, 0],
                y=reference["value"],
                mode="lines",
                line={"color": LEDGER_COLOUR, "width": 1.6, "dash": reference_dash},
                name=reference_name,
                hovertemplate=f"{reference_name}: {hover}<extra></extra>",
            )
        )
    for k, (label, frame) in enumerate(bands.items()):
        colour = colours[k % len(colours)]
        x = frame.iloc[:, 0]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=frame["p90"],
                mode="lines",
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=label,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=frame["p10"],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=_rgba(colour, 0.2),
                name=f"{label} P10–P90",
                legendgroup=label,
                hoverinfo="skip",
                showlegend=showlegend,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=frame["p50"],
                mode="lines",
                line={"color": colour, "width": 2},
                name=f"{label} P50",
                legendgroup=label,
                hovertemplate=f"{label} P50: {hover}<extra></extra>",
                showlegend=showlegend,
            )
        )
    yaxis = money_axis(currency, y_title) if money else {"title": {"text": y_title}}
    fig.update_layout(
        title={"text": title},
        yaxis=yaxis,
        hovermode="x unified",
        template="plotly_white",
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
    )
    if note:
        fig.add_annotation(
            text=note,
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            font={"size": 13, "color": "#555"},
            bgcolor="rgba(255,255,255,0.85)",
        )
    return fig


def policy_figure(
    cash: Mapping[str, pd.DataFrame],
    open_ar: Mapping[str, pd.DataFrame],
    *,
    currency: str,
    due: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    note: str | None = None,
):
    """The policy simulator's chart: cumulative cash received (left) and open AR (right).

    Parameters
    ----------
    cash, open_ar
        Scenario label → bands (a date column, ``p10, p50, p90``), baseline first;
        both may be empty (before a run).
    currency
        Currency of both axes.
    due
        The open items' due-date schedule, cumulative (a date column and ``value``),
        drawn dashed on the cash side: what is owed and when it falls due.
    history
        Open AR as the ledger says it before the simulation starts (a date column and
        ``value``), drawn on the AR side.
    note
        Text written over both halves (e.g. "Press Run").

    Returns
    -------
    plotly.graph_objects.Figure
        One figure, the two halves side by side (:func:`rpmkit.plots.side_by_side`).

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.date_range("2025-01-01", periods=2)
    >>> due = pd.DataFrame({"date": days, "value": [10.0, 30.0]})
    >>> fig = policy_figure({}, {}, currency="USD", due=due, note="Press Run")
    >>> [t.name for t in fig.data], fig.layout.yaxis.tickprefix, fig.layout.yaxis.title.text
    (['open items falling due'], '$', None)
    """
    from rpmkit.plots.core import side_by_side

    left = band_figure(
        cash,
        title="Cash received, cumulative",
        y_title="cash received",
        currency=currency,
        reference=due,
        reference_name="open items falling due",
        reference_dash="dash",
        note=note,
    )
    right = band_figure(
        open_ar,
        title="Open AR",
        y_title="open AR",
        currency=currency,
        reference=history,
        reference_name="ledger",
        note=note,
        showlegend=False,
    )
    fig = side_by_side(left, right, gap=0.1)
    # The halves' titles name the measure; the legends go below, out of the titles' way.
    below = {"y": -0.09, "yanchor": "top", "orientation": "h"}
    fig.update_layout(
        hovermode="x unified",
        height=400,
        margin={"l": 90, "r": 20, "t": 48, "b": 20},
        legend={**below, "x": 0, "xanchor": "left"},
        legend2={**below, "x": 1, "xanchor": "right"},
    )
    fig.update_yaxes(title=None)
    return fig
