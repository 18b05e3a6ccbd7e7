"""13-week cash-receipts forecast with Monte Carlo bands, back-tests and baselines.

* :class:`CashForecast` — weekly receipts P10/P50/P90 from open items and new sales,
  AR and DSO outlook (:mod:`rpmkit.forecast.model`);
* :class:`Backtest` — walk-forward accuracy against the :data:`BASELINES`
  (:mod:`rpmkit.forecast.backtest`), measured as in :mod:`rpmkit.forecast.metrics`;
* :class:`OpenItems` and :class:`Curves` — the payment-time model underneath.

See ``docs/forecasting.md`` for the method and the measured accuracy.

>>> from rpmkit.forecast import CashForecast
>>> CashForecast(weeks=13, draws=500)
CashForecast(weeks=13, draws=500, not fitted)
"""

from rpmkit.forecast.backtest import Backtest, origin_dates
from rpmkit.forecast.baselines import BASELINES, weekly_receipts
from rpmkit.forecast.curves import Curves
from rpmkit.forecast.metrics import accuracy
from rpmkit.forecast.model import CashForecast
from rpmkit.forecast.openitems import OpenItems

__all__ = [
    "BASELINES",
    "Backtest",
    "CashForecast",
    "Curves",
    "OpenItems",
    "accuracy",
    "origin_dates",
    "weekly_receipts",
]
