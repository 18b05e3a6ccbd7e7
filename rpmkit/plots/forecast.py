"""Cash-forecast figures: weekly bands, the AR and DSO outlook, back-test accuracy.

Open items are slate and new sales teal wherever they appear; the P10–P90 band is
a light grey ribbon around the dark P50 line; realised receipts are black
markers. In back-test figures the forecast is magenta and each baseline keeps one
grey-blue tone.

>>> import pandas as pd
>>> weekly = pd.DataFrame(
...     {
...         "start": pd.date_range("2024-07-01", periods=2, freq="7D"),
...         "p10": [80.0, 90],
...         "p50": [100.0, 110],
...         "p90": [120.0, 130],
...         "open_items": [90.0, 60],
...         "new_sales": [10.0, 50],
...         "ar_p10": [900.0, 880],
...         "ar_p50": [950.0, 930],
...         "ar_p90": [990.0, 970],
...         "dso": [50.0, 49],
...     }
... )
>>> fig = forecast_bands(weekly, "USD")
>>> [t.name for t in fig.data]
['open items', 'new sales', 'P10–P90', 'P50']
>>> fig.data[0].marker.color == PART_COLOURS["open items"]
True
>>> [t.name for t in outlook_figure(weekly, "USD").data]
['AR P10–P90', 'AR P50', 'DSO (P50)']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rpmkit.plots.core import _empty, _figure, _hover_money, money_axis

__all__ = ["METHOD_COLOURS", "PART_COLOURS", "backtest_lines", "forecast_bands", "outlook_figure"]

PART_COLOURS = {"open items": "#546e7a", "new sales": "#26a69a"}
"""The two sources of forecast cash."""
METHOD_COLOURS = {
    "forecast": "#c2185b",
    "due_date": "#90a4ae",
    "customer_average": "#78909c",
    "ets_receipts": "#5c6bc0",
    "seasonal_naive": "#8d6e63",
}
"""Back-test methods: the forecast magenta, baselines muted."""
METHOD_LABELS = {
    "forecast": "rpmkit forecast",
    "due_date": "due date",
    "customer_average": "customer avg days",
    "ets_receipts": "ETS on receipts",
    "seasonal_naive": "seasonal naive",
}
_BAND = "rgba(38,38,38,0.13)"
_P50 = "#262626"


def forecast_bands(
    weekly: pd.DataFrame,
    currency: str,
    actual: Sequence[float] | None = None,
    title: str = "Weekly cash receipts: forecast",
    height: int = 380,
) -> go.Figure:
    """Stacked mean cash from open items and new sales, the P10–P90 band and the P50 line."""
    fig = _figure(title, height)
    if weekly.empty:
        return _empty(fig, "No forecast")
    x = pd.to_datetime(weekly["start"])
    hover = _hover_money(currency)
    for col, name in (("open_items", "open items"), ("new_sales", "new sales")):
        fig.add_bar(
            x=x,
            y=weekly[col],
            name=name,
            marker_color=PART_COLOURS[name],
            opacity=0.75,
            hovertemplate=f"{name}: {hover}<extra></extra>",
        )
    fig.add_scatter(
        x=np.concatenate([x, x[::-1]]),
        y=np.concatenate([weekly["p90"], weekly["p10"][::-1]]),
        fill="toself",
        fillcolor=_BAND,
        line={"width": 0},
        name="P10–P90",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=x,
        y=weekly["p50"],
        mode="lines+markers",
        line={"color": _P50, "width": 2},
        name="P50",
        hovertemplate=f"P50: {hover}<extra></extra>",
    )
    if actual is not None:
        fig.add_scatter(
            x=x,
            y=list(actual),
            mode="markers",
            marker={"color": "black", "symbol": "x", "size": 9},
            name="actual",
            hovertemplate=f"actual: {hover}<extra></extra>",
        )
    fig.update_layout(barmode="stack", yaxis=money_axis(currency, "cash per week"), bargap=0.25)
    fig.update_xaxes(title_text="week starting", tickformat="%Y-%m-%d")
    return fig


def outlook_figure(
    weekly: pd.DataFrame,
    currency: str,
    title: str = "AR balance and DSO outlook",
    height: int = 320,
) -> go.Figure:
    """AR at each week end (P50 with the P10–P90 band) and DSO on a second axis."""
    fig = _figure(title, height)
    if weekly.empty:
        return _empty(fig, "No forecast")
    end = pd.to_datetime(weekly["start"]) + pd.Timedelta(days=6)
    fig.add_scatter(
        x=np.concatenate([end, end[::-1]]),
        y=np.concatenate([weekly["ar_p90"], weekly["ar_p10"][::-1]]),
        fill="toself",
        fillcolor="rgba(84,110,122,0.18)",
        line={"width": 0},
        name="AR P10–P90",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=end,
        y=weekly["ar_p50"],
        mode="lines+markers",
        line={"color": PART_COLOURS["open items"], "width": 2},
        name="AR P50",
        hovertemplate=f"AR: {_hover_money(currency)}<extra></extra>",
    )
    fig.add_scatter(
        x=end,
        y=weekly["dso"],
        mode="lines",
        line={"color": "#c2185b", "dash": "dot", "width": 2},
        name="DSO (P50)",
        yaxis="y2",
        hovertemplate="DSO: %{y:.1f} days<extra></extra>",
    )
    fig.update_layout(
        yaxis=money_axis(currency, "AR at week end"),
        yaxis2={
            "title": {"text": "DSO (days)"},
            "overlaying": "y",
            "side": "right",
            "range": [0, _dso_top(weekly["dso"])],
            # its own round ticks (not synced to the money axis's grid)
            "tickmode": "linear",
            "tick0": 0,
            "dtick": 10 if _dso_top(weekly["dso"]) <= 80 else 30,
            "tickformat": ".0f",
            "showgrid": False,
        },
        margin={"r": 60},
    )
    fig.update_xaxes(title_text="week ending", tickformat="%Y-%m-%d")
    return fig


def _dso_top(dso: pd.Series) -> float:
    """Top of the DSO axis: a fifth above the highest value (60 days when there is none)."""
    top = pd.to_numeric(dso, errors="coerce").max()
    return 60.0 if pd.isna(top) or top <= 0 else float(np.ceil(top * 1.2 / 10) * 10)


def backtest_lines(
    by_horizon: pd.DataFrame,
    measure: str = "wape",
    title: str | None = None,
    height: int = 340,
) -> go.Figure:
    """One line per method: ``measure`` (WAPE by default) per horizon week, in per cent."""
    label = {"wape": "WAPE", "bias": "bias", "pinball": "pinball loss"}.get(measure, measure)
    fig = _figure(title or f"Back-test {label} by horizon week", height)
    if by_horizon.empty:
        return _empty(fig, "No back-test")
    for method, rows in by_horizon.groupby(level="method", sort=False):
        weeks = rows.index.get_level_values("week")
        is_model = method == "forecast"
        fig.add_scatter(
            x=weeks,
            y=100 * rows[measure].astype(float),
            mode="lines+markers",
            name=METHOD_LABELS.get(method, method),
            line={
                "color": METHOD_COLOURS.get(method, "#9e9e9e"),
                "width": 3 if is_model else 1.5,
                "dash": "solid" if is_model else "dash",
            },
            hovertemplate=f"{METHOD_LABELS.get(method, method)}: %{{y:.1f}}%<extra></extra>",
        )
    fig.update_xaxes(title_text="horizon (weeks ahead)", dtick=1)
    fig.update_yaxes(title_text=f"{label} (%)", rangemode="tozero" if measure != "bias" else None)
    return fig
