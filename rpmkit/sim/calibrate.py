"""Start from reality: a scenario calibrated on a ledger, its open items, and a replay back-test.

:func:`calibrate` estimates sales and payer behaviour per segment from what a
ledger knew at the end of ``as_of`` (it works on ``ledger.as_of(as_of)``, so
nothing later can leak in) and keeps the policy levers a ledger rarely
records — dunning, collectors, credit policy, escalation — from a base
scenario. :func:`opening_balance` gives the ledger's open items at ``as_of``
in the form ``Model(..., opening=...)`` takes, so a simulation starts from the
real book. :func:`replay_backtest` calibrates on the history up to a split
date, simulates the period after it and compares monthly receipts, DSO and
aging with what the ledger says happened. The estimators are described in
``docs/simulation.md`` (*Calibrating from a ledger*).

Payment delays (days from due date to the day the cash settlement completed)
are estimated with the Kaplan–Meier product limit, so invoices still open
are right-censored rather than dropped; location and scale of the normal
delay are a 5 %-winsorized mean and the interdecile range / 2.563 of that
distribution (both normal-consistent, neither moved by the top 5 % tail).
Because the observed delays already include the effect of the dunning in
place, they are mapped back through the accelerated clock of the base
scenario's dunning steps (:func:`undo_dunning`) before fitting: simulating
with the same dunning reproduces what was observed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr

from rpmkit import keys, money
from rpmkit.kpi import aging, kpi_series
from rpmkit.kpi.book import EVENT_KINDS, NEVER, book, day_number
from rpmkit.kpi.ops import product_limit
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger, to_date
from rpmkit.sim.model import Model
from rpmkit.sim.params import Scenario
from rpmkit.sim.sections import (
    Behaviour,
    Collections,
    CustomerHabit,
    DunningStep,
    PayerBehaviour,
    SegmentSales,
)
from rpmkit.synth.specs import parse_terms

__all__ = [
    "BacktestResult",
    "calibrate",
    "calibration_summary",
    "opening_balance",
    "replay_backtest",
    "undo_dunning",
]

WINDOW_DAYS = 365
"""History used for sales and behaviour: the 12 months up to ``as_of``."""
DEFAULT_AFTER_DAYS = 90
"""An invoice not paid this many days past due counts towards the default rate."""
WINSOR = 0.05
"""Share winsorized at each end of the delay distribution for its mean."""
MIN_PAID = 30
"""A segment with fewer paid invoices borrows the pooled delay estimates."""
_GRID = (np.arange(400) + 0.5) / 400  # probabilities of the quantile function
_IDR = 2.0 * 1.2815515655446004  # interdecile range of a standard normal
_IQR = 2.0 * 0.6744897501960817


# ------------------------------------------------------------------ helpers
def _segment_labels(b, by: str | None) -> np.ndarray | None:
    """Each invoice's simulated segment (None without a book: only ``by`` is checked)."""
    if by not in (None, "segment", "customer"):
        raise ValueError(f"by must be 'segment', 'customer' or None, got {by!r}")
    if b is None:
        return None
    if by is None:
        return np.full(b.n, "all", dtype=object)
    return np.asarray(b.segments, dtype=object)[b.segment] if b.n else np.zeros(0, dtype=object)


def _quantiles(durations: np.ndarray, events: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Kaplan–Meier quantile function: the first time the share not yet done is ≤ 1 − p.

    Probabilities beyond what the curve reaches (censoring, a plateau) get
    the longest time observed.
    """
    table = product_limit(durations, events)
    times = table["time"].to_numpy(dtype=float)
    done = 1.0 - table["survival"].to_numpy()
    pos = np.searchsorted(done, p - 1e-12, side="left")
    return times[np.minimum(pos, len(times) - 1)]


def _location_scale(q: np.ndarray) -> tuple[float, float]:
    """5 %-winsorized mean and interdecile range / 2.563 of a quantile function on ``_GRID``."""
    lo, hi = np.interp([WINSOR, 1 - WINSOR], _GRID, q)
    d10, d90 = np.interp([0.1, 0.9], _GRID, q)
    return float(np.clip(q, lo, hi).mean()), float((d90 - d10) / _IDR)


def undo_dunning(
    delays: np.ndarray, dunning: tuple[DunningStep, ...], *, calls: bool = True
) -> np.ndarray:
    """Natural delays (days after due) that the dunning steps turn into ``delays``.

    The inverse of applying :func:`rpmkit.sim.accelerate` for each step in
    turn (steps at ``due + day``; call steps taken at once, or skipped with
    ``calls=False``). A step acts only on a payment still pending when it is
    taken, and leaves it pending, so whether it acted is read off the
    delay after it: the inverse is exact.

    >>> from rpmkit.sim import DunningStep
    >>> undo_dunning(np.array([2.0, 20.0, 40.0]), (DunningStep(10, "call", 0, 1.0, 10.0),))
    array([ 2., 30., 50.])
    """
    t = np.asarray(delays, dtype=float).copy()
    for step in reversed(dunning):
        if step.uplift <= 0 or (step.channel == "call" and not calls):
            continue
        s, u, w = float(step.day), step.uplift, step.uplift_days
        rest = t - s
        inside = (rest > 0) & (rest <= w)
        after = rest > w
        t = np.where(inside, s + rest * (1 + u), np.where(after, t + u * w, t))
    return t


@dataclass
class _View:
    """The as-of view of a ledger and its arrays, shared by the estimators."""

    ledger: Ledger
    as_day: int
    b: object
    paid: object
    labels: np.ndarray
    window: np.ndarray  # invoices dated in the window
    days: int  # length of the window actually covered by the ledger
    scale: int


def _view(ledger: Ledger, as_of, by, window_days: int) -> _View:
    t = to_date(as_of)
    view = ledger.as_of(t)
    b = book(view)
    if b.n == 0:
        raise ValueError(f"the ledger has no invoices dated on or before {t.date()}")
    as_day = int(day_number(pd.Series([t]))[0])
    first = int(b.inv_day.min())
    lo = as_day - window_days
    return _View(
        ledger=view,
        as_day=as_day,
        b=b,
        paid=paid_invoices(b),
        labels=_segment_labels(b, by),
        window=b.inv_day > lo,
        days=int(min(window_days, as_day - first + 1)),
        scale=10 ** money.exponent(view.reporting_currency),
    )


# --------------------------------------------------------------- estimators
def _terms(v: _View, sel: np.ndarray) -> tuple[str, float]:
    """Effective terms code of a group of invoices and its amount-weighted mean net days."""
    b = v.b
    net = (b.due_day - b.inv_day)[sel]
    w = b.amount[sel].astype(float)
    mean_net = float(np.average(net, weights=w)) if w.sum() > 0 else float(net.mean())
    code = f"NET{int(round(min(max(mean_net, 0), 365)))}"
    inv_terms = v.ledger.invoices["terms"]
    if inv_terms.notna().any():
        terms = pd.Series(inv_terms.to_numpy(dtype=object)[sel]).fillna("")
        share = pd.Series(w).groupby(terms.to_numpy()).sum() / max(w.sum(), 1)
        top = share.idxmax()
        if share[top] >= 0.8 and top:
            try:
                n, pct, days = parse_terms(top)
            except ValueError:
                pass
            else:
                if 0 <= n <= 365 and pct < 0.5 and days <= n:
                    code = top
    return code, mean_net


def _spells(v: _View, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days from due date to payment (event) or to censoring, for the invoices in ``sel``."""
    b, p = v.b, v.paid
    keep = sel & ~(p.credit_only & (p.settled <= v.as_day))
    paid = p.paid[keep] & (p.pay_day[keep] <= v.as_day)
    settled = p.settled[keep]
    end = np.where(paid, p.pay_day[keep], np.where(settled < NEVER, settled, v.as_day))
    return end - b.due_day[keep], paid


def _delays(v: _View, sel: np.ndarray, dunning, calls: bool) -> dict | None:
    durations, events = _spells(v, sel)
    if events.sum() < MIN_PAID:
        return None
    q = _quantiles(durations, events, _GRID)
    mean, sd = _location_scale(q)
    n_mean, n_sd = _location_scale(undo_dunning(q, dunning, calls=calls))
    return {
        "paid": int(events.sum()),
        "censored": int((~events).sum()),
        "delay_median": float(np.interp(0.5, _GRID, q)),
        "delay_mean": mean,
        "delay_sd": sd,
        "natural_mean": n_mean,
        "natural_sd": n_sd,
    }


def _habits(v: _View, sel: np.ndarray, dunning, calls: bool, natural_sd: float) -> tuple:
    """Customer habits of a segment: ``(customer_sd_days, {customer id: shift})``.

    A one-way random-effects analysis of variance of the natural delays
    (:func:`undo_dunning`) of the invoices in ``sel`` paid by ``as_of``,
    winsorized at the 5th and 95th percentiles, grouped by customer: the
    between-customer variance ``σ_b² = (MSB − MSW) / n₀`` (0 when negative)
    and the within ``σ_w² = MSW``. The segment's spread ``natural_sd`` is
    split in the same proportions, ``customer_sd = natural_sd × √(σ_b² /
    (σ_b² + σ_w²))``; a customer's shift is its mean's deviation shrunk by
    ``n σ_b² / (n σ_b² + σ_w²)`` (the best linear unbiased predictor, on the
    same scale). Fewer than two customers with two paid invoices: no habits.
    """
    b, p = v.b, v.paid
    paid = sel & p.paid & (p.pay_day <= v.as_day) & ~p.credit_only
    y = undo_dunning((p.pay_day - b.due_day)[paid].astype(float), dunning, calls=calls)
    if len(y) < MIN_PAID:
        return 0.0, {}
    lo, hi = np.quantile(y, [WINSOR, 1 - WINSOR])
    y = np.clip(y, lo, hi)
    codes, groups = pd.factorize(b.customer[paid])
    n = np.bincount(codes).astype(float)
    k, total = len(n), float(len(y))
    if k < 2 or (n >= 2).sum() < 2 or total <= k:
        return 0.0, {}
    means = np.bincount(codes, y) / n
    grand = float(y.mean())
    msw = float(((y - means[codes]) ** 2).sum() / (total - k))
    msb = float((n * (means - grand) ** 2).sum() / (k - 1))
    n0 = (total - (n**2).sum() / total) / (k - 1)
    between = max((msb - msw) / n0, 0.0)
    if between <= 0.0 or msw + between <= 0.0:
        return 0.0, {}
    scale = natural_sd / math.sqrt(between + msw)
    shift = scale * n * between / (n * between + msw) * (means - grand)
    ids = v.b.customers.to_numpy(dtype=object)[groups]
    customer_sd = min(natural_sd * math.sqrt(between / (between + msw)), natural_sd)
    return float(customer_sd), {str(c): round(float(x), 2) for c, x in zip(ids, shift, strict=True)}


def _default_rate(v: _View, sel: np.ndarray, mean: float, sd: float) -> float | None:
    """Share not paid ``DEFAULT_AFTER_DAYS`` past due, less what the fitted normal puts there."""
    b, p = v.b, v.paid
    d = DEFAULT_AFTER_DAYS
    cohort = sel & (b.due_day + d <= v.as_day) & ~(p.credit_only & (p.settled <= v.as_day))
    if not cohort.any():
        return None
    unpaid = ~(p.paid[cohort] & (p.pay_day[cohort] <= b.due_day[cohort] + d))
    tail = 1.0 - float(ndtr((d - mean) / max(sd, 1e-9)))
    return float(np.clip(unpaid.mean() - tail, 0.0, 1.0))


def _due_date_share(v: _View) -> float | None:
    """Share paying relative to the due date, from customers invoiced under two net terms.

    For each such customer, the change in median days from invoice to payment
    between its shortest and longest terms, divided by the change in net
    days: 1 for a payer counting from the due date, 0 for one counting from
    the invoice date. Median over customers; ``None`` with fewer than ten.
    """
    b, p = v.b, v.paid
    sel = v.window & p.paid & (p.pay_day <= v.as_day)
    if not sel.any():
        return None
    frame = pd.DataFrame(
        {
            "customer": b.customer[sel],
            "net": (b.due_day - b.inv_day)[sel],
            "dtp": (p.pay_day - b.inv_day)[sel],
        }
    )
    med = frame.groupby(["customer", "net"])["dtp"].median().reset_index()
    ends = (
        med.sort_values("net")
        .groupby("customer")
        .agg(n=("net", "size"), lo=("net", "first"), hi=("net", "last"), a=("dtp", "first"))
    )
    last = med.sort_values("net").groupby("customer")["dtp"].last()
    ends = ends[ends["n"] >= 2]
    if len(ends) < 10:
        return None
    ratio = (last[ends.index] - ends["a"]) / (ends["hi"] - ends["lo"])
    return float(np.clip(ratio.median(), 0.0, 1.0))


def _discount_take_up(v: _View, base: Behaviour) -> float | None:
    """``discount_take_up_max`` that reproduces the share of discount invoices discounted."""
    b = v.b
    terms = v.ledger.invoices["terms"].to_numpy(dtype=object)
    rate = np.zeros(b.n)
    days = np.zeros(b.n, dtype=np.int64)
    for code in pd.unique(terms[v.window & pd.notna(terms)]):
        try:
            _, r, d = parse_terms(code)
        except (ValueError, TypeError):
            continue
        m = terms == code
        rate[m], days[m] = r, d
    sel = v.window & (rate > 0) & (b.inv_day + days < v.as_day)
    if sel.sum() < MIN_PAID:
        return None
    discounted = np.zeros(b.n, dtype=bool)
    discounted[b.ev_inv[b.ev_kind == EVENT_KINDS.index("discount")]] = True
    share = float(discounted[sel].mean())
    r = float(rate[sel].mean())
    return float(np.clip(share / (1.0 - math.exp(-r / base.discount_rate_scale)), 0.0, 1.0))


def _growth(v: _View, window_days: int) -> float:
    """Year-on-year growth of the invoice count, 0 without two full windows of history."""
    b = v.b
    if v.as_day - int(b.inv_day.min()) + 1 < 2 * window_days:
        return 0.0
    before = (b.inv_day > v.as_day - 2 * window_days) & ~v.window
    n0, n1 = int(before.sum()), int(v.window.sum())
    return float(np.clip((n1 / n0) ** (365.25 / window_days) - 1.0, -0.9, 5.0)) if n0 else 0.0


def _seasonality(v: _View, growth: float, window_days: int) -> tuple[float, ...] | None:
    """Month-of-year factors of the invoice rate (mean 1) from two full windows of history.

    Invoices per day of each calendar month over the ``2 × window_days``
    before ``as_of``, with the growth taken out, over their mean; None with
    less history (one year cannot tell growth from seasonality)."""
    b = v.b
    if window_days < 365 or v.as_day - int(b.inv_day.min()) + 1 < 2 * window_days:
        return None
    lo = v.as_day - 2 * window_days
    days = np.arange(lo + 1, v.as_day + 1)
    month = (np.datetime64("1970-01-01", "D") + days).astype("datetime64[M]").astype(int) % 12
    sel = (b.inv_day > lo) & (b.inv_day <= v.as_day)
    inv_month = (np.datetime64("1970-01-01", "D") + b.inv_day[sel]).astype("datetime64[M]")
    counts = np.bincount(inv_month.astype(int) % 12, minlength=12).astype(float)
    trend = (1.0 + growth) ** ((days - v.as_day) / 365.25)
    exposure = np.bincount(month, weights=trend, minlength=12)  # growth-adjusted days
    if (counts == 0).any():
        return None
    rate = counts / exposure
    return tuple(float(round(x, 4)) for x in rate / rate.mean())


def _write_off_age(v: _View, base: Collections) -> Collections:
    """The base's collections with ``write_off_after_days`` set to the median observed age.

    Days past due of the write-offs dated in the window (at least five),
    kept above ``agency_after_days``; otherwise the base's setting.
    """
    b = v.b
    wo = (b.ev_kind == EVENT_KINDS.index("write_off")) & (b.ev_day > v.as_day - WINDOW_DAYS)
    if wo.sum() < 5:
        return base
    age = int(np.median(b.ev_day[wo] - b.due_day[b.ev_inv[wo]]))
    floor = (base.agency_after_days or 0) + 1
    return dataclasses.replace(base, write_off_after_days=int(np.clip(age, floor, 3650)))


def _disputes(v: _View) -> dict:
    """Dispute rate, opening delay, resolution times (Kaplan–Meier), outcomes; pooled."""
    d = v.ledger.disputes
    b = v.b
    out: dict = {}
    if d.empty:
        return out
    pos = keys.positions(d["invoice_id"], v.ledger.invoices["invoice_id"])
    d = d[pos >= 0]
    pos = pos[pos >= 0]
    opened = day_number(d["opened_date"])
    lag = opened - b.inv_day[pos]
    win = v.window[pos]
    if win.sum() == 0:
        return out
    within = float(np.clip(2.0 * lag[win].mean(), 0.0, 365.0))
    old = v.window & (b.inv_day + within <= v.as_day)
    if old.sum() == 0:
        old = v.window
    disputed = np.zeros(b.n, dtype=bool)
    disputed[pos] = True
    out["rate"] = float(disputed[old].mean())
    out["opened_within_days"] = within
    resolved = day_number(d["resolved_date"])
    done = resolved <= v.as_day
    dur = np.where(done, resolved, v.as_day) - opened
    if done[win].sum() >= 5:
        q25, q50, q75 = _quantiles(dur[win], done[win], np.array([0.25, 0.5, 0.75]))
        out["resolution_median_days"] = float(np.clip(q50, 0.01, 365.0))
        if q25 > 0 and q75 > q25:
            out["resolution_sigma"] = float(np.clip(math.log(q75 / q25) / _IQR, 0.0, 3.0))
        outcome = d["outcome"].astype("string").to_numpy(dtype=object)[done]
        known = pd.notna(outcome)
        if known.any():
            upheld = np.isin(outcome[known], ["credit_note", "partially_accepted"])
            out["upheld_share"] = float(upheld.mean())
        p = v.paid
        res_pos, res_day = pos[done], resolved[done]
        after = p.paid[res_pos] & (p.pay_day[res_pos] >= res_day)
        if after.any():
            lagp = np.median(p.pay_day[res_pos][after] - res_day[after])
            out["pay_after_resolution_days"] = float(np.clip(lagp, 0.0, 365.0))
    return out


# ------------------------------------------------------------------ public
def calibration_summary(
    ledger: Ledger,
    as_of,
    *,
    by: str | None = "segment",
    base: Scenario | None = None,
    window_days: int = WINDOW_DAYS,
    dunning: str = "ledger",
) -> pd.DataFrame:
    """Per segment, what :func:`calibrate` estimated from the ledger and from how much data.

    Columns: ``customers``, ``invoices`` (in the window), ``invoices_per_day``,
    ``amount_mean``, ``amount_sigma``, ``terms``, ``mean_net_days``, ``paid``
    and ``censored`` (spells of the delay estimate), ``delay_median``,
    ``delay_mean`` and ``delay_sd`` (observed, days after due),
    ``natural_mean`` and ``natural_sd`` (after :func:`undo_dunning` with the
    dunning :func:`calibrate` uses for the same ``base`` and ``dunning``:
    what goes into :class:`PayerBehaviour`), ``default_rate`` and ``pooled``
    (True when the segment had too few paid invoices and borrowed the pooled
    delays).
    """
    v, base = _start(ledger, as_of, by, base, window_days, dunning)
    return _summary(v, base, window_days)


def _start(ledger, as_of, by, base, window_days: int, dunning: str) -> tuple[_View, Scenario]:
    """The as-of view and the base with the dunning calibration uses (arguments checked)."""
    _segment_labels(None, by)  # an unknown ``by`` fails before any work
    if dunning not in ("ledger", "base"):
        raise ValueError(f"dunning must be 'ledger' or 'base', got {dunning!r}")
    base = base if base is not None else Scenario()
    v = _view(ledger, as_of, by, window_days)
    if dunning == "ledger":
        base = _with_ledger_dunning(v, base)
    return v, base


def _summary(v: _View, base: Scenario, window_days: int) -> pd.DataFrame:
    b = v.b
    calls = base.collectors.count > 0
    pooled = _delays(v, v.window, base.dunning, calls)
    if pooled is None:
        raise ValueError(
            f"fewer than {MIN_PAID} invoices of the {window_days} days before "
            f"{pd.Timestamp(v.as_day, unit='D').date()} were paid: too little history to "
            "calibrate"
        )
    rows = {}
    segments = sorted(set(v.labels[v.window]) | set(v.labels[b.open_at(v.as_day) > 0]))
    for name in segments:
        sel = v.window & (v.labels == name)
        n = int(sel.sum())
        row: dict = {"customers": max(1, len(np.unique(b.customer[sel]))) if n else 1}
        row["invoices"] = n
        row["invoices_per_day"] = max(n / v.days, 1e-6)
        amounts = (b.amount[sel] if n >= 2 else b.amount[v.window]) / v.scale
        logs = np.log(np.maximum(amounts, 1.0 / v.scale))
        sigma = float(np.clip(logs.std(ddof=1), 0.0, 3.0))
        row["amount_mean"] = float(np.clip(math.exp(logs.mean() + sigma**2 / 2), 0.01, 1e9))
        row["amount_sigma"] = sigma
        row["terms"], row["mean_net_days"] = _terms(v, sel if n else v.window)
        est = _delays(v, sel, base.dunning, calls) if n else None
        row["pooled"] = est is None
        row.update(est if est is not None else pooled)
        dr = _default_rate(v, sel, row["delay_mean"], row["delay_sd"]) if n else None
        if dr is None:
            dr = _default_rate(v, v.window, pooled["delay_mean"], pooled["delay_sd"])
        row["default_rate"] = dr if dr is not None else PayerBehaviour("x").default_rate
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "segment"
    return out


def calibrate(
    ledger: Ledger,
    as_of,
    *,
    horizon_days: int = 365,
    by: str | None = "segment",
    base: Scenario | None = None,
    growth: float | str = "auto",
    window_days: int = WINDOW_DAYS,
    seasonality: tuple[float, ...] | str | None = "auto",
    promises: bool = True,
    channels: bool = True,
    dunning: str = "ledger",
) -> Scenario:
    """A :class:`Scenario` starting the day after ``as_of``, calibrated on the ledger's history.

    Parameters
    ----------
    ledger, as_of
        The ledger and the last day of history used: everything is computed
        on ``ledger.as_of(as_of)``.
    horizon_days
        Horizon of the scenario; it starts on ``as_of + 1 day``.
    by
        ``"segment"`` (one simulated segment per segment of the ledger, an
        invoice's own segment else its customer's, ``(none)`` when neither
        has one), ``"customer"`` (the same segments, and within each how
        customers differ in habit: every segment's ``customer_sd_days`` and a
        :class:`~rpmkit.sim.params.CustomerHabit` per customer paid in the
        window, see :func:`_habits`; the ledger's customers pay their open
        items by their own habit, new sales come from customers drawn with the
        segment's spread) or ``None`` (one segment named ``all``).
    base
        Where the settings a ledger does not identify come from: collectors,
        credit policy, collections, the seed, the discount response scale,
        the dunning (with ``dunning="base"``, when the ledger records none,
        and the uplift of a channel it does not identify) and, when the
        ledger has no disputes, the dispute settings. Default: ``Scenario()``
        (``scenarios/baseline.yaml``).
    growth
        Annual growth of the invoice rate, from the middle of the history
        window on: it lifts the window's rate to the start of the horizon and
        becomes every segment's ``growth_per_year``. ``"auto"``: invoices of
        the last ``window_days`` over those of the window before, when the
        ledger covers both, else 0 (one year of history cannot tell growth
        from seasonality; pass a planned figure then).
    window_days
        Days of history before ``as_of`` used for sales and behaviour.
    seasonality
        12 month-of-year factors for every segment's ``seasonality``, None for
        none, or ``"auto"``: estimated, pooled over segments, from invoices
        per day of each calendar month over the two windows before ``as_of``
        with the growth taken out (None when the ledger covers less).
    promises
        Calibrate :class:`~rpmkit.sim.levers.Promises` from the ledger's
        ``promise_to_pay`` activities when it has 30 or more decided ones
        (:func:`rpmkit.sim.calibrate_promises.estimate_promises`); otherwise,
        or with False, the base's.
    channels
        Calibrate :class:`~rpmkit.sim.levers.Channels` from ``invoices.channel``
        and ``payments.method`` when the ledger records them
        (:func:`rpmkit.sim.calibrate_channels.estimate_channels`); otherwise,
        or with False, the base's.

    dunning
        ``"ledger"``: the dunning steps and the day of agency placement the
        ledger's activities record, each channel's uplift estimated where
        the ledger identifies it (:mod:`rpmkit.sim.calibrate_dunning`); the
        base's where it records none. ``"base"``: the base's steps and
        placement. Observed delays are mapped back through the steps used
        (:func:`undo_dunning`) either way.

    Returns
    -------
    Scenario
        Per segment: customers with invoices in the window, invoices per day,
        lognormal amounts (maximum likelihood), effective terms, payer
        behaviour (see :func:`calibration_summary` and ``docs/simulation.md``);
        disputes pooled over segments with an unlimited desk (observed
        resolution times include any queueing); ``write_off_after_days`` the
        median age of the window's write-offs (five or more); money in the
        ledger's reporting currency.
    """
    v, base = _start(ledger, as_of, by, base, window_days, dunning)
    summary = _summary(v, base, window_days)
    if growth == "auto":
        growth = _growth(v, window_days)
    growth = float(growth)
    season = _seasonality(v, growth, window_days) if seasonality == "auto" else seasonality
    # the window's rate is that of its middle: lifted to the start, growing from there
    lift = (1.0 + growth) ** (window_days / 2 / 365.25)
    sales, payers, habits = [], [], {}
    share = _due_date_share(v)
    calls = base.collectors.count > 0
    for name, row in summary.iterrows():
        sd = float(np.clip(row["natural_sd"], 0.0, 120.0))
        customer_sd = 0.0
        if by == "customer":
            sel = v.window & (v.labels == name)
            customer_sd, found = _habits(v, sel, base.dunning, calls, sd)
            habits.update(found)
        sales.append(
            SegmentSales(
                name=str(name),
                customers=int(row["customers"]),
                invoices_per_day=float(min(row["invoices_per_day"] * lift, 1e6)),
                amount_mean=float(row["amount_mean"]),
                amount_sigma=float(row["amount_sigma"]),
                terms=str(row["terms"]),
                growth_per_year=growth,
                seasonality=None if season is None else tuple(season),
            )
        )
        payers.append(
            PayerBehaviour(
                segment=str(name),
                delay_mean_days=float(np.clip(row["natural_mean"], -60.0, 365.0)),
                delay_sd_days=sd,
                reference_net_days=int(SegmentSales("x", 1, 1.0, 1.0, terms=row["terms"]).net_days),
                due_date_share=share if share is not None else PayerBehaviour("x").due_date_share,
                default_rate=float(row["default_rate"]),
                customer_sd_days=min(customer_sd, sd),
            )
        )
    take_up = _discount_take_up(v, base.behaviour)
    behaviour = Behaviour(
        segments=tuple(payers),
        discount_take_up_max=(
            take_up if take_up is not None else base.behaviour.discount_take_up_max
        ),
        discount_rate_scale=base.behaviour.discount_rate_scale,
        customers=tuple(
            CustomerHabit(c, float(np.clip(x, -365.0, 365.0))) for c, x in sorted(habits.items())
        ),
    )
    found = _disputes(v)
    disputes = dataclasses.replace(base.disputes, **found, desk_capacity=None)
    if "rate" not in found:
        disputes = base.disputes
    levers = {}
    if promises:
        from rpmkit.sim.calibrate_promises import estimate_promises

        found_p = estimate_promises(v.ledger, as_of, base.promises, labels=v.labels)
        if found_p is not None:
            names = {seg.name for seg in sales}
            kept = tuple(k for k in found_p.segments if k.segment in names)
            levers["promises"] = dataclasses.replace(found_p, segments=kept)
    if channels:
        from rpmkit.sim.calibrate_channels import estimate_channels

        found_c = estimate_channels(v.ledger, as_of, base.channels, labels=v.labels)
        if found_c is not None:
            levers["channels"] = found_c
    return dataclasses.replace(
        base,
        **levers,
        collections=_write_off_age(v, base.collections),
        horizon_days=horizon_days,
        start=(to_date(as_of) + pd.Timedelta(days=1)).date().isoformat(),
        currency=ledger.reporting_currency,
        sales=tuple(sales),
        behaviour=behaviour,
        disputes=disputes,
    )


def _with_ledger_dunning(v: _View, base: Scenario) -> Scenario:
    """``base`` with the dunning and agency placement the ledger records (if any)."""
    from rpmkit.sim.calibrate_dunning import calibrate_dunning

    found = calibrate_dunning(v, base)
    if found is None:
        return base
    collections = base.collections
    if found.agency_after_days is not None:
        write_off = collections.write_off_after_days
        if write_off is not None and write_off <= found.agency_after_days:
            write_off = found.agency_after_days + 1  # _write_off_age sets it from the ledger
        collections = dataclasses.replace(
            collections, agency_after_days=found.agency_after_days, write_off_after_days=write_off
        )
    return dataclasses.replace(base, dunning=found.steps, collections=collections)


def opening_balance(ledger: Ledger, as_of, *, by: str | None = "segment") -> pd.DataFrame:
    """The ledger's invoices open at the end of ``as_of``, as ``Model(opening=...)`` takes them.

    Columns ``invoice_id, customer_id, segment, invoice_date, due_date,
    amount``: the open amount in minor units of the reporting currency (each
    invoice converted at its invoice-date rate, as :func:`rpmkit.kpi.aging`
    does, so the total equals its open AR to the cent); ``segment`` as in
    :func:`calibrate` with the same ``by``. Sorted by invoice date and id.
    """
    t = to_date(as_of)
    view = ledger.as_of(t)
    b = book(view)
    as_day = int(day_number(pd.Series([t]))[0])
    open_ = b.open_at(as_day)
    sel = np.flatnonzero(open_ > 0)
    inv = view.invoices
    out = pd.DataFrame(
        {
            "invoice_id": inv["invoice_id"].to_numpy(dtype=object)[sel],
            "customer_id": inv["customer_id"].to_numpy(dtype=object)[sel],
            "segment": _segment_labels(b, by)[sel],
            "invoice_date": inv["invoice_date"].to_numpy()[sel],
            "due_date": inv["due_date"].to_numpy()[sel],
            "amount": open_[sel].astype(np.int64),
        }
    )
    return out.sort_values(["invoice_date", "invoice_id"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- back-test
MEASURES = ("receipts", "dso", "open_ar", "current", "1-30", "31-60", "61-90", "91+")


def _monthly(ledger: Ledger, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Receipts of the month, standard DSO (month), open AR and aging at each month end."""
    rec = kpi_series(ledger, "receipts", start, end, freq="month")
    dso = kpi_series(ledger, "dso", start, end, freq="month", method="standard")
    out = pd.DataFrame({"period_end": rec["period_end"], "receipts": rec["value"]})
    out["dso"] = dso["value"].to_numpy()
    scale = 10 ** money.exponent(ledger.reporting_currency)
    for k, t in enumerate(out["period_end"]):
        totals = aging(ledger, t).totals() / scale
        out.loc[k, "open_ar"] = totals["total"]
        for label in MEASURES[3:]:
            out.loc[k, label] = totals[label]
    return out


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Simulated against actual month by month after the split date.

    Attributes
    ----------
    scenario
        The calibrated scenario that was simulated.
    months
        One row per month end and measure (``receipts`` of the month and
        ``open_ar`` and aging buckets at its end in reporting currency units,
        standard ``dso`` of the month in days): ``actual``, the simulated
        ``p10, p50, p90`` and ``mean`` over replications, ``error`` (mean −
        actual), ``ape`` (``|error| / actual``) and ``inside`` (actual within
        ``[p10, p90]``).
    replications
        Number of replications.
    """

    scenario: Scenario = field(repr=False)
    months: pd.DataFrame = field(repr=False)
    replications: int = 0

    def summary(self) -> pd.DataFrame:
        """Per measure: ``mape`` (%), ``mean_error``, ``mean_actual``, ``coverage`` (P10–P90)."""
        g = self.months.groupby("measure", sort=False)
        out = pd.DataFrame(
            {
                "mape": g["ape"].mean() * 100,
                "mean_error": g["error"].mean(),
                "mean_actual": g["actual"].mean(),
                "coverage": g["inside"].mean(),
            }
        )
        return out.loc[[m for m in MEASURES if m in out.index]]

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"BacktestResult({self.months['period_end'].nunique()} months, "
            f"{self.replications} replications: receipts MAPE {s.loc['receipts', 'mape']:.1f} %, "
            f"DSO MAPE {s.loc['dso', 'mape']:.1f} %)"
        )


def replay_backtest(
    ledger: Ledger,
    split_date,
    *,
    replications: int = 5,
    seed: int | None = None,
    horizon_days: int = 366,
    by: str | None = "segment",
    base: Scenario | None = None,
    growth: float | str = "auto",
    seasonality: tuple[float, ...] | str | None = "auto",
) -> BacktestResult:
    """Calibrate on the history to ``split_date``, simulate what follows, compare with the ledger.

    The simulation starts on the day after ``split_date`` from the ledger's
    open items then (:func:`opening_balance`) under the calibrated scenario
    (:func:`calibrate` with ``base``, ``growth`` and ``seasonality``), for ``horizon_days`` or
    up to the ledger's last document date if sooner; ``replications``
    replications run one after the other with :class:`~rpmkit.sim.Model`.
    Only whole calendar months are compared. ``seed`` replaces the
    scenario's seed.
    """
    split = to_date(split_date)
    last = ledger.date_range()[1]
    days = int(min(horizon_days, (last - split).days))
    if days < 28:
        raise ValueError(f"the ledger ends {last.date()}: less than a month after the split")
    scenario = calibrate(
        ledger, split, horizon_days=days, by=by, base=base, growth=growth, seasonality=seasonality
    )
    if seed is not None:
        scenario = dataclasses.replace(scenario, seed=seed)
    opening = opening_balance(ledger, split, by=by)
    start, end = scenario.start_date, scenario.end_date
    actual = _monthly(ledger, start, end)
    runs = []
    for r in range(replications):
        result = Model(scenario, r, opening=opening).run()
        runs.append(_monthly(result.ledger, start, end))
    rows = []
    for m in MEASURES:
        sims = np.column_stack([run[m].to_numpy(dtype=float) for run in runs])
        act = actual[m].to_numpy(dtype=float)
        p10, p50, p90 = np.percentile(sims, [10, 50, 90], axis=1)
        mean = sims.mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ape = np.where(act != 0, np.abs(mean - act) / np.abs(act), np.nan)
        rows.append(
            pd.DataFrame(
                {
                    "period_end": actual["period_end"],
                    "measure": m,
                    "actual": act,
                    "p10": p10,
                    "p50": p50,
                    "p90": p90,
                    "mean": mean,
                    "error": mean - act,
                    "ape": ape,
                    "inside": (act >= p10) & (act <= p90),
                }
            )
        )
    months = pd.concat(rows, ignore_index=True)
    return BacktestResult(scenario=scenario, months=months, replications=replications)
