"""Figures of credit risk and the collector worklist: model quality, grades, ranked work.

Grades keep one colour each (A green … E dark red, the aging ramp: a worse
grade reads like an older bucket); actions keep one colour each.

>>> import pandas as pd
>>> s = pd.DataFrame(
...     {
...         "grade": list("ABCDE"),
...         "customers": [5, 4, 3, 2, 1],
...         "exposure": [10.0, 20, 30, 40, 50],
...         "past_due": [1.0, 2, 3, 4, 5],
...     }
... )
>>> fig = grade_bars(s, "USD")
>>> list(fig.data[0].x), fig.data[0].marker.color[0]
(['A', 'B', 'C', 'D', 'E'], '#2e7d32')
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rpmkit.plots.core import _empty, _figure, money_axis, side_by_side

__all__ = [
    "ACTION_COLOURS",
    "GRADE_COLOURS",
    "grade_bars",
    "model_quality",
    "strategy_curves",
    "worklist_bars",
    "worklist_curve",
    "worklist_view",
]

GRADE_COLOURS = {"A": "#2e7d32", "B": "#9ccc65", "C": "#f9a825", "D": "#ef6c00", "E": "#8b0000"}
ACTION_COLOURS = {
    "reminder": "#85c1e9",
    "call": "#1f4e79",
    "letter": "#8e44ad",
    "hold": "#ef6c00",
    "escalation": "#8b0000",
}
STRATEGY_COLOURS = {"ranked": "#1f4e79", "by_amount": "#f9a825", "by_age": "#8e44ad"}


def model_quality(roc: pd.DataFrame, calibration: pd.DataFrame, metrics: dict) -> go.Figure:
    """ROC curve (left) and predicted vs observed late share by decile (right)."""
    left = _figure(f"ROC curve (AUC {metrics.get('auc', np.nan):.3f})", 360)
    left.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="chance",
            line={"color": "#9e9e9e", "dash": "dot"},
            showlegend=False,
        )
    )
    left.add_trace(
        go.Scatter(
            x=roc["fpr"],
            y=roc["tpr"],
            mode="lines",
            name="model",
            line={"color": "#1f4e79", "width": 2.5},
            showlegend=False,
            hovertemplate="false-positive rate %{x:.2f}<br>"
            "true-positive rate %{y:.2f}<extra></extra>",
        )
    )
    left.update_xaxes(title_text="false-positive rate", range=[0, 1])
    left.update_yaxes(title_text="true-positive rate (late invoices found)", range=[0, 1.02])
    right = _figure("Calibration by decile", 360)
    right.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfect",
            line={"color": "#9e9e9e", "dash": "dot"},
            showlegend=False,
        )
    )
    right.add_trace(
        go.Scatter(
            x=calibration["predicted"],
            y=calibration["observed"],
            mode="markers+lines",
            name="observed",
            marker={"color": "#c0392b", "size": 8},
            line={"color": "#c0392b"},
            showlegend=False,
            error_y={
                "type": "data",
                "array": 2 * calibration["se"],
                "color": "#c0392b",
                "thickness": 1,
            },
            customdata=np.column_stack([calibration["bin"], calibration["n"]]),
            hovertemplate="decile %{customdata[0]} (%{customdata[1]:,} invoices)<br>"
            "predicted %{x:.1%}<br>observed %{y:.1%}<extra></extra>",
        )
    )
    right.update_xaxes(title_text="predicted P(late)", range=[0, 1], tickformat=".0%")
    right.update_yaxes(title_text="observed late share (±2 SE)", range=[0, 1.02], tickformat=".0%")
    return side_by_side(left, right)


def grade_bars(summary: pd.DataFrame, currency: str) -> go.Figure:
    """Exposure by risk grade, past-due part shaded, customers in the hover."""
    fig = _figure("Exposure by risk grade", 340)
    colours = [GRADE_COLOURS.get(g, "#9e9e9e") for g in summary["grade"]]
    current = summary["exposure"].to_numpy(float) - summary["past_due"].to_numpy(float)
    fig.add_trace(
        go.Bar(
            x=list(summary["grade"]),
            y=current,
            name="not past due",
            marker={"color": colours},
            customdata=summary["customers"],
            hovertemplate="grade %{x}: %{customdata:,} customers<br>"
            "not past due %{y:,.0f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=list(summary["grade"]),
            y=summary["past_due"],
            name="past due",
            marker={"color": colours, "pattern": {"shape": "/"}, "opacity": 0.55},
            hovertemplate="grade %{x}: past due %{y:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(barmode="stack", yaxis=money_axis(currency, "Open AR"))
    fig.update_xaxes(title_text="grade (A best … E worst)")
    return fig


def worklist_bars(actions: pd.DataFrame, currency: str, top: int = 15) -> go.Figure:
    """The top of the ranked worklist: expected cash per hour, one bar per customer."""
    fig = _figure("Top of today's worklist: expected cash per hour", 380)
    if actions.empty:
        return _empty(fig, "Nothing to work on this date.")
    shown = actions.head(top).iloc[::-1]
    labels = [f"{r}. {c}" for r, c in zip(shown["rank"], shown["customer_id"], strict=True)]
    for action, colour in ACTION_COLOURS.items():
        part = shown["action"] == action
        if not part.any():
            continue
        fig.add_trace(
            go.Bar(
                y=[lbl for lbl, keep in zip(labels, part, strict=True) if keep],
                x=shown.loc[part, "cash_per_hour"],
                orientation="h",
                name=action,
                marker={"color": colour},
                customdata=shown.loc[part, ["reason"]].to_numpy(),
                hovertemplate="%{customdata[0]}<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis={**money_axis(currency, "Expected cash per collector hour")},
        yaxis={"categoryorder": "array", "categoryarray": labels, "automargin": True},
        margin={"l": 110},
    )
    return fig


def worklist_curve(actions: pd.DataFrame, currency: str, hours: float | None = None) -> go.Figure:
    """Cumulative expected cash against collector hours down the ranked list.

    With ``hours`` the list splits at the team's capacity: the part worked is drawn
    solid, the rest dotted.
    """
    fig = _figure("Expected cash by hours worked", 340)
    if actions.empty:
        return _empty(fig, "Nothing to work on this date.")
    x = np.r_[0.0, actions["cumulative_hours"].to_numpy(float)]
    y = np.r_[0.0, np.cumsum(actions["expected_cash"].to_numpy(float))]
    k = len(x) if hours is None else int(np.searchsorted(x, hours + 1e-9, side="right"))
    fig.add_trace(
        go.Scatter(
            x=x[:k],
            y=y[:k],
            mode="lines",
            name="worked",
            line={"color": "#1f4e79", "width": 3},
            hovertemplate="%{x:.1f} h: %{y:,.0f}<extra></extra>",
        )
    )
    if k < len(x):
        fig.add_trace(
            go.Scatter(
                x=x[k - 1 :],
                y=y[k - 1 :],
                mode="lines",
                name="beyond capacity",
                line={"color": "#9e9e9e", "dash": "dot"},
                hovertemplate="%{x:.1f} h: %{y:,.0f}<extra></extra>",
            )
        )
    if hours is not None:
        # a trace, not a layout shape: it survives side_by_side and redraws in place
        fig.add_trace(
            go.Scatter(
                x=[hours, hours],
                y=[0.0, float(y[-1])],
                mode="lines",
                name=f"capacity {hours:g} h",
                line={"color": "#c0392b", "dash": "dash", "width": 1.5},
                hoverinfo="skip",
            )
        )
    fig.update_layout(yaxis=money_axis(currency, "Expected cash"))
    fig.update_xaxes(title_text="collector hours", rangemode="tozero")
    return fig


def worklist_view(actions: pd.DataFrame, currency: str, hours: float, top: int = 15) -> go.Figure:
    """The top of the list (left) and expected cash by hours with the capacity (right)."""
    worked = actions[actions["cumulative_hours"] <= hours + 1e-9]
    left = worklist_bars(worked, currency, top)
    left.update_layout(title={"text": f"Top of today's worklist ({len(worked):,} actions fit)"})
    right = worklist_curve(actions, currency, hours)
    fig = side_by_side(left, right, widths=(0.56, 0.44), gap=0.1)
    fig.update_layout(height=400, margin={"l": 100})
    return fig


def strategy_curves(curves: pd.DataFrame, currency: str) -> go.Figure:
    """Cash collected by hours worked for each ordering (:mod:`rpmkit.worklist.replay`)."""
    fig = _figure("Extra cash collected by effort, per ordering", 360)
    for name, part in curves.groupby("strategy", sort=False):
        fig.add_trace(
            go.Scatter(
                x=part["hours"],
                y=part["cash"],
                mode="lines",
                name=str(name).replace("_", " "),
                line={"color": STRATEGY_COLOURS.get(str(name), "#7f8c8d")},
                hovertemplate="%{x:.1f} h: %{y:,.0f}<extra></extra>",
            )
        )
    fig.update_layout(yaxis=money_axis(currency, "Extra cash"))
    fig.update_xaxes(title_text="collector hours")
    return fig
