"""Simulation figures: percentile bands of a measure over time, one colour per scenario."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["band_figure"]

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


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
):
    """A P10–P90 band and the P50 line per scenario, over time.

    Parameters
    ----------
    bands
        Scenario label → a frame with a date column (the first column) and
        ``p10, p50, p90`` (what :meth:`RunResult.bands` returns).
    title, y_title
        Figure and y-axis titles.
    currency
        When given, the y axis is money in this currency.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    from rpmkit.plots.core import money_axis

    fig = go.Figure()
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
            )
        )
    yaxis = money_axis(currency, y_title) if currency else {"title": {"text": y_title}}
    fig.update_layout(
        title={"text": title},
        yaxis=yaxis,
        hovermode="x unified",
        template="plotly_white",
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
