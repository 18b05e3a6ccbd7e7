"""Business days, pay runs and the ledger horizon, on ``datetime64[D]`` arrays.

Weekends are Saturday and Sunday; there are no holidays. Every date the
generator writes for a payment or an activity is a business day.
"""

from __future__ import annotations

import numpy as np

DAY = "datetime64[D]"

NO_PAY_RUN, WEEKLY, MONTH_END = 0, 1, 2


def as_day(value) -> np.datetime64:
    """A scalar date as ``datetime64[D]``."""
    return np.datetime64(str(value)[:10], "D")


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday)."""
    return (days.astype("int64") + 3) % 7


def forward(days: np.ndarray) -> np.ndarray:
    """The date itself when a business day, else the next Monday."""
    return np.busday_offset(days, 0, roll="forward")


def backward(days: np.ndarray) -> np.ndarray:
    """The date itself when a business day, else the Friday before."""
    return np.busday_offset(days, 0, roll="backward")


def add_business_days(days: np.ndarray, n) -> np.ndarray:
    """``n`` business days after ``days`` (rolled forward to a business day first)."""
    return np.busday_offset(days, n, roll="forward")


def month_end_business_day(days: np.ndarray) -> np.ndarray:
    """Last business day of the month of each date, or of the next month when past it."""
    month_last = (days.astype("datetime64[M]") + 1).astype(DAY) - 1
    last = backward(month_last)
    later = last < days
    if later.any():
        nxt = (days[later].astype("datetime64[M]") + 2).astype(DAY) - 1
        last[later] = backward(nxt)
    return last


def pay_run(days: np.ndarray, kind: np.ndarray, run_weekday: np.ndarray) -> np.ndarray:
    """Move each intended payment date to the customer's next pay run, then to a business day.

    ``kind`` is ``NO_PAY_RUN``, ``WEEKLY`` (on ``run_weekday``, Monday = 0)
    or ``MONTH_END`` (last business day of the month).
    """
    out = days.copy()
    weekly = kind == WEEKLY
    if weekly.any():
        d = days[weekly]
        out[weekly] = d + (run_weekday[weekly] - weekday(d)) % 7
    monthly = kind == MONTH_END
    if monthly.any():
        out[monthly] = month_end_business_day(days[monthly])
    return forward(out)
