"""Figures of invoice vintages and acquisition cohorts: heatmaps and vintage curves.

Inputs are the pivots of :meth:`rpmkit.cohorts.VintageCurves.matrix` and
:meth:`rpmkit.cohorts.AcquisitionCohorts.matrix`: one row per vintage or
cohort, one column per age, ``NaN`` where not observed (left blank, never
filled with zero). Shares are fractions and are shown as percentages.

>>> import numpy as np
>>> m = pd.DataFrame(
...     [[0.1, 0.6, 0.9], [0.2, 0.7, np.nan]],
...     index=pd.PeriodIndex(["2024-01", "2024-02"], freq="M", name="vintage"),
...     columns=pd.Index([0, 30, 60], name="age_days"),
... )
>>> fig = vintage_heatmap(m)
>>> fig.data[0].y, fig.data[0].z[1][2] is None
(('2024-01', '2024-02'), True)
>>> [t.name for t in vintage_lines(m, highlight=1).data]
['2024-01', '2024-02']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rpmkit.plots.core import _empty, _figure, currency_prefix

__all__ = ["cohort_heatmap", "vintage_heatmap", "vintage_lines"]

# Low collection is the worry, so low shares are warm and full collection is green.
_SHARE_SCALE = [[0.0, "#b71c1c"], [0.35, "#f9a825"], [0.7, "#c5e1a5"], [1.0, "#2e7d32"]]
# For a bad thing (late, written off, slow) the scale runs the other way.
_BAD_SCALE = [[0.0, "#e8f5e9"], [0.4, "#fff59d"], [0.7, "#ef6c00"], [1.0, "#8b0000"]]
_VOLUME_SCALE = [[0.0, "#eaf2f8"], [1.0, "#1f4e79"]]
_HIGHLIGHT = ["#1f4e79", "#2e86c1", "#8e44ad", "#16a085", "#c0392b", "#7f8c8d"]
_OLD = "#c8c8c8"

_SHARE_LABELS = {
    "collected": "collected in cash",
    "credited": "credited",
    "discounted": "discounted or deducted",
    "written_off": "written off",
    "open": "still open",
}
_METRICS = {
    # metric: (label, scale, hover format, colour range fixed to [0, 1])
    "active_share": ("share of customers active", _SHARE_SCALE, ".0%", True),
    "active_customers": ("active customers", _VOLUME_SCALE, ",.0f", False),
    "invoices": ("invoices", _VOLUME_SCALE, ",.0f", False),
    "sales": ("sales", _VOLUME_SCALE, ",.0f", False),
    "late_share": ("share of sales paid late", _BAD_SCALE, ".0%", True),
    "days_to_pay": ("average days to pay", _BAD_SCALE, ",.1f", False),
    "written_off_share": ("share of sales written off", _BAD_SCALE, ".1%", True),
}


def _labels(index: pd.Index) -> list[str]:
    return [str(v) for v in index]


def _cells(matrix: pd.DataFrame) -> list[list[float | None]]:
    """Values with ``NaN`` as ``None`` so plotly leaves the cell blank."""
    values = matrix.to_numpy(dtype=np.float64)
    return [[None if np.isnan(v) else float(v) for v in row] for row in values]


def _heatmap(
    matrix: pd.DataFrame,
    *,
    title: str,
    x_title: str,
    y_title: str,
    colour_title: str,
    scale,
    hover: str,
    fixed: bool,
    height: int,
    empty: str,
) -> go.Figure:
    fig = _figure(title, height)
    if matrix.empty or matrix.isna().all().all():
        return _empty(fig, empty)
    fig.add_heatmap(
        x=[int(c) for c in matrix.columns],
        y=_labels(matrix.index),
        z=_cells(matrix),
        colorscale=scale,
        zmin=0.0 if fixed else None,
        zmax=1.0 if fixed else None,
        hoverongaps=False,
        colorbar={
            "title": {"text": colour_title, "side": "right"},
            "tickformat": ".0%" if fixed else ",.0f",
        },
        hovertemplate=f"{y_title} %{{y}}, {x_title} %{{x}}: %{{z:{hover}}}<extra></extra>",
    )
    fig.update_xaxes(title={"text": x_title}, showgrid=False)
    # oldest on top, as a table reads
    fig.update_yaxes(title={"text": y_title}, type="category", autorange="reversed")
    return fig


def vintage_heatmap(
    matrix: pd.DataFrame,
    *,
    share: str = "collected",
    title: str | None = None,
    height: int = 420,
) -> go.Figure:
    """Vintages × days since invoice, coloured by one share; unobserved cells stay blank.

    Parameters
    ----------
    matrix
        :meth:`~rpmkit.cohorts.VintageCurves.matrix`: rows vintages, columns
        ages in days, fractions in ``[0, 1]``.
    share
        Which share the values are (for the titles): ``collected``,
        ``credited``, ``discounted``, ``written_off`` or ``open``.
    """
    label = _SHARE_LABELS.get(share, share)
    scale = _SHARE_SCALE if share == "collected" else _BAD_SCALE
    return _heatmap(
        matrix,
        title=title or f"Share of each invoice vintage {label}, by days since invoice",
        x_title="days since invoice",
        y_title="vintage",
        colour_title=label,
        scale=scale,
        hover=".1%",
        fixed=True,
        height=max(height, 80 + 18 * len(matrix)),
        empty="No vintage has an observed age yet",
    )


def vintage_lines(
    matrix: pd.DataFrame,
    *,
    share: str = "collected",
    highlight: int = 3,
    title: str | None = None,
    height: int = 380,
) -> go.Figure:
    """One curve per vintage over days since invoice; the ``highlight`` latest in colour.

    Older vintages are drawn in light grey behind them, so a recent vintage
    collecting slower than the book's history stands out. Curves stop at the
    last observed age.
    """
    if highlight < 0:
        raise ValueError(f"highlight must be >= 0, got {highlight}")
    label = _SHARE_LABELS.get(share, share)
    fig = _figure(title or f"Vintage curves: share {label}", height)
    rows = matrix.dropna(how="all")
    if rows.empty:
        return _empty(fig, "No vintage has an observed age yet")
    x = [int(c) for c in rows.columns]
    names = _labels(rows.index)
    recent = names[len(names) - highlight :] if highlight else []
    for name, (_, row) in zip(names, rows.iterrows(), strict=True):
        bright = name in recent
        colour = (
            _HIGHLIGHT[(len(recent) - 1 - recent.index(name)) % len(_HIGHLIGHT)] if bright else _OLD
        )
        values = row.to_numpy(dtype=np.float64)
        fig.add_scatter(
            x=x,
            y=[None if np.isnan(v) else float(v) for v in values],
            name=name,
            mode="lines+markers" if bright else "lines",
            line={"color": colour, "width": 2.5 if bright else 1.2},
            marker={"size": 5},
            connectgaps=False,
            showlegend=bright,
            hovertemplate=f"{name}, %{{x}} days: %{{y:.1%}}<extra></extra>",
        )
    fig.update_xaxes(title={"text": "days since invoice"}, rangemode="tozero")
    fig.update_yaxes(title={"text": f"share {label}"}, tickformat=".0%", range=[0, 1.02])
    return fig


def cohort_heatmap(
    matrix: pd.DataFrame,
    *,
    metric: str = "active_share",
    currency: str | None = None,
    title: str | None = None,
    height: int = 420,
) -> go.Figure:
    """Acquisition cohorts × months since acquisition, coloured by one metric.

    Parameters
    ----------
    matrix
        :meth:`~rpmkit.cohorts.AcquisitionCohorts.matrix` of ``metric``.
    metric
        One of :data:`rpmkit.cohorts.COHORT_METRICS`; shares use a fixed 0-100 %
        scale, counts, sales and days their own range.
    currency
        Reporting currency, for ``sales``.
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {tuple(_METRICS)}, got {metric!r}")
    label, scale, hover, fixed = _METRICS[metric]
    if metric == "sales" and currency:
        hover = ",.0f"
        label = f"sales ({currency})"
    fig = _heatmap(
        matrix,
        title=title or f"Acquisition cohorts: {label} by months since acquisition",
        x_title="months since acquisition",
        y_title="cohort",
        colour_title=label,
        scale=scale,
        hover=hover,
        fixed=fixed,
        height=max(height, 80 + 18 * len(matrix)),
        empty="No cohort has a complete month yet",
    )
    if metric == "sales" and currency and fig.data:
        prefix = currency_prefix(currency)
        fig.data[0].colorbar.tickprefix = prefix
        fig.data[0].hovertemplate = fig.data[0].hovertemplate.replace("%{z", f"{prefix}%{{z")
    return fig
