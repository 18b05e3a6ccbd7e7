"""Survival figures: Kaplan–Meier curves with bands, and a hazard-ratio forest plot.

Data in, :class:`plotly.graph_objects.Figure` out, in the colours of
:mod:`rpmkit.plots.core` (segments keep their colour across apps).

>>> import pandas as pd
>>> curves = pd.DataFrame(
...     {
...         "group": ["smb", "smb", "enterprise"],
...         "days": [10, 30, 20],
...         "survival": [0.8, 0.4, 0.5],
...         "lower": [0.6, 0.2, 0.3],
...         "upper": [0.9, 0.6, 0.7],
...         "at_risk": [5, 4, 2],
...     }
... )
>>> fig = km_curves(curves)
>>> [t.name for t in fig.data if t.showlegend is not False]
['enterprise', 'smb']
>>> fig.data[-1].x, fig.data[-1].y  # the curve starts at 100 % unpaid on day 0
((0, 10, 30), (1.0, 0.8, 0.4))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rpmkit.plots.core import _empty, _figure, segment_colour

__all__ = ["hazard_forest", "km_curves"]

_X_TITLES = {
    "invoice": "days since invoice date",
    "due": "days beyond due date",
    "opened": "days since the dispute was opened",
}
_FASTER, _SLOWER, _UNCLEAR = "#2e7d32", "#c62828", "#7f8c8d"


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def km_curves(
    curves: pd.DataFrame,
    *,
    what: str = "time to payment",
    origin: str = "invoice",
    groups: Sequence[str] | None = None,
    bands: bool = True,
    title: str | None = None,
    height: int = 360,
) -> go.Figure:
    """Kaplan–Meier step curves by group with shaded pointwise confidence bands.

    Parameters
    ----------
    curves
        Tidy, as ``SurvivalResult.curves_``: ``group``, ``days``, ``survival``,
        ``lower``, ``upper`` and ``at_risk`` (one row per event time).
    what, origin
        What the event is and what day 0 is (``"invoice"``, ``"due"`` or
        ``"opened"``), for the title and axes.
    groups
        Groups to draw and their order; all, sorted, by default.
    bands
        Shade the band between ``lower`` and ``upper``.

    Each curve starts at 100 % on day ``min(0, first day)`` and steps down
    at each event time; y is the share still without the event (for
    payments: still unpaid).
    """
    title = title or f"Kaplan–Meier {what}"
    fig = _figure(title, height)
    if curves.empty:
        return _empty(fig, "No events to draw")
    names = [str(g) for g in (groups if groups is not None else sorted(curves["group"].unique()))]
    start = min(0, curves["days"].min())
    unpaid = "unpaid" if what == "time to payment" else "without the event"
    for g in names:
        part = curves[curves["group"].astype(str) == g].sort_values("days")
        if part.empty:
            continue
        colour = segment_colour(g, names)
        x = [start, *part["days"].tolist()]
        y = [1.0, *part["survival"].astype(float).tolist()]
        if bands:
            lo = [1.0, *part["lower"].astype(float).tolist()]
            hi = [1.0, *part["upper"].astype(float).tolist()]
            fig.add_scatter(
                x=x,
                y=hi,
                mode="lines",
                line={"width": 0, "shape": "hv"},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=g,
                name=f"{g} upper",
            )
            fig.add_scatter(
                x=x,
                y=lo,
                mode="lines",
                line={"width": 0, "shape": "hv"},
                fill="tonexty",
                fillcolor=_rgba(colour, 0.18),
                hoverinfo="skip",
                showlegend=False,
                legendgroup=g,
                name=f"{g} band",
            )
        at_risk = [int(part["at_risk"].iloc[0]), *part["at_risk"].astype(int).tolist()]
        fig.add_scatter(
            x=tuple(x),
            y=tuple(y),
            mode="lines",
            line={"color": colour, "width": 2.5, "shape": "hv"},
            name=g,
            legendgroup=g,
            customdata=at_risk,
            hovertemplate=f"{g} day %{{x}}: %{{y:.1%}} {unpaid}"
            "<br>%{customdata:,} at risk<extra></extra>",
        )
    fig.update_yaxes(
        title={"text": f"share still {unpaid}"}, tickformat=".0%", range=[0, 1.02], dtick=0.25
    )
    fig.update_xaxes(title={"text": _X_TITLES.get(origin, f"days since {origin}")}, zeroline=True)
    return fig


def hazard_forest(
    table: pd.DataFrame,
    *,
    alpha: float = 0.05,
    title: str = "What speeds up payment: Cox hazard ratios",
    height: int | None = None,
) -> go.Figure:
    """Hazard ratios with confidence intervals, on a log axis around 1.

    Parameters
    ----------
    table
        As ``PaymentHazards.summary()``: ``covariate``, ``hazard_ratio``,
        ``lower``, ``upper``, ``p_value`` and optionally ``unit``.
    alpha
        The intervals' ``1 − alpha`` level, for the hover text.

    Right of the line at 1 (green) pays faster, left (red) slower; grey
    where the interval includes 1.

    >>> t = pd.DataFrame(
    ...     {
    ...         "covariate": ["disputed", "log2_amount"],
    ...         "hazard_ratio": [0.5, 1.02],
    ...         "lower": [0.4, 0.99],
    ...         "upper": [0.6, 1.05],
    ...         "p_value": [1e-9, 0.2],
    ...     }
    ... )
    >>> hazard_forest(t).data[0].marker.color
    ('#c62828', '#7f8c8d')
    """
    rows = 0 if table is None else len(table)
    fig = _figure(title, height or max(260, 90 + 34 * rows))
    if rows == 0:
        return _empty(fig, "No hazard ratios to draw")
    hr = table["hazard_ratio"].to_numpy(dtype=float)
    lo = table["lower"].to_numpy(dtype=float)
    hi = table["upper"].to_numpy(dtype=float)
    colours = np.where(lo > 1, _FASTER, np.where(hi < 1, _SLOWER, _UNCLEAR)).tolist()
    units = table["unit"].astype(str).tolist() if "unit" in table else [""] * rows
    level = f"{(1 - alpha) * 100:g}%"
    fig.add_scatter(
        x=hr,
        y=table["covariate"].astype(str).tolist(),
        mode="markers",
        marker={"color": colours, "size": 10, "symbol": "square"},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": hi - hr,
            "arrayminus": hr - lo,
            "color": "#555",
            "thickness": 1.5,
            "width": 4,
        },
        customdata=np.column_stack([lo, hi, table["p_value"].to_numpy(dtype=float), units]),
        hovertemplate="%{y}: HR %{x:.3f} "
        f"({level} CI %{{customdata[0]:.3f}}–%{{customdata[1]:.3f}})"
        "<br>p = %{customdata[2]:.2g}<br>%{customdata[3]}<extra></extra>",
        showlegend=False,
        name="hazard ratio",
    )
    fig.add_vline(x=1, line={"color": "#333", "width": 1, "dash": "dot"})
    span = np.r_[lo, hi, 1.0]
    span = span[np.isfinite(span) & (span > 0)]
    left, right = np.log10(span.min()) - 0.05, np.log10(span.max()) + 0.05
    fig.update_xaxes(
        type="log",
        range=[left, right],
        title={"text": "hazard ratio (> 1 pays faster)"},
    )
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_layout(margin={"l": 10})
    return fig
