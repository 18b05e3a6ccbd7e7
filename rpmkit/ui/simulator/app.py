"""The policy simulator: a baseline calibrated on the ledger and a changed policy, side by side.

The app wires controls to :mod:`rpmkit.ui.simulator.policy` (widget-free) and
:mod:`rpmkit.sim`; the chart comes from :func:`rpmkit.plots.sim.policy_figure`.
A run goes to a background thread so the page stays live: the progress bar
follows the replications, Cancel stops at the next finished replication, and
the results replace the chart, tiles, summary and tables when it is done.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import threading
import time

import ipywidgets as w
import pandas as pd

from rpmkit.ledger import Ledger
from rpmkit.plots.sim import policy_figure
from rpmkit.sim.workers import warm_up
from rpmkit.ui import data
from rpmkit.ui.charts import ChartSlot
from rpmkit.ui.download import DownloadLinks
from rpmkit.ui.loading import load_friendly
from rpmkit.ui.simulator import outcome as out
from rpmkit.ui.simulator import policy as pol
from rpmkit.ui.simulator.levers import LeverPanel
from rpmkit.ui.simulator.parts import DeltaTile, differences_frame, lever_frame
from rpmkit.ui.simulator.text import CSS, METHOD, SAME
from rpmkit.ui.widgets import MethodNote, Notice, TableView, style_widget

__all__ = ["PolicySimulatorApp"]

log = logging.getLogger("rpmkit.ui")

HORIZONS = (90, 180, 365)
MAX_REPLICATIONS = 2000
FAST_REPLICATIONS = 6


class _Cancelled(Exception):
    """Raised from the progress callback to stop a run."""


class PolicySimulatorApp(w.VBox):
    """What happens to cash, DSO and bad debt if we change terms, dunning, collectors …?

    Parameters
    ----------
    ledger
        The ledger the baseline is calibrated on (``None`` shows ``message``).
    as_of
        The as-of date: history up to it calibrates the baseline, the simulation
        starts the day after with its open items. Blank: the ledger's last month end.
    replications, horizon_days, seed
        The run's defaults (each a control in the app).
    processes
        Local worker processes of a run (``None``: the CPUs available; ``1``: inline).
    """

    def __init__(
        self,
        ledger: Ledger | None,
        as_of=None,
        *,
        replications: int = 100,
        horizon_days: int = 180,
        seed: int = 20250101,
        processes: int | None = None,
        message: str = "",
    ) -> None:
        self._notice = Notice()
        self._style = w.VBox([style_widget(), w.HTML(CSS, layout=w.Layout(display="none"))])
        self._ledger = ledger
        self.comparison = None
        self.last_run_seconds: float | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._processes = processes
        self._baselines: dict[tuple, out.Baseline] = {}
        self._base: out.Baseline | None = None  # None: nothing to run (the notice says why)
        if ledger is None:
            self._notice.show(message or "No ledger to simulate.", "error")
            super().__init__([self._style, self._notice])
            self.add_class("rpm-app")
            return
        self._first, self._last = ledger.date_range()
        start, pending = data.initial_as_of(ledger, as_of, "PolicySimulatorApp")
        self._build(start, replications, horizon_days, seed)
        self._refresh_baseline()
        if pending:
            self._notice.show(pending, "info")
        # the process pools of a run fork from a server that imports the simulator
        # first: started now, while the user sets the levers, not on the first Run
        warm_up(processes)

    @classmethod
    def from_source(
        cls, source=None, preset=None, as_of=None, *, fast: bool = False, replications=None
    ) -> PolicySimulatorApp:
        """Load ``source`` (blank: the sample ledger); a failed load shows why.

        ``fast`` (for tests) starts with :data:`FAST_REPLICATIONS` replications over 90
        days, run inline.
        """
        result, message = load_friendly(source or None, preset or None)
        if result is None:
            return cls(None, message=message)
        reps = replications or (FAST_REPLICATIONS if fast else 100)
        if fast:
            return cls(result.ledger, as_of, replications=reps, horizon_days=90, processes=1)
        return cls(result.ledger, as_of, replications=reps)

    # ------------------------------------------------------------ building
    def _build(self, start: pd.Timestamp, replications: int, horizon: int, seed: int) -> None:
        small = {"description_width": "initial"}
        self._as_of = w.DatePicker(
            value=start.date(),
            description="As of",
            min=self._first.date(),
            max=self._last.date(),
            layout=w.Layout(width="210px"),
            style=small,
        )
        self._horizon = w.Dropdown(
            options=[(f"{h} days", h) for h in sorted({*HORIZONS, int(horizon)})],
            value=int(horizon),
            description="Horizon",
            layout=w.Layout(width="170px"),
            style=small,
        )
        self._replications = w.IntText(
            value=int(replications),
            description="Replications",
            layout=w.Layout(width="170px"),
            style=small,
        )
        self._seed = w.IntText(
            value=int(seed), description="Seed", layout=w.Layout(width="180px"), style=small
        )
        self._context = w.HTML("")
        top = w.HBox(
            [self._as_of, self._horizon, self._replications, self._seed, self._context],
            layout=w.Layout(align_items="center", flex_flow="row wrap", width="100%"),
        )
        self._levers = LeverPanel()
        levers = self._levers
        self._run = w.Button(
            description="Run", button_style="primary", icon="play", layout=w.Layout(width="90px")
        )
        self._stop = w.Button(
            description="Cancel", disabled=True, icon="stop", layout=w.Layout(width="90px")
        )
        self._progress = w.IntProgress(value=0, min=0, max=1, layout=w.Layout(width="200px"))
        self._status = w.HTML("")
        self._tiles = {
            k: DeltaTile(k, title.format(days=90), unit, better)
            for k, (title, unit, better) in out.TILES.items()
        }
        self._summary = w.HTML("")
        results = w.VBox(
            [
                w.HBox(
                    [self._run, self._stop, self._progress, self._status],
                    layout=w.Layout(align_items="center", flex_flow="row wrap"),
                ),
                w.HBox(list(self._tiles.values()), layout=w.Layout(flex_flow="row wrap")),
                self._summary,
            ],
            layout=w.Layout(flex="1 1 420px"),
        )
        self._chart = ChartSlot("policy-simulator")
        self._kpi_table = TableView("Differences, changed policy − baseline", max_rows=20)
        self._lever_table = TableView("The two policies", kinds={"changed": "flag"})
        self._band_title = w.HTML('<div class="rpm-h">Daily bands (chart data)</div>')
        self._band_downloads = DownloadLinks()
        self._method = MethodNote()
        tables = w.HBox(
            [
                w.VBox([self._kpi_table], layout=w.Layout(width="58%", min_width="420px")),
                w.VBox(
                    [self._lever_table, self._band_title, self._band_downloads],
                    layout=w.Layout(width="42%", min_width="340px", padding="0 0 0 12px"),
                ),
            ],
            layout=w.Layout(flex_flow="row wrap", width="100%"),
        )
        body = w.HBox([levers, results], layout=w.Layout(flex_flow="row wrap", width="100%"))
        super().__init__(
            [self._style, top, self._notice, body, self._chart, tables, self._method],
            layout=w.Layout(width="100%"),
        )
        self.add_class("rpm-app")
        self._method.set(METHOD)
        for c in (self._as_of, self._horizon):
            c.observe(self._on_baseline_control, names="value")
        self._levers.on_change(self._on_lever)
        for c in (self._replications, self._seed):
            c.observe(self._on_lever, names="value")
        self._run.on_click(self._on_run)
        self._stop.on_click(self._on_stop)

    # ------------------------------------------------------------ baseline
    def _baseline(self) -> out.Baseline | None:
        t, problem = data.picked_as_of(self._as_of.value, self._first, self._last)
        if t is None:
            self._notice.show(problem, "error")
            return None
        key = (id(self._ledger), t, int(self._horizon.value))
        if key not in self._baselines:
            self._baselines[key] = out.baseline(self._ledger, t, int(self._horizon.value))
        return self._baselines[key]

    def _refresh_baseline(self) -> None:
        self._base = None
        try:
            base = self._baseline()
        except ValueError as exc:
            # rpmkit says in words what the history lacks; a message naming a file is not shown
            log.warning("PolicySimulatorApp: no baseline at %s: %s", self._as_of.value, exc)
            reason = "" if re.search(r"[/\\]", str(exc)) else f": {exc}"
            self._notice.show(
                f"The ledger cannot be calibrated at {self._as_of.value}{reason}. "
                "Pick a later as-of date.",
                "error",
            )
            return
        except Exception:
            log.exception("PolicySimulatorApp: calibration failed at %s", self._as_of.value)
            self._notice.show(
                "The baseline could not be calibrated at this date. The server log has the "
                "details.",
                "error",
            )
            return
        if base is None:
            return
        s = base.scenario
        try:
            self._levers.set_baseline(s)
            self._levers.policy()  # today's levers read back from the controls
            self._base = base
            self._clear_results()
        except ValueError as exc:
            # the levers take any valid scenario; should one still not fit, say so, not crash
            log.warning("PolicySimulatorApp: no levers at %s: %s", self._as_of.value, exc)
            self._base = None
            self._notice.show(
                f"The levers cannot be set from the baseline at {self._as_of.value}: {exc}",
                "error",
            )
            return
        except Exception:
            log.exception("PolicySimulatorApp: no levers at %s", self._as_of.value)
            self._base = None
            self._notice.show(
                "The levers could not be set from the baseline at this date. The server log "
                "has the details.",
                "error",
            )
            return
        self._notice.clear()
        self._context.value = (
            f'<span class="rpm-sub">&nbsp;&nbsp;simulating {s.start} to {s.end_date.date()} · '
            f"{len(base.opening):,} open invoices · {html.escape(s.currency)}</span>"
        )

    def _clear_results(self) -> None:
        self.comparison = None
        self._summary_plain = ""
        base = self._base
        for key, tile in self._tiles.items():
            days = min(out.CASH_WINDOW_DAYS, base.scenario.horizon_days)
            tile.set_title(out.TILES[key][0].format(days=days))
            tile.clear()
        self._summary.value = (
            '<div class="rpm-sub">Change a lever on the left and press <b>Run</b>: both '
            "policies are simulated from the open items at the as-of date, under the same "
            "random numbers, and compared here.</div>"
        )
        self._chart.show(
            policy_figure(
                {}, {}, currency=base.currency, due=base.due, history=base.history,
                note="Press Run to simulate",
            )
        )  # fmt: skip
        self._kpi_table.show(pd.DataFrame(), "kpi-differences", empty="Press Run.")
        self._show_levers(base.policy)
        self._band_downloads.set_frame(None, "")

    def _show_levers(self, p: pol.Policy) -> None:
        base = self._base
        frame = lever_frame(base.scenario, p, pol.apply_policy(base.scenario, p))
        self._lever_table.show(frame, "policies", title="The two policies")

    # ------------------------------------------------------------ controls
    def _checked(self) -> tuple[pol.Policy, object, int, int]:
        """The policy, the changed scenario, replications and seed; ValueError to show."""
        p = self._levers.policy()
        changed = pol.apply_policy(self._base.scenario, p)
        reps, seed = int(self._replications.value), int(self._seed.value)
        if not 1 <= reps <= MAX_REPLICATIONS:
            raise ValueError(
                f"Replications must be a whole number from 1 to {MAX_REPLICATIONS:,}; got {reps}."
            )
        if not 0 <= seed < 2**63:
            raise ValueError(f"The seed must be a whole number of 0 or more; got {seed}.")
        return p, changed, reps, seed

    def _on_baseline_control(self, _change) -> None:
        if self.running:
            self._notice.show("A run is in progress: cancel it before changing the baseline.")
            return
        self._refresh_baseline()

    def _on_lever(self, _change=None) -> None:
        if self._base is None:
            return
        try:
            p, _, _, _ = self._checked()
        except ValueError as exc:
            self._notice.show(str(exc), "error")
            return
        self._notice.clear()
        if self.comparison is not None:
            self._status.value = (
                '<span class="rpm-sub">Levers changed since this run: press Run to update.</span>'
            )
        else:
            self._show_levers(p)

    # ----------------------------------------------------------------- run
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _on_run(self, _button=None) -> None:
        if self.running or self._base is None:
            return
        try:
            p, changed, reps, seed = self._checked()
        except ValueError as exc:
            log.info("PolicySimulatorApp: refused to run: %s", exc)
            self._notice.show(str(exc), "error")
            return
        self._notice.clear()
        self._cancel.clear()
        self._run.disabled, self._stop.disabled = True, False
        self._progress.max, self._progress.value = 2 * reps, 0
        self._progress.bar_style = "info"
        self._status.value = '<span class="rpm-sub">starting…</span>'
        args = (self._base, p, changed, reps, seed)
        self._thread = threading.Thread(target=self._work, args=args, daemon=True)
        self._thread.start()

    def _on_stop(self, _button=None) -> None:
        self._cancel.set()
        self._stop.disabled = True
        self._status.value = '<span class="rpm-sub">cancelling…</span>'

    def _on_progress(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise _Cancelled
        self._progress.max, self._progress.value = total, done
        self._status.value = f'<span class="rpm-sub">{done:,} of {total:,} replications</span>'

    def _work(self, base, p, changed, reps: int, seed: int) -> None:
        t0 = time.perf_counter()
        try:
            comparison = out.run_comparison(
                base, changed, reps, seed, processes=self._processes, progress=self._on_progress
            )
            self._show(base, p, changed, comparison)
            self.last_run_seconds = time.perf_counter() - t0
            self._progress.bar_style = "success"
            self._status.value = (
                f'<span class="rpm-sub">{reps:,} paired replications in '
                f"{self.last_run_seconds:,.1f} s</span>"
            )
        except _Cancelled:
            self._progress.bar_style = "warning"
            self._status.value = '<span class="rpm-sub">cancelled</span>'
            self._notice.show("The run was cancelled; the results shown are unchanged.", "info")
        except Exception:
            log.exception("PolicySimulatorApp: the run failed (%s)", p)
            self._progress.bar_style = "danger"
            self._status.value = ""
            self._notice.show(
                "The simulation could not be run with these settings. The server log has the "
                "details.",
                "error",
            )
        finally:
            self._run.disabled, self._stop.disabled = False, True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a run to finish (for tests and scripts); True when none is running."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    # ------------------------------------------------------------- results
    def _show(self, base: out.Baseline, p: pol.Policy, changed, comparison) -> None:
        cur = base.currency
        tiles = out.outcome(comparison)
        for key, tile in self._tiles.items():
            row = tiles.loc[key]
            tile.set_title(row["title"])
            tile.set(row["base"], row["other"], row["difference"], row["ci_low"], row["ci_high"])
        moves = pol.changes(base.scenario, p)
        text = out.summary_text(moves, tiles, cur)
        if not moves:
            text = SAME + " " + text
        self._summary_plain = text
        self._summary.value = f'<div class="rpm-summary">{html.escape(text)}</div>'
        cash = {
            n: out.cumulative_bands(r)
            for n, r in zip(out.NAMES, (comparison.base, comparison.other), strict=True)
        }
        ar = {
            n: r.bands("open_ar")
            for n, r in zip(out.NAMES, (comparison.base, comparison.other), strict=True)
        }
        self._chart.show(policy_figure(cash, ar, currency=cur, due=base.due, history=base.history))
        shown, raw = differences_frame(comparison, tiles)
        name = f"policy-differences-{base.as_of.date()}"
        self._kpi_table.show(
            shown, name, download=raw,
            title=f"Differences, changed policy − baseline ({comparison.base.replications:,} "
            "paired replications)",
        )  # fmt: skip
        self._lever_table.show(lever_frame(base.scenario, p, changed), "policies")
        frames = []
        for label, bands in (("cash_received_cumulative", cash), ("open_ar", ar)):
            for scenario, frame in bands.items():
                frames.append(frame.assign(measure=label, scenario=scenario))
        long = pd.concat(frames, ignore_index=True)
        long = long[["date", "scenario", "measure", "p10", "p50", "p90", "mean"]]
        self._band_downloads.set_frame(long, f"policy-bands-{base.as_of.date()}")
        self.comparison = comparison

    # ----------------------------------------------------------- for tests
    @property
    def figure(self):
        """The chart's ``FigureWidget`` (cash on axes ``x``/``y``, open AR on ``x2``/``y2``)."""
        return self._chart.figure

    @property
    def notice(self) -> Notice:
        return self._notice

    @property
    def tiles(self) -> dict[str, DeltaTile]:
        return self._tiles

    _summary_plain = ""

    @property
    def summary_text(self) -> str:
        """The plain-language summary of the last run ("" before one)."""
        return self._summary_plain if self.comparison is not None else ""

    @property
    def controls(self) -> dict[str, w.Widget]:
        """The app's controls by name (tests and scripts set their ``value``)."""
        return {
            "as_of": self._as_of,
            "horizon": self._horizon,
            "replications": self._replications,
            "seed": self._seed,
            **self._levers.controls,
        }

    def click_run(self) -> None:
        """Press Run (for tests and scripts)."""
        self._run.click()

    def click_cancel(self) -> None:
        self._stop.click()

    @property
    def tables(self) -> dict[str, TableView]:
        return {"differences": self._kpi_table, "levers": self._lever_table}

    @property
    def band_downloads(self) -> DownloadLinks:
        return self._band_downloads

    def __repr__(self) -> str:
        if self._ledger is None:
            return "PolicySimulatorApp(no ledger)"
        state = "with results" if self.comparison is not None else "not run yet"
        value = self._as_of.value
        shown = value.isoformat() if isinstance(value, dt.date) else value
        return f"PolicySimulatorApp(as of {shown}, {self._horizon.value} days, {state})"
