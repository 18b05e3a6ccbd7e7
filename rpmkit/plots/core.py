"""Figures for the apps: data in, :class:`plotly.graph_objects.Figure` out.

No widgets and no I/O: a function here takes frames or KPI results and returns a
figure that a notebook displays, a test inspects or an app copies into a
``FigureWidget``. Every figure uses the same colours for the same things:

* aging buckets run from green (current) through amber to dark red (the oldest);
* segments, KPIs and currencies keep one colour each across apps.

Money axes carry the currency and thousands separators; hover text shows the
exact amount.

>>> fig = aging_bars(
...     pd.DataFrame({"current": [700.0], "1-30": [200.0], "91+": [100.0]}, index=["total"]),
...     "USD",
... )
>>> fig.data[0].marker.color == tuple(bucket_colours(["current", "1-30", "91+"]).values())
True
>>> fig.layout.yaxis.tickprefix
'$'
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

__all__ = [
    "BUCKET_COLOURS",
    "KPI_COLOURS",
    "KPI_LABELS",
    "SEGMENT_COLOURS",
    "aging_bars",
    "bucket_colours",
    "compact_money",
    "coverage_bars",
    "currency_prefix",
    "kpi_trend",
    "money_axis",
    "rejects_by_reason",
    "segment_colour",
    "side_by_side",
]

BUCKET_COLOURS: dict[str, str] = {
    "current": "#2e7d32",
    "1-30": "#9ccc65",
    "31-60": "#f9a825",
    "61-90": "#ef6c00",
    "91+": "#8b0000",
}
"""The default aging buckets, current green to 91+ dark red."""

# The same ramp for any other set of cut-offs: picked by position, oldest last.
_BUCKET_RAMP = ["#2e7d32", "#66bb6a", "#9ccc65", "#d4e157", "#f9a825", "#ef6c00", "#c62828"]
_OLDEST = "#8b0000"

SEGMENT_COLOURS: dict[str, str] = {
    "enterprise": "#1f4e79",
    "mid_market": "#2e86c1",
    "smb": "#85c1e9",
    "(none)": "#9e9e9e",
}
"""Segments of the sample ledger; other segments take the next colour of :data:`_PALETTE`."""

# Blues and purples, away from the bucket ramp so a segment never reads as an age.
_PALETTE = ["#5b2c6f", "#8e44ad", "#1abc9c", "#34495e", "#7f8c8d", "#16a085", "#2c3e50"]

KPI_COLOURS: dict[str, str] = {
    "dso": "#1f4e79",
    "bpdso": "#2e7d32",
    "add": "#c0392b",
    "cei": "#6c3483",
}
"""One colour per KPI; its benchmark line uses the same colour, dotted."""

KPI_LABELS = {"dso": "DSO", "bpdso": "BPDSO", "add": "ADD", "cei": "CEI"}

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "CN¥"}

_FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 12}


def currency_prefix(currency: str) -> str:
    """Text put before an amount: ``$`` for USD, ``€`` for EUR, else the code and a space."""
    return _SYMBOLS.get(currency, f"{currency} ")


def compact_money(value: float, currency: str) -> str:
    """A short label for a bar: three significant digits and a k/M/B suffix.

    >>> compact_money(1_234_567, "USD"), compact_money(-850_000, "EUR"), compact_money(12, "CHF")
    ('$1.23M', '-€850k', 'CHF 12')
    >>> compact_money(16_841_128.71, "USD"), compact_money(2_000_000, "USD")
    ('$16.8M', '$2M')
    """
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= size * 0.9995:
            scaled = v / size
            decimals = 2 if scaled < 9.995 else 1 if scaled < 99.95 else 0
            shown = f"{scaled:.{decimals}f}"
            if "." in shown:
                shown = shown.rstrip("0").rstrip(".")
            return f"{sign}{currency_prefix(currency)}{shown}{suffix}"
    return f"{sign}{currency_prefix(currency)}{v:.0f}"


def money_axis(currency: str, title: str | None = None) -> dict:
    """Axis settings for money: currency prefix, thousands separators, no SI suffixes."""
    axis = {
        "tickprefix": currency_prefix(currency),
        "tickformat": ",.0f",
        "separatethousands": True,
    }
    if title is not None:
        axis["title"] = {"text": f"{title} ({currency})"}
    return axis


def _count_axis(top: float, title: str) -> dict:
    """A count axis: whole numbers only (small counts step by one), from zero."""
    axis = {"title": {"text": title}, "tickformat": ",d", "rangemode": "tozero"}
    if top <= 8:
        axis.update(dtick=1, tick0=0)
    return axis


def _hover_money(currency: str) -> str:
    return f"{currency_prefix(currency)}%{{y:,.2f}}"


def bucket_colours(labels: Sequence[str]) -> dict[str, str]:
    """A colour per bucket label: the default buckets' own, else the ramp by position."""
    labels = list(labels)
    if all(label in BUCKET_COLOURS for label in labels):
        return {label: BUCKET_COLOURS[label] for label in labels}
    n = len(labels)
    ramp = [_BUCKET_RAMP[round(i * (len(_BUCKET_RAMP) - 1) / max(n - 2, 1))] for i in range(n - 1)]
    return dict(zip(labels, [*ramp, _OLDEST], strict=True))


def segment_colour(segment: str, known: Sequence[str] = ()) -> str:
    """The colour of a segment; unknown segments take palette colours in ``known`` order."""
    if segment in SEGMENT_COLOURS:
        return SEGMENT_COLOURS[segment]
    others = [s for s in known if s not in SEGMENT_COLOURS]
    index = others.index(segment) if segment in others else zlib.crc32(segment.encode())
    return _PALETTE[index % len(_PALETTE)]


TEMPLATE = "plotly_white"


def _base_layout(title: str, height: int) -> dict:
    """Title, size, margins, fonts and legend of every chart (the template is set apart,
    by :func:`_use_template`)."""
    return {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "autosize": True,
        "margin": {"l": 70, "r": 20, "t": 50, "b": 50},
        "font": _FONT,
        "hoverlabel": {"font": _FONT},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    }


def _use_template(fig: go.Figure) -> go.Figure:
    """Give ``fig`` the charts' template as plotly gives a new figure its default one.

    Setting a template through a figure's layout validates and deep-copies the whole
    template (about 10 ms a figure); plotly sets its default template with validation
    off (under 1 ms), and so does this, which is most of a dashboard's control change
    that redraws a few charts. The result is the same figure.
    """
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates[TEMPLATE]
    finally:
        layout._validate = fig._validate
    return fig


def _figure(title: str, height: int) -> go.Figure:
    """A new chart with the base layout and the template."""
    return _use_template(go.Figure(layout=_base_layout(title, height)))


def _empty(fig: go.Figure, message: str) -> go.Figure:
    fig.add_annotation(
        text=message,
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": 14, "color": "#666"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def aging_bars(
    amounts: pd.DataFrame,
    currency: str,
    *,
    counts: pd.DataFrame | None = None,
    title: str = "Open AR by days past due",
    height: int = 340,
) -> go.Figure:
    """Open AR by aging bucket, optionally stacked by segment.

    Parameters
    ----------
    amounts
        Currency units, one column per bucket (oldest last; a ``total`` column
        is ignored), one row per group. One row draws one bar per bucket in the
        bucket colours; several rows (segments) stack, one colour per segment.
        ``AgingResult.summary()`` has this shape.
    currency
        ISO 4217 code of the amounts.
    counts
        Open invoices per bucket and group, shown on hover.
    """
    labels = [c for c in amounts.columns if c not in ("total", "invoices")]
    fig = _figure(title, height)
    prefix = currency_prefix(currency)
    totals = amounts[labels].sum(axis=0)
    if len(amounts) <= 1:
        row = amounts[labels].iloc[0] if len(amounts) else pd.Series(0.0, index=labels)
        n = counts[labels].sum(axis=0) if counts is not None else pd.Series(np.nan, index=labels)
        fig.add_bar(
            x=labels,
            y=row.to_numpy(dtype=float),
            name=str(amounts.index[0]) if len(amounts) else "total",
            marker={"color": list(bucket_colours(labels).values())},
            text=[compact_money(v, currency) for v in row],
            textposition="outside",
            cliponaxis=False,
            customdata=n.to_numpy(dtype=float),
            hovertemplate=f"%{{x}}: {_hover_money(currency)}<br>%{{customdata:,.0f}} invoices"
            "<extra></extra>",
            showlegend=False,
        )
    else:
        groups = [str(g) for g in amounts.index]
        for g, (_, row) in zip(groups, amounts[labels].iterrows(), strict=True):
            fig.add_bar(
                x=labels,
                y=row.to_numpy(dtype=float),
                name=g,
                marker={"color": segment_colour(g, groups)},
                hovertemplate=f"{g} %{{x}}: {_hover_money(currency)}<extra></extra>",
            )
        fig.add_scatter(
            x=labels,
            y=totals.to_numpy(dtype=float),
            mode="text",
            text=[compact_money(v, currency) for v in totals],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
            name="total",
        )
        fig.update_layout(barmode="stack")
    top = float(totals.max()) if len(totals) and totals.max() > 0 else 1.0
    fig.update_yaxes(**money_axis(currency), range=[0, top * 1.15], rangemode="tozero")
    fig.update_xaxes(title={"text": "days past due"}, type="category")
    if not len(amounts) or float(totals.sum()) == 0:
        fig.add_annotation(
            text=f"No open AR ({prefix.strip()} 0)",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.6,
            font={"size": 14, "color": "#666"},
        )
    return fig


def kpi_trend(
    series: pd.DataFrame,
    *,
    benchmarks: Mapping[str, float] | None = None,
    kpis: Sequence[str] = ("dso", "bpdso", "add"),
    title: str = "DSO, best possible DSO and days delinquent",
    height: int = 340,
) -> go.Figure:
    """KPI lines over time with their benchmark as a dotted line of the same colour.

    Parameters
    ----------
    series
        Tidy: ``date``, ``kpi`` and ``value`` columns (days); missing values
        leave a gap.
    benchmarks
        ``{kpi: value}``, e.g. the CRF national medians; drawn for the KPIs shown.
    """
    fig = _figure(title, height)
    dates = pd.to_datetime(series["date"]) if len(series) else pd.Series([], dtype="datetime64[us]")
    for kpi in kpis:
        part = series[series["kpi"] == kpi].sort_values("date")
        label = KPI_LABELS.get(kpi, kpi)
        fig.add_scatter(
            x=pd.to_datetime(part["date"]),
            y=part["value"].astype("float64"),
            name=label,
            mode="lines+markers",
            line={"color": KPI_COLOURS.get(kpi, "#555"), "width": 2.5},
            marker={"size": 6},
            hovertemplate=f"{label} %{{x|%Y-%m-%d}}: %{{y:,.1f}} days<extra></extra>",
        )
    shown = [k for k in kpis if (benchmarks or {}).get(k) is not None] if len(dates) else []
    for kpi in shown:
        value = float(benchmarks[kpi])
        label = KPI_LABELS.get(kpi, kpi)
        fig.add_scatter(
            x=[dates.min(), dates.max()],
            y=[value, value],
            name=f"CRF median {label}",
            mode="lines",
            line={"color": KPI_COLOURS.get(kpi, "#555"), "width": 1.5, "dash": "dot"},
            hovertemplate=f"CRF median {label}: {value:,.2f} days<extra></extra>",
            legendgroup="crf",
            showlegend=False,
        )
    if shown:
        # One legend entry explains every dotted line.
        fig.add_scatter(
            x=[None],
            y=[None],
            name="CRF median",
            mode="lines",
            line={"color": "#777", "width": 1.5, "dash": "dot"},
            legendgroup="crf",
            hoverinfo="skip",
        )
    fig.update_yaxes(title={"text": "days"}, rangemode="tozero", tickformat=",.0f")
    # Ticks on the points themselves: a month-end point is labelled with its month.
    points = sorted(pd.to_datetime(pd.Series(dates.unique())))
    step = 2 if len(points) > 8 else 1
    ticks = points[::-1][::step][::-1]
    month_ends = all(p.is_month_end for p in points)
    fig.update_xaxes(
        tickvals=[p.strftime("%Y-%m-%d") for p in ticks],
        ticktext=[p.strftime("%Y-%m" if month_ends else "%Y-%m-%d") for p in ticks],
    )
    if not len(series) or series["value"].isna().all():
        _empty(fig, "No KPI values for these dates")
    return fig


def rejects_by_reason(
    rejects: pd.DataFrame,
    *,
    reasons: Mapping[str, str] | None = None,
    title: str = "Rejected rows by reason",
    height: int = 300,
) -> go.Figure:
    """Horizontal bars: rejected rows per reason code, most frequent on top.

    ``rejects`` has a ``reason`` column (one row per rejected row and problem);
    ``reasons`` maps codes to their one-line meaning for the hover text.
    """
    fig = _figure(title, height)
    if rejects.empty:
        return _empty(fig, "No rows were rejected")
    counts = rejects["reason"].astype("string").fillna("(none)").value_counts()
    counts = counts.sort_values(ascending=True)
    meaning = [(reasons or {}).get(r, "") for r in counts.index]
    fig.add_bar(
        x=counts.to_numpy(),
        y=list(counts.index),
        orientation="h",
        marker={"color": "#c0392b"},
        text=[f"{v:,}" for v in counts],
        textposition="outside",
        cliponaxis=False,
        customdata=meaning,
        hovertemplate="%{y}: %{x:,} rows<br>%{customdata}<extra></extra>",
        showlegend=False,
    )
    fig.update_xaxes(**_count_axis(float(counts.max()), "rows"))
    fig.update_yaxes(type="category", automargin=True)
    fig.update_layout(height=max(height, 60 + 26 * len(counts)), margin={"l": 10})
    return fig


def coverage_bars(
    dates: pd.Series,
    *,
    title: str = "Invoices per month",
    height: int = 300,
) -> go.Figure:
    """Documents per calendar month, with empty months shown as gaps at zero."""
    fig = _figure(title, height)
    d = pd.to_datetime(pd.Series(dates, copy=False)).dropna()
    if d.empty:
        return _empty(fig, "No dated documents")
    months = d.dt.to_period("M").value_counts().sort_index()
    full = pd.period_range(months.index.min(), months.index.max(), freq="M")
    months = months.reindex(full, fill_value=0)
    starts = months.index.to_timestamp()
    days = months.index.days_in_month.to_numpy()
    # Each bar sits mid-month and spans 80 % of it (a date axis measures width in ms).
    mids = starts + pd.to_timedelta(days / 2, unit="D")
    x = [m.strftime("%Y-%m-%d %H:%M") for m in mids]
    fig.add_bar(
        x=x,
        y=months.to_numpy(),
        width=(days * 0.8 * 86_400_000).tolist(),
        marker={"color": np.where(months.to_numpy() == 0, "#c0392b", "#2e86c1").tolist()},
        hovertemplate="%{x|%Y-%m}: %{y:,} invoices<extra></extra>",
        showlegend=False,
        name="invoices",
    )
    fig.update_yaxes(**_count_axis(float(months.max()), "invoices"))
    span = len(months)
    fig.update_xaxes(
        tickformat="%Y-%m",
        dtick="M1" if span <= 12 else "M3" if span <= 36 else "M12",
        ticklabelmode="period",
    )
    if span <= 2:
        # A month or two: show the neighbours so the bar has labelled ticks around it.
        first = months.index.min().to_timestamp() - pd.DateOffset(months=1)
        last = months.index.max().to_timestamp() + pd.DateOffset(months=2)
        fig.update_xaxes(range=[first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")])
    return fig


def _remap_annotation(a: dict, domain: Sequence[float], suffix: str) -> dict:
    a = dict(a)
    if a.get("xref", "x") == "paper":
        a["x"] = domain[0] + float(a.get("x", 0.5)) * (domain[1] - domain[0])
    elif suffix:
        a["xref"] = f"x{suffix}"
    if a.get("yref", "y") != "paper" and suffix:
        a["yref"] = f"y{suffix}"
    return a


def side_by_side(
    left: go.Figure,
    right: go.Figure,
    *,
    widths: tuple[float, float] = (0.5, 0.5),
    gap: float = 0.09,
) -> go.Figure:
    """Two figures as one, side by side, each keeping its axes, legend and notes.

    An app that shows two charts in one ``FigureWidget`` loads plotly's widget
    code once instead of twice. Each half keeps its title (as the subplot title),
    axis settings, annotations and legend (the right one becomes ``legend2``).
    """
    total = widths[0] + widths[1]
    w_left = (1 - gap) * widths[0] / total
    domains = ((0.0, w_left), (w_left + gap, 1.0))
    fig = _figure("", max(left.layout.height or 340, right.layout.height or 340))
    fig.update_layout(title=None, margin={"t": 72})
    annotations = []
    for side, (part, domain) in enumerate(zip((left, right), domains, strict=True)):
        suffix = "" if side == 0 else "2"
        legend = "legend" if side == 0 else "legend2"
        for trace in part.data:
            fig.add_trace(trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}", legend=legend))
        layout = part.layout
        xaxis = layout.xaxis.to_plotly_json()
        yaxis = layout.yaxis.to_plotly_json()
        xaxis.update(domain=list(domain), anchor=f"y{suffix}")
        yaxis.update(anchor=f"x{suffix}")
        fig.update_layout({f"xaxis{suffix}": xaxis, f"yaxis{suffix}": yaxis})
        fig.update_layout(
            {
                legend: {
                    **layout.legend.to_plotly_json(),
                    "x": domain[1],
                    "xanchor": "right",
                    "y": 1.02,
                    "yanchor": "bottom",
                    "orientation": "h",
                }
            }
        )
        if layout.barmode:
            fig.update_layout(barmode=layout.barmode)
        title = layout.title.text or ""
        if title:
            annotations.append(
                {
                    "text": title,
                    "xref": "paper",
                    "yref": "paper",
                    "x": domain[0],
                    "y": 1.0,
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "yshift": 30,
                    "showarrow": False,
                    "font": {"size": 15},
                }
            )
        annotations.extend(
            _remap_annotation(a.to_plotly_json(), domain, suffix) for a in layout.annotations
        )
    fig.update_layout(annotations=annotations)
    return fig
