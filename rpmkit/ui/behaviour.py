"""Payment behaviour and cohorts: who pays slower, which vintages collect worse, what rolls on.

The app only wires controls to :mod:`rpmkit.behaviour`, :mod:`rpmkit.survival`,
:mod:`rpmkit.cohorts` and :mod:`rpmkit.rollrate`; figures come from
:mod:`rpmkit.plots`. A segment filters the ledger (:func:`rpmkit.ui.data.segment_ledger`)
and every section is computed on that view. Only the visible tab is redrawn when a
control changes; the others are redrawn when opened. Fitted results are kept per
(segment, as-of date), so going back to a view costs only the redraw.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable

import ipywidgets as w
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rpmkit import behaviour, cohorts, money, plots, rollrate, survival
from rpmkit.ledger import Ledger
from rpmkit.ui import data
from rpmkit.ui.charts import ChartSlot
from rpmkit.ui.download import DownloadLinks
from rpmkit.ui.loading import load_friendly
from rpmkit.ui.widgets import MethodNote, Notice, TableView, style_widget

__all__ = ["PaymentBehaviourApp"]

log = logging.getLogger("rpmkit.ui")

SECTIONS = ("trends", "payers", "survival", "vintages", "rollrates")
TAB_TITLES = ("Days to pay", "Changing payers", "Time to payment", "Vintages", "Roll rates")
MEASURES = (
    ("days to pay", "days_to_pay"),
    ("days beyond terms", "days_beyond_terms"),
    ("share paid late", "late_share"),
)
WINDOWS = (6, 12, 24, 36)
TOP_PAYERS = 15
START_UP_DAYS = 90
"""Payment months beginning sooner than this after the ledger's first invoice are start-up:
only invoices younger than the ledger can be paid in them, so their days to pay are short."""
CACHE_SIZE = 48
HALF = {"width": "50%", "min_width": "420px", "padding": "0 6px 0 0"}

_ALL = "(all)"  # payment_trends' label of the all-invoices rows
_PATH = re.compile(r"[/\\]")  # a message that could name a file is not shown


def _num(value, decimals: int = 1, sign: bool = False) -> str | float:
    """Text for a table cell shown right-aligned; NaN stays NaN (shown as –)."""
    if value is None or pd.isna(value):
        return np.nan
    return f"{float(value):{'+' if sign else ''},.{decimals}f}"


def _month_start(day: pd.Timestamp) -> pd.Timestamp:
    return day.to_period("M").to_timestamp()


def _pair(left, right, widths: tuple[float, float] = (0.5, 0.5)):
    """Two figures in one (one ``FigureWidget`` per tab: each costs seconds to first draw).

    The left heatmap's colour bar moves into the gap between the two charts.
    """
    fig = plots.side_by_side(left, right, widths=widths, gap=0.17)
    end = fig.layout.xaxis.domain[1]
    for trace in fig.data:
        if trace.type == "heatmap" and (trace.xaxis or "x") == "x":
            trace.colorbar.update(x=end + 0.01, xanchor="left", thickness=12, len=0.9)
    return fig


def _q(value) -> str | float:
    return np.nan if value is None or pd.isna(value) else f"{float(value):.2g}"


class PaymentBehaviourApp(w.VBox):
    """Days-to-pay trends, changing payers, time to payment, vintages and roll rates.

    Parameters
    ----------
    ledger
        The ledger to show (``None`` shows ``message`` instead: see :meth:`from_source`).
    as_of
        The as-of date (ISO text or date); ``None`` or an invalid date falls back to the
        ledger's last month end, with a notice.
    months
        The window, in months ending at the as-of date: the trend months shown, the
        vintages shown and the month-end transitions pooled into the roll-rate matrix.
    """

    def __init__(
        self,
        ledger: Ledger | None,
        as_of=None,
        *,
        months: int = 24,
        message: str = "",
    ) -> None:
        if int(months) < 1:
            raise ValueError(f"months must be at least 1; got {months!r}")
        self._ledger = ledger
        self._notice = Notice()
        self._style = style_widget()
        if ledger is None:
            self._notice.show(message or "No ledger to show.", "error")
            super().__init__([self._style, self._notice])
            self.add_class("rpm-app")
            return
        self._currency = ledger.reporting_currency
        self._scale = 10 ** money.exponent(self._currency)
        self._first, self._last = ledger.date_range()
        self._views: dict[str, Ledger] = {}
        self._cache: dict[tuple, object] = {}
        self._stale = set(SECTIONS)
        self._segment_names = data.segments(ledger)
        start, self._pending = data.initial_as_of(ledger, as_of, "PaymentBehaviourApp")

        self._as_of = w.DatePicker(
            value=start.date(),
            description="As of",
            min=self._first.date(),
            max=self._last.date(),
            layout=w.Layout(width="230px"),
            style={"description_width": "48px"},
        )
        self._segment = w.Dropdown(
            options=[data.ALL, *self._segment_names],
            value=data.ALL,
            description="Segment",
            layout=w.Layout(width="260px"),
            style={"description_width": "62px"},
        )
        windows = sorted({*WINDOWS, int(months)})
        self._months = w.Dropdown(
            options=[(f"{m} months", m) for m in windows],
            value=int(months),
            description="Window",
            layout=w.Layout(width="200px"),
            style={"description_width": "56px"},
        )
        self._context = w.HTML("")
        self._build_sections()

        self._as_of.observe(self._on_control, names="value")
        self._segment.observe(self._on_control, names="value")
        self._months.observe(self._on_control, names="value")
        self._tabs.observe(self._on_tab, names="selected_index")

        controls = w.HBox(
            [self._as_of, self._segment, self._months, self._context],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        super().__init__(
            [self._style, controls, self._notice, self._tabs], layout=w.Layout(width="100%")
        )
        self.add_class("rpm-app")
        self._refresh()

    # ------------------------------------------------------------ building
    @classmethod
    def from_source(
        cls, source=None, preset=None, as_of=None, fast: bool = False
    ) -> PaymentBehaviourApp:
        """Load ``source`` (blank: the sample ledger) and show it; a failed load shows why.

        ``fast`` starts with a 12-month window instead of 24 (for tests).
        """
        result, message = load_friendly(source, preset)
        if result is None:
            return cls(None, message=message)
        return cls(result.ledger, as_of, months=12 if fast else 24)

    _pending = ""

    def _build_sections(self) -> None:
        cur = self._currency
        # 1. trends
        self._measure = w.Dropdown(
            options=MEASURES,
            value="days_to_pay",
            description="Measure",
            layout=w.Layout(width="260px"),
            style={"description_width": "62px"},
        )
        self._measure.observe(lambda _: self._refresh_section("trends"), names="value")
        self._trend_chart = ChartSlot("payment-trends")
        self._season_text = w.HTML("")
        self._trend_table = TableView("Monthly figures", max_rows=36, max_height="250px")
        self._trend_note = MethodNote()
        trends = w.VBox(
            [
                w.HBox([self._measure, self._season_text], layout=w.Layout(align_items="center")),
                self._trend_chart,
                w.HBox(
                    [
                        w.VBox([self._trend_table], layout=w.Layout(**HALF)),
                        w.VBox([self._trend_note], layout=w.Layout(**HALF)),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
            ]
        )
        # 2. deteriorating and improving payers
        self._flag = w.ToggleButtons(
            options=[("Deteriorating", "deteriorating"), ("Improving", "improving")],
            value="deteriorating",
            style={"button_width": "110px"},
        )
        self._flag.observe(lambda _: self._refresh_section("payers"), names="value")
        self._flag_counts = w.HTML("")
        self._payer_chart = ChartSlot("changing-payers")
        self._payer_table = TableView(
            "Flagged customers",
            kinds={
                "invoices": "int",
                "days_beyond_terms": "num",
                "recent_days_beyond_terms": "num",
                "slope": "num",
                "interval": "num",
                "q_value": "num",
            },
            labels={
                "customer": "customer",
                "days_beyond_terms": "days beyond terms",
                "recent_days_beyond_terms": "recent",
                "slope": "days/year",
                "interval": "95 % CI",
                "q_value": "q",
            },
            max_rows=40,
            max_height="420px",
        )
        self._payer_note = MethodNote()
        payers = w.VBox(
            [
                w.HBox([self._flag, self._flag_counts], layout=w.Layout(align_items="center")),
                w.HBox(
                    [
                        w.VBox([self._payer_chart], layout=w.Layout(**{**HALF, "width": "44%"})),
                        w.VBox([self._payer_table], layout=w.Layout(**{**HALF, "width": "56%"})),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
                self._payer_note,
            ]
        )
        # 3. Kaplan–Meier
        self._km_chart = ChartSlot("time-to-payment")
        self._logrank = w.HTML("")
        self._km_table = TableView(
            "Days to payment by segment",
            kinds={c: "num" for c in ("median", "ci", "p75", "restricted_mean")}
            | {"n": "int", "paid": "int", "censored": "int"},
            labels={
                "paid": "paid",
                "censored": "censored",
                "median": "median",
                "ci": "median 95 % CI",
                "restricted_mean": "mean ≤ 180",
            },
        )
        self._km_note = MethodNote()
        survival_box = w.VBox(
            [
                w.HBox(
                    [
                        w.VBox([self._km_chart], layout=w.Layout(**HALF)),
                        w.VBox([self._km_table, self._logrank], layout=w.Layout(**HALF)),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
                self._km_note,
            ]
        )
        # 4. vintages
        self._vintage_chart = ChartSlot("vintages")
        self._vintage_table = TableView(
            "Vintages",
            kinds={"n_invoices": "int", "invoiced": "money0"}
            | {
                c: "percent"
                for c in (
                    "collected_30d",
                    "collected_60d",
                    "collected_90d",
                    "collected_180d",
                    "collected",
                    "written_off",
                    "open",
                )
            },
            currency=cur,
            labels={"n_invoices": "invoices", "written_off": "written off"},
            max_rows=36,
            max_height="250px",
        )
        self._vintage_note = MethodNote()
        vintages = w.VBox(
            [
                self._vintage_chart,
                w.HBox(
                    [
                        w.VBox([self._vintage_table], layout=w.Layout(**HALF)),
                        w.VBox([self._vintage_note], layout=w.Layout(**HALF)),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
            ]
        )
        # 5. roll rates
        self._roll_chart = ChartSlot("roll-rates")
        self._allowance_table = TableView(
            "Allowance by bucket",
            kinds={
                "invoices": "int",
                "open_amount": "money0",
                "loss_rate": "percent",
                "allowance": "money0",
                "months_to_cash": "num",
            },
            currency=cur,
            labels={
                "open_amount": "open AR",
                "loss_rate": "loss rate",
                "months_to_cash": "months to cash",
            },
        )
        self._matrix_title = w.HTML('<div class="rpm-h">Transition matrix</div>')
        self._matrix_downloads = DownloadLinks()
        self._roll_note = MethodNote()
        rollrates = w.VBox(
            [
                self._roll_chart,
                w.HBox(
                    [
                        w.VBox(
                            [self._allowance_table, self._matrix_title, self._matrix_downloads],
                            layout=w.Layout(**HALF),
                        ),
                        w.VBox([self._roll_note], layout=w.Layout(**HALF)),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
            ]
        )
        self._parts = {
            "trends": ([self._trend_chart], [self._trend_table]),
            "payers": ([self._payer_chart], [self._payer_table]),
            "survival": ([self._km_chart], [self._km_table]),
            "vintages": ([self._vintage_chart], [self._vintage_table]),
            "rollrates": ([self._roll_chart], [self._allowance_table]),
        }
        self._tabs = w.Tab(
            children=[trends, payers, survival_box, vintages, rollrates],
            titles=TAB_TITLES,
            selected_index=0,
            layout=w.Layout(width="100%"),
        )

    # ------------------------------------------------------------ plumbing
    def _view(self, segment: str) -> Ledger:
        if segment == data.ALL:
            return self._ledger
        if segment not in self._views:
            self._views[segment] = data.segment_ledger(self._ledger, segment)
        return self._views[segment]

    def _cached(self, key: tuple, compute: Callable[[], object]):
        if key not in self._cache:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = compute()
        return self._cache[key]

    def _checked_as_of(self) -> pd.Timestamp | None:
        t, problem = data.picked_as_of(self._as_of.value, self._first, self._last)
        if t is None:
            self._notice.show(problem, "error")
        return t

    def _window_start(self, t: pd.Timestamp) -> pd.Timestamp:
        """First day of the window: ``months`` calendar months ending at ``t``, in the ledger."""
        start = _month_start(data.month_back(t, self._months.value - 1))
        return max(start, _month_start(self._first))

    def _start_up_end(self) -> pd.Timestamp:
        """First day of the first payment month that is not start-up (see START_UP_DAYS)."""
        day = self._first + pd.Timedelta(days=START_UP_DAYS)
        month = _month_start(day)
        return month if month == day else month + pd.offsets.MonthBegin(1)

    # ------------------------------------------------------------ callbacks
    def _on_control(self, change) -> None:
        self._refresh()

    def _on_tab(self, change) -> None:
        section = SECTIONS[change["new"]] if change["new"] is not None else None
        if section in self._stale:
            self._refresh_section(section)

    def _refresh(self) -> None:
        t = self._checked_as_of()
        if t is None:
            return
        self._stale = set(SECTIONS)
        self._notice.clear()
        segment = self._segment.value
        self._context.value = (
            f'<span class="rpm-sub">&nbsp;&nbsp;{html.escape(segment)} · window '
            f"{self._window_start(t).date()} to {t.date()} · {self._currency}</span>"
        )
        self._refresh_section(SECTIONS[self._tabs.selected_index or 0])
        if self._pending:
            self._notice.show(self._pending, "info")
            self._pending = ""

    def _refresh_section(self, section: str) -> None:
        t = self._checked_as_of()
        if t is None:
            return
        segment = self._segment.value
        title = TAB_TITLES[SECTIONS.index(section)]
        try:
            view = self._view(segment)
            getattr(self, f"_show_{section}")(view, t, segment)
        except ValueError as exc:
            # rpmkit says in words what the data lacks (too little history, nothing paid …).
            log.warning("PaymentBehaviourApp: %s at %s, %s: %s", section, t.date(), segment, exc)
            reason = str(exc)
            shown = f": {reason}" if reason and not _PATH.search(reason) else ""
            self._blank(section, f"“{title}” cannot be shown for this date and segment{shown}.")
            return
        except Exception:
            log.exception(
                "PaymentBehaviourApp: %s failed at %s, segment %s", section, t.date(), segment
            )
            self._blank(
                section,
                f"“{title}” could not be computed for this date and segment. "
                "The server log has the details.",
            )
            return
        self._stale.discard(section)

    def _blank(self, section: str, message: str) -> None:
        """Say why ``section`` is missing, and empty its charts and tables (no stale numbers)."""
        self._notice.show(message, "error")
        empty = go.Figure(layout={"template": "plotly_white", "height": 320})
        empty.add_annotation(
            text="Not available for this date and segment",
            showarrow=False,
            xref="paper",
            yref="paper",
            font={"size": 14, "color": "#666"},
        )
        empty.update_xaxes(visible=False)
        empty.update_yaxes(visible=False)
        charts, tables = self._parts[section]
        for chart in charts:
            if chart.figure is not None:
                chart.show(empty)
        for table in tables:
            table.show(pd.DataFrame(), section, empty="Not available for this date and segment.")
        if section == "rollrates":
            self._matrix_downloads.set_frame(None, "")

    # ------------------------------------------------------------- sections
    def _show_trends(self, view: Ledger, t: pd.Timestamp, segment: str) -> None:
        measure = self._measure.value
        label = dict((v, k) for k, v in MEASURES)[measure]
        trends = self._cached(
            ("trends", segment, t), lambda: behaviour.payment_trends(view, t, by="segment")
        )
        if segment != data.ALL:
            # One segment: its own line in its colour; the all-invoices rows repeat it.
            trends = trends[trends["segment"].astype(str) == segment]
            series_rows = trends
        else:
            series_rows = trends[trends["segment"].astype(str) == _ALL]
        start = self._window_start(t)
        shown = trends[trends["period"] >= start]
        seasonal, season_text = self._seasonal(series_rows, segment, t, measure, start)
        fig = plots.payment_trend_lines(
            shown,
            measure=measure,
            seasonal=seasonal,
            title=f"{label[0].upper()}{label[1:]} by month of payment, {start:%Y-%m} to {t.date()}",
        )
        end = self._start_up_end()
        if start < end:
            # Start-up months are real numbers but not behaviour: say so on the chart.
            fig.add_vrect(
                x0=start - pd.Timedelta(days=15),
                x1=end - pd.Timedelta(days=15),
                fillcolor="#9e9e9e",
                opacity=0.12,
                line_width=0,
                annotation_text="ledger start-up",
                annotation_position="top left",
                annotation_font={"size": 11, "color": "#555"},
            )
        self._trend_chart.show(fig)
        self._season_text.value = f'<span class="rpm-sub">&nbsp;&nbsp;{season_text}</span>'
        table = shown.pivot_table(
            index="period", columns="segment", values=measure, observed=True, sort=False
        )
        order = [s for s in [*self._segment_names, _ALL] if s in table.columns]
        table = table[order].rename(columns={_ALL: "all invoices"})
        counts = shown[shown["segment"].astype(str) == (_ALL if segment == data.ALL else segment)]
        table["invoices paid"] = counts.set_index("period")["invoices"].reindex(table.index)
        display = table.map(_num).assign(**{"invoices paid": table["invoices paid"]})
        display.insert(0, "month", [p.strftime("%Y-%m") for p in table.index])
        kinds = {c: "num" for c in table.columns} | {"invoices paid": "int"}
        self._trend_table.show(
            display,
            f"payment-trends-{t.date()}",
            download=shown.reset_index(drop=True),
            title=f"Monthly {label}" + ("" if segment == data.ALL else f", {segment}"),
            kinds=kinds,
        )
        unit = "percent of invoices paid" if measure == "late_share" else "days"
        self._trend_note.set(
            "Each point is a calendar month: the invoices <b>paid</b> in it (fully settled with "
            "some cash and no write-off; paid on the day the cash settlement completed). "
            "<b>Days to pay</b> = payment date − invoice date; <b>days beyond terms</b> = "
            "payment date − due date (negative when early); <b>share paid late</b> = invoices "
            f"paid after their due date ({unit}). The dashed line is every invoice of the view; "
            "the last month may be partial when the as-of date is inside it. The first "
            f"months of the ledger (shaded; payment months starting less than {START_UP_DAYS} "
            "days after its first invoice) can only hold invoices younger than the ledger, so "
            "their days to pay are short by construction; they are left out of the seasonal "
            "decomposition. "
            "<b>Seasonal component</b> (bars): STL decomposition (statsmodels, robust LOESS, "
            "12-month period) of the monthly series up to the as-of date after the start-up; "
            "it needs 24 complete months without a gap. Seasonal strength = "
            "max(0, 1 − var(residual) / var(seasonal + residual)). Computed by "
            "<code>rpmkit.behaviour.payment_trends</code> "
            "and <code>rpmkit.behaviour.seasonal_decomposition</code>."
        )

    def _seasonal(
        self, rows: pd.DataFrame, segment: str, t: pd.Timestamp, measure: str, start
    ) -> tuple[pd.Series | None, str]:
        series = rows[rows["complete"]].set_index("period")[measure].astype("float64")
        series = series[series.index >= self._start_up_end()]
        first, last = series.first_valid_index(), series.last_valid_index()
        series = series.loc[first:last] if first is not None else series.iloc[:0]
        if len(series) < 24 or series.isna().any():
            return None, (
                "No seasonal component: it needs 24 complete months of payments after the "
                f"ledger's start-up, without a gap; this view has {int(series.notna().sum())}."
            )

        def fit():
            return behaviour.seasonal_decomposition(series)

        dec = self._cached(("stl", segment, t, measure), fit)
        month = pd.Timestamp(2000, dec.peak(), 1).strftime("%B")
        seasonal = dec.seasonal_[dec.seasonal_.index >= start]
        return seasonal, (
            f"Seasonal strength {dec.seasonal_strength_:.2f} (0 none, 1 dominant); "
            f"seasonal peak in {month}."
        )

    def _show_payers(self, view: Ledger, t: pd.Timestamp, segment: str) -> None:
        flag = self._flag.value
        profiles = self._cached(
            ("profiles", segment, t),
            lambda: behaviour.PaymentProfiles(by="customer").fit(view, t),
        )
        flagged = profiles.flagged(flag)
        counts = profiles.flag_counts()
        self._flag_counts.value = (
            '<span class="rpm-sub">&nbsp;&nbsp;'
            + " · ".join(f"{int(n):,} {html.escape(str(k))}" for k, n in counts.items())
            + " customers</span>"
        )
        fig = profiles.plot(flag, top=TOP_PAYERS)
        fig.update_layout(
            title={"text": f"{flag.capitalize()} payers, {t.date()}: trend in days beyond terms"}
        )
        self._payer_chart.show(fig)
        frame = flagged.reset_index()
        display = pd.DataFrame(
            {
                "customer": frame["customer"].astype(str),
                "segment": frame["segment"].astype(str),
                "invoices": frame["invoices"],
                "days_beyond_terms": frame["days_beyond_terms"].map(_num),
                "recent_days_beyond_terms": frame["recent_days_beyond_terms"].map(_num),
                "slope": frame["slope_days_per_year"].map(lambda v: _num(v, sign=True)),
                "interval": [
                    f"{lo:+,.1f} to {hi:+,.1f}"
                    for lo, hi in zip(frame["slope_low"], frame["slope_high"], strict=True)
                ],
                "q_value": frame["q_value"].map(_q),
            }
        )
        where = "" if segment == data.ALL else f", {segment}"
        self._payer_table.show(
            display,
            f"{flag}-payers-{t.date()}",
            download=frame,
            title=f"{flag.capitalize()} customers ({len(frame):,}){where}",
            empty=f"No customer is flagged {flag} at this date.",
        )
        p = profiles
        level, slope = f"{(1 - p.alpha) * 100:g} %", f"{p.min_slope_days_per_year:g}"
        self._payer_note.set(
            "<b>Trend test.</b> For each customer, the days beyond terms (payment date − due "
            f"date) of its paid invoices due at least {p.maturity_days} days before the as-of "
            "date are regressed on their invoice date (ordinary least squares): the slope is "
            f"the change in days beyond terms per year, with its {level} t-interval. The "
            "p-values of all tested customers are adjusted with Benjamini–Hochberg (<b>q</b>), "
            f"so among the flagged customers at most {p.alpha:.0%} are expected to be false "
            f"alarms. A customer is <b>deteriorating</b> when q ≤ {p.alpha:g} and the slope is "
            f"at least +{slope} days per year, <b>improving</b> when q ≤ {p.alpha:g} and the "
            f"slope is at most −{slope}, <b>steady</b> otherwise, and <b>untested</b> with "
            f"fewer than {p.min_invoices} such invoices or less than {p.min_span_days} days "
            "between the first and the last. <b>Recent</b> = mean days beyond terms of the "
            f"invoices paid in the last {p.recent_months} months. The chart shows the "
            f"{TOP_PAYERS} strongest cases; the table and its download all of them. Computed "
            "by <code>rpmkit.behaviour.PaymentProfiles</code>."
        )

    def _show_survival(self, view: Ledger, t: pd.Timestamp, segment: str) -> None:
        fit = self._cached(
            ("survival", segment, t),
            lambda: survival.PaymentSurvival(by="segment").fit(view, t),
        )
        table = fit.summary()
        groups = [s for s in self._segment_names if s in table.index]
        groups += [str(g) for g in table.index if str(g) not in groups]
        fig = fit.plot(groups=groups, title=f"Unpaid share, {t.date()}")
        self._km_chart.show(fig)
        table = table.reindex(groups)
        display = pd.DataFrame(
            {
                "segment": groups,
                "n": table["n"].to_numpy(),
                "paid": table["events"].to_numpy(),
                "censored": table["censored"].to_numpy(),
                "median": table["median_days"].map(lambda v: _num(v, 0)).to_numpy(),
                "ci": [
                    f"{_num(lo, 0) if pd.notna(lo) else '–'} to "
                    f"{_num(hi, 0) if pd.notna(hi) else 'beyond the data'}"
                    for lo, hi in zip(table["median_lower"], table["median_upper"], strict=True)
                ],
                "p75": table["p75_days"].map(lambda v: _num(v, 0)).to_numpy(),
                "restricted_mean": table["restricted_mean_days"].map(_num).to_numpy(),
            }
        )
        self._km_table.show(
            display,
            f"time-to-payment-{t.date()}",
            download=fit.summary().reset_index(),
            title=f"Days from invoice to payment, {t.date()}",
        )
        test = fit.logrank_
        if test is None:
            self._logrank.value = (
                '<div class="rpm-sub">One segment: no log-rank test (it compares segments).</div>'
            )
        else:
            p = test["p_value"]
            shown = "p < 0.0001" if p < 1e-4 else f"p = {p:.4f}"
            self._logrank.value = (
                '<div class="rpm-sub">Log-rank test that every segment has the same curve: '
                f"χ² = {test['statistic']:,.1f} on {test['df']} df, <b>{shown}</b>.</div>"
            )
        self._km_note.set(
            "Kaplan–Meier estimate of the time from invoice date to payment (fully settled with "
            "some cash, no write-off), by segment. Every invoice known at the as-of date counts: "
            "an invoice <b>still open</b> at the end of that day is <b>censored</b> there (it "
            "says “not paid after so many days”), and one closed without being paid (written "
            "off, or cleared by credit notes alone) is censored on the day it closed; an average "
            "over paid invoices alone would forget the slow open ones. "
            "Curves from statsmodels <code>SurvfuncRight</code> with 95 % pointwise log-log "
            "bands; the median (the day by which half are paid) with its 95 % interval "
            "(<code>quantile_ci</code>); p75 (75 % paid) likewise; <b>mean ≤ 180</b> = "
            "restricted mean E[min(T, 180)] in days; <b>censored</b> = open at the as-of date "
            "or closed unpaid; the download adds p25, p90 and every interval. The log-rank test "
            "(<code>survdiff</code>) asks whether all segments share one curve."
            " Computed by <code>rpmkit.survival.PaymentSurvival</code>."
        )

    def _show_vintages(self, view: Ledger, t: pd.Timestamp, segment: str) -> None:
        fit = self._cached(("vintages", segment, t), lambda: cohorts.VintageCurves().fit(view, t))
        months = self._months.value
        matrix = fit.matrix("collected").tail(months)
        where = "" if segment == data.ALL else f", {segment}"
        heat = plots.vintage_heatmap(
            matrix, title=f"Share of each vintage collected by days since invoice{where}"
        )
        lines = plots.vintage_lines(matrix, title=f"Vintage curves, known at {t.date()}")
        self._vintage_chart.show(_pair(heat, lines))
        summary = fit.summary().tail(months)
        summary["invoiced"] = summary["invoiced"].astype("float64")
        display = summary.copy()
        shares = [c for c in display.columns if c not in ("n_invoices", "invoiced")]
        display[shares] = display[shares].astype("float64") * 100
        display = display.drop(columns=["credited", "discounted"], errors="ignore")
        display.insert(0, "vintage", [str(v) for v in display.index])
        download = summary.reset_index()
        download["vintage"] = download["vintage"].astype(str)
        self._vintage_table.show(
            display.reset_index(drop=True),
            f"vintages-{t.date()}",
            download=download,
            title=f"Vintages: share collected by age and status at {t.date()}{where}",
            labels={
                "n_invoices": "invoices",
                "written_off": "written off",
                "collected": "collected now",
            }
            | {c: f"by {c.split('_')[1]}" for c in display.columns if c.startswith("collected_")},
        )
        self._vintage_note.set(
            "A <b>vintage</b> is the invoices issued in one calendar month. At each age (days "
            "since invoice date) a cell is the share of the vintage's invoiced amount "
            f"({html.escape(self._currency)}, at invoice-date rates) collected in cash by then. "
            "Open invoices stay in the denominator, so a young vintage is never flattered by "
            "leaving its unpaid invoices out. An age is shown only when every invoice of the "
            "vintage has reached it by the as-of date (blank cells are not yet observed, never "
            "zero). The curves show the three latest vintages in colour, older ones in grey. "
            f"The window shows the last {months} vintages. The table's status columns are "
            "shares settled by the as-of date whatever the age. Computed by "
            "<code>rpmkit.cohorts.VintageCurves</code>."
        )

    def _show_rollrates(self, view: Ledger, t: pd.Timestamp, segment: str) -> None:
        months = self._months.value
        fit = self._cached(
            ("rollrates", segment, t, months),
            lambda: rollrate.RollRates(months=months).fit(view, t),
        )
        pairs = int(fit.monthly_["month_end"].nunique()) if len(fit.monthly_) else 0
        where = "" if segment == data.ALL else f", {segment}"
        matrix = fit.plot("matrix", title=f"Month-over-month transitions ({pairs} months){where}")
        bars = fit.plot("allowance", title=f"Allowance by aging bucket, {t.date()}")
        pair = _pair(matrix, bars, widths=(0.54, 0.46))
        pair.update_layout(margin={"r": 60})  # room for the last bar's label
        self._roll_chart.show(pair)
        allowance = fit.allowance_
        frame = pd.DataFrame(
            {
                "bucket": [str(b) for b in allowance.index],
                "invoices": allowance["invoices"].to_numpy(),
                "open_amount": allowance["open_amount"].to_numpy(dtype="float64") / self._scale,
                "loss_rate": allowance["loss_rate"].to_numpy(dtype="float64") * 100,
                "allowance": allowance["allowance"].to_numpy(dtype="float64", na_value=np.nan)
                / self._scale,
                "months_to_cash": fit.expected_months_["to_cash"]
                .reindex(allowance.index)
                .to_numpy(dtype="float64"),
            }
        )
        display = frame.assign(months_to_cash=frame["months_to_cash"].map(_num))
        self._allowance_table.show(
            display,
            f"allowance-{t.date()}",
            download=frame,
            title=f"Allowance by bucket at {t.date()}{where}",
        )
        matrix = fit.summary()
        download = matrix.reset_index().rename(columns={"from_state": "from"})
        download.columns = [str(c) for c in download.columns]
        self._matrix_downloads.set_frame(download, f"transition-matrix-{t.date()}")
        self._matrix_title.value = (
            '<div class="rpm-h">Transition matrix</div><div class="rpm-sub">The probabilities '
            "in the heatmap, one row per bucket:</div>"
        )
        self._roll_note.set(
            "<b>Roll-rate matrix.</b> At each calendar month end every open invoice is in an "
            "aging bucket by days past due (as-of − due date; due that day is current). One "
            "month end later its open balance is in a bucket again, or it has closed: "
            "<b>paid</b> (cash, credit notes, discounts) or <b>written off</b>. A cell is the "
            f"share of the row's open balance ({html.escape(self._currency)}) that moved there, "
            f"pooled over the last {months} month-end pairs up to the as-of date; each row sums "
            "to 100 %. Each invoice is tracked, so these are transition probabilities, not "
            "ratios of bucket totals. <b>Allowance.</b> Treating paid and written off as "
            "absorbing states of a Markov chain, N = (I − Q)⁻¹ gives the probability each "
            "bucket ends written off — its <b>loss rate</b> — and the expected months until "
            "cash; allowance = open AR in the bucket at the as-of date × loss rate (a provision "
            "matrix, as in the IFRS 9 simplified approach or a CECL loss-rate method). Computed "
            "by <code>rpmkit.rollrate.RollRates</code>."
        )

    # ---------------------------------------------------------- for tests
    @property
    def figures(self) -> dict:
        """The ``FigureWidget`` of each tab (``None`` until the tab was first shown).

        ``vintages`` and ``rollrates`` hold two charts side by side: the heatmap on axes
        ``x``/``y``, the curves or the allowance bars on ``x2``/``y2``.
        """
        return {
            "trends": self._trend_chart.figure,
            "payers": self._payer_chart.figure,
            "survival": self._km_chart.figure,
            "vintages": self._vintage_chart.figure,
            "rollrates": self._roll_chart.figure,
        }

    @property
    def notice(self) -> Notice:
        return self._notice

    def show_section(self, section: str) -> None:
        """Open the tab of ``section`` (one of :data:`SECTIONS`)."""
        self._tabs.selected_index = SECTIONS.index(section)

    def __repr__(self) -> str:
        if self._ledger is None:
            return "PaymentBehaviourApp(no ledger)"
        return (
            f"PaymentBehaviourApp(as of {self._as_of.value}, segment {self._segment.value!r}, "
            f"{self._months.value} months)"
        )
