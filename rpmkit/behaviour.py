"""How customers pay and how that changes: payment profiles, trends and seasonality.

Every figure here uses the payment conventions of :mod:`rpmkit.kpi.payment`:
an invoice counts once it is **paid** (fully settled, with some cash and no
write-off) on or before ``as_of``; its payment date is the day its cash
settlement completed; days to pay = payment date − invoice date and days
beyond terms = payment date − due date (negative when early). Count-weighted
means give every invoice one vote, amount-weighted means weight by the invoice
amount in reporting minor units. A paid invoice is on time when days beyond
terms ≤ 0 (due today is on time), late otherwise.

* :class:`PaymentProfiles` — per customer, segment or invoice attribute:
  averages, variability, recent vs long-run behaviour, a trend in days per year
  with its confidence interval and a ``deteriorating`` / ``improving`` /
  ``steady`` flag from a multiple-testing-corrected test.
* :func:`payment_trends` — tidy monthly (or quarterly, yearly) series of days to
  pay and share paid late, by segment and overall.
* :func:`monthly_receipts` and :class:`TrendDecomposition` — STL decomposition
  of monthly days to pay or of cash collected.

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> flat = pd.DataFrame(
...     {
...         "invoice_id": ["A", "B", "C"],
...         "customer_id": ["C1", "C1", "C2"],
...         "invoice_date": pd.to_datetime(["2024-05-01", "2024-05-20", "2024-05-10"]),
...         "due_date": pd.to_datetime(["2024-05-31", "2024-06-19", "2024-06-09"]),
...         "amount": [10_000, 30_000, 5_000],
...         "paid_date": pd.to_datetime(["2024-06-10", "2024-06-14", None]),
...     }
... )
>>> p = PaymentProfiles(min_invoices=3).fit(Ledger.from_flat(flat), "2024-06-30")
>>> p
PaymentProfiles(by='customer', fitted as of 2024-06-30: 1 groups, 0 deteriorating, 0 improving)
>>> p.profiles_.loc["C1", ["invoices", "days_to_pay", "days_beyond_terms", "on_time_share"]]
invoices              2.0
days_to_pay          32.5
days_beyond_terms     2.5
on_time_share        50.0
Name: C1, dtype: float64
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from rpmkit import money
from rpmkit.jsonable import plain
from rpmkit.kpi.book import Book, as_of_day, book, day_number
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger

__all__ = [
    "FLAGS",
    "PaymentProfiles",
    "TrendDecomposition",
    "monthly_receipts",
    "payment_trends",
    "seasonal_decomposition",
]

FLAGS = ("deteriorating", "improving", "steady", "untested")
"""Trend flags; ``untested`` marks groups with too few or too short payment histories."""
ALL = "(all)"
"""Group label of the all-invoices rows of :func:`payment_trends`."""
UNKNOWN = "(unknown)"
_DAYS_PER_YEAR = 365.25
_FREQ_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_EPOCH = np.datetime64("1970-01-01", "D")


# ----------------------------------------------------------------- helpers
def _groups(ledger: Ledger, b: Book, by: str | None) -> tuple[np.ndarray, pd.Index]:
    """Per invoice a group code, and the group labels."""
    if by is None:
        return np.zeros(b.n, dtype=np.int64), pd.Index([ALL])
    if by == "customer":
        return b.customer, pd.Index(b.customers.astype(str))
    if by == "segment":
        return b.segment, pd.Index(b.segments.astype(str))
    if by in ledger.invoices.columns and by not in ("invoice_id", "amount"):
        values = ledger.invoices[by].astype("string").fillna(UNKNOWN)
        codes, labels = pd.factorize(values, sort=True)
        return codes.astype(np.int64), pd.Index(labels.astype(str))
    raise ValueError(
        f"by must be 'customer', 'segment' or an invoice column such as 'channel'; got {by!r}"
    )


@dataclass(frozen=True)
class _Paid:
    """Paid invoices known at ``as_of`` as flat arrays (one row per paid invoice)."""

    group: np.ndarray
    inv_day: np.ndarray
    due_day: np.ndarray
    pay_day: np.ndarray
    settled: np.ndarray
    amount: np.ndarray

    @property
    def to_pay(self) -> np.ndarray:
        return (self.pay_day - self.inv_day).astype(np.float64)

    @property
    def beyond(self) -> np.ndarray:
        return (self.pay_day - self.due_day).astype(np.float64)


def _paid(ledger: Ledger, day: int, codes: np.ndarray) -> _Paid:
    # The full ledger's book filtered at ``day`` equals the book of ``ledger.as_of(day)``
    # for paid invoices (everything that settled them is dated on or before their
    # settlement day) and is cached, so repeated questions cost no copies.
    b = book(ledger)
    paid = paid_invoices(b)
    sel = np.flatnonzero(paid.paid & (paid.settled <= day))
    return _Paid(
        codes[sel],
        b.inv_day[sel],
        b.due_day[sel],
        paid.pay_day[sel],
        paid.settled[sel],
        b.amount[sel].astype(np.float64),
    )


def _mean(codes: np.ndarray, values: np.ndarray, size: int, weights=None) -> np.ndarray:
    w = np.ones(len(values)) if weights is None else weights
    total = np.bincount(codes, weights=w, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.bincount(codes, w * values, size) / total, np.nan)


def _quantiles(codes: np.ndarray, values: np.ndarray, size: int, qs) -> list[np.ndarray]:
    """Per group quantiles (numpy's default linear interpolation), by one sort."""
    order = np.lexsort((values, codes))
    v = values[order]
    n = np.bincount(codes, minlength=size)
    starts = np.r_[0, np.cumsum(n)[:-1]]
    has = n > 0
    out = []
    for q in qs:  # a loop over the few quantiles, never over groups
        pos = starts[has] + q * (n[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        res = np.full(size, np.nan)
        res[has] = v[lo] + (v[hi] - v[lo]) * (pos - lo)
        out.append(res)
    return out


def _std(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    n = np.bincount(codes, minlength=size)
    mean = _mean(codes, values, size)
    ss = np.bincount(codes, (values - mean[codes]) ** 2, size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, np.sqrt(ss / np.maximum(n - 1, 1)), np.nan)


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN."""
    q = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if len(ok) == 0:
        return q
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    scaled = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q


def _ols_by_group(codes: np.ndarray, x: np.ndarray, y: np.ndarray, size: int) -> dict:
    """Per group least-squares slope of ``y`` on ``x`` with its classical standard error.

    Two passes over centred values (means first) keep the sums accurate:
    slope = Sxy / Sxx, s² = (Syy − slope·Sxy) / (n − 2), SE = √(s² / Sxx).
    """
    n = np.bincount(codes, minlength=size).astype(np.float64)
    dx = x - _mean(codes, x, size)[codes]
    dy = y - _mean(codes, y, size)[codes]
    sxx = np.bincount(codes, dx * dx, size)
    sxy = np.bincount(codes, dx * dy, size)
    syy = np.bincount(codes, dy * dy, size)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(sxx > 0, sxy / sxx, np.nan)
        rss = np.maximum(syy - slope * sxy, 0.0)
        se = np.where(n > 2, np.sqrt(rss / np.maximum(n - 2, 1) / sxx), np.nan)
    return {"n": n, "slope": slope, "se": se}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = list(frame.columns)
    return [
        {c: plain(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


# -------------------------------------------------------------- profiles
class PaymentProfiles:
    """Payment profiles per customer (or segment, or invoice attribute) with trend flags.

    Parameters
    ----------
    by
        ``"customer"``, ``"segment"``, an invoice column such as ``"channel"``
        or ``"disputed"`` (blank values group as ``(unknown)``), or ``None``
        for one ``(all)`` row.
    recent_months
        The recent window: invoices paid (fully settled) in the ``recent_months``
        calendar months ending at ``as_of``, the membership
        :func:`rpmkit.kpi.days_beyond_terms` uses for a period.
    min_invoices
        Fewest mature paid invoices a group needs for its trend to be tested.
    alpha
        False-discovery rate of the trend flags, and 1 − the confidence level of
        the slope intervals.
    min_slope_days_per_year
        Smallest trend, in days per year, worth a flag: a significant drift
        smaller than this is reported but flagged ``steady``.
    maturity_days
        The trend uses invoices due at least this many days before ``as_of``.
        Recent invoices are in the data only if they were paid quickly; keeping
        them would bias every slope towards "improving".
    min_span_days
        Fewest days between a group's first and last mature invoice for a test.

    Notes
    -----
    **Trend test.** For each group the days beyond terms of its mature paid
    invoices are regressed on their invoice date (ordinary least squares; slope
    in days per year; classical standard error with n − 2 degrees of freedom;
    two-sided t-test of slope = 0). The invoice date, not the payment date, is
    the regressor because conditioning on when payments happened selects fast
    payers at the start of the history and slow ones at its end. The p-values of
    all tested groups are adjusted with Benjamini–Hochberg, so among the flagged
    groups the expected share of false discoveries is at most ``alpha``. A group
    is flagged ``deteriorating`` when its adjusted p-value (``q_value``) is at
    most ``alpha`` and its slope is at least ``min_slope_days_per_year``,
    ``improving`` when the slope is at most minus that, ``steady`` otherwise,
    and ``untested`` when it has fewer than ``min_invoices`` mature invoices or
    they span fewer than ``min_span_days`` days. The confidence interval
    (``slope_low``, ``slope_high``) is the unadjusted 1 − ``alpha`` t-interval.

    Attributes
    ----------
    profiles_ : pandas.DataFrame
        One row per group with a paid invoice, indexed by ``by``. Columns:
        ``segment`` (by customer only); ``invoices`` and ``amount`` (paid,
        reporting currency units); ``days_to_pay``, ``days_to_pay_amount_weighted``,
        ``days_beyond_terms``, ``days_beyond_terms_amount_weighted``;
        ``on_time_share`` (percent of invoices); ``days_late`` (mean of
        max(0, days beyond terms), the invoice-level ADD); ``days_to_pay_std``,
        ``days_beyond_terms_std`` (sample std), ``days_beyond_terms_median``,
        ``days_beyond_terms_iqr``; ``recent_invoices``, ``recent_days_to_pay``,
        ``recent_days_beyond_terms`` and ``recent_change`` (recent − long-run
        days beyond terms); ``trend_invoices``, ``slope_days_per_year``,
        ``slope_se``, ``slope_low``, ``slope_high``, ``p_value``, ``q_value``
        and ``flag``.
    as_of_ : pandas.Timestamp
    currency_ : str
    """

    def __init__(
        self,
        by: str = "customer",
        recent_months: int = 6,
        min_invoices: int = 12,
        alpha: float = 0.05,
        min_slope_days_per_year: float = 5.0,
        maturity_days: int = 90,
        min_span_days: int = 180,
    ) -> None:
        if by is not None and (not isinstance(by, str) or not by):
            raise ValueError(f"by must be 'customer', 'segment' or an invoice column; got {by!r}")
        if not isinstance(recent_months, int) or recent_months < 1:
            raise ValueError(f"recent_months must be a whole number ≥ 1, got {recent_months!r}")
        if not isinstance(min_invoices, int) or min_invoices < 3:
            raise ValueError(f"min_invoices must be a whole number ≥ 3, got {min_invoices!r}")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        if not min_slope_days_per_year >= 0:
            raise ValueError(
                f"min_slope_days_per_year must be ≥ 0, got {min_slope_days_per_year!r}"
            )
        if not isinstance(maturity_days, int) or maturity_days < 0:
            raise ValueError(f"maturity_days must be a whole number ≥ 0, got {maturity_days!r}")
        if not isinstance(min_span_days, int) or min_span_days < 1:
            raise ValueError(f"min_span_days must be a whole number ≥ 1, got {min_span_days!r}")
        self.by = by
        self._name = by or "group"
        self.recent_months = recent_months
        self.min_invoices = min_invoices
        self.alpha = alpha
        self.min_slope_days_per_year = float(min_slope_days_per_year)
        self.maturity_days = maturity_days
        self.min_span_days = min_span_days

    def fit(self, ledger: Ledger, as_of) -> PaymentProfiles:
        """Profile the invoices of ``ledger`` paid on or before ``as_of``; returns ``self``."""
        t, day = as_of_day(ledger, as_of)
        b = book(ledger)
        codes, labels = _groups(ledger, b, self.by)
        size = len(labels)
        p = _paid(ledger, day, codes)
        g, to_pay, beyond = p.group, p.to_pay, p.beyond
        n = np.bincount(g, minlength=size)
        scale = 10 ** money.exponent(ledger.reporting_currency)
        q1, median, q3 = _quantiles(g, beyond, size, (0.25, 0.5, 0.75))
        recent_start = t + pd.Timedelta(days=1) - pd.DateOffset(months=self.recent_months)
        recent = p.settled >= int(day_number(pd.Series([recent_start]))[0])
        frame = pd.DataFrame(
            {
                "invoices": n,
                "amount": np.bincount(g, p.amount, size) / scale,
                "days_to_pay": _mean(g, to_pay, size),
                "days_to_pay_amount_weighted": _mean(g, to_pay, size, p.amount),
                "days_beyond_terms": _mean(g, beyond, size),
                "days_beyond_terms_amount_weighted": _mean(g, beyond, size, p.amount),
                "on_time_share": _mean(g, (beyond <= 0) * 100.0, size),
                "days_late": _mean(g, np.maximum(beyond, 0.0), size),
                "days_to_pay_std": _std(g, to_pay, size),
                "days_beyond_terms_std": _std(g, beyond, size),
                "days_beyond_terms_median": median,
                "days_beyond_terms_iqr": q3 - q1,
                "recent_invoices": np.bincount(g[recent], minlength=size),
                "recent_days_to_pay": _mean(g[recent], to_pay[recent], size),
                "recent_days_beyond_terms": _mean(g[recent], beyond[recent], size),
            },
            index=pd.Index(labels, name=self._name),
        )
        frame["recent_change"] = frame["recent_days_beyond_terms"] - frame["days_beyond_terms"]
        frame = frame.join(self._trend(p, day, size, labels))
        if self.by == "customer":
            last = np.full(size, -1, dtype=np.int64)
            np.maximum.at(last, b.customer, np.arange(b.n))
            seg = np.asarray(b.segments.astype(str), dtype=object)[b.segment[np.maximum(last, 0)]]
            frame.insert(0, "segment", pd.array(seg, dtype="string"))
        self.profiles_ = frame[frame["invoices"] > 0].copy()
        self.as_of_ = t
        self.currency_ = ledger.reporting_currency
        return self

    def _trend(self, p: _Paid, day: int, size: int, labels: pd.Index) -> pd.DataFrame:
        mature = p.due_day <= day - self.maturity_days
        g = p.group[mature]
        x = (p.inv_day[mature] - day) / _DAYS_PER_YEAR
        fit = _ols_by_group(g, x, p.beyond[mature], size)
        n = fit["n"]
        first = np.full(size, np.iinfo(np.int64).max)
        last = np.full(size, np.iinfo(np.int64).min)
        np.minimum.at(first, g, p.inv_day[mature])
        np.maximum.at(last, g, p.inv_day[mature])
        tested = (n >= self.min_invoices) & (last - first >= self.min_span_days)
        slope, se = fit["slope"], fit["se"]
        dof = np.maximum(n - 2, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            tstat = np.where(se > 0, slope / se, np.where(slope == 0, 0.0, np.inf))
        pval = np.where(tested, 2 * stats.t.sf(np.abs(tstat), dof), np.nan)
        qval = _benjamini_hochberg(pval)
        half = stats.t.ppf(1 - self.alpha / 2, dof) * se
        significant = tested & (qval <= self.alpha)
        flag = np.where(
            ~tested,
            "untested",
            np.where(
                significant & (slope >= self.min_slope_days_per_year),
                "deteriorating",
                np.where(
                    significant & (slope <= -self.min_slope_days_per_year), "improving", "steady"
                ),
            ),
        )
        return pd.DataFrame(
            {
                "trend_invoices": n.astype(np.int64),
                "slope_days_per_year": np.where(n > 1, slope, np.nan),
                "slope_se": se,
                "slope_low": slope - half,
                "slope_high": slope + half,
                "p_value": pval,
                "q_value": qval,
                "flag": pd.array(flag, dtype="string"),
            },
            index=pd.Index(labels, name=self._name),
        )

    # ------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "profiles_"):
            raise ValueError("PaymentProfiles is not fitted: call fit(ledger, as_of) first")

    def flagged(
        self, flag: Literal["deteriorating", "improving"] = "deteriorating"
    ) -> pd.DataFrame:
        """Groups flagged ``flag``, strongest evidence first (smallest p-value, then |slope|)."""
        self._check_fitted()
        if flag not in ("deteriorating", "improving"):
            raise ValueError(f"flag must be 'deteriorating' or 'improving', got {flag!r}")
        part = self.profiles_[self.profiles_["flag"] == flag]
        strength = -part["slope_days_per_year"].abs()
        return (
            part.assign(_s=strength)
            .sort_values(["p_value", "_s"], kind="stable")
            .drop(columns="_s")
        )

    def summary(self) -> pd.DataFrame:
        """The headline columns of :attr:`profiles_`, one row per group."""
        self._check_fitted()
        cols = [
            "invoices",
            "days_to_pay",
            "days_beyond_terms",
            "days_beyond_terms_amount_weighted",
            "on_time_share",
            "days_beyond_terms_iqr",
            "recent_days_beyond_terms",
            "slope_days_per_year",
            "slope_low",
            "slope_high",
            "q_value",
            "flag",
        ]
        lead = ["segment"] if "segment" in self.profiles_.columns else []
        return self.profiles_[lead + cols].copy()

    def flag_counts(self) -> dict[str, int]:
        """Number of groups per flag, every flag present."""
        self._check_fitted()
        counts = self.profiles_["flag"].value_counts()
        return {f: int(counts.get(f, 0)) for f in FLAGS}

    def plot(self, flag: Literal["deteriorating", "improving"] = "deteriorating", top: int = 25):
        """Slope with its confidence interval for the ``top`` flagged groups."""
        from rpmkit.plots.behaviour import slope_intervals

        return slope_intervals(self.flagged(flag).head(top), flag=flag, by=self._name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result: settings, flag counts and one record per group."""
        self._check_fitted()
        groups = self.profiles_.reset_index()
        groups[self._name] = groups[self._name].astype(str)
        return {
            "as_of": self.as_of_.date().isoformat(),
            "by": self.by,
            "currency": self.currency_,
            "settings": {
                "recent_months": self.recent_months,
                "min_invoices": self.min_invoices,
                "alpha": self.alpha,
                "min_slope_days_per_year": self.min_slope_days_per_year,
                "maturity_days": self.maturity_days,
                "min_span_days": self.min_span_days,
            },
            "flags": self.flag_counts(),
            "groups": _records(groups),
        }

    def __repr__(self) -> str:
        if not hasattr(self, "profiles_"):
            return f"PaymentProfiles(by={self.by!r}, not fitted)"
        c = self.flag_counts()
        return (
            f"PaymentProfiles(by={self.by!r}, fitted as of {self.as_of_.date()}: "
            f"{len(self.profiles_)} groups, {c['deteriorating']} deteriorating, "
            f"{c['improving']} improving)"
        )


# ---------------------------------------------------------------- trends
def _period_codes(days: np.ndarray, months: int) -> np.ndarray:
    """Months since 1970-01, floored to the period (calendar quarters and years)."""
    m = (_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[M]").astype(np.int64)
    return m - m % months


def _period_start(code: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(code, dtype="datetime64[M]").astype("datetime64[us]"))


def payment_trends(
    ledger: Ledger,
    as_of,
    by: str | None = "segment",
    freq: Literal["month", "quarter", "year"] = "month",
) -> pd.DataFrame:
    """Days to pay and share paid late per period, by group and overall, as a tidy frame.

    Parameters
    ----------
    ledger, as_of
        Invoices paid (fully settled, with cash, not written off) on or before
        ``as_of`` count in the period of their settlement, as in
        :func:`rpmkit.kpi.days_to_pay`.
    by
        ``"segment"``, ``"customer"``, an invoice column, or ``None`` for the
        overall rows only.
    freq
        Calendar ``"month"``, ``"quarter"`` or ``"year"``.

    Returns
    -------
    pandas.DataFrame
        One row per period and group (every period from the first payment to
        ``as_of``; periods without payments have zero ``invoices`` and missing
        means), the overall rows labelled ``(all)``. Columns: ``period`` (first
        day), the group column named after ``by`` (``group`` when ``None``),
        ``complete`` (the period ends on or before ``as_of``), ``invoices``,
        ``amount`` (currency units), ``days_to_pay``,
        ``days_to_pay_amount_weighted``, ``days_beyond_terms``,
        ``days_beyond_terms_amount_weighted`` and ``late_share`` (percent of
        invoices paid after their due date).

    Examples
    --------
    >>> import rpmkit
    >>> ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
    >>> t = payment_trends(ledger, "2024-06-30")
    >>> june = t[(t["segment"] == "(all)") & (t["period"] == "2024-06-01")].iloc[0]
    >>> int(june["invoices"]), round(float(june["days_to_pay"]), 2)
    (1144, 45.32)
    >>> rpmkit.kpi.days_to_pay(ledger, "2024-06-30")  # the same paid invoices
    <days_to_pay [count] = 45.32 days>
    """
    if freq not in _FREQ_MONTHS:
        raise ValueError(f"freq must be 'month', 'quarter' or 'year', got {freq!r}")
    t, day = as_of_day(ledger, as_of)
    b = book(ledger)
    codes, labels = _groups(ledger, b, by)
    p = _paid(ledger, day, codes)
    months = _FREQ_MONTHS[freq]
    name = by or "group"
    period = _period_codes(p.settled, months)
    if len(period) == 0:
        return pd.DataFrame(
            columns=[
                "period",
                name,
                "complete",
                "invoices",
                "amount",
                "days_to_pay",
                "days_to_pay_amount_weighted",
                "days_beyond_terms",
                "days_beyond_terms_amount_weighted",
                "late_share",
            ]
        )
    first, last = int(period.min()), int(_period_codes(np.array([day]), months)[0])
    n_periods = (last - first) // months + 1
    slot = (period - first) // months
    with_all = by is not None
    size = len(labels) + with_all
    cells = size * n_periods
    scale = 10 ** money.exponent(ledger.reporting_currency)

    def table(cell: np.ndarray, keep: np.ndarray) -> dict[str, np.ndarray]:
        c = cell[keep]
        tp, bt, a = p.to_pay[keep], p.beyond[keep], p.amount[keep]
        return {
            "invoices": np.bincount(c, minlength=cells),
            "amount": np.bincount(c, a, cells) / scale,
            "days_to_pay": _mean(c, tp, cells),
            "days_to_pay_amount_weighted": _mean(c, tp, cells, a),
            "days_beyond_terms": _mean(c, bt, cells),
            "days_beyond_terms_amount_weighted": _mean(c, bt, cells, a),
            "late_share": _mean(c, (bt > 0) * 100.0, cells),
        }

    everything = np.ones(len(slot), dtype=bool)
    cell = p.group * n_periods + slot
    cols = table(cell, everything)
    if with_all:
        extra = table(len(labels) * n_periods + slot, everything)
        offset = len(labels) * n_periods
        for k in cols:
            cols[k][offset:] = extra[k][offset:]
    group_labels = np.r_[np.asarray(labels, dtype=object), [ALL] * with_all]
    starts = _period_start(first + months * np.arange(n_periods))
    ends = (starts + pd.DateOffset(months=months)) - pd.Timedelta(days=1)
    frame = pd.DataFrame(
        {
            "period": np.tile(starts.to_numpy(), size),
            name: pd.array(np.repeat(group_labels, n_periods), dtype="string"),
            "complete": np.tile(np.asarray(ends <= t), size),
            **cols,
        }
    )
    # Groups with no payment at all would be rows of blanks only.
    active = np.repeat(np.bincount(cell // n_periods, minlength=size)[:size] > 0, n_periods)
    if with_all:
        active[len(labels) * n_periods :] = True
    return frame[active].sort_values([name, "period"], kind="stable").reset_index(drop=True)


def monthly_receipts(ledger: Ledger, as_of) -> pd.Series:
    """Cash collected per calendar month up to ``as_of``, in reporting-currency units.

    Payments are totalled per currency and day, then converted at that day's
    rate, as :func:`rpmkit.kpi.receipts` does. Indexed by month start, from the
    first payment's month; a month ending after ``as_of`` is left out.
    """
    t, day = as_of_day(ledger, as_of)
    pay = ledger.payments[ledger.payments["payment_date"] <= t]
    if pay.empty:
        return pd.Series([], dtype=np.float64, name="receipts")
    daily = pay.groupby(["currency", "payment_date"], as_index=False)["amount"].sum()
    minor = ledger.to_reporting(daily["amount"], daily["currency"], daily["payment_date"])
    code = _period_codes(day_number(daily["payment_date"]), 1)
    first, last = int(code.min()), int(_period_codes(np.array([day]), 1)[0])
    totals = np.bincount(code - first, minor.to_numpy(dtype=np.float64), last - first + 1)
    index = _period_start(np.arange(first, last + 1))
    s = pd.Series(totals / 10 ** money.exponent(ledger.reporting_currency), index=index)
    s.index.name = "month"
    complete = (index + pd.DateOffset(months=1) - pd.Timedelta(days=1)) <= t
    return s[complete].rename("receipts")


# --------------------------------------------------------- decomposition
class TrendDecomposition:
    """STL decomposition (statsmodels ``STL``) of a regular series into trend, season, residual.

    Parameters
    ----------
    period
        Observations per seasonal cycle (12 for monthly data).
    robust
        Robust (outlier-downweighting) LOESS fits, as ``STL(robust=True)``.
    seasonal
        Length of the seasonal smoother (odd, ≥ 3); larger means a more stable season.

    Attributes
    ----------
    observed_, trend_, seasonal_, resid_ : pandas.Series
    seasonal_strength_ : float
        ``max(0, 1 − var(resid) / var(seasonal + resid))`` (Wang, Smith & Hyndman):
        near 0 no seasonality, near 1 a dominant one.
    """

    def __init__(self, period: int = 12, robust: bool = True, seasonal: int = 7) -> None:
        if not isinstance(period, int) or period < 2:
            raise ValueError(f"period must be a whole number ≥ 2, got {period!r}")
        if not isinstance(seasonal, int) or seasonal < 3 or seasonal % 2 == 0:
            raise ValueError(f"seasonal must be an odd whole number ≥ 3, got {seasonal!r}")
        self.period = period
        self.robust = robust
        self.seasonal = seasonal

    def fit(self, series: pd.Series) -> TrendDecomposition:
        """Decompose ``series`` (at least two full periods, no missing values); returns ``self``."""
        from statsmodels.tsa.seasonal import STL

        s = pd.Series(series, copy=False).astype(np.float64)
        if len(s) < 2 * self.period:
            raise ValueError(
                f"STL needs at least two full periods ({2 * self.period} observations "
                f"for period={self.period}); the series has {len(s)}"
            )
        if s.isna().any():
            gaps = ", ".join(str(i)[:10] for i in s.index[s.isna()][:3])
            raise ValueError(f"the series has missing values (first at {gaps}); fill or trim them")
        res = STL(
            s.to_numpy(), period=self.period, robust=self.robust, seasonal=self.seasonal
        ).fit()
        self.observed_ = s.rename("observed")
        self.trend_ = pd.Series(res.trend, index=s.index, name="trend")
        self.seasonal_ = pd.Series(res.seasonal, index=s.index, name="seasonal")
        self.resid_ = pd.Series(res.resid, index=s.index, name="resid")
        denom = float(np.var(res.seasonal + res.resid))
        self.seasonal_strength_ = (
            max(0.0, 1 - float(np.var(res.resid)) / denom) if denom > 0 else 0.0
        )
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "trend_"):
            raise ValueError("TrendDecomposition is not fitted: call fit(series) first")

    def seasonal_profile(self) -> pd.Series:
        """Mean seasonal component per position in the cycle (calendar month for monthly dates)."""
        self._check_fitted()
        idx = self.seasonal_.index
        if isinstance(idx, pd.DatetimeIndex) and self.period == 12:
            key = pd.Index(idx.month, name="month")
        else:
            key = pd.Index(np.arange(len(idx)) % self.period, name="position")
        return self.seasonal_.groupby(key.to_numpy()).mean().rename_axis(key.name)

    def peak(self) -> int:
        """The cycle position (calendar month 1–12 for monthly dates) with the highest season."""
        return int(self.seasonal_profile().idxmax())

    def summary(self) -> pd.DataFrame:
        """The components side by side, indexed like the series."""
        self._check_fitted()
        return pd.concat([self.observed_, self.trend_, self.seasonal_, self.resid_], axis=1)

    def plot(self, title: str = "Seasonal decomposition", unit: str = ""):
        """Observed with trend, and the seasonal component below (see :mod:`rpmkit.plots`)."""
        from rpmkit.plots.behaviour import decomposition_panels

        self._check_fitted()
        return decomposition_panels(self.summary(), title=title, unit=unit)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates (ISO), the four components as lists, strength and peak."""
        frame = self.summary()
        idx = frame.index
        dates = [
            plain(pd.Timestamp(i)) if isinstance(idx, pd.DatetimeIndex) else plain(i) for i in idx
        ]
        return {
            "period": self.period,
            "dates": dates,
            **{c: [plain(v) for v in frame[c].to_numpy()] for c in frame.columns},
            "seasonal_strength": self.seasonal_strength_,
            "peak": self.peak(),
        }

    def __repr__(self) -> str:
        if not hasattr(self, "trend_"):
            return f"TrendDecomposition(period={self.period}, not fitted)"
        return (
            f"TrendDecomposition(period={self.period}, fitted on {len(self.trend_)} points: "
            f"seasonal strength {self.seasonal_strength_:.2f}, peak {self.peak()})"
        )


def seasonal_decomposition(
    series: pd.Series, period: int = 12, *, robust: bool = True
) -> TrendDecomposition:
    """Fit a :class:`TrendDecomposition` to ``series``.

    Raises ``ValueError`` when the series is shorter than two periods or has gaps.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.date_range("2021-01-01", periods=36, freq="MS")
    >>> s = pd.Series(100 + 10 * np.cos(2 * np.pi * (months.month - 11) / 12), index=months)
    >>> seasonal_decomposition(s).peak()
    11
    >>> seasonal_decomposition(s.iloc[:20])
    Traceback (most recent call last):
    ...
    ValueError: STL needs at least two full periods (24 observations for period=12); ...
    """
    return TrendDecomposition(period=period, robust=robust).fit(series)
