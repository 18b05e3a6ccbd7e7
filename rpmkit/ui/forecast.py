"""The 13-week cash forecast app: weekly receipts with bands, AR and DSO outlook, back-test.

The app wires its controls to :class:`rpmkit.forecast.CashForecast` and
:class:`rpmkit.forecast.Backtest`; figures come from :mod:`rpmkit.plots.forecast`.
The forecast is recomputed when the as-of date or the horizon changes (about a
second on the sample); the other horizons at the shown date are computed ahead in a
background thread (``prefetch``), so a horizon change usually finds its forecast ready.
The back-test is long work: it runs behind a button in a background thread with a
progress bar, so the page never freezes; in FAST mode it uses three origins and fewer
draws.
"""

from __future__ import annotations

import html
import logging
import re
import threading

import ipywidgets as w
import numpy as np
import pandas as pd

from rpmkit.forecast import Backtest, CashForecast, weekly_receipts
from rpmkit.kpi.book import day_number
from rpmkit.ledger import Ledger
from rpmkit.plots.forecast import METHOD_LABELS, backtest_lines, forecast_bands, outlook_figure
from rpmkit.ui import data
from rpmkit.ui.charts import ChartSlot
from rpmkit.ui.format import format_money
from rpmkit.ui.loading import load_friendly
from rpmkit.ui.widgets import MethodNote, Notice, TableView, style_widget

__all__ = ["CashForecastApp"]

log = logging.getLogger("rpmkit.ui")

HORIZONS = (4, 8, 13, 26)
_PATH = re.compile(r"[/\\]")
HALF = {"width": "50%", "min_width": "420px", "padding": "0 6px 0 0"}

METHOD_NOTE = (
    "<b>Open items</b>: each invoice open at the as-of date pays on a day drawn from its "
    "group's payment curve (segment × open dispute; days from the due date, the customer's "
    "own recency-weighted lateness shrunk toward its segment), <i>given that it is still "
    "open at its age</i>; the chance it never pays in cash is its expected write-off. "
    "<b>New sales</b>: weekly credit sales per segment from an ETS model (statsmodels; "
    "seasonal only with two years of history), paid along the segment's days-to-pay curve. "
    "<b>Calendar</b>: each week is scaled by a ratio drawn from the ledger's own weeks "
    "(month-end weeks collect more). <b>Bands</b>: P10/P50/P90 over Monte Carlo draws. "
    "AR = today's open AR − settled + new sales; DSO = AR ÷ the last 13 weeks' credit "
    "sales × 91. Everything uses only what the ledger knew at the as-of date. "
    "<b>Back-test</b>: at each origin the forecast and the baselines see only the ledger "
    "as of that day; WAPE = Σ|actual − P50| ÷ Σ actual; bias = Σ(P50 − actual) ÷ Σ actual; "
    "coverage = share of weeks inside P10–P90; pinball = mean quantile loss ÷ Σ actual. "
    "Computed by <code>rpmkit.forecast.CashForecast</code> and "
    "<code>rpmkit.forecast.Backtest</code>."
)


def _tile(name: str, value: str, sub: str = "") -> str:
    return (
        f'<div class="rpm-tile" style="display:inline-block; margin:0 6px 6px 0; '
        f'min-width:150px"><div class="rpm-tile-name">{html.escape(name)}</div>'
        f'<div class="rpm-tile-value">{html.escape(value)}</div>'
        f'<div class="rpm-tile-bench">{html.escape(sub)}</div></div>'
    )


class CashForecastApp(w.VBox):
    """13-week cash forecast: bands split into open items and new sales, AR/DSO, back-test.

    Parameters
    ----------
    ledger
        The ledger (``None`` shows ``message`` instead: see :meth:`from_source`).
    as_of
        The as-of date; ``None`` or an unusable date falls back to the ledger's last
        month end, with a notice.
    weeks
        Initial horizon (one of 4, 8, 13, 26).
    fast
        Fewer draws and a three-origin back-test (for tests and quick looks).
    prefetch
        Compute the other horizons at the shown date in a background thread, nearest
        first (the same seeded forecasts the controls would compute).
    """

    def __init__(
        self,
        ledger: Ledger | None,
        as_of=None,
        *,
        weeks: int = 13,
        fast: bool = False,
        prefetch: bool = True,
        message: str = "",
    ) -> None:
        if int(weeks) not in HORIZONS:
            raise ValueError(f"weeks must be one of {HORIZONS}; got {weeks!r}")
        self._ledger = ledger
        self._notice = Notice()
        self._style = style_widget()
        if ledger is None:
            self._notice.show(message or "No ledger to show.", "error")
            super().__init__([self._style, self._notice])
            self.add_class("rpm-app")
            return
        self._fast = bool(fast)
        self._draws = 300 if fast else 1000
        self._currency = ledger.reporting_currency
        self._first, self._last = ledger.date_range()
        self._cache: dict[tuple, CashForecast] = {}
        self._prefetch = bool(prefetch)
        self._lock = threading.Lock()  # guards _cache and _ahead, shared with the prefetch thread
        self._ahead: dict[tuple, threading.Event] = {}  # set when that forecast is done or failed
        self._generation = 0  # a newer date makes an older prefetch stop
        start, pending = data.initial_as_of(ledger, as_of, "CashForecastApp")
        self.forecast: CashForecast | None = None
        self.backtest: Backtest | None = None
        self._thread: threading.Thread | None = None

        self._as_of = w.DatePicker(
            value=start.date(),
            description="As of",
            min=self._first.date(),
            max=self._last.date(),
            layout=w.Layout(width="230px"),
            style={"description_width": "48px"},
        )
        self._weeks = w.Dropdown(
            options=[(f"{h} weeks", h) for h in HORIZONS],
            value=int(weeks),
            description="Horizon",
            layout=w.Layout(width="190px"),
            style={"description_width": "58px"},
        )
        self._context = w.HTML("")
        self._tiles = w.HTML("")
        self._chart = ChartSlot("cash-forecast")
        self._outlook = ChartSlot("ar-dso-outlook")
        self._table = TableView(
            "Weekly forecast",
            kinds={
                c: "money0"
                for c in ("p10", "p50", "p90", "open_items", "new_sales", "actual", "ar_p50")
            }
            | {"dso": "num"},
            currency=self._currency,
            labels={"open_items": "open items", "new_sales": "new sales", "ar_p50": "AR (P50)"},
            max_height="260px",
        )
        self._note = MethodNote()
        self._note.set(METHOD_NOTE)
        self._run = w.Button(
            description="Run back-test",
            button_style="primary",
            icon="play",
            layout=w.Layout(width="160px"),
        )
        self._progress = w.IntProgress(
            value=0, min=0, max=1, layout=w.Layout(width="260px", visibility="hidden")
        )
        self._status = w.HTML("")
        self._bt_chart = ChartSlot("forecast-backtest")
        self._bt_table = TableView(
            "Back-test accuracy",
            kinds={
                "wape": "percent",
                "bias": "percent",
                "coverage_80": "percent",
                "pinball": "percent",
                "baseline": "flag",
            },
            labels={"wape": "WAPE", "coverage_80": "80 % coverage", "pinball": "pinball"},
        )
        self._run.on_click(self._on_run)
        self._as_of.observe(self._on_control, names="value")
        self._weeks.observe(self._on_control, names="value")

        controls = w.HBox(
            [self._as_of, self._weeks, self._context],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        charts = w.HBox(
            [
                w.VBox([self._chart], layout=w.Layout(**{**HALF, "width": "58%"})),
                w.VBox([self._outlook], layout=w.Layout(**{**HALF, "width": "42%"})),
            ],
            layout=w.Layout(flex_flow="row wrap", width="100%"),
        )
        details = w.HBox(
            [
                w.VBox([self._table], layout=w.Layout(**{**HALF, "width": "58%"})),
                w.VBox([self._note], layout=w.Layout(**{**HALF, "width": "42%"})),
            ],
            layout=w.Layout(flex_flow="row wrap", width="100%"),
        )
        backtest = w.VBox(
            [
                w.HTML('<div class="rpm-h">Back-test against simple baselines</div>'),
                w.HBox(
                    [self._run, self._progress, self._status],
                    layout=w.Layout(align_items="center"),
                ),
                w.HBox(
                    [
                        w.VBox([self._bt_chart], layout=w.Layout(**HALF)),
                        w.VBox([self._bt_table], layout=w.Layout(**HALF)),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
            ]
        )
        super().__init__(
            [self._style, controls, self._notice, self._tiles, charts, details, backtest],
            layout=w.Layout(width="100%"),
        )
        self.add_class("rpm-app")
        self._refresh()
        if pending:
            self._notice.show(pending, "info")

    @classmethod
    def from_source(
        cls, source=None, preset=None, as_of=None, fast: bool = False
    ) -> CashForecastApp:
        """Load ``source`` (blank: the sample ledger) and show it; a failed load shows why."""
        result, message = load_friendly(source, preset)
        if result is None:
            return cls(None, message=message)
        return cls(result.ledger, as_of, fast=fast)

    # ------------------------------------------------------------ forecast
    def _on_control(self, change) -> None:
        self._refresh()

    def _refresh(self) -> None:
        t, problem = data.picked_as_of(self._as_of.value, self._first, self._last)
        if t is None:
            self._notice.show(problem, "error")
            return
        weeks = int(self._weeks.value)
        try:
            fc = self._forecast(t, weeks)
        except ValueError as exc:
            log.warning("CashForecastApp: forecast at %s failed: %s", t.date(), exc)
            reason = str(exc)
            shown = f": {reason}" if reason and not _PATH.search(reason) else ""
            self._notice.show(f"No forecast can be made at {t.date()}{shown}.", "error")
            return
        except Exception:
            log.exception("CashForecastApp: forecast at %s failed", t.date())
            self._notice.show(
                f"The forecast at {t.date()} could not be computed. "
                "The server log has the details.",
                "error",
            )
            return
        self._notice.clear()
        self.forecast = fc
        self._show(fc, t, weeks)
        self._start_prefetch(t, weeks)

    def _forecast(self, t: pd.Timestamp, weeks: int) -> CashForecast:
        key = (t, weeks)
        with self._lock:
            done, ahead = self._cache.get(key), self._ahead.get(key)
        if done is not None:
            return done
        if ahead is not None:
            # being computed ahead: its remainder is quicker than a fit of our own
            ahead.wait()
            with self._lock:
                done = self._cache.get(key)
            if done is not None:
                return done
        fc = CashForecast(weeks, self._draws, seed=0).fit(self._ledger, t)
        with self._lock:
            self._cache[key] = fc
        return fc

    def _start_prefetch(self, t: pd.Timestamp, weeks: int) -> None:
        if not self._prefetch:
            return
        with self._lock:
            self._generation += 1
            todo = [
                (t, h)
                for h in sorted(HORIZONS, key=lambda h: abs(h - weeks))
                if (t, h) not in self._cache and (t, h) not in self._ahead
            ]
            for key in todo:
                self._ahead[key] = threading.Event()
            generation = self._generation
        if todo:
            threading.Thread(target=self._fill, args=(todo, generation), daemon=True).start()

    def _fill(self, todo: list[tuple], generation: int) -> None:
        for key in todo:
            try:
                # another date was picked: its forecasts matter more than these
                if self._generation == generation:
                    fc = CashForecast(key[1], self._draws, seed=0).fit(self._ledger, key[0])
                    with self._lock:
                        self._cache[key] = fc
            except Exception as exc:  # the control computes it again and shows why
                log.debug("CashForecastApp: forecast ahead at %s failed: %s", key, exc)
            finally:
                with self._lock:
                    event = self._ahead.pop(key)
                event.set()

    def wait_prefetch(self, timeout: float = 120.0) -> bool:
        """Wait for the forecasts being computed ahead; ``True`` when none is left (for tests)."""
        with self._lock:
            events = list(self._ahead.values())
        return all(event.wait(timeout) for event in events)

    def _actuals(self, t: pd.Timestamp, weeks: int) -> np.ndarray | None:
        """Realised receipts when the ledger already covers the whole horizon."""
        if t + pd.Timedelta(days=7 * weeks) > self._last:
            return None
        day = int(day_number(pd.Series([t]))[0])
        return weekly_receipts(self._ledger, day, weeks, forward=True)

    def _show(self, fc: CashForecast, t: pd.Timestamp, weeks: int) -> None:
        cur = self._currency
        weekly = fc.weekly_
        actual = self._actuals(t, weeks)
        self._context.value = (
            f'<span class="rpm-sub">&nbsp;&nbsp;{weeks} weeks from {t.date()} · '
            f"{fc.draws:,} draws · {html.escape(cur)}</span>"
        )
        total = np.percentile(fc.draws_.sum(axis=1), [10, 50, 90])
        tiles = [
            _tile(
                f"{weeks}-week receipts (P50)",
                format_money(total[1], cur, decimals=0),
                f"P10 {format_money(total[0], cur, decimals=0)} · "
                f"P90 {format_money(total[2], cur, decimals=0)}",
            ),
            _tile(
                "Open AR now",
                format_money(fc.open_ar_, cur, decimals=0),
                f"{len(fc.open_items_.items_):,} open items",
            ),
            _tile(
                "Expected never paid",
                format_money(fc.expected_write_off_, cur, decimals=0),
                "open items unlikely to pay in cash",
            ),
            _tile(
                f"AR at week {weeks} (P50)",
                format_money(weekly["ar_p50"].iloc[-1], cur, decimals=0),
                f"DSO {weekly['dso'].iloc[-1]:.1f} days"
                if pd.notna(weekly["dso"].iloc[-1])
                else "",
            ),
        ]
        if actual is not None:
            wape = np.abs(actual - weekly["p50"]).sum() / max(actual.sum(), 1e-9)
            tiles.append(
                _tile(
                    "Realised so far",
                    format_money(actual.sum(), cur, decimals=0),
                    f"WAPE of this forecast {100 * wape:.1f} %",
                )
            )
        self._tiles.value = "".join(tiles)
        self._chart.show(
            forecast_bands(
                weekly,
                cur,
                actual=actual,
                title=f"Weekly cash receipts, {weeks} weeks from {t.date()}",
            )
        )
        self._outlook.show(outlook_figure(weekly, cur))
        table = weekly[["start", "p10", "p50", "p90", "open_items", "new_sales", "ar_p50", "dso"]]
        table = table.assign(start=table["start"].dt.strftime("%Y-%m-%d"))
        if actual is not None:
            table.insert(4, "actual", actual)
        table = table.assign(dso=table["dso"].map(lambda v: np.nan if pd.isna(v) else f"{v:.1f}"))
        self._table.show(
            table.reset_index(), f"cash-forecast-{t.date()}", download=weekly.reset_index()
        )

    # ------------------------------------------------------------ back-test
    def _on_run(self, _button=None) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        weeks = int(self._weeks.value)
        origins, draws = (3, 100) if self._fast else (12, 300)
        self._run.disabled = True
        self._progress.max, self._progress.value = origins, 0
        self._progress.layout.visibility = "visible"
        self._status.value = '<span class="rpm-sub">&nbsp;Running the back-test …</span>'
        self._thread = threading.Thread(
            target=self._backtest, args=(weeks, origins, draws), daemon=True
        )
        self._thread.start()

    def _backtest(self, weeks: int, origins: int, draws: int) -> None:
        def progress(done: int, total: int) -> None:
            self._progress.value = done
            self._status.value = f'<span class="rpm-sub">&nbsp;origin {done} of {total}</span>'

        try:
            bt = Backtest(weeks=weeks, origins=origins, draws=draws).fit(
                self._ledger, progress=progress
            )
        except ValueError as exc:
            log.warning("CashForecastApp: back-test failed: %s", exc)
            reason = str(exc)
            shown = f": {reason}" if reason and not _PATH.search(reason) else ""
            self._status.value = ""
            self._notice.show(f"The back-test cannot run on this ledger{shown}.", "error")
        except Exception:
            log.exception("CashForecastApp: back-test failed")
            self._status.value = ""
            self._notice.show(
                "The back-test could not be computed. The server log has the details.", "error"
            )
        else:
            self.backtest = bt
            self._show_backtest(bt)
        finally:
            self._run.disabled = False
            self._progress.layout.visibility = "hidden"

    def _show_backtest(self, bt: Backtest) -> None:
        o = bt.origins_
        gain = bt.improvement()
        self._status.value = (
            f'<span class="rpm-sub">&nbsp;{len(o)} origins {o[0].date()} … {o[-1].date()}, '
            f"{bt.weeks} weeks ahead: WAPE {100 * gain:.0f} % "
            f"{'lower' if gain >= 0 else 'higher'} than the best baseline</span>"
        )
        self._bt_chart.show(backtest_lines(bt.by_horizon_))
        m = bt.metrics_.copy()
        for c in ("wape", "bias", "coverage_80", "pinball"):
            m[c] = 100 * m[c].astype(float)
        m.insert(0, "method", [METHOD_LABELS.get(i, i) for i in m.index])
        self._bt_table.show(m.reset_index(drop=True), "forecast-backtest", download=bt.forecasts_)

    def wait_backtest(self, timeout: float = 120.0) -> bool:
        """Wait for a running back-test; ``True`` when none is running any more (for tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    # ---------------------------------------------------------- for tests
    @property
    def figures(self) -> dict:
        """The ``FigureWidget`` of each chart (``None`` until first shown)."""
        return {
            "forecast": self._chart.figure,
            "outlook": self._outlook.figure,
            "backtest": self._bt_chart.figure,
        }

    @property
    def notice(self) -> Notice:
        return self._notice

    @property
    def tiles_text(self) -> str:
        return re.sub(r"<[^>]+>", " ", html.unescape(self._tiles.value))

    def __repr__(self) -> str:
        if self._ledger is None:
            return "CashForecastApp(no ledger)"
        return f"CashForecastApp(as of {self._as_of.value}, {self._weeks.value} weeks)"
