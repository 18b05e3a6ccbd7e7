"""Time to payment with open invoices counted correctly: Kaplan–Meier, log-rank and Cox.

An average of days to pay over *paid* invoices forgets the invoices still
open, and those are exactly the slow ones: the younger the ledger, the more
optimistic the average. Survival analysis keeps every invoice known at
``as_of`` and lets the open ones say what they know — "not paid after so many
days" — by right-censoring them at ``as_of``.

The spell of an invoice
-----------------------
* It starts on the **invoice date** (``origin="invoice"``) or on the **due
  date** (``origin="due"``; days are then days beyond terms and negative when
  early).
* It ends with an **event** when the invoice is paid: fully settled with some
  cash and no write-off, on the day its cash settlement completed — the
  membership and payment date :func:`rpmkit.kpi.days_to_pay` uses
  (:func:`rpmkit.kpi.payment.paid_invoices`), so a credit note closing the
  last cents later does not make the customer slower.
* An invoice still open at the end of ``as_of`` is **censored** there.
* An invoice closed **without being paid** (written off, or cleared by credit
  notes alone) is handled by ``closures``:

  - ``"censor"`` (default): censored on the day it was closed. The curve
    answers "how long do invoices take to be paid, had they not been closed
    otherwise" — the time-to-pay distribution of the invoices that do get
    paid, the one collection planning needs.
  - ``"competing"``: the closure is a competing event. Closed invoices stay
    in the risk set, never paying, until ``as_of`` — Fine and Gray's
    "censoring-complete" data, possible because every invoice's censoring
    time (``as_of``) is known. One minus this curve estimates the cumulative
    incidence of payment (it agrees with the Aalen–Johansen estimator up to
    sampling noise, about 0.002 on a few thousand invoices), and the curve
    levels off at the share never paid.
  - ``"exclude"``: closed invoices are left out.

Kaplan–Meier curves and their Greenwood standard errors come from
``statsmodels.duration.survfunc.SurvfuncRight`` (it runs in well under a
second on a million invoices: times are whole days, so there are only a few
hundred distinct ones), percentile intervals by the rule of its
``quantile_ci`` (transformed-test inversion, the SAS ``LIFETEST`` method;
restated in numpy so thousands of groups stay fast), the log-rank test from
``survdiff`` (the Cox model is :mod:`rpmkit.hazards`). Percentiles follow
statsmodels: the p-th percentile is the first day on which the share still
unpaid is strictly below ``1 − p``.

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> flat = pd.DataFrame(
...     {
...         "invoice_id": ["A", "B", "C", "D"],
...         "customer_id": ["C1", "C1", "C2", "C2"],
...         "invoice_date": pd.to_datetime(["2024-01-01"] * 4),
...         "due_date": pd.to_datetime(["2024-01-31"] * 4),
...         "amount": [100, 200, 300, 400],
...         "paid_date": pd.to_datetime(["2024-01-11", "2024-01-21", None, "2024-02-10"]),
...     }
... )
>>> km = PaymentSurvival(horizon_days=60).fit(Ledger.from_flat(flat), "2024-03-01")
>>> km  # doctest: +ELLIPSIS
PaymentSurvival(by=None, origin='invoice', closures='censor'; fitted as of 2024-03-01: ...)
>>> km.curves_[["days", "survival", "at_risk"]]
   days  survival  at_risk
0    10      0.75        4
1    20      0.50        3
2    40      0.25        2
>>> km.summary()[["n", "events", "censored", "median_days", "restricted_mean_days"]].reset_index()
  group  n  events  censored  median_days  restricted_mean_days
0   all  4       3         1         40.0                  32.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from rpmkit import keys
from rpmkit.jsonable import number
from rpmkit.kpi.book import NEVER, Book, as_of_day, book, day_number
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger
from rpmkit.schema import TABLES

__all__ = [
    "PaymentSurvival",
    "SurvivalResult",
    "dispute_resolution",
    "kaplan_meier",
    "payment_spells",
]

Origin = Literal["invoice", "due"]
Closures = Literal["censor", "competing", "exclude"]

_INVOICE_ID = TABLES["invoices"].key[0]
_CUSTOMER_ID = TABLES["invoices"].column("customer_id").name
_CHANNEL = TABLES["invoices"].column("channel").name
_DISPUTED = "disputed"  # the flat-file flag (FLAT_INVOICE), kept as an invoice attribute
_D_INVOICE = TABLES["disputes"].column("invoice_id").name
_D_OPENED = TABLES["disputes"].column("opened_date").name
_D_RESOLVED = TABLES["disputes"].column("resolved_date").name
_ALL = "all"
_UNKNOWN = "(unknown)"
QUANTILES = {"p25": 0.25, "median": 0.5, "p75": 0.75, "p90": 0.9}
"""Percentiles of time to payment reported per group: share paid by that day."""

MAX_LOGRANK_GROUPS = 100
"""Above this many groups (e.g. ``by="customer"``) no log-rank test is run."""

OUTCOMES = ("paid", "open", "written_off", "credit_closed")
"""How each spell ended at ``as_of`` (see the module docstring)."""


def _check_choice(name: str, value, allowed: Sequence) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive); got {alpha!r}")


def _check_horizon(horizon_days: float) -> None:
    if not (isinstance(horizon_days, int | float) and math.isfinite(horizon_days)):
        raise ValueError(f"horizon_days must be a finite number of days; got {horizon_days!r}")
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be greater than 0; got {horizon_days!r}")


# ---------------------------------------------------------------- spells
def _spells(
    b: Book, as_day: int, origin: Origin, closures: Closures
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row positions, days, event flags and outcome codes of the invoices known at ``as_day``."""
    paid = paid_invoices(b)
    rows = np.flatnonzero(b.inv_day <= as_day)
    closed_by = paid.settled[rows]
    known = closed_by <= as_day  # settled after as_of is still open at as_of
    is_paid = known & paid.paid[rows]
    outcome = np.full(len(rows), OUTCOMES.index("open"), dtype=np.int8)
    outcome[is_paid] = OUTCOMES.index("paid")
    outcome[known & paid.written_off[rows]] = OUTCOMES.index("written_off")
    outcome[known & paid.credit_only[rows]] = OUTCOMES.index("credit_closed")
    closed = known & ~is_paid
    end = np.full(len(rows), as_day, dtype=np.int64)
    end[is_paid] = paid.pay_day[rows][is_paid]
    if closures == "censor":
        end[closed] = closed_by[closed]
    elif closures == "exclude":
        keep = ~closed
        rows, end, is_paid, outcome = rows[keep], end[keep], is_paid[keep], outcome[keep]
    start = (b.inv_day if origin == "invoice" else b.due_day)[rows]
    return rows, end - start, is_paid, outcome


def payment_spells(
    ledger: Ledger,
    as_of=None,
    *,
    origin: Origin = "invoice",
    closures: Closures = "censor",
) -> pd.DataFrame:
    """One row per invoice known at ``as_of``: its time to payment or to censoring.

    Parameters
    ----------
    ledger
        The ledger; only what is dated on or before ``as_of`` counts.
    as_of
        The day the question is asked; the ledger's cutoff when omitted.
    origin
        ``"invoice"`` (days since the invoice date) or ``"due"`` (days beyond
        the due date, negative when early).
    closures
        What a write-off or a credit-note-only closure does to the spell:
        ``"censor"``, ``"competing"`` or ``"exclude"`` (module docstring).

    Returns
    -------
    pandas.DataFrame
        ``invoice_id``, ``customer_id``, ``segment``, ``days`` (int64),
        ``event`` (bool: paid) and ``outcome`` (one of :data:`OUTCOMES`).

    Examples
    --------
    >>> import pandas as pd
    >>> from rpmkit.ledger import Ledger
    >>> flat = pd.DataFrame(
    ...     {
    ...         "invoice_id": ["A", "B"],
    ...         "customer_id": ["C1", "C2"],
    ...         "invoice_date": pd.to_datetime(["2024-01-01", "2024-01-15"]),
    ...         "due_date": pd.to_datetime(["2024-01-31", "2024-02-14"]),
    ...         "amount": [100, 200],
    ...         "paid_date": pd.to_datetime(["2024-02-05", None]),
    ...     }
    ... )
    >>> payment_spells(Ledger.from_flat(flat), "2024-02-29", origin="due")[
    ...     ["invoice_id", "days", "event", "outcome"]
    ... ]
      invoice_id  days  event outcome
    0          A     5   True    paid
    1          B    15  False    open
    """
    _check_choice("origin", origin, ("invoice", "due"))
    _check_choice("closures", closures, ("censor", "competing", "exclude"))
    as_day = as_of_day(ledger, as_of)[1]
    b = book(ledger)
    rows, days, event, outcome = _spells(b, as_day, origin, closures)
    inv = ledger.invoices
    return pd.DataFrame(
        {
            _INVOICE_ID: inv[_INVOICE_ID].iloc[rows].reset_index(drop=True),
            _CUSTOMER_ID: inv[_CUSTOMER_ID].iloc[rows].reset_index(drop=True),
            "segment": pd.Series(np.asarray(b.segments, dtype=object)[b.segment[rows]]).astype(
                "string"
            ),
            "days": days,
            "event": event,
            "outcome": pd.Categorical.from_codes(outcome, categories=list(OUTCOMES)),
        }
    )


# ------------------------------------------------------------ Kaplan–Meier
def _km_one(days: np.ndarray, event: np.ndarray, z: float, horizon: float) -> dict:
    """Curve, percentiles and restricted mean of one group (``days`` may be any reals)."""
    n, events = len(days), int(event.sum())
    out: dict[str, Any] = {"n": n, "events": events, "censored": n - events}
    if events == 0:
        # statsmodels needs at least one event; nothing has dropped yet.
        empty = np.zeros(0)
        out["curve"] = (empty, empty, empty, empty, np.zeros(0, dtype=np.int64), empty)
        for key in QUANTILES:
            out[key] = (np.nan, np.nan, np.nan)
        rm = horizon if len(days) and days.max() >= horizon else np.nan
        out["rmst"] = (rm, 0.0 if np.isfinite(rm) else np.nan)
        return out
    sf = SurvfuncRight(days.astype(np.float64), event.astype(np.float64))
    s, se = sf.surv_prob, sf.surv_prob_se
    with np.errstate(divide="ignore", invalid="ignore"):
        # log-log pointwise band: stays inside [0, 1] and is not symmetric near the ends
        theta_se = se / (s * np.abs(np.log(s)))
        lower = np.where(s >= 1, 1.0, s ** np.exp(z * theta_se))
        upper = np.where(s >= 1, 1.0, s ** np.exp(-z * theta_se))
    lower = np.where(s <= 0, 0.0, np.nan_to_num(lower, nan=0.0))
    upper = np.where(s <= 0, 0.0, np.nan_to_num(upper, nan=1.0))
    out["curve"] = (
        sf.surv_times,
        s,
        lower,
        upper,
        sf.n_risk.astype(np.int64),
        sf.n_events.astype(np.float64),
    )
    for key, p in QUANTILES.items():
        out[key] = _quantile_with_ci(sf.surv_times, s, se, p, z)
    out["rmst"] = _restricted_mean(
        sf.surv_times, s, sf.n_risk, sf.n_events, float(days.min()), float(days.max()), horizon
    )
    return out


def _quantile_with_ci(
    t: np.ndarray, s: np.ndarray, se: np.ndarray, p: float, z: float
) -> tuple[float, float, float]:
    """The ``p`` quantile (day by which a share ``p`` had the event) and its interval.

    The rules of ``SurvfuncRight.quantile`` and ``quantile_ci`` (cloglog
    method, the SAS ``LIFETEST`` one), restated here because statsmodels
    evaluates a normal quantile with scipy on every call, which dominates
    when there are thousands of groups (tests check both agree): the
    estimate is the first event day with S strictly below ``1 − p``; the
    interval runs from the first event day whose S is not significantly
    different from ``1 − p`` to the event day after the last one (NaN when
    that is beyond the data).

    One addition: with many subjects and whole-day times the curve can step
    across ``1 − p`` in one day with both neighbours significantly on either
    side, so no day passes the test (statsmodels answers NaN) although the
    quantile is then known to the day; the interval is that day.
    """
    below = np.flatnonzero(s < 1 - p)
    est = float(t[below[0]]) if len(below) else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (np.log(-np.log(s)) - np.log(-np.log(1 - p))) * (s * np.log(s)) / -se
    ok = np.flatnonzero(np.abs(r) <= z)
    if len(ok):
        lo = float(t[ok[0]])
        hi = float(t[ok[-1] + 1]) if ok[-1] < len(t) - 1 else np.nan
        return est, lo, hi
    if len(below):
        i = below[0]
        crossed = np.isfinite(r[i]) and (i == 0 or np.isfinite(r[i - 1]))
        if crossed:
            return est, est, est
    return est, np.nan, np.nan


def _restricted_mean(
    t: np.ndarray,
    s: np.ndarray,
    n_risk: np.ndarray,
    d: np.ndarray,
    first: float,
    last: float,
    horizon: float,
) -> tuple[float, float]:
    """``E[min(T, horizon)]`` from a KM curve and its Greenwood-type standard error.

    ``t`` are the event times, ``s`` the survival just after each. With ``t0 =
    min(0, first time)`` (S is 1 before the first event), ``E[min(T, τ)] = t0
    + ∫_{t0}^{τ} S(u) du``. The variance is ``Σ_{t_i ≤ τ} A_i² d_i / (n_i (n_i −
    d_i))`` with ``A_i = ∫_{t_i}^{τ} S(u) du`` (Klein & Moeschberger, 4.5).
    Undefined (NaN) when follow-up ends before ``τ`` while S is still above 0.
    """
    if last < horizon and s[-1] > 0:
        return np.nan, np.nan
    t0 = min(0.0, first)
    inside = t <= horizon
    ti, si = t[inside], s[inside]
    knots = np.r_[t0, ti, horizon]
    heights = np.r_[1.0, si]  # S on [knots[k], knots[k + 1])
    widths = np.diff(knots)
    pieces = heights * widths
    mean = t0 + float(pieces.sum())
    # A_i: the area from t_i to τ, i.e. the pieces after the i-th knot
    area_after = np.cumsum(pieces[::-1])[::-1][1:]
    di, ni = d[inside], n_risk[inside].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ni > di, area_after**2 * di / (ni * (ni - di)), 0.0)
    return mean, float(np.sqrt(terms.sum()))


def kaplan_meier(
    days,
    event,
    groups=None,
    *,
    alpha: float = 0.05,
    horizon_days: float = 180,
    what: str = "time to payment",
    origin: str = "invoice",
) -> SurvivalResult:
    """Kaplan–Meier curves by group, with percentiles, restricted means and a log-rank test.

    Parameters
    ----------
    days
        Time from origin to event or censoring, per subject.
    event
        True where the event happened at ``days``; False where censored.
    groups
        A label per subject; ``None`` puts everyone in one group ``"all"``.
    alpha
        ``1 − alpha`` is the confidence level of bands and intervals.
    horizon_days
        τ of the restricted mean ``E[min(T, τ)]``.
    what, origin
        Words for titles and axis labels (``origin``: what day 0 is).

    Returns
    -------
    SurvivalResult

    Examples
    --------
    >>> r = kaplan_meier([3, 5, 5, 8, 12], [1, 1, 0, 1, 0], horizon_days=10)
    >>> r.curves_[["days", "survival", "at_risk", "events"]]
       days  survival  at_risk  events
    0     3       0.8        5       1
    1     5       0.6        4       1
    2     8       0.3        2       1
    >>> float(r.summary().loc["all", "restricted_mean_days"])  # 3 + 2×0.8 + 3×0.6 + 2×0.3
    7.0
    """
    _check_alpha(alpha)
    _check_horizon(horizon_days)
    days = np.asarray(days)
    event = np.asarray(event).astype(bool)
    if days.ndim != 1 or days.shape != event.shape:
        raise ValueError("days and event must be one-dimensional and of the same length")
    if len(days) == 0:
        raise ValueError("no subjects to estimate a survival curve from")
    if not np.isfinite(days.astype(np.float64)).all():
        raise ValueError("days must be finite numbers")
    if groups is None:
        codes, labels = np.zeros(len(days), dtype=np.int64), pd.Index([_ALL])
    else:
        g = pd.Series(groups, copy=False)
        if len(g) != len(days):
            raise ValueError(f"groups has {len(g)} labels for {len(days)} subjects")
        codes, labels = pd.factorize(g.astype("string").fillna(_UNKNOWN), sort=True)
        labels = pd.Index(labels.astype(object))
    return SurvivalResult._build(days, event, codes, labels, alpha, horizon_days, what, origin)


class SurvivalResult:
    """Fitted Kaplan–Meier curves by group (see :func:`kaplan_meier`).

    Attributes
    ----------
    curves_
        Tidy frame, one row per group and event time: ``group``, ``days``,
        ``survival`` (share without the event at the end of that day),
        ``lower``, ``upper`` (pointwise log-log band), ``at_risk`` and
        ``events``.
    table_
        What :meth:`summary` returns.
    logrank_
        ``{"statistic", "df", "p_value"}`` of the log-rank test that all
        groups share one curve (``survdiff``); ``None`` with one group or
        more than :data:`MAX_LOGRANK_GROUPS`.
    alpha, horizon_days, what, origin
        The settings used.
    """

    curves_: pd.DataFrame
    table_: pd.DataFrame
    logrank_: dict[str, float] | None

    def __init__(self) -> None:
        raise TypeError("build a SurvivalResult with kaplan_meier() or a fit() method")

    @classmethod
    def _build(
        cls,
        days: np.ndarray,
        event: np.ndarray,
        codes: np.ndarray,
        labels: pd.Index,
        alpha: float,
        horizon: float,
        what: str,
        origin: str,
    ) -> SurvivalResult:
        self = object.__new__(cls)
        self.alpha, self.horizon_days, self.what, self.origin = alpha, horizon, what, origin
        # one sort puts each group's rows together: O(n log n) however many groups
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
        z = float(norm.ppf(1 - alpha / 2))
        curves: list[tuple] = []
        rows = []
        for k, label in enumerate(labels):
            part = order[bounds[k] : bounds[k + 1]]
            if len(part) == 0:
                continue
            fit = _km_one(days[part], event[part], z, horizon)
            curves.append((k, *fit["curve"]))
            row = {"group": label, "n": fit["n"], "events": fit["events"]}
            row["censored"] = fit["censored"]
            for key in QUANTILES:
                est, lower, upper = fit[key]
                row[f"{key}_days"], row[f"{key}_lower"], row[f"{key}_upper"] = est, lower, upper
            mean, se = fit["rmst"]
            row["restricted_mean_days"], row["restricted_mean_se"] = mean, se
            row["restricted_mean_lower"] = mean - z * se
            row["restricted_mean_upper"] = mean + z * se
            rows.append(row)
        # one frame at the end: building one per group costs more than the estimates
        group_codes = np.concatenate([np.full(len(c[1]), c[0]) for c in curves])
        t_all = np.concatenate([c[1] for c in curves])
        curves_ = pd.DataFrame(
            {
                "group": np.asarray(labels, dtype=object)[group_codes],
                "days": t_all.astype(np.int64) if np.issubdtype(days.dtype, np.integer) else t_all,
                "survival": np.concatenate([c[2] for c in curves]),
                "lower": np.concatenate([c[3] for c in curves]),
                "upper": np.concatenate([c[4] for c in curves]),
                "at_risk": np.concatenate([c[5] for c in curves]).astype(np.int64),
                "events": np.concatenate([c[6] for c in curves]).astype(np.int64),
            }
        )
        self.curves_ = curves_
        columns = ["n", "events", "censored"]
        columns += [f"median_{c}" for c in ("days", "lower", "upper")]
        columns += ["restricted_mean_days", "restricted_mean_se"]
        columns += ["restricted_mean_lower", "restricted_mean_upper"]
        columns += [f"{k}_{c}" for k in ("p25", "p75", "p90") for c in ("days", "lower", "upper")]
        table = pd.DataFrame(rows).set_index("group")[columns]
        table.index.name = "group"
        self.table_ = table
        self.logrank_ = None
        present = np.unique(codes)
        # survdiff builds a groups × groups covariance over every time: quadratic in groups
        if 1 < len(present) <= MAX_LOGRANK_GROUPS:
            stat, _ = survdiff(days.astype(np.float64), event.astype(np.float64), codes)
            df = int(len(present) - 1)
            # survdiff's 1 − cdf rounds small p-values to 0; the survival function keeps them
            self.logrank_ = {
                "statistic": float(stat),
                "df": df,
                "p_value": float(chi2.sf(stat, df)),
            }
        return self

    # ------------------------------------------------------------ protocol
    def summary(self) -> pd.DataFrame:
        """Per group: ``n``, ``events``, ``censored``, percentiles and restricted mean.

        ``median_days`` with ``median_lower`` / ``median_upper``, the same for
        ``p25`` / ``p75`` / ``p90`` (the day by which that share had the
        event), and ``restricted_mean_days`` (``E[min(T, horizon_days)]``)
        with its standard error and interval. NaN where not reached within
        follow-up (an upper limit of NaN means "beyond the data").
        """
        return self.table_.copy()

    def plot(self, **kwargs):
        """Kaplan–Meier curves with shaded bands (:func:`rpmkit.plots.survival.km_curves`)."""
        from rpmkit.plots.survival import km_curves

        kwargs.setdefault("what", self.what)
        kwargs.setdefault("origin", self.origin)
        return km_curves(self.curves_, **kwargs)

    def to_dict(self, max_points: int = 200) -> dict[str, Any]:
        """JSON-ready: settings, the log-rank test and per group its numbers and curve.

        Each group has ``n``, ``events``, ``censored``, ``median_days``,
        ``median_days_ci`` (``[lower, upper]``), ``restricted_mean_days``,
        ``restricted_mean_se`` and ``curve`` (lists ``days``, ``survival``,
        ``lower``, ``upper``, ``at_risk``) thinned to at most ``max_points``
        points, always keeping the first and last. Missing numbers are ``None``.
        """
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2; got {max_points!r}")
        groups = {}
        for label, row in self.table_.iterrows():
            curve = self.curves_[self.curves_["group"] == label]
            if len(curve) > max_points:
                keep = np.unique(np.rint(np.linspace(0, len(curve) - 1, max_points)).astype(int))
                curve = curve.iloc[keep]
            groups[str(label)] = {
                "n": int(row["n"]),
                "events": int(row["events"]),
                "censored": int(row["censored"]),
                "median_days": number(row["median_days"]),
                "median_days_ci": [
                    number(row["median_lower"]),
                    number(row["median_upper"]),
                ],
                "restricted_mean_days": number(row["restricted_mean_days"]),
                "restricted_mean_se": number(row["restricted_mean_se"]),
                "curve": {
                    "days": [
                        float(x) if not float(x).is_integer() else int(x) for x in curve["days"]
                    ],
                    "survival": [round(float(x), 6) for x in curve["survival"]],
                    "lower": [round(float(x), 6) for x in curve["lower"]],
                    "upper": [round(float(x), 6) for x in curve["upper"]],
                    "at_risk": [int(x) for x in curve["at_risk"]],
                },
            }
        return {
            "what": self.what,
            "origin": self.origin,
            "alpha": self.alpha,
            "horizon_days": self.horizon_days,
            "logrank": self.logrank_,
            "groups": groups,
        }

    def __repr__(self) -> str:
        n = int(self.table_["n"].sum())
        k = len(self.table_)
        return (
            f"SurvivalResult({self.what}, from {self.origin}: {k} group{'s' * (k != 1)}, "
            f"{n:,} subjects)"
        )


# ------------------------------------------------------- payment survival
def _group_labels(ledger: Ledger, b: Book, rows: np.ndarray, by, as_day: int) -> pd.Series | None:
    """Group label per spell row for ``by`` (see :class:`PaymentSurvival`)."""
    inv = ledger.invoices
    if by is None:
        return None
    if isinstance(by, str):
        if by == "segment":
            return pd.Series(np.asarray(b.segments, dtype=object)[b.segment[rows]])
        if by == "customer":
            return pd.Series(np.asarray(b.customers, dtype=object)[b.customer[rows]])
        if by == _DISPUTED:
            return pd.Series(_ever_disputed(ledger, as_day)[rows])
        if by not in inv.columns:
            raise ValueError(
                f"by must be None, 'segment', 'customer', 'disputed' or an invoice column; "
                f"the invoices have no column {by!r}"
            )
        return inv[by].iloc[rows].reset_index(drop=True)
    labels = pd.Series(by, copy=False)
    if len(labels) != len(inv):
        raise ValueError(f"by has {len(labels)} labels for {len(inv)} invoices")
    return labels.iloc[rows].reset_index(drop=True)


def _first_dispute_day(ledger: Ledger, as_day: int) -> np.ndarray:
    """Per invoice, the day its first dispute known at ``as_day`` was opened (NEVER if none)."""
    disp = ledger.disputes
    first = np.full(len(ledger.invoices), NEVER, dtype=np.int64)
    if disp.empty:
        return first
    opened = day_number(disp[_D_OPENED])
    pos = keys.positions(disp[_D_INVOICE], ledger.invoices[_INVOICE_ID])
    keep = (pos >= 0) & (opened <= as_day)
    np.minimum.at(first, pos[keep], opened[keep])
    return first


def _ever_disputed(ledger: Ledger, as_day: int) -> np.ndarray:
    """Disputed by ``as_day``: the disputes table when it has rows, else a ``disputed`` flag."""
    inv = ledger.invoices
    if ledger.disputes.empty and _DISPUTED in inv.columns:
        return inv[_DISPUTED].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return _first_dispute_day(ledger, as_day) < NEVER


class PaymentSurvival:
    """Kaplan–Meier time to payment, open invoices censored at ``as_of``.

    Parameters
    ----------
    by
        ``None`` (one curve), ``"segment"``, ``"customer"``, ``"disputed"``
        (a dispute opened by ``as_of``; the flat-file ``disputed`` flag when the
        ledger has no disputes table), the name of an invoice column (e.g.
        ``"channel"``, ``"terms"``, ``"currency"``), or labels aligned with
        ``ledger.invoices``.
    origin
        ``"invoice"`` (days since the invoice date) or ``"due"`` (days beyond
        terms).
    closures
        Write-offs and credit-note-only closures: ``"censor"``,
        ``"competing"`` or ``"exclude"`` (module docstring).
    alpha
        ``1 − alpha`` is the confidence level of bands and intervals.
    horizon_days
        τ of the restricted mean time to payment ``E[min(T, τ)]``, days after origin.

    Attributes
    ----------
    result_
        The :class:`SurvivalResult`; ``curves_`` and ``logrank_`` are its.
    as_of_
        The date fitted at.

    Notes
    -----
    A grouping fixed by what happens *during* the spell (``"disputed"``) is
    known only for invoices that lived long enough to be disputed; compare
    those curves as a description, not as the effect of a dispute (the Cox
    model of :class:`rpmkit.hazards.PaymentHazards` treats the dispute as time-varying).
    """

    def __init__(
        self,
        by=None,
        origin: Origin = "invoice",
        closures: Closures = "censor",
        alpha: float = 0.05,
        horizon_days: float = 180,
    ) -> None:
        _check_choice("origin", origin, ("invoice", "due"))
        _check_choice("closures", closures, ("censor", "competing", "exclude"))
        _check_alpha(alpha)
        _check_horizon(horizon_days)
        self.by, self.origin, self.closures = by, origin, closures
        self.alpha, self.horizon_days = alpha, horizon_days

    def fit(self, ledger: Ledger, as_of=None) -> PaymentSurvival:
        """Estimate the curves from the invoices known at ``as_of`` (the cutoff if omitted)."""
        as_day = as_of_day(ledger, as_of)[1]
        b = book(ledger)
        rows, days, event, _ = _spells(b, as_day, self.origin, self.closures)
        if len(rows) == 0:
            raise ValueError(f"no invoices dated on or before {ledger.cut_date(as_of).date()}")
        labels = _group_labels(ledger, b, rows, self.by, as_day)
        self.result_ = kaplan_meier(
            days,
            event,
            labels,
            alpha=self.alpha,
            horizon_days=self.horizon_days,
            what="time to payment",
            origin=self.origin,
        )
        self.as_of_ = ledger.cut_date(as_of)
        return self

    def _fitted(self) -> SurvivalResult:
        if not hasattr(self, "result_"):
            raise ValueError("call fit(ledger, as_of) first")
        return self.result_

    @property
    def curves_(self) -> pd.DataFrame:
        return self._fitted().curves_

    @property
    def logrank_(self) -> dict[str, float] | None:
        return self._fitted().logrank_

    def summary(self) -> pd.DataFrame:
        """Per group: n, events, censored, percentiles with CIs, restricted mean (see
        :meth:`SurvivalResult.summary`)."""
        return self._fitted().summary()

    def plot(self, **kwargs):
        """KM curves by group with shaded bands (:func:`rpmkit.plots.survival.km_curves`)."""
        return self._fitted().plot(**kwargs)

    def to_dict(self, max_points: int = 200) -> dict[str, Any]:
        """The ``rpmkit survival --format json`` document (:meth:`SurvivalResult.to_dict`)."""
        out = self._fitted().to_dict(max_points)
        by = self.by if self.by is None or isinstance(self.by, str) else "custom"
        return {
            "as_of": self.as_of_.date().isoformat(),
            "by": by,
            "closures": self.closures,
            **out,
        }

    def __repr__(self) -> str:
        by = repr(self.by) if self.by is None or isinstance(self.by, str) else "<labels>"
        head = f"PaymentSurvival(by={by}, origin={self.origin!r}, closures={self.closures!r}"
        if not hasattr(self, "result_"):
            return head + "; not fitted)"
        t = self.result_.table_
        k = len(t)
        return (
            f"{head}; fitted as of {self.as_of_.date()}: {k} group{'s' * (k != 1)}, "
            f"{int(t['n'].sum()):,} invoices)"
        )


# ----------------------------------------------------------- dispute time
def dispute_resolution(
    ledger: Ledger,
    as_of=None,
    by: str | None = None,
    *,
    alpha: float = 0.05,
    horizon_days: float = 90,
) -> SurvivalResult:
    """Kaplan–Meier time from a dispute's opening to its resolution; open disputes censored.

    Parameters
    ----------
    ledger, as_of
        Disputes opened on or before ``as_of``; one resolved later is open then.
    by
        ``None``, ``"segment"`` (of the disputed invoice) or a disputes column
        such as ``"reason_code"``.
    alpha, horizon_days
        As in :func:`kaplan_meier`.

    Examples
    --------
    >>> import pandas as pd
    >>> from rpmkit.ledger import Ledger
    >>> inv = pd.DataFrame(
    ...     {
    ...         "invoice_id": ["A", "B", "C"],
    ...         "customer_id": "C1",
    ...         "invoice_date": pd.Timestamp("2024-01-01"),
    ...         "due_date": pd.Timestamp("2024-01-31"),
    ...         "amount": 100,
    ...         "currency": "USD",
    ...     }
    ... )
    >>> disp = pd.DataFrame(
    ...     {
    ...         "dispute_id": ["D1", "D2", "D3"],
    ...         "invoice_id": ["A", "B", "C"],
    ...         "opened_date": pd.to_datetime(["2024-01-10", "2024-01-10", "2024-02-01"]),
    ...         "amount": 100,
    ...         "resolved_date": pd.to_datetime(["2024-01-20", "2024-03-01", "2024-02-06"]),
    ...     }
    ... )
    >>> r = dispute_resolution(Ledger(invoices=inv, disputes=disp), "2024-02-15")
    >>> r.summary()[["n", "events", "censored", "median_days"]].reset_index()
      group  n  events  censored  median_days
    0   all  3       2         1         10.0
    """
    as_day = as_of_day(ledger, as_of)[1]
    disp = ledger.disputes
    opened = day_number(disp[_D_OPENED])
    keep = opened <= as_day
    if not keep.any():
        raise ValueError("the ledger has no disputes opened by the as-of date")
    resolved = day_number(disp[_D_RESOLVED])
    done = keep & (resolved <= as_day)
    end = np.where(done, resolved, as_day)
    days = (end - opened)[keep]
    labels = None
    if by == "segment":
        b = book(ledger)
        pos = keys.positions(disp[_D_INVOICE], ledger.invoices[_INVOICE_ID])
        seg = np.asarray(b.segments, dtype=object)[b.segment[np.maximum(pos, 0)]]
        labels = pd.Series(np.where(pos >= 0, seg, _UNKNOWN))[keep].reset_index(drop=True)
    elif by is not None:
        if by not in disp.columns:
            raise ValueError(f"by must be None, 'segment' or a disputes column; got {by!r}")
        labels = disp[by][keep].reset_index(drop=True)
    return kaplan_meier(
        days,
        done[keep],
        labels,
        alpha=alpha,
        horizon_days=horizon_days,
        what="dispute resolution",
        origin="opened",
    )
