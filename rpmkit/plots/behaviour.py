"""Figures of payment behaviour: trend lines by segment, seasonal panels, trend intervals.

Data in, :class:`plotly.graph_objects.Figure` out; the frames come from
:mod:`rpmkit.behaviour` (``payment_trends``, ``TrendDecomposition.summary()``,
``PaymentProfiles.flagged()``). Segments keep their colours of
:func:`rpmkit.plots.core.segment_colour`; the all-invoices line is dark grey.

>>> import pandas as pd
>>> trends = pd.DataFrame(
...     {
...         "period": pd.to_datetime(["2024-01-01", "2024-02-01"] * 2),
...         "segment": ["smb", "smb", "(all)", "(all)"],
...         "days_to_pay": [40.0, 42.0, 35.0, 36.0],
...     }
... )
>>> fig = payment_trend_lines(trends)
>>> [t.name for t in fig.data], fig.data[0].line.color
(['smb', 'all invoices'], '#85c1e9')
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rpmkit.plots.core import (
    _base_layout,
    _empty,
    _figure,
    _use_template,
    money_axis,
    segment_colour,
)

__all__ = ["decomposition_panels", "payment_trend_lines", "slope_intervals"]

_ALL = "(all)"
_ALL_COLOUR = "#333333"
_DETERIORATING = "#c0392b"
_IMPROVING = "#2e7d32"
_MEASURES = {
    "days_to_pay": "days to pay",
    "days_to_pay_amount_weighted": "days to pay (amount-weighted)",
    "days_beyond_terms": "days beyond terms",
    "days_beyond_terms_amount_weighted": "days beyond terms (amount-weighted)",
    "late_share": "share paid late (%)",
}


def _value_axis(unit: str, currency: str | None) -> dict:
    if currency:
        return money_axis(currency)
    return {"title": {"text": unit}, "tickformat": ",.0f"}


def payment_trend_lines(
    trends: pd.DataFrame,
    *,
    measure: str = "days_to_pay",
    by: str = "segment",
    seasonal: pd.Series | None = None,
    title: str | None = None,
    height: int = 380,
) -> go.Figure:
    """One line per group over time, the all-invoices line dashed; optionally a seasonal panel.

    Parameters
    ----------
    trends
        Tidy: ``period``, the group column ``by`` and the ``measure`` column, as
        :func:`rpmkit.behaviour.payment_trends` returns.
    measure
        ``days_to_pay``, ``days_beyond_terms``, their ``_amount_weighted``
        versions or ``late_share``.
    seasonal
        A seasonal component indexed by date (``TrendDecomposition.seasonal_``),
        drawn in a second panel below on the same time axis.
    """
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {sorted(_MEASURES)}, got {measure!r}")
    label = _MEASURES[measure]
    title = title or f"{label[0].upper()}{label[1:]} by {by}"
    rows = 1 if seasonal is None else 2
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3] if rows == 2 else [1.0],
        vertical_spacing=0.08,
    )
    fig.update_layout(**_base_layout(title, height if rows == 1 else height + 140))
    _use_template(fig)
    if trends.empty:
        return _empty(fig, "No paid invoices in this range")
    groups = [str(g) for g in pd.unique(trends[by]) if str(g) != _ALL]
    for g in [*groups, _ALL]:
        part = trends[trends[by].astype(str) == g].sort_values("period")
        if part.empty:
            continue
        overall = g == _ALL
        name = "all invoices" if overall else g
        fig.add_scatter(
            x=pd.to_datetime(part["period"]),
            y=part[measure].astype("float64"),
            name=name,
            mode="lines+markers",
            line={
                "color": _ALL_COLOUR if overall else segment_colour(g, groups),
                "width": 3 if overall else 2,
                "dash": "dash" if overall else "solid",
            },
            marker={"size": 5},
            hovertemplate=f"{name} %{{x|%Y-%m}}: %{{y:,.1f}}<extra></extra>",
            row=1,
            col=1,
        )
    fig.update_yaxes(title={"text": label}, tickformat=",.0f", row=1, col=1)
    if seasonal is not None:
        fig.add_bar(
            x=pd.to_datetime(pd.Series(seasonal.index)),
            y=np.asarray(seasonal, dtype=float),
            name="seasonal component",
            marker={"color": np.where(np.asarray(seasonal) >= 0, "#2e86c1", "#aab7c4").tolist()},
            hovertemplate="season %{x|%Y-%m}: %{y:+,.1f}<extra></extra>",
            row=2,
            col=1,
        )
        fig.update_yaxes(title={"text": "seasonal"}, tickformat="+,.0f", row=2, col=1)
    fig.update_xaxes(tickformat="%Y-%m")
    return fig


def decomposition_panels(
    components: pd.DataFrame,
    *,
    title: str = "Seasonal decomposition",
    unit: str = "",
    currency: str | None = None,
    height: int = 480,
) -> go.Figure:
    """Observed with its trend (top), seasonal (middle) and residual (bottom) panels.

    ``components`` has ``observed``, ``trend``, ``seasonal`` and ``resid``
    columns indexed by date (``TrendDecomposition.summary()``); ``currency``
    formats the value axes as money.
    """
    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, row_heights=[0.5, 0.25, 0.25], vertical_spacing=0.06
    )
    fig.update_layout(**_base_layout(title, height))
    _use_template(fig)
    if components.empty:
        return _empty(fig, "Nothing to decompose")
    x = pd.to_datetime(pd.Series(components.index))
    fig.add_scatter(
        x=x,
        y=components["observed"],
        name="observed",
        mode="lines+markers",
        line={"color": "#7f8c8d", "width": 1.5},
        marker={"size": 4},
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=x,
        y=components["trend"],
        name="trend",
        line={"color": "#1f4e79", "width": 3},
        row=1,
        col=1,
    )
    fig.add_bar(
        x=x, y=components["seasonal"], name="seasonal", marker={"color": "#2e86c1"}, row=2, col=1
    )
    fig.add_bar(
        x=x, y=components["resid"], name="residual", marker={"color": "#aab7c4"}, row=3, col=1
    )
    for row, name in ((1, unit or "value"), (2, "seasonal"), (3, "residual")):
        axis = _value_axis(name, currency)
        axis["title"] = {"text": name}
        fig.update_yaxes(**axis, row=row, col=1)
    fig.update_xaxes(tickformat="%Y-%m")
    return fig


def slope_intervals(
    flagged: pd.DataFrame,
    *,
    flag: str = "deteriorating",
    by: str = "customer",
    title: str | None = None,
    height: int = 360,
) -> go.Figure:
    """Trend slope (days per year) with its confidence interval, one row per group.

    ``flagged`` is ``PaymentProfiles.flagged()``: indexed by group, with
    ``slope_days_per_year``, ``slope_low``, ``slope_high`` and, when present,
    ``q_value``, ``days_beyond_terms`` and ``segment`` shown on hover. The
    strongest evidence is drawn on top; zero is a dotted line.
    """
    title = title or f"{flag.capitalize()} payers: trend in days beyond terms"
    fig = _figure(title, height)
    if flagged.empty:
        return _empty(fig, f"No {flag} payers flagged")
    part = flagged.iloc[::-1]  # plotly draws the first category at the bottom
    slope = part["slope_days_per_year"].to_numpy(dtype=float)
    names = [str(i) for i in part.index]
    q = part["q_value"].to_numpy(dtype=float) if "q_value" in part else np.full(len(part), np.nan)
    dbt = (
        part["days_beyond_terms"].to_numpy(dtype=float)
        if "days_beyond_terms" in part
        else np.full(len(part), np.nan)
    )
    fig.add_scatter(
        x=slope,
        y=names,
        mode="markers",
        marker={"color": _DETERIORATING if flag == "deteriorating" else _IMPROVING, "size": 9},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": part["slope_high"].to_numpy(dtype=float) - slope,
            "arrayminus": slope - part["slope_low"].to_numpy(dtype=float),
            "thickness": 1.5,
        },
        customdata=np.c_[q, dbt],
        hovertemplate=(
            f"{by} %{{y}}: %{{x:+,.1f}} days/year<br>q = %{{customdata[0]:.2g}}"
            "<br>mean days beyond terms %{customdata[1]:,.1f}<extra></extra>"
        ),
        showlegend=False,
    )
    fig.add_vline(x=0, line={"color": "#777", "dash": "dot", "width": 1})
    fig.update_xaxes(title={"text": "change in days beyond terms per year"}, zeroline=False)
    fig.update_yaxes(type="category", automargin=True)
    fig.update_layout(height=max(height, 90 + 22 * len(part)))
    return fig
