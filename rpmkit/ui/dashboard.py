"""The AR dashboard: where receivables stand at a date, how they trend, and who is late."""

from __future__ import annotations

import gc
import html
import logging

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from rpmkit import kpi, money, plots
from rpmkit.ledger import Ledger
from rpmkit.memory import give_back_memory
from rpmkit.ui import _lean, data  # noqa: F401 (_lean, before charts, keeps imports quick)
from rpmkit.ui.charts import ChartSlot
from rpmkit.ui.format import format_money
from rpmkit.ui.formulas import formula_html
from rpmkit.ui.loading import load_ledger
from rpmkit.ui.tile import KpiTile
from rpmkit.ui.widgets import MethodNote, Notice, TableView, style_widget

__all__ = ["ARDashboardApp"]

log = logging.getLogger("rpmkit.ui")

TILES = (
    ("open_ar", "Open AR", "money"),
    ("dso", "DSO", "days"),
    ("bpdso", "Best possible DSO", "days"),
    ("add", "Days delinquent", "days"),
    ("cei", "CEI", "percent"),
    ("pct_current", "% current", "percent"),
    ("pct_over_90", "% 91+ past due", "percent"),
)

MAX_CUSTOMERS = 200
TOP_CUSTOMERS = 10
CUSTOMER_VIEWS = 8  # customers' sub-ledgers kept for their open items


class ARDashboardApp(w.VBox):
    """Open AR, the DSO family, CEI and aging at an as-of date, by segment and customer.

    Parameters
    ----------
    ledger
        The ledger to show (``None`` shows ``message`` instead: see :meth:`from_source`).
    as_of
        The as-of date (ISO text or date); ``None`` or an invalid date falls back to the
        ledger's last month end, with a notice.
    trend_months
        Points on the DSO-family trend (one per month, ending at the as-of date).

    Examples
    --------
    >>> app = ARDashboardApp(None, message="The ledger could not be loaded.")
    >>> app, app.notice.text
    (ARDashboardApp(no ledger), 'The ledger could not be loaded.')
    """

    def __init__(
        self,
        ledger: Ledger | None,
        as_of=None,
        *,
        trend_months: int = 12,
        message: str = "",
    ) -> None:
        self._ledger = ledger
        self._trend_months = trend_months
        self._views: dict[str, Ledger] = {}
        self._segment_map = data.customer_segments(ledger) if ledger is not None else None
        self._notice = Notice()
        self._style = style_widget()
        if ledger is None:
            self._notice.show(message or "No ledger to show.", "error")
            super().__init__([self._style, self._notice])
            self.add_class("rpm-app")
            return
        self._currency = ledger.reporting_currency
        first, last = ledger.date_range()
        self._first, self._last = first, last
        start, self._pending = data.initial_as_of(ledger, as_of, "ARDashboardApp")

        self._as_of = w.DatePicker(
            value=start.date(),
            description="As of",
            min=first.date(),
            max=last.date(),
            layout=w.Layout(width="230px"),
            style={"description_width": "48px"},
        )
        self._segment = w.Dropdown(
            options=[data.ALL, *data.segments(ledger)],
            value=data.ALL,
            description="Segment",
            layout=w.Layout(width="260px"),
            style={"description_width": "62px"},
        )
        self._context = w.HTML("")
        self._tiles = {key: KpiTile(key, title, unit, self._currency) for key, title, unit in TILES}
        self._formula = w.HTML("", layout=w.Layout(display="none", margin="0 0 6px 0"))
        for tile in self._tiles.values():
            tile.on_formula(self._show_formula)

        # One FigureWidget for both charts: the page loads plotly's widget code once.
        self._charts = ChartSlot("ar-dashboard")
        self._aging_note = MethodNote()
        self._trend_note = MethodNote()
        self._top = TableView(
            "Top past-due customers",
            kinds={
                "open_ar": "money0",
                "past_due": "money0",
                "over_90": "money0",
                "past_due_share": "percent",
            },
            currency=self._currency,
            labels={
                "customer_id": "customer",
                "open_ar": "open AR",
                "past_due": "past due",
                "over_90": "91+",
                "past_due_share": "% past due",
            },
            empty="No customer has anything past due at this date.",
        )
        self._top_note = MethodNote()
        self._customer = w.Dropdown(
            options=[],
            description="Customer",
            layout=w.Layout(width="100%"),
            style={"description_width": "70px"},
        )
        self._items = TableView(
            "Open items",
            kinds={
                "invoice_date": "date",
                "due_date": "date",
                "amount": "money",
                "open_amount": "money",
                "days_past_due": "days",
                "disputed": "flag",
            },
            currency_column="currency",
            labels={
                "invoice_id": "invoice",
                "invoice_date": "invoiced",
                "due_date": "due",
                "open_amount": "open",
                "days_past_due": "days past due",
            },
            max_rows=15,
            empty="No open items for this customer at this date.",
            # The currency shows in every amount; the download keeps it as a column.
            columns=[
                "invoice_id",
                "invoice_date",
                "due_date",
                "amount",
                "open_amount",
                "days_past_due",
                "bucket",
                "disputed",
            ],
        )

        self._as_of.observe(self._on_as_of, names="value")
        self._segment.observe(self._on_segment, names="value")
        self._customer.observe(self._on_customer, names="value")

        controls = w.HBox(
            [self._as_of, self._segment, self._context],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        tiles = w.HBox(list(self._tiles.values()), layout=w.Layout(flex_flow="row wrap"))
        half = {"width": "50%", "min_width": "420px", "padding": "0 6px 0 0"}
        charts = w.VBox(
            [
                self._charts,
                w.HBox(
                    [
                        w.VBox([self._aging_note], layout=w.Layout(**half)),
                        w.VBox([self._trend_note], layout=w.Layout(**half)),
                    ],
                    layout=w.Layout(width="100%"),
                ),
            ],
            layout=w.Layout(width="100%"),
        )
        tables = w.HBox(
            [
                w.VBox([self._top, self._top_note], layout=w.Layout(**half)),
                w.VBox([self._customer, self._items], layout=w.Layout(**half)),
            ],
            layout=w.Layout(flex_flow="row wrap", width="100%"),
        )
        super().__init__(
            [self._style, controls, self._notice, tiles, self._formula, charts, tables],
            layout=w.Layout(width="100%"),
        )
        self.add_class("rpm-app")
        self._refresh()

    # ------------------------------------------------------------ building
    @classmethod
    def from_source(
        cls, source=None, *, preset=None, as_of=None, trend_months: int = 12
    ) -> ARDashboardApp:
        """Load ``source`` (blank: the sample ledger) and show it; a failed load shows why."""
        ledger, message = load_ledger(source, preset)
        if ledger is None:
            return cls(None, message=message)
        app = cls(ledger, as_of, trend_months=trend_months)
        # The first refresh leaves freed temporaries in malloc's and Arrow's pools; a
        # kernel of a shared server then holds ~10 MB less for as long as it lives.
        gc.collect()
        give_back_memory()
        return app

    _pending = ""

    def _view(self, segment: str) -> Ledger:
        if segment == data.ALL:
            return self._ledger
        if segment not in self._views:
            self._views[segment] = data.segment_ledger(self._ledger, segment)
        return self._views[segment]

    def _customer_view(self, customer: str) -> Ledger:
        # The listed customer rarely changes with the date: keep the last few views.
        views = self.__dict__.setdefault("_customer_views", {})
        if customer not in views:
            if len(views) >= CUSTOMER_VIEWS:
                views.pop(next(iter(views)))
            views[customer] = data.customer_ledger(self._ledger, customer)
        return views[customer]

    # ------------------------------------------------------------ callbacks
    def _on_as_of(self, change) -> None:
        self._refresh()

    def _on_segment(self, change) -> None:
        self._refresh()

    _quiet = False

    def _on_customer(self, change) -> None:
        if not self._quiet:
            self._refresh_customer()

    def _show_formula(self, tile: KpiTile, shown: bool) -> None:
        if shown:
            for other in self._tiles.values():
                if other is not tile and other.toggle.value:
                    other.toggle.value = False
            self._formula.value = tile.formula_html
            self._formula.layout.display = ""
            self._formula_key = tile.kind
        elif getattr(self, "_formula_key", None) == tile.kind:
            self._formula.layout.display = "none"
            self._formula_key = None

    def _checked_as_of(self) -> pd.Timestamp | None:
        t, problem = data.picked_as_of(self._as_of.value, self._first, self._last)
        if t is None:
            self._notice.show(problem, "error")
        return t

    def _refresh(self) -> None:
        t = self._checked_as_of()
        if t is None:
            return
        segment = self._segment.value
        try:
            view = self._view(segment)
            by_customer = kpi.aging(view, t, by="customer")
            aging, open_invoices = self._aging(view, t, segment, by_customer)
            self._update_tiles(view, t, open_invoices)
            trend = self._trend(view, t)
            self._charts.show(plots.side_by_side(aging, trend, widths=(0.46, 0.54)))
            self._update_customers(view, t, by_customer)
        except Exception:
            log.exception("ARDashboardApp: refresh failed at %s, segment %s", t.date(), segment)
            self._notice.show(
                "The dashboard could not be computed for this date and segment. "
                "The server log has the details.",
                "error",
            )
            return
        if self._pending:
            self._notice.show(self._pending, "info")
            self._pending = ""
        else:
            self._notice.clear()

    # ------------------------------------------------------------- updates
    def _kpis(self, view: Ledger, t: pd.Timestamp) -> dict:
        c = kpi.components(view, t, "month")
        return {
            "components": c,
            "open_ar": c.units(c.ar_end),
            "dso": kpi.dso(view, t),
            "bpdso": kpi.bpdso(view, t),
            "add": kpi.add(view, t),
            "cei": kpi.cei(view, t),
            "pct_current": kpi.pct_current(view, t),
            "pct_over_90": kpi.pct_over_90(view, t),
        }

    def _update_tiles(self, view: Ledger, t: pd.Timestamp, open_invoices: int) -> None:
        now = {**self._kpis(view, t), "open_invoices": open_invoices}
        prior_t = data.month_back(t, 1)
        prior = self._kpis(view, prior_t) if prior_t >= self._first else None
        bench = data.benchmarks()
        label = str(prior_t.date())
        for key, tile in self._tiles.items():
            value = now[key] if key == "open_ar" else now[key].value
            before = None
            if prior is not None:
                before = prior[key] if key == "open_ar" else prior[key].value
            tile.set(
                value,
                prior=before,
                prior_label=label,
                benchmark=bench.get(key),
                formula_html=formula_html(key, now, self._currency),
            )
        key = getattr(self, "_formula_key", None)
        if key:
            self._formula.value = self._tiles[key].formula_html
        c = now["components"]
        seg = self._segment.value
        self._context.value = (
            f'<span class="rpm-sub">&nbsp;&nbsp;{html.escape(seg)} · period {c.period.start.date()}'
            f" to {c.period.end.date()} · {self._currency}</span>"
        )

    def _aging(
        self, view: Ledger, t: pd.Timestamp, segment: str, by_customer: kpi.AgingResult
    ) -> tuple[go.Figure, int]:
        """The aging chart and the number of open invoices."""
        stacked = segment == data.ALL
        ag = by_customer
        if stacked and self._segment_map is None:
            # Invoices carry segments of their own: regrouping customers would misplace them.
            by_segment = kpi.aging(view, t, by="segment")
            amounts = by_segment.summary().drop(columns=["invoices", "total"])
            counts = by_segment.counts
        else:
            amounts, counts = data.regroup_aging(
                by_customer, self._segment_map, None if stacked else segment
            )
        title = f"Open AR by days past due, {t.date()}"
        fig = plots.aging_bars(amounts, self._currency, counts=counts, title=title)
        scale = 10 ** money.exponent(self._currency)
        unapplied = format_money(ag.unapplied_cash / scale, self._currency, decimals=0)
        self._aging_note.set(
            f"Open AR at the end of {t.date()} by days past due (as-of date − due date; "
            "an invoice due that day is current). Buckets: "
            + ", ".join(ag.labels)
            + f". Amounts in {self._currency}; a foreign-currency invoice is converted at its "
            "invoice-date rate. "
            + ("Bars are stacked by segment. " if stacked else f"Segment {html.escape(segment)}. ")
            + f"Unapplied cash of {html.escape(unapplied)} is kept out of the buckets. "
            "Computed by <code>rpmkit.kpi.aging</code>."
        )
        return fig, int(ag.counts.to_numpy().sum())

    def _trend(self, view: Ledger, t: pd.Timestamp) -> go.Figure:
        series = data.dso_trend(view, t, self._trend_months)
        title = f"DSO family, {self._trend_months} months to {t.date()}"
        fig = plots.kpi_trend(series, benchmarks=data.benchmarks(), title=title)
        self._trend_note.set(
            "Each point covers the calendar month ending on that date (D = its days). "
            "<b>DSO</b> = AR_end / S × D; <b>BPDSO</b> = AR_cur / S × D (current AR only); "
            "<b>ADD</b> = DSO − BPDSO. AR_end = open AR at the end of the month, AR_cur = the "
            "part not yet past due, S = credit sales invoiced in the month. Dotted lines: "
            + html.escape(kpi.CRF_BENCHMARKS["dso"].source)
            + " ("
            + ", ".join(
                f"{plots.KPI_LABELS[k]} {kpi.CRF_BENCHMARKS[k].value:.2f}"
                for k in ("dso", "bpdso", "add")
            )
            + "). Computed by <code>rpmkit.kpi.kpi_series</code>."
        )
        return fig

    def _update_customers(
        self, view: Ledger, t: pd.Timestamp, by_customer: kpi.AgingResult
    ) -> None:
        ranked = data.top_past_due(view, t, n=None, by_customer=by_customer)
        self._ranked = ranked
        seg = self._segment.value
        top = ranked.head(TOP_CUSTOMERS)
        title = f"Top past-due customers, {t.date()}" + ("" if seg == data.ALL else f", {seg}")
        self._top.show(top, f"top-past-due-{t.date()}", download=ranked, title=title)
        self._top_note.set(
            f"Past due = open AR minus the part not yet due; 91+ = more than 90 days past due. "
            f"Amounts in {self._currency}. The table shows the {TOP_CUSTOMERS} largest; the "
            f"download has all {len(ranked):,} customers with anything past due."
        )
        options = [
            (
                f"{r.customer_id} · {r.name if isinstance(r.name, str) else ''} · "
                f"{format_money(r.past_due, self._currency, decimals=0)} past due",
                r.customer_id,
            )
            for r in ranked.head(MAX_CUSTOMERS).itertuples()
        ]
        current = self._customer.value
        values = [v for _, v in options]
        self._quiet = True
        try:
            self._customer.options = options
            self._customer.value = current if current in values else (values[0] if values else None)
        finally:
            self._quiet = False
        self._refresh_customer()

    def _refresh_customer(self) -> None:
        t = self._checked_as_of()
        customer = self._customer.value
        if t is None:
            return
        if customer is None:
            self._items.show(pd.DataFrame(), "open-items", title="Open items")
            return
        try:
            items = data.customer_open_items(
                self._ledger, customer, t, view=self._customer_view(customer)
            )
        except Exception:
            log.exception("ARDashboardApp: open items failed for %s at %s", customer, t.date())
            self._notice.show("The open items of this customer could not be listed.", "error")
            return
        self._items.show(
            items,
            f"open-items-{customer}-{t.date()}",
            title=f"Open items of {customer} at {t.date()}",
        )

    # ---------------------------------------------------------- for tests
    @property
    def tiles(self) -> dict[str, KpiTile]:
        return self._tiles

    @property
    def figure(self):
        """The ``FigureWidget`` with both charts (``None`` before the first refresh).

        Aging traces are on axes ``x``/``y``, the trend's on ``x2``/``y2``.
        """
        return self._charts.figure

    @property
    def notice(self) -> Notice:
        return self._notice

    def __repr__(self) -> str:
        if self._ledger is None:
            return "ARDashboardApp(no ledger)"
        return f"ARDashboardApp(as of {self._as_of.value}, segment {self._segment.value!r})"
