"""Credit risk and worklist: who will pay late, what limits to set, whom to chase today.

The app wires an as-of date and a team capacity to :mod:`rpmkit.risk` and
:mod:`rpmkit.worklist`; figures come from :mod:`rpmkit.plots.risk`. What a date
costs (the model fitted on what was known then, customer grades, the full
ranked list, limits) is computed once per date and kept; a capacity change
only cuts the ranked list again.

>>> CreditRiskApp(None, message="The sample ledger is missing.").notice.text
'The sample ledger is missing.'
"""

from __future__ import annotations

import html
import logging
import re

import ipywidgets as w
import numpy as np
import pandas as pd

from rpmkit.ledger import Ledger
from rpmkit.plots import risk as plots
from rpmkit.risk import CustomerRisk, LimitPolicy, RiskEvaluation, credit_limits
from rpmkit.ui import data
from rpmkit.ui.charts import ChartSlot
from rpmkit.ui.format import format_money
from rpmkit.ui.loading import load_friendly
from rpmkit.ui.risk import tables
from rpmkit.ui.risk.tables import table
from rpmkit.ui.widgets import MethodNote, Notice, style_widget
from rpmkit.worklist import Worklist

__all__ = ["CreditRiskApp"]

log = logging.getLogger("rpmkit.ui")

SECTIONS = ("worklist", "grades", "limits", "quality")
TAB_TITLES = ("Today's worklist", "Risk grades", "Credit limits", "Model quality")
CAPACITY = (
    (" 2 h", 2.0),
    (" 4 h", 4.0),
    ("7.5 h (one collector-day)", 7.5),
    ("15 h (two collectors)", 15.0),
    ("37.5 h (a collector-week)", 37.5),
    ("75 h", 75.0),
)
LIMIT_VIEWS = (("All customers", "all"), ("Over limit", "over"), ("On hold", "hold"))
CACHE_SIZE = 8
_PATH = re.compile(r"[/\\]")
HALF = {"width": "50%", "min_width": "420px", "padding": "0 6px 0 0"}


def _rounded(frame: pd.DataFrame, digits: dict[str, int]) -> pd.DataFrame:
    """Numbers as right-aligned text with fixed decimals (NaN stays missing)."""
    out = frame.copy()
    for c, d in digits.items():
        if c in out.columns:
            out[c] = [np.nan if pd.isna(v) else f"{float(v):,.{d}f}" for v in out[c]]
    return out


class CreditRiskApp(w.VBox):
    """Risk grades, limit recommendations, model quality and today's ranked worklist.

    Parameters
    ----------
    ledger
        The ledger (``None`` shows ``message`` instead: see :meth:`from_source`).
    as_of
        The as-of date; ``None`` or an unusable value falls back to the last month end.
    hours
        Team capacity in collector hours (one of the offered values, else the nearest).
    """

    def __init__(self, ledger: Ledger | None, as_of=None, *, hours: float = 7.5, message: str = ""):
        self._ledger = ledger
        self._notice = Notice()
        self._style = style_widget()
        if ledger is None:
            self._notice.show(message or "No ledger to show.", "error")
            super().__init__([self._style, self._notice])
            self.add_class("rpm-app")
            return
        self._currency = ledger.reporting_currency
        self._first, self._last = ledger.date_range()
        self._cache: dict[pd.Timestamp, dict] = {}
        self._stale = set(SECTIONS)
        start, self._pending = data.initial_as_of(ledger, as_of, "CreditRiskApp")
        self._as_of = w.DatePicker(
            value=start.date(),
            description="As of",
            min=self._first.date(),
            max=self._last.date(),
            layout=w.Layout(width="230px"),
            style={"description_width": "48px"},
        )
        values = [v for _, v in CAPACITY]
        nearest = values[int(np.argmin([abs(v - float(hours)) for v in values]))]
        self._hours = w.Dropdown(
            options=CAPACITY,
            value=nearest,
            description="Team capacity",
            layout=w.Layout(width="330px"),
            style={"description_width": "100px"},
        )
        self._context = w.HTML("")
        self._build()
        self._as_of.observe(lambda _: self._refresh(), names="value")
        self._hours.observe(lambda _: self._refresh_section("worklist"), names="value")
        self._tabs.observe(self._on_tab, names="selected_index")
        controls = w.HBox(
            [self._as_of, self._hours, self._context],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        super().__init__(
            [self._style, controls, self._notice, self._tabs], layout=w.Layout(width="100%")
        )
        self.add_class("rpm-app")
        self._refresh()

    @classmethod
    def from_source(cls, source=None, preset=None, as_of=None, fast: bool = False) -> CreditRiskApp:
        """Load ``source`` (blank: the sample ledger); a failed load shows why.

        ``fast`` starts with a 4-hour capacity (a shorter list to draw, for tests).
        """
        result, message = load_friendly(source, preset)
        if result is None:
            return cls(None, message=message)
        return cls(result.ledger, as_of, hours=4.0 if fast else 7.5)

    _pending = ""

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        cur = self._currency
        self._work_chart = ChartSlot("worklist")
        self._work_text = w.HTML("")
        self._work_table = table("worklist", cur)
        self._work_note = MethodNote()
        worklist = w.VBox([self._work_text, self._work_chart, self._work_table, self._work_note])

        self._grade_chart = ChartSlot("risk-grades")
        self._grade_table = table("grades", cur)
        self._grade_note = MethodNote()
        grades = w.VBox(
            [
                w.HBox(
                    [
                        w.VBox([self._grade_chart], layout=w.Layout(**{**HALF, "width": "40%"})),
                        w.VBox([self._grade_table], layout=w.Layout(**{**HALF, "width": "60%"})),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
                self._grade_note,
            ]
        )

        self._limit_view = w.ToggleButtons(
            options=LIMIT_VIEWS, value="all", style={"button_width": "120px"}
        )
        self._limit_view.observe(lambda _: self._refresh_section("limits"), names="value")
        self._limit_text = w.HTML("")
        self._limit_table = table("limits", cur)
        self._limit_note = MethodNote()
        limits = w.VBox(
            [
                w.HBox([self._limit_view, self._limit_text], layout=w.Layout(align_items="center")),
                self._limit_table,
                self._limit_note,
            ]
        )

        self._quality_chart = ChartSlot("model-quality")
        self._quality_table = table("quality", cur)
        self._odds_table = table("odds", cur)
        self._quality_note = MethodNote()
        quality = w.VBox(
            [
                self._quality_chart,
                w.HBox(
                    [
                        w.VBox([self._quality_table], layout=w.Layout(**HALF)),
                        w.VBox([self._odds_table], layout=w.Layout(**HALF)),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
                self._quality_note,
            ]
        )
        self._parts = {
            "worklist": ([self._work_chart], [self._work_table]),
            "grades": ([self._grade_chart], [self._grade_table]),
            "limits": ([], [self._limit_table]),
            "quality": ([self._quality_chart], [self._quality_table, self._odds_table]),
        }
        self._tabs = w.Tab(
            children=[worklist, grades, limits, quality],
            titles=TAB_TITLES,
            selected_index=0,
            layout=w.Layout(width="100%"),
        )

    # ------------------------------------------------------------ plumbing
    def _state(self, t: pd.Timestamp) -> dict:
        if t not in self._cache:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            risk = CustomerRisk().fit(self._ledger, t)
            work = Worklist().fit(self._ledger, t, risk)
            self._cache[t] = {"risk": risk, "work": work}
        return self._cache[t]

    def _checked_as_of(self) -> pd.Timestamp | None:
        t, problem = data.picked_as_of(self._as_of.value, self._first, self._last)
        if t is None:
            self._notice.show(problem, "error")
        return t

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
        self._context.value = (
            f'<span class="rpm-sub">&nbsp;&nbsp;as known at the end of {t.date()} · '
            f"{self._currency}</span>"
        )
        self._refresh_section(SECTIONS[self._tabs.selected_index or 0])
        if self._pending:
            self._notice.show(self._pending, "info")
            self._pending = ""

    def _refresh_section(self, section: str) -> None:
        t = self._checked_as_of()
        if t is None:
            return
        title = TAB_TITLES[SECTIONS.index(section)]
        try:
            getattr(self, f"_show_{section}")(t)
        except ValueError as exc:
            log.warning("CreditRiskApp: %s at %s: %s", section, t.date(), exc)
            reason = str(exc)
            shown = f": {reason}" if reason and not _PATH.search(reason) else ""
            self._blank(section, f"“{title}” cannot be shown for this date{shown}.")
            return
        except Exception:
            log.exception("CreditRiskApp: %s failed at %s", section, t.date())
            self._blank(
                section,
                f"“{title}” could not be computed for this date. The server log has the details.",
            )
            return
        self._stale.discard(section)

    def _blank(self, section: str, message: str) -> None:
        self._notice.show(message, "error")
        charts, views = self._parts[section]
        for chart in charts:
            if chart.figure is not None:
                chart.show(
                    plots._empty(
                        plots.go.Figure(layout={"template": "plotly_white", "height": 320}),
                        "Not available for this date",
                    )
                )
        for view in views:
            view.show(pd.DataFrame(), section, empty="Not available for this date.")

    # ------------------------------------------------------------- sections
    def _show_worklist(self, t: pd.Timestamp) -> None:
        work = self._state(t)["work"]
        hours = float(self._hours.value)
        acts = work.all_actions_[work.all_actions_["cumulative_hours"] <= hours + 1e-9].copy()
        acts["rank"] = np.arange(1, len(acts) + 1)
        self._work_chart.show(plots.worklist_view(work.all_actions_, self._currency, hours))
        counts = work.items_["excluded"].value_counts()
        cash = acts["expected_cash"].sum()
        self._work_text.value = (
            f'<div class="rpm-sub"><b>{len(acts):,} actions</b> fit {hours:g} collector hours '
            f"({acts['minutes'].sum() / 60:,.1f} h used) · expected cash within "
            f"{work.horizon_days} days "
            f"<b>{html.escape(format_money(cash, self._currency, decimals=0))}</b>"
            f" · {len(work.items_):,} open items, {int(counts.get('dispute', 0)):,} in dispute and "
            f"{int(counts.get('promise', 0)):,} under a promise to pay left out</div>"
        )
        self._work_table.show(acts, f"worklist-{t.date()}")
        self._work_note.set(tables.worklist_note(work.policy))

    def _show_grades(self, t: pd.Timestamp) -> None:
        risk = self._state(t)["risk"]
        self._grade_chart.show(risk.plot())
        scores = risk.scores_.sort_values("exposure", ascending=False, kind="stable")
        shown = _rounded(scores.assign(p_late=scores["p_late"] * 100), {"expected_days_late": 1})
        self._grade_table.show(shown, f"risk-grades-{t.date()}", download=scores)
        self._grade_note.set(tables.grades_note(risk.cutoffs))

    def _show_limits(self, t: pd.Timestamp) -> None:
        state = self._state(t)
        if "limits" not in state:
            state["limits"] = credit_limits(self._ledger, state["risk"].scores_, t, LimitPolicy())
        lim = state["limits"]
        view = self._limit_view.value
        shown = (
            lim[lim["over_limit"]]
            if view == "over"
            else lim[lim["hold"]]
            if view == "hold"
            else lim
        )
        self._limit_text.value = (
            f'<span class="rpm-sub">&nbsp;&nbsp;{int(lim["over_limit"].sum()):,} over limit · '
            f"{int(lim['hold'].sum()):,} on hold · {len(lim):,} customers</span>"
        )
        self._limit_table.show(shown, f"credit-limits-{view}-{t.date()}")
        self._limit_note.set(tables.limits_note(LimitPolicy()))

    def _show_quality(self, t: pd.Timestamp) -> None:
        state = self._state(t)
        if "quality" not in state:
            state["quality"] = RiskEvaluation(test_fraction=0.2).fit(self._ledger.as_of(t))
        ev = state["quality"]
        self._quality_chart.show(ev.plot())
        summary = ev.summary()
        self._quality_table.show(
            _rounded(summary, {"value": 3, "trained": 3, "reference": 2}),
            f"model-metrics-{t.date()}",
            download=summary,
        )
        odds = ev.model_.odds_ratios()
        self._odds_table.show(
            _rounded(odds, {"odds_ratio": 3, "ci_low": 3, "ci_high": 3, "p_value": 4}),
            f"odds-ratios-{t.date()}",
            download=odds,
        )
        self._quality_note.set(tables.quality_note(t, ev.split_date_))

    # ---------------------------------------------------------- for tests
    @property
    def figures(self) -> dict:
        """The ``FigureWidget`` of each charted tab (``None`` until first shown)."""
        return {
            "worklist": self._work_chart.figure,
            "grades": self._grade_chart.figure,
            "quality": self._quality_chart.figure,
        }

    @property
    def notice(self) -> Notice:
        return self._notice

    @property
    def tables(self) -> dict:
        return {
            "worklist": self._work_table,
            "grades": self._grade_table,
            "limits": self._limit_table,
            "quality": self._quality_table,
        }

    def show_section(self, section: str) -> None:
        """Open the tab of ``section`` (one of :data:`SECTIONS`)."""
        self._tabs.selected_index = SECTIONS.index(section)

    def __repr__(self) -> str:
        if self._ledger is None:
            return "CreditRiskApp(no ledger)"
        return f"CreditRiskApp(as of {self._as_of.value}, capacity {self._hours.value:g} h)"
