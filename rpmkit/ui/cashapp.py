"""Cash application and disputes: how much cash applies itself, how wrongly, what disputes cost.

The app applies the ledger's own recent payments blind (their allocations
withheld) with :class:`rpmkit.cashapp.CashAppEvaluation`, then lets the user
move the confidence threshold: the trade-off curve's marker, the rates, the
rule and noise breakdowns and the review queue follow without re-running the
engine. The disputes tab shows :class:`rpmkit.disputes.DisputeAnalysis`.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import ipywidgets as w
import pandas as pd

from rpmkit import money
from rpmkit.cashapp import RULES, evaluate
from rpmkit.cashapp.report import CashAppEvaluation, read_noise
from rpmkit.config import sample_dir
from rpmkit.disputes import DisputeAnalysis
from rpmkit.ledger import Ledger
from rpmkit.plots.cashapp import dispute_pareto, rate_bars, threshold_curve
from rpmkit.ui import data
from rpmkit.ui.charts import ChartSlot
from rpmkit.ui.format import format_money
from rpmkit.ui.loading import load_friendly
from rpmkit.ui.widgets import MethodNote, Notice, TableView, style_widget

__all__ = ["CashApplicationApp"]

log = logging.getLogger("rpmkit.ui")

WINDOWS = (1, 2, 3, 6, 12)
TAB_TITLES = ("Trade-off", "Rules and noise", "Review queue", "Disputes")
HALF = {"width": "50%", "min_width": "420px", "padding": "0 6px 0 0"}
METHOD = (
    "<b>Envelope auto-match</b>: payments auto-applied with every allocation right "
    "(same invoices, same amounts), over all payments. <b>Line auto-match</b>: true "
    "allocation lines auto-applied exactly. <b>Precision</b>: auto-applied lines that are "
    "right. <b>Error rate</b>: payments auto-applied with any wrong line. A proposal is "
    "auto-applied when its confidence is at or above the threshold; each rule has a fixed "
    "confidence:<br>"
)


DISPUTES_METHOD = (
    "Disputes opened by the ledger's last month end. <b>Pareto</b>: reason codes by number "
    "of disputes, bars labelled with the disputed amount (reporting currency), the line the "
    "cumulative share of the count. <b>Resolution time</b>: Kaplan–Meier estimate of the "
    "share still unresolved by days since opening; disputes still open are censored at the "
    "as-of date, not dropped, so the median is not biased short. <b>Extra days to pay</b>: "
    "settlement minus due date of disputed invoices, less the same customers' average on "
    "undisputed invoices. <b>DSO and ADD</b> for the last quarter, with all invoices and with "
    "the disputed invoices (and their cash and adjustments) left out."
)


def _pct(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{100 * float(value):.1f} %"


_RATES = ("auto_rate", "envelope_rate", "line_rate", "precision")
_KINDS = {"payments": "int", **dict.fromkeys(_RATES, "percent")}
_LABELS = {
    "auto_rate": "auto-applied",
    "envelope_rate": "envelope right",
    "line_rate": "lines right",
    "precision": "precision",
}


def _percent(table: pd.DataFrame, name: str, rates: list[str]) -> pd.DataFrame:
    """Rates as percentages for a table, the index as a first column called ``name``."""
    out = table.reset_index(names=name)[[name, "payments", *rates]]
    out[rates] = 100 * out[rates].astype(float)
    return out


class CashApplicationApp(w.VBox):
    """Match rates by rule and noise type, the review queue, the threshold curve and disputes.

    Parameters
    ----------
    ledger
        The ledger whose payments are applied blind (``None`` shows ``message``).
    noise
        Noise flags per payment (``truth/payments.csv`` of a synthetic ledger), optional.
    months
        Payments of this many months before the ledger's last month end are applied.
    threshold
        Starting confidence threshold.
    """

    def __init__(
        self,
        ledger: Ledger | None,
        noise: pd.DataFrame | None = None,
        *,
        months: int = 2,
        threshold: float = 0.9,
        message: str = "",
    ) -> None:
        self._notice = Notice()
        self._style = style_widget()
        if ledger is None:
            self._notice.show(message or "No ledger to show.", "error")
            super().__init__([self._style, self._notice])
            self.add_class("rpm-app")
            return
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1]; got {threshold!r}")
        self._ledger = ledger
        self._noise = noise
        self._currency = ledger.reporting_currency
        self._as_of = data.default_as_of(ledger)
        self._cache: dict[tuple, CashAppEvaluation] = {}
        self._curves: dict[tuple, pd.DataFrame] = {}
        self._threshold = w.FloatSlider(
            value=threshold,
            min=0.0,
            max=1.0,
            step=0.01,
            description="Threshold",
            readout_format=".2f",
            continuous_update=False,
            layout=w.Layout(width="340px"),
            style={"description_width": "70px"},
        )
        self._months = w.Dropdown(
            options=[(f"last {m} month{'s' * (m > 1)}", m) for m in sorted({*WINDOWS, months})],
            value=months,
            description="Payments",
            layout=w.Layout(width="250px"),
            style={"description_width": "70px"},
        )
        self._payers = w.Dropdown(
            options=[("customer ids given", False), ("customer ids hidden", True)],
            value=False,
            description="Payers",
            layout=w.Layout(width="260px"),
            style={"description_width": "56px"},
        )
        self._rates = w.HTML("")
        self._curve = ChartSlot("cash-application-threshold")
        self._rules_chart = ChartSlot("cash-application-rules")
        self._noise_chart = ChartSlot("cash-application-noise")
        self._rules_table = TableView("Payments by rule")
        self._noise_table = TableView("By noise type of the generator")
        self._queue = TableView("Review queue: payments below the threshold, top candidates")
        self._pareto = ChartSlot("dispute-pareto")
        self._resolution = ChartSlot("dispute-resolution")
        self._disputes_table = TableView("Dispute figures")
        self._dso_table = TableView("DSO and ADD with and without disputed invoices")
        self._disputes_method = MethodNote()
        self._disputes_method.set(DISPUTES_METHOD)
        self._method = MethodNote()
        self._method.set(
            METHOD
            + "<br>".join(
                f"{html.escape(k)}: {v[0]:.2f}, {html.escape(v[1])}" for k, v in RULES.items()
            )
        )
        pair = lambda a, b: w.HBox(  # noqa: E731
            [w.Box([a], layout=w.Layout(**HALF)), w.Box([b], layout=w.Layout(**HALF))],
            layout=w.Layout(flex_flow="row wrap", width="100%"),
        )
        self._tabs = w.Tab(
            [
                w.VBox([self._curve, self._method]),
                w.VBox(
                    [
                        pair(self._rules_chart, self._noise_chart),
                        pair(self._rules_table, self._noise_table),
                    ]
                ),
                w.VBox([self._queue]),
                w.VBox(
                    [
                        pair(self._pareto, self._resolution),
                        pair(self._disputes_table, self._dso_table),
                        self._disputes_method,
                    ]
                ),
            ],
            titles=TAB_TITLES,
        )
        controls = w.HBox(
            [self._threshold, self._months, self._payers],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        super().__init__(
            [self._style, controls, self._notice, self._rates, self._tabs],
            layout=w.Layout(width="100%"),
        )
        self.add_class("rpm-app")
        self._threshold.observe(self._on_threshold, names="value")
        self._months.observe(self._on_run, names="value")
        self._payers.observe(self._on_run, names="value")
        # the open tab's chart first: a cell's first chart is the one the page draws early
        self._run()
        self._show_disputes()

    @classmethod
    def from_source(cls, source=None, preset=None, fast: bool = False) -> CashApplicationApp:
        """Load ``source`` (blank: the sample, with noise flags); ``fast``: one month, not two."""
        result, message = load_friendly(source, preset)
        if result is None:
            return cls(None, message=message)
        folder = sample_dir() if not source else Path(source)
        noise = read_noise(folder) if folder.is_dir() else None
        return cls(result.ledger, noise, months=1 if fast else 2)

    # ------------------------------------------------------------ computing
    def _evaluation(self) -> CashAppEvaluation:
        key = (self._months.value, self._payers.value)
        if key not in self._cache:
            start = self._as_of - pd.DateOffset(months=self._months.value)
            pay = self._ledger.payments
            keep = (pay["payment_date"] > start) & (pay["payment_date"] <= self._as_of)
            view = self._ledger.replace(payments=pay[keep])
            ev = CashAppEvaluation(self._threshold.value, self._payers.value)
            self._cache[key] = ev.fit(view, self._noise)
        ev = self._cache[key]
        ev.threshold = ev.engine.threshold = self._threshold.value
        return ev

    def _curve_of(self, ev: CashAppEvaluation) -> pd.DataFrame:
        # the trade-off curve (101 thresholds) does not move with the threshold; computing
        # it once per window keeps a slider move to the marker, the rates and the queue
        key = (self._months.value, self._payers.value)  # as in _evaluation
        if key not in self._curves:
            self._curves[key] = ev.curve_
        return self._curves[key]

    def _on_run(self, _change=None) -> None:
        # applying a window of payments takes seconds: say so while it runs
        self._notice.show("Applying the payments of this window…", "info")
        self._run()

    def _on_threshold(self, _change=None) -> None:
        self._run()

    def _run(self) -> None:
        try:
            ev = self._evaluation()
        except Exception:  # the page shows a sentence, the server log the detail
            log.exception("cash application failed")
            self._notice.show("Cash application could not run on this ledger.", "error")
            return
        self._notice.clear()
        if ev.checked_.empty:
            self._notice.show("No payments in this window: choose a longer one.", "warning")
        t = self._threshold.value
        r = ev.rates_
        pays = ev.engine.payments_
        unapplied = money.to_units(pays["unapplied"], pays["currency"]).sum()
        self._rates.value = (
            '<div class="rpm-context">'
            f"<b>{len(pays):,}</b> payments from {pays['payment_date'].min():%Y-%m-%d} to "
            f"{self._as_of:%Y-%m-%d} · envelope auto-match <b>{_pct(r['envelope_rate'])}</b> · "
            f"line auto-match <b>{_pct(r['line_rate'])}</b> · precision "
            f"<b>{_pct(r['precision'])}</b> · error rate <b>{_pct(r['error_rate'])}</b> · "
            f"review queue <b>{int((~pays['auto'] & (pays['rule'] != 'unmatched')).sum()):,}</b>"
            f" · unapplied {html.escape(format_money(unapplied, self._currency))}</div>"
        )
        self._curve.show(threshold_curve(self._curve_of(ev), t))
        by_rule = evaluate.by_rule(ev.checked_, t)
        self._rules_chart.show(rate_bars(by_rule, "Auto-matched right, by rule"))
        self._rules_table.show(
            _percent(by_rule, "rule", ["auto_rate", "envelope_rate", "precision"]),
            "cash-application-rules",
            kinds=_KINDS,
            labels=_LABELS,
        )
        by_noise = ev.by_noise_
        if by_noise is not None:
            self._noise_chart.show(rate_bars(by_noise, "Auto-matched right, by noise type"))
            self._noise_table.show(
                _percent(by_noise, "noise", ["envelope_rate", "line_rate", "precision"]),
                "cash-application-noise",
                kinds=_KINDS,
                labels=_LABELS,
            )
        else:
            self._noise_table.show(
                pd.DataFrame(),
                "cash-application-noise",
                empty="No noise flags: only synthetic ledgers record the noise of each payment.",
            )
        self._show_queue(ev)

    def _show_queue(self, ev: CashAppEvaluation) -> None:
        queue = ev.engine.review_
        pays = ev.engine.proposed_.set_index("payment_id")
        if queue.empty:
            self._queue.show(queue, "review-queue", empty="Nothing to review at this threshold.")
            return
        cur = queue["payment_id"].map(pays["currency"])
        table = pd.DataFrame(
            {
                "payment": queue["payment_id"],
                "date": queue["payment_id"].map(pays["payment_date"]),
                "customer": queue["payment_id"].map(pays["customer_id"]),
                "received": money.to_units(queue["payment_id"].map(pays["amount"]), cur),
                "currency": cur,
                "candidate": queue["rank"] + 1,
                "candidate rule": queue["rule"],
                "confidence": queue["payment_id"].map(pays["confidence"]).round(2),
                "invoice": queue["invoice_id"],
                "allocation": money.to_units(queue["amount"], cur),
            }
        )
        self._queue.show(
            table,
            "review-queue",
            max_rows=60,
            max_height="420px",
            currency_column="currency",
            kinds={"date": "date", "received": "money", "allocation": "money", "candidate": "int"},
        )

    def _show_disputes(self) -> None:
        try:
            d = DisputeAnalysis().fit(self._ledger, self._as_of)
        except ValueError as exc:
            log.info("no dispute analysis: %s", exc)
            self._disputes_table.show(pd.DataFrame(), "disputes", empty="No disputes to analyse.")
            return
        self._pareto.show(dispute_pareto(d.pareto_, self._currency))
        km = d.plot("resolution", title="Dispute resolution time (Kaplan–Meier)", height=340)
        self._resolution.show(km.update_layout(showlegend=False))
        s = d.summary()["value"]
        rows = [
            ("disputes opened", f"{int(s['disputes']):,}"),
            ("invoices disputed", _pct(s["dispute_rate"])),
            ("open disputes", f"{int(s['open_disputes']):,}"),
            ("open disputed AR", format_money(s["open_disputed_ar"], self._currency)),
            ("past-due AR in dispute", f"{s['disputed_past_due_share_pct']:.1f} %"),
            ("median resolution (KM)", f"{s['resolution_median_days']:.0f} days"),
            ("extra days to pay when disputed", f"{d.cash_delay_['extra_days']:.1f} days"),
            *((f"outcome: {k}", _pct(v)) for k, v in d.outcomes_["share"].items()),
        ]
        self._disputes_table.show(pd.DataFrame(rows, columns=["figure", "value"]), "disputes")
        table = d.dso_add_.round(1).reset_index(names="invoices")
        table.columns = ["invoices", "DSO", "ADD (DSO − BPDSO)", "ADD (invoice, amount-weighted)"]
        self._dso_table.show(table, "dso-add")

    # -------------------------------------------------------------- access
    @property
    def figures(self) -> dict:
        """The app's FigureWidgets by name (for tests)."""
        slots = {
            "curve": self._curve,
            "rules": self._rules_chart,
            "noise": self._noise_chart,
            "pareto": self._pareto,
            "resolution": self._resolution,
        }
        return {k: s.figure for k, s in slots.items() if s.figure is not None}

    @property
    def notice(self) -> Notice:
        return self._notice

    @property
    def rates_text(self) -> str:
        return self._rates.value

    @property
    def queue_html(self) -> str:
        return self._queue.html

    def __repr__(self) -> str:
        return "CashApplicationApp(cash application and disputes)"
