"""The 13-week cash-receipts forecast: open items plus new sales, Monte Carlo bands.

:class:`CashForecast` answers "how much cash arrives in each of the next weeks,
and how sure are we?" from a ledger known at an as-of date. Week ``w`` (1-based)
covers the seven days ``as_of + 7(w−1) + 1 … as_of + 7w``.

Each Monte Carlo draw

* draws a payment day for every open item from its conditional payment curve
  (:class:`rpmkit.forecast.openitems.OpenItems`), one uniform per item from the
  ``open_items`` stream, in chunks of draws so memory stays bounded;
* draws one path of weekly credit sales per segment from its ETS model
  (:mod:`rpmkit.forecast.sales`, the ``new_sales`` stream) and turns it into cash
  with the cash its recent invoices brought by days since issue (expected flow:
  thousands of invoices a week);
* adds the two per week and multiplies each week by a calendar ratio drawn from
  the ledger's own month-end and other weeks (``timing`` stream,
  :mod:`rpmkit.forecast.timing`).

P10/P50/P90 are per-week percentiles over draws. ``open_items`` and ``new_sales``
split the mean; AR at each week end is today's open AR minus what the draw settles
plus the new sales; DSO = AR ÷ credit sales of the trailing 13 weeks × 91.

Examples
--------
>>> import rpmkit
>>> ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
>>> fc = CashForecast(weeks=4, draws=200, seed=1).fit(ledger, "2024-06-30")
>>> fc  # doctest: +ELLIPSIS
CashForecast(as of 2024-06-30, 4 weeks, 200 draws: P50 total ... USD)
>>> list(fc.weekly_.columns[:6])
['start', 'end', 'p10', 'p50', 'p90', 'mean']
>>> bool((fc.weekly_["p10"] <= fc.weekly_["p90"]).all())
True
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.forecast.baselines import weekly_receipts
from rpmkit.forecast.openitems import OpenItems
from rpmkit.forecast.sales import flow_matrix, sales_paths, weekly_sales
from rpmkit.forecast.timing import month_end_weeks, multipliers, ratio_pools
from rpmkit.jsonable import plain
from rpmkit.ledger import Ledger

__all__ = ["CashForecast", "STREAMS"]

STREAMS = ("open_items", "new_sales", "timing")
"""Random purposes, one ``SeedSequence`` child each, in this order."""
_CHUNK_CELLS = 4_000_000  # draws × items per chunk: ~100 MB of temporaries at most


def _median_or_nan(values: np.ndarray) -> np.ndarray:
    """Per column, the median of the finite values (NaN where there are none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are expected
        return np.nanpercentile(values, 50, axis=0)


class CashForecast:
    """Weekly cash receipts with P10/P50/P90 bands, AR and DSO outlook.

    Parameters
    ----------
    weeks
        Horizon in weeks (1–52).
    draws
        Monte Carlo draws (at least 20).
    seed
        Root of the ``SeedSequence``; one child stream per entry of :data:`STREAMS`.
    new_sales
        Forecast and include cash from invoices issued after the as-of date.
    timing
        Apply the month-end calendar multipliers of :mod:`rpmkit.forecast.timing`.
    min_events, prior_invoices, half_life_days
        Passed to :class:`~rpmkit.forecast.openitems.OpenItems`.

    Attributes
    ----------
    weekly_
        One row per week: ``start``, ``end``, ``p10``, ``p50``, ``p90``, ``mean``,
        ``open_items``, ``new_sales`` (the mean split), ``sales`` (P50 credit sales),
        ``ar_p10``, ``ar_p50``, ``ar_p90`` (AR at the week end) and ``dso`` (P50),
        money in reporting-currency units.
    draws_
        ``(draws, weeks)`` simulated receipts (currency units).
    open_ar_, expected_write_off_
        Open AR at the as-of date and the part of it expected never to be paid in cash.
    open_items_
        The fitted :class:`OpenItems`.
    currency_, as_of_
    """

    def __init__(
        self,
        weeks: int = 13,
        draws: int = 1000,
        seed: int = 0,
        new_sales: bool = True,
        timing: bool = True,
        min_events: int = 30,
        prior_invoices: float = 3.0,
        half_life_days: float = 180.0,
    ) -> None:
        if not 1 <= int(weeks) <= 52:
            raise ValueError(f"weeks must be between 1 and 52, got {weeks}")
        if int(draws) < 20:
            raise ValueError(f"draws must be at least 20, got {draws}")
        if int(seed) < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.weeks = int(weeks)
        self.draws = int(draws)
        self.seed = int(seed)
        self.new_sales = bool(new_sales)
        self.timing = bool(timing)
        self._items = OpenItems(min_events, prior_invoices, half_life_days)

    # ------------------------------------------------------------------ fitting
    def fit(self, ledger: Ledger, as_of=None) -> CashForecast:
        """Forecast from what ``ledger`` knew at the end of ``as_of``."""
        items = self._items.fit(ledger, as_of, horizon_days=7 * self.weeks)
        self._view = items.view_
        b, day = items.book_, items.day_
        rng_open, rng_sales, rng_timing = (
            np.random.default_rng(s) for s in np.random.SeedSequence(self.seed).spawn(len(STREAMS))
        )
        scale = 10.0 ** money.exponent(items.currency_)
        open_cash, open_settled = self._open_draws(items, rng_open)
        sales, new_cash, new_settled, history = self._sales_draws(items, b, day, rng_sales)
        if self.timing:
            both = open_cash + new_cash
            with np.errstate(invalid="ignore", divide="ignore"):
                cv = np.nanmean(both.std(axis=0) / both.mean(axis=0))
            mult = self._timing(items, day, rng_timing, float(np.nan_to_num(cv)))
            open_cash, new_cash = open_cash * mult, new_cash * mult
            open_settled, new_settled = open_settled * mult, new_settled * mult
        total = (open_cash + new_cash) / scale
        open_ar = float(items.items_["open_amount"].sum())
        ar = open_ar - np.cumsum(open_settled + new_settled, axis=1) + np.cumsum(sales, axis=1)
        trailing = np.concatenate([np.tile(history, (self.draws, 1)), sales], axis=1)
        sales_13 = np.stack(
            [trailing[:, w + 1 : w + 14].sum(axis=1) for w in range(self.weeks)], axis=1
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            dso = np.where(sales_13 > 0, ar / sales_13 * 91.0, np.nan)
        start = items.as_of_ + pd.to_timedelta(7 * np.arange(self.weeks) + 1, unit="D")
        q = np.percentile(total, [10, 50, 90], axis=0)
        qa = np.percentile(ar / scale, [10, 50, 90], axis=0)
        self.weekly_ = pd.DataFrame(
            {
                "start": start,
                "end": start + pd.Timedelta(days=6),
                "p10": q[0],
                "p50": q[1],
                "p90": q[2],
                "mean": total.mean(axis=0),
                "open_items": open_cash.mean(axis=0) / scale,
                "new_sales": new_cash.mean(axis=0) / scale,
                "sales": np.percentile(sales, 50, axis=0) / scale,
                "ar_p10": qa[0],
                "ar_p50": qa[1],
                "ar_p90": qa[2],
                "dso": _median_or_nan(dso),
            },
            index=pd.RangeIndex(1, self.weeks + 1, name="week"),
        )
        self.draws_ = total
        self.open_ar_ = open_ar / scale
        self.expected_write_off_ = items.expected_write_off()
        self.open_items_ = items
        self.currency_ = items.currency_
        self.as_of_ = items.as_of_
        return self

    def _timing(
        self, items: OpenItems, day: int, rng: np.random.Generator, cv: float
    ) -> np.ndarray:
        """Per draw and week: the calendar multiplier (:mod:`rpmkit.forecast.timing`)."""
        first = int(items.book_.inv_day.min())
        n = min(104, max(0, (day - first) // 7))
        history = weekly_receipts(self._view, day, n) if n else np.zeros(0)
        past = month_end_weeks(day - 7 * np.arange(n)[::-1])
        future = month_end_weeks(day + 7 * np.arange(1, self.weeks + 1))
        return multipliers(ratio_pools(history, past), future, self.draws, rng, cv)

    def _open_draws(self, items: OpenItems, rng: np.random.Generator):
        """Per draw and week: cash and settled amount from today's open items (minor units)."""
        n = len(items.items_)
        cash = np.zeros((self.draws, self.weeks + 1))
        settled = np.zeros((self.draws, self.weeks + 1))
        if n == 0:
            return cash[:, :-1], settled[:, :-1]
        item_cash = items.items_["cash"].to_numpy(dtype=np.float64)
        item_open = items.items_["open_amount"].to_numpy(dtype=np.float64)
        chunk = max(1, _CHUNK_CELLS // n)
        width = self.weeks + 1
        for lo in range(0, self.draws, chunk):
            hi = min(self.draws, lo + chunk)
            u = rng.random((hi - lo, n), dtype=np.float32)
            week = items.draw_weeks(u, self.weeks)
            cell = (np.arange(hi - lo)[:, None] * width + week).ravel()
            size = (hi - lo) * width
            cash[lo:hi] = np.bincount(cell, np.tile(item_cash, hi - lo), size).reshape(-1, width)
            settled[lo:hi] = np.bincount(cell, np.tile(item_open, hi - lo), size).reshape(-1, width)
        return cash[:, :-1], settled[:, :-1]

    def _sales_draws(self, items: OpenItems, b, day: int, rng: np.random.Generator):
        """Per draw and week: new sales, their cash and settled amount, and 13 weeks of history."""
        n_seg = len(items.segments_)
        hist = weekly_sales(b.inv_day, b.amount, b.segment.astype(np.int64), n_seg, day)
        recent = hist.sum(axis=0)[-13:]
        history = np.concatenate([np.zeros(13 - len(recent)), recent])
        zeros = np.zeros((self.draws, self.weeks))
        if not self.new_sales:
            return zeros, zeros, zeros, history
        flow = flow_matrix(items.sales_cash_, self.weeks)
        ratio = np.maximum(items.cash_ratio_.to_numpy(), 1e-9)
        sales, cash, settled = zeros.copy(), zeros.copy(), zeros.copy()
        for g, child in enumerate(rng.spawn(n_seg)):  # one stream per segment
            paths = sales_paths(hist[g], self.weeks, self.draws, child)
            sales += paths
            paid = paths @ flow[g]  # cash, per unit invoiced
            cash += paid
            settled += paid / ratio[g]
        return sales, cash, settled, history

    # ------------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "weekly_"):
            raise ValueError("CashForecast is not fitted; call fit(ledger, as_of) first")

    def summary(self) -> pd.DataFrame:
        """The weekly table (see ``weekly_``)."""
        self._check_fitted()
        return self.weekly_.copy()

    def plot(self, **kwargs):
        """Bands split into open items and new sales (:func:`rpmkit.plots.forecast_bands`)."""
        from rpmkit.plots.forecast import forecast_bands

        self._check_fitted()
        return forecast_bands(self.weekly_, self.currency_, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, totals and one record per week (money in currency units)."""
        self._check_fitted()
        w = self.weekly_
        weeks = [
            {
                "week": int(i),
                "start": row.start,
                "end": row.end,
                "p10": row.p10,
                "p50": row.p50,
                "p90": row.p90,
                "mean": row.mean,
                "open_items": row.open_items,
                "new_sales": row.new_sales,
                "ar_p50": row.ar_p50,
                "dso": row.dso,
            }
            for i, row in zip(w.index, w.itertuples(index=False), strict=True)
        ]
        return plain(
            {
                "as_of": self.as_of_,
                "currency": self.currency_,
                "weeks": self.weeks,
                "draws": self.draws,
                "seed": self.seed,
                "open_ar": self.open_ar_,
                "open_items": len(self.open_items_.items_),
                "expected_write_off": self.expected_write_off_,
                "total_p50": float(np.percentile(self.draws_.sum(axis=1), 50)),
                "forecast": weeks,
            }
        )

    def __repr__(self) -> str:
        if not hasattr(self, "weekly_"):
            return f"CashForecast(weeks={self.weeks}, draws={self.draws}, not fitted)"
        total = float(np.percentile(self.draws_.sum(axis=1), 50))
        return (
            f"CashForecast(as of {self.as_of_.date()}, {self.weeks} weeks, {self.draws} draws: "
            f"P50 total {total:,.0f} {self.currency_})"
        )
