"""Figures for cash application and disputes: data in, ``go.Figure`` out.

Examples
--------
>>> import pandas as pd
>>> curve = pd.DataFrame(
...     {
...         "threshold": [0.0, 0.5, 1.0],
...         "auto_rate": [1.0, 0.9, 0.0],
...         "envelope_rate": [0.95, 0.89, 0.0],
...         "error_rate": [0.05, 0.01, 0.0],
...         "precision": [0.95, 0.99, float("nan")],
...     }
... )
>>> fig = threshold_curve(curve, 0.5)
>>> [t.name for t in fig.data]
['auto-applied', 'auto-applied and right', 'errors (auto-applied wrongly)', 'threshold 0.50']
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from rpmkit.plots.core import _empty, _figure, compact_money, currency_prefix

__all__ = ["threshold_curve", "rate_bars", "dispute_pareto"]

AUTO = "#1f77b4"
RIGHT = "#2e7d32"
ERROR = "#c62828"


def threshold_curve(curve: pd.DataFrame, threshold: float, height: int = 340) -> go.Figure:
    """Auto-match rate and error rate against the confidence threshold, with a marker at it."""
    fig = _figure("Auto-match vs errors over the threshold", height)
    if curve.empty:
        return _empty(fig, "No payments to score")
    x = curve["threshold"]
    fig.add_scatter(x=x, y=100 * curve["auto_rate"], name="auto-applied", line={"color": AUTO})
    fig.add_scatter(
        x=x, y=100 * curve["envelope_rate"], name="auto-applied and right", line={"color": RIGHT}
    )
    fig.add_scatter(
        x=x,
        y=100 * curve["error_rate"],
        name="errors (auto-applied wrongly)",
        line={"color": ERROR},
        yaxis="y2",
    )
    at = curve.iloc[(curve["threshold"] - threshold).abs().argsort().iloc[0]]
    fig.add_scatter(
        x=[threshold],
        y=[100 * at["auto_rate"]],
        name=f"threshold {threshold:.2f}",
        mode="markers",
        marker={"size": 13, "color": "black", "symbol": "diamond"},
    )
    fig.add_vline(x=threshold, line={"color": "#999", "dash": "dot"})
    fig.update_layout(
        xaxis={"title": {"text": "confidence threshold"}, "range": [0, 1.0]},
        yaxis={"title": {"text": "% of payments"}, "rangemode": "tozero"},
        yaxis2={
            "title": {"text": "% wrongly applied", "font": {"color": ERROR}},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "tickformat": ".1f",
            "showgrid": False,
        },
        margin={"l": 60, "r": 60, "t": 50, "b": 50},
    )
    return fig


def rate_bars(table: pd.DataFrame, title: str, height: int = 340) -> go.Figure:
    """Envelope auto-match rate per row of ``table`` (by rule or noise type), with counts."""
    fig = _figure(title, height)
    if table.empty:
        return _empty(fig, "Nothing to show")
    rate = 100 * table["envelope_rate"]
    fig.add_bar(
        y=[str(i) for i in table.index],
        x=rate,
        orientation="h",
        marker={"color": RIGHT},
        text=[f"{r:.1f}% of {int(n):,}" for r, n in zip(rate, table["payments"], strict=True)],
        textposition="auto",
        name="auto-matched right",
    )
    fig.update_layout(
        xaxis={"title": {"text": "% of payments auto-matched right"}, "range": [0, 100]},
        yaxis={"autorange": "reversed"},
        margin={"l": 130, "r": 20, "t": 50, "b": 50},
        showlegend=False,
    )
    return fig


def dispute_pareto(pareto: pd.DataFrame, currency: str, height: int = 340) -> go.Figure:
    """Disputes by reason code, most frequent first, with the cumulative share of the count.

    ``pareto`` has ``disputes``, ``amount`` (reporting currency units) and
    ``cumulative_share`` (percent) per reason code; bars are labelled with the amount.
    """
    fig = _figure("Dispute reasons (Pareto by count)", height)
    if pareto.empty:
        return _empty(fig, "No disputes")
    reasons = [str(r) for r in pareto.index]
    fig.add_bar(
        x=reasons,
        y=pareto["disputes"],
        name="disputes",
        marker={"color": "#8e44ad"},
        text=[compact_money(a, currency) for a in pareto["amount"]],
        textposition="auto",
        customdata=pareto["amount"],
        hovertemplate="%{x}: %{y:,d} disputes, "
        + currency_prefix(currency)
        + "%{customdata:,.2f}<extra></extra>",
    )
    fig.add_scatter(
        x=reasons,
        y=pareto["cumulative_share"],
        name="cumulative % of disputes",
        yaxis="y2",
        line={"color": "#34495e"},
    )
    fig.update_layout(
        yaxis={"title": {"text": "disputes"}, "tickformat": ",d", "rangemode": "tozero"},
        yaxis2={
            "title": {"text": "cumulative %"},
            "overlaying": "y",
            "side": "right",
            "range": [0, 105],
            "tickvals": [0, 25, 50, 75, 100],
            "ticksuffix": "%",
            "showgrid": False,
        },
        margin={"l": 70, "r": 70, "t": 50, "b": 50},
    )
    return fig
