"""Roll-rate figures: the transition-matrix heatmap, the allowance by bucket, stability lines.

Data in, :class:`plotly.graph_objects.Figure` out, no widgets; the frames are the
ones :class:`rpmkit.rollrate.RollRates` exposes (``matrix_``, ``counts_``,
``allowance_`` in currency units, ``monthly_``). Buckets keep the aging colours
of :mod:`rpmkit.plots.core`.

>>> import pandas as pd
>>> m = pd.DataFrame(
...     [[0.6, 0.3, 0.1, 0.0], [0.0, 0.5, 0.4, 0.1]],
...     index=["current", "1-30"],
...     columns=["current", "1-30", "paid", "written_off"],
... )
>>> fig = transition_heatmap(m)
>>> fig.data[0].text[1]
['', '50.0%', '40.0%', '10.0%']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rpmkit.plots.core import (
    _empty,
    _figure,
    bucket_colours,
    compact_money,
    currency_prefix,
    money_axis,
)

__all__ = ["allowance_bars", "roll_rate_stability", "transition_heatmap"]

_STATE_NAMES = {"paid": "paid", "written_off": "written off"}
# White to the dark blue of the enterprise segment: a probability, not an age or a segment.
_SCALE = [[0.0, "#ffffff"], [0.15, "#deebf7"], [0.5, "#6baed6"], [1.0, "#1f4e79"]]


def _name(state) -> str:
    return _STATE_NAMES.get(str(state), str(state))


def _percent(p: float) -> str:
    if not np.isfinite(p):
        return "–"
    if p == 0:
        return ""
    return f"{p:.1%}" if p >= 0.001 else "<0.1%"


def transition_heatmap(
    matrix: pd.DataFrame,
    *,
    counts: pd.DataFrame | None = None,
    title: str = "Month-over-month transitions",
    height: int = 380,
) -> go.Figure:
    """The transition matrix as a heatmap with each probability written in its cell.

    Parameters
    ----------
    matrix
        Probabilities, rows = state at a month end (buckets), columns = state
        at the next month end; ``RollRates.summary()``.
    counts
        Invoices behind each cell, same shape, shown on hover.
    """
    fig = _figure(title, height)
    if matrix.empty:
        return _empty(fig, "No transitions in the window")
    z = matrix.to_numpy(dtype=np.float64)
    rows = [_name(s) for s in matrix.index]
    cols = [_name(s) for s in matrix.columns]
    n = (
        counts.reindex(index=matrix.index, columns=matrix.columns).to_numpy(dtype=np.float64)
        if counts is not None
        else np.full(z.shape, np.nan)
    )
    fig.add_heatmap(
        z=z,
        x=cols,
        y=rows,
        zmin=0.0,
        zmax=1.0,
        colorscale=_SCALE,
        text=[[_percent(p) for p in row] for row in z],
        texttemplate="%{text}",
        customdata=n,
        hovertemplate="%{y} → %{x}: %{z:.2%}<br>%{customdata:,.0f} invoices<extra></extra>",
        colorbar={"title": {"text": "probability"}, "tickformat": ".0%"},
        xgap=2,
        ygap=2,
    )
    fig.update_xaxes(title={"text": "state at the next month end"}, side="bottom", type="category")
    fig.update_yaxes(title={"text": "state at a month end"}, autorange="reversed", type="category")
    return fig


def allowance_bars(
    allowance: pd.DataFrame,
    currency: str,
    *,
    title: str = "Allowance by aging bucket",
    height: int = 340,
) -> go.Figure:
    """Allowance per bucket in the bucket colours; hover shows open amount and loss rate.

    Parameters
    ----------
    allowance
        One row per bucket (a ``total`` row is ignored) with ``allowance`` and
        ``open_amount`` in currency units and ``loss_rate``.
    currency
        ISO 4217 code of the amounts.
    """
    fig = _figure(title, height)
    frame = allowance.drop(index="total", errors="ignore")
    labels = [str(x) for x in frame.index]
    values = frame["allowance"].astype("float64").to_numpy()
    rates = frame["loss_rate"].astype("float64").to_numpy()
    if not len(frame) or not np.nansum(values):
        return _empty(fig, f"No allowance ({currency_prefix(currency).strip()} 0)")
    fig.add_bar(
        x=labels,
        y=np.nan_to_num(values),
        marker={"color": list(bucket_colours(labels).values())},
        text=[
            f"{compact_money(v, currency)} ({_percent(r) or '0%'})" if np.isfinite(v) else "n/a"
            for v, r in zip(values, rates, strict=True)
        ],
        textposition="outside",
        cliponaxis=False,
        customdata=np.column_stack(
            [frame["open_amount"].astype("float64").to_numpy(), np.nan_to_num(rates)]
        ),
        hovertemplate=(
            f"%{{x}}: allowance {currency_prefix(currency)}%{{y:,.2f}}<br>"
            f"open {currency_prefix(currency)}%{{customdata[0]:,.2f}} × "
            "loss rate %{customdata[1]:.2%}<extra></extra>"
        ),
        showlegend=False,
    )
    top = float(np.nanmax(values))
    fig.update_yaxes(**money_axis(currency, "allowance"), range=[0, top * 1.2])
    fig.update_xaxes(title={"text": "days past due"}, type="category")
    return fig


def roll_rate_stability(
    monthly: pd.DataFrame,
    *,
    to_state: str = "paid",
    title: str | None = None,
    height: int = 340,
) -> go.Figure:
    """Probability of moving to ``to_state`` by month, one line per bucket.

    Parameters
    ----------
    monthly
        Tidy ``month_end``, ``from_state``, ``to_state``, ``probability``
        (``RollRates.monthly_``).
    to_state
        The destination followed, e.g. ``"paid"`` or ``"written_off"``.
    """
    text = title or f"Monthly probability of moving to {_name(to_state)}"
    fig = _figure(text, height)
    part = monthly[monthly["to_state"].astype("string") == to_state]
    if part.empty or part["probability"].isna().all():
        return _empty(fig, f"No transitions to {_name(to_state)}")
    buckets = [str(s) for s in part["from_state"].cat.categories if s not in _STATE_NAMES]
    colours = bucket_colours(buckets)
    for bucket in buckets:
        rows = part[part["from_state"].astype("string") == bucket].sort_values("month_end")
        if rows["probability"].isna().all():
            continue
        fig.add_scatter(
            x=pd.to_datetime(rows["month_end"]),
            y=rows["probability"].astype("float64"),
            name=bucket,
            mode="lines+markers",
            line={"color": colours[bucket], "width": 2.5},
            marker={"size": 6},
            customdata=rows["invoices"].to_numpy(dtype=np.float64),
            hovertemplate=f"{bucket} → {_name(to_state)} %{{x|%Y-%m}}: %{{y:.1%}}<extra></extra>",
        )
    fig.update_yaxes(title={"text": "probability"}, tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(tickformat="%Y-%m", title={"text": "month end"})
    return fig
