"""Walk-forward back-tests of the cash forecast against the baselines.

At each origin ``t`` the forecast and every baseline see only ``ledger.as_of(t)``
(the ledger as known at the end of ``t``); their weekly forecasts for the next
``weeks`` weeks are compared with the receipts the full ledger records there.
Origins are spread evenly from ``min_history_days`` after the first invoice to
the last day that still leaves ``weeks`` full weeks of actuals. Metrics are
those of :mod:`rpmkit.forecast.metrics`, overall and per horizon week.

Examples
--------
>>> import rpmkit
>>> ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
>>> bt = Backtest(weeks=4, origins=2, draws=100).fit(ledger)
>>> bt
Backtest(2 origins 2024-01-02 … 2024-12-03, 4 weeks, 5 methods)
>>> bt.metrics_.index[~bt.metrics_["baseline"]].tolist()
['forecast']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from rpmkit.forecast.baselines import BASELINES, weekly_receipts
from rpmkit.forecast.metrics import accuracy
from rpmkit.forecast.model import CashForecast
from rpmkit.jsonable import plain
from rpmkit.kpi.book import day_number
from rpmkit.ledger import Ledger, to_date

__all__ = ["Backtest", "origin_dates"]

MODEL = "forecast"


def origin_dates(
    ledger: Ledger, weeks: int, origins: int, min_history_days: int = 365
) -> pd.DatetimeIndex:
    """``origins`` evenly spaced origins with ``min_history_days`` of history and full actuals."""
    first, last = ledger.date_range()
    lo = first + pd.Timedelta(days=min_history_days)
    hi = last - pd.Timedelta(days=7 * weeks)
    if hi < lo:
        raise ValueError(
            f"the ledger runs {first.date()} to {last.date()}: too short for "
            f"{min_history_days} days of history plus {weeks} weeks of actuals"
        )
    days = np.unique(np.rint(np.linspace(0, (hi - lo).days, origins)).astype(int))
    return pd.DatetimeIndex(lo + pd.to_timedelta(days, unit="D"))


class Backtest:
    """Walk-forward back-test of :class:`CashForecast` and the baselines.

    Parameters
    ----------
    weeks
        Horizon in weeks.
    origins
        Number of origins (or pass ``dates`` to :meth:`fit`).
    draws, seed
        Monte Carlo settings of the forecast at each origin.
    min_history_days
        History an origin needs (a year lets the seasonal naive baseline work).
    baselines
        Name → ``callable(view, weeks)``; defaults to :data:`~rpmkit.forecast.baselines.BASELINES`.

    Attributes
    ----------
    forecasts_
        Long table: ``origin``, ``method``, ``week``, ``actual``, ``p10``, ``p50``,
        ``p90`` (P10/P90 missing for point forecasts), currency units.
    metrics_
        Per method: ``wape``, ``bias``, ``coverage_80``, ``pinball``, ``baseline``.
    by_horizon_
        Per method and horizon week: the same measures.
    origins_, currency_
    """

    def __init__(
        self,
        weeks: int = 13,
        origins: int = 12,
        draws: int = 500,
        seed: int = 0,
        min_history_days: int = 365,
        baselines: dict[str, Callable] | None = None,
    ) -> None:
        if int(origins) < 1:
            raise ValueError(f"origins must be at least 1, got {origins}")
        if min_history_days < 28:
            raise ValueError(f"min_history_days must be at least 28, got {min_history_days}")
        self.weeks = int(weeks)
        self.origins = int(origins)
        self.draws = int(draws)
        self.seed = int(seed)
        self.min_history_days = int(min_history_days)
        self.baselines = dict(BASELINES if baselines is None else baselines)
        CashForecast(self.weeks, self.draws, self.seed)  # validates the shared settings

    def fit(
        self,
        ledger: Ledger,
        dates=None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Backtest:
        """Run every origin; ``progress(done, total)`` is called after each."""
        if dates is None:
            origins = origin_dates(ledger, self.weeks, self.origins, self.min_history_days)
        else:
            origins = pd.DatetimeIndex([to_date(d) for d in dates])
        rows = []
        for i, t in enumerate(origins):
            rows.extend(self._one(ledger, t))
            if progress is not None:
                progress(i + 1, len(origins))
        self.forecasts_ = pd.DataFrame(rows)
        self.origins_ = origins
        self.currency_ = ledger.reporting_currency
        self._score()
        return self

    def _one(self, ledger: Ledger, t: pd.Timestamp) -> list[dict[str, Any]]:
        view = ledger.as_of(t)
        day = int(day_number(pd.Series([t]))[0])
        actual = weekly_receipts(ledger, day, self.weeks, forward=True)
        fc = CashForecast(self.weeks, self.draws, self.seed).fit(view)
        w = fc.weekly_
        out = [
            {
                "origin": t,
                "method": MODEL,
                "week": k + 1,
                "actual": actual[k],
                "p10": w["p10"].iloc[k],
                "p50": w["p50"].iloc[k],
                "p90": w["p90"].iloc[k],
            }
            for k in range(self.weeks)
        ]
        for name, baseline in self.baselines.items():
            point = np.asarray(baseline(view, self.weeks), dtype=np.float64)
            out.extend(
                {
                    "origin": t,
                    "method": name,
                    "week": k + 1,
                    "actual": actual[k],
                    "p10": np.nan,
                    "p50": point[k],
                    "p90": np.nan,
                }
                for k in range(self.weeks)
            )
        return out

    @staticmethod
    def _measure(frame: pd.DataFrame) -> dict[str, Any]:
        banded = frame["p10"].notna().all()
        return accuracy(
            frame["actual"].to_numpy(),
            frame["p50"].to_numpy(),
            frame["p10"].to_numpy() if banded else None,
            frame["p90"].to_numpy() if banded else None,
        )

    def _score(self) -> None:
        f = self.forecasts_
        methods = [MODEL, *self.baselines]
        overall = {m: self._measure(f[f["method"] == m]) for m in methods}
        self.metrics_ = pd.DataFrame(overall).T.astype(
            {"wape": float, "bias": float, "pinball": float}
        )
        self.metrics_["baseline"] = [m != MODEL for m in methods]
        self.metrics_.index.name = "method"
        rows = [
            {"method": m, "week": k, **self._measure(g)}
            for (m, k), g in f.groupby(["method", "week"], sort=False)
        ]
        self.by_horizon_ = pd.DataFrame(rows).set_index(["method", "week"])

    def _check_fitted(self) -> None:
        if not hasattr(self, "metrics_"):
            raise ValueError("Backtest is not fitted; call fit(ledger) first")

    def improvement(self) -> float:
        """1 − the forecast's WAPE ÷ the best baseline's WAPE (0.25 = 25 % lower)."""
        self._check_fitted()
        m = self.metrics_
        return float(1 - m.loc[MODEL, "wape"] / m.loc[m["baseline"], "wape"].min())

    def summary(self) -> pd.DataFrame:
        """The metrics table (see ``metrics_``)."""
        self._check_fitted()
        return self.metrics_.copy()

    def plot(self, **kwargs):
        """WAPE per horizon week by method (:func:`rpmkit.plots.forecast.backtest_lines`)."""
        from rpmkit.plots.forecast import backtest_lines

        self._check_fitted()
        return backtest_lines(self.by_horizon_, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``origins``, ``weeks``, ``methods`` → name → measures, ``wape_by_week``."""
        self._check_fitted()
        methods = {
            name: {
                "wape": row["wape"],
                "bias": row["bias"],
                "coverage_80": row["coverage_80"],
                "pinball": row["pinball"],
                "baseline": bool(row["baseline"]),
            }
            for name, row in self.metrics_.iterrows()
        }
        return plain(
            {
                "currency": self.currency_,
                "weeks": self.weeks,
                "origins": list(self.origins_),
                "draws": self.draws,
                "improvement_vs_best_baseline": self.improvement(),
                "methods": methods,
                "wape_by_week": {
                    name: rows["wape"].tolist()
                    for name, rows in self.by_horizon_.groupby(level="method", sort=False)
                },
            }
        )

    def __repr__(self) -> str:
        if not hasattr(self, "metrics_"):
            return f"Backtest(weeks={self.weeks}, origins={self.origins}, not fitted)"
        o = self.origins_
        return (
            f"Backtest({len(o)} origins {o[0].date()} … {o[-1].date()}, {self.weeks} weeks, "
            f"{len(self.metrics_)} methods)"
        )
