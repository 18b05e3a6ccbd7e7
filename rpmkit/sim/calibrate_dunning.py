"""The dunning a ledger records, and how its payers respond to it.

:func:`dunning_schedule` reads the collection steps actually taken from the
ledger's activities (reminders, emails, texts, letters, calls, and agency
placements): a step is a day past due at which a kind of activity clusters.
:func:`dunning_response` estimates, per channel, the ``uplift`` of
:class:`~rpmkit.sim.params.DunningStep` — how many times faster payers pay in
the ``uplift_days`` after a step — in the model's own terms (its accelerated
clock), by g-estimation: the uplift at which being chased on a day is
independent of the payers' natural delays. :func:`calibrate_dunning` puts the
two together for :func:`rpmkit.sim.calibrate.calibrate`.

What identifies an uplift is stated with it. It takes invoices of the same
age of which some were chased that day and others not yet (calls made to
part of the eligible invoices, a queue); where a channel reaches every open
invoice of an age on the same day there is nothing to compare, and the base
scenario's uplift stays. So does it when the 95 % interval is wider than
:data:`MAX_CI_WIDTH`. Invoices ever disputed are left out (dunning stops while
a dispute is open). ``docs/simulation.md`` gives the estimator in full and
what it was checked on.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rpmkit import keys
from rpmkit.kpi.book import day_number
from rpmkit.sim.sections import DUNNING_CHANNELS, DunningStep

__all__ = [
    "MAX_CI_WIDTH",
    "DunningCalibration",
    "calibrate_dunning",
    "dunning_response",
    "dunning_schedule",
    "step_activities",
]

MIN_STEP = 30
"""Activities a cluster needs to become a step (and agency placements to set the age)."""
GAP_DAYS = 3
"""Days past due further apart than this start a new cluster of a kind's activities."""
MAX_CI_WIDTH = 1.0
"""An uplift whose 95 % interval is wider than this keeps the base scenario's."""
FOLLOW_DAYS = 150
"""Days past due an invoice is followed; invoices due less long before ``as_of`` are left out."""
CAP_DAYS = 180
"""Natural delays are counted up to this many days past due (not paid while followed: this)."""
MAX_INVOICES = 50_000
"""Invoices the response fit uses at most (a seeded sample beyond)."""
GRID = np.round(np.arange(-0.5, 5.0 + 1e-9, 0.02), 2)
"""Uplifts tried: the estimate is where the test statistic changes sign, the interval where
it stays within ±1.96. Below 0 (a clock slowed by the step) only to bound the interval:
the model's uplift is at least 0."""


def step_activities(v) -> pd.DataFrame:
    """The window's activities on its invoices: ``invoice`` (book row), ``kind``, ``age``.

    ``v`` is the calibration's view (:func:`rpmkit.sim.calibrate._view`):
    activities of the ``as_of`` ledger dated in the window, on an invoice of
    the book, with ``age`` their day past due.
    """
    a = v.ledger.activities
    empty = pd.DataFrame({"invoice": np.zeros(0, np.int64), "kind": [], "age": []})
    if a is None or not len(a) or "invoice_id" not in a:
        return empty
    inv = keys.positions(a["invoice_id"], v.ledger.invoices["invoice_id"])
    day = day_number(a["date"])
    keep = (inv >= 0) & (day > v.as_day - v.days) & (day <= v.as_day)
    inv = inv[keep]
    return pd.DataFrame(
        {
            "invoice": inv.astype(np.int64),
            "kind": a["kind"].astype(str).to_numpy()[keep],
            "age": (day[keep] - v.b.due_day[inv]).astype(np.int64),
        }
    )


def _clusters(ages: np.ndarray) -> list[tuple[int, int]]:
    """(modal day, count) of each run of days past due at most :data:`GAP_DAYS` apart."""
    if not len(ages):
        return []
    days, counts = np.unique(ages, return_counts=True)
    cuts = np.flatnonzero(np.diff(days) > GAP_DAYS) + 1
    out = []
    for d, c in zip(np.split(days, cuts), np.split(counts, cuts), strict=True):
        out.append((int(d[np.argmax(c)]), int(c.sum())))
    return out


def dunning_schedule(acts: pd.DataFrame, base) -> tuple[tuple[DunningStep, ...], int | None]:
    """The steps the ledger took and the day past due of agency placement.

    Per dunning channel (an activity ``kind`` among ``reminder, email, sms,
    letter, call``), each cluster of :data:`MIN_STEP` or more activities
    within the dunning range becomes a step at its most common day past due;
    a step keeps the cost, ``uplift`` and ``uplift_days`` of the base's first
    step of its channel (else :class:`DunningStep`'s defaults). Agency
    placements: the largest cluster's day, with :data:`MIN_STEP` or more. An
    empty schedule (no such activities) is returned as ``()``.
    """
    like = {}
    for s in base.dunning:
        like.setdefault(s.channel, s)
    steps = []
    for channel in DUNNING_CHANNELS:
        ages = acts["age"].to_numpy()[acts["kind"].to_numpy() == channel]
        for day, count in _clusters(ages[(ages >= -60) & (ages <= 730)]):
            if count >= MIN_STEP:
                model = like.get(channel, DunningStep(0, channel))
                steps.append(dataclasses.replace(model, day=day, channel=channel))
    agency = None
    ages = acts["age"].to_numpy()[acts["kind"].to_numpy() == "agency"]
    found = [c for c in _clusters(ages[ages >= 1]) if c[1] >= MIN_STEP]
    if found:
        agency = max(found, key=lambda c: c[1])[0]
    return tuple(sorted(steps, key=lambda s: (s.day, s.channel))), agency


def _fit_set(v, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Invoices of the fit: book rows, payment day past due (inf: not paid while followed),
    segment codes. The window's invoices due at least :data:`FOLLOW_DAYS` before
    ``as_of``, never disputed (dunning stops in a dispute), not closed by credit
    notes alone; a seeded sample of :data:`MAX_INVOICES` beyond that."""
    b, p = v.b, v.paid
    disputed = np.zeros(b.n, dtype=bool)
    d = v.ledger.disputes
    if d is not None and len(d):
        at = keys.positions(d["invoice_id"], v.ledger.invoices["invoice_id"])
        disputed[at[at >= 0]] = True
    credit = p.credit_only & (p.settled <= v.as_day)
    kept = np.flatnonzero(v.window & ~disputed & ~credit & (b.due_day + FOLLOW_DAYS <= v.as_day))
    if len(kept) > MAX_INVOICES:
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        kept = np.sort(rng.choice(kept, MAX_INVOICES, replace=False))
    age = (p.pay_day[kept] - b.due_day[kept]).astype(float)
    paid = p.paid[kept] & (p.pay_day[kept] <= v.as_day) & (age <= FOLLOW_DAYS)
    segment = pd.factorize(v.labels[kept])[0]
    return kept, np.where(paid, age, np.inf), segment


def _clock_gain(pay_age: np.ndarray, inv: np.ndarray, age: np.ndarray, width: float) -> np.ndarray:
    """Per invoice: days its payment clock spent in the windows of these steps before paying.

    A step on day ``a`` acts from its middle, ``a + 0.5``, for ``width`` days;
    the payment at the middle of its day. Multiplied by the uplift, it is what
    the accelerated clock gained: the natural delay is ``pay + uplift × gain``
    (as :func:`rpmkit.sim.calibrate.undo_dunning` for one schedule)."""
    y = np.where(np.isfinite(pay_age), pay_age + 0.5, FOLLOW_DAYS + width + 1.0)
    spent = np.clip(y[inv] - (age + 0.5), 0.0, width)
    return np.bincount(inv, spent, minlength=len(pay_age))


def _score(stratum, chased, weight, natural) -> tuple[float, float]:
    """Weighted within-stratum covariance of being chased that day with the natural delay,
    and its variance were the two independent."""
    w, x = weight, natural
    tot = np.bincount(stratum, w)
    wd = np.bincount(stratum, w * chased)
    wx = np.bincount(stratum, w * x)
    wdx = np.bincount(stratum, w * chased * x)
    wxx = np.bincount(stratum, w * x * x)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = wd / tot
        spread = wxx / tot - (wx / tot) ** 2
        s = np.where(tot > 0, wdx - wd * wx / tot, 0.0)
        var = np.where(tot > 1, p * (1 - p) * spread * tot, 0.0)
    return float(s.sum()), float(var.sum())


@dataclass(frozen=True)
class _RiskDays:
    """One channel's risk set: per row an invoice on a day it was not yet chased by the
    start of, still open then (``inv``, ``day``); the row's stratum, whether it was
    chased that day, whether it also paid that day (``same``); and the share of the
    chasing days with unchased invoices of their stratum to compare with."""

    inv: np.ndarray
    day: np.ndarray
    stratum: np.ndarray
    chased: np.ndarray
    same: np.ndarray
    identified: float


def _risk_days(first: np.ndarray, pay_age, segment, weekday, others: list) -> _RiskDays:
    """The days the channel's first steps fell on (1-99 %) for the invoices not chased yet.

    Strata: day past due, segment, weekday of the due date (payments and steps
    fall on business days, so which days past due they can fall on depends on
    it) and, per other channel, whether it had reached the invoice before."""
    lo, hi = np.floor(np.percentile(first[np.isfinite(first)], [1, 99]))
    last = np.minimum(np.minimum(first, hi), pay_age)
    n_days = np.where(np.isfinite(last), np.maximum(last - lo + 1, 0), 0).astype(np.int64)
    inv = np.repeat(np.arange(len(first)), n_days)
    day = lo + np.arange(len(inv)) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    chased = day == first[inv]
    key = [day, segment[inv], weekday[inv]] + [f[inv] < day for f in others]
    stratum = pd.MultiIndex.from_arrays(key).factorize()[0]
    # compared: strata with chased invoices and unchased ones still open after the day
    fair = chased | (pay_age[inv] > day)
    n = np.bincount(stratum[fair], minlength=stratum.max() + 1)
    m = np.bincount(stratum, chased)
    mixed = (m > 0) & (m < n)
    return _RiskDays(
        inv=inv,
        day=day,
        stratum=stratum,
        chased=chased.astype(float),
        same=chased & (pay_age[inv] == day),
        identified=float(m[mixed].sum() / max(m.sum(), 1)),
    )


def _z_curve(r: _RiskDays, paid_at: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """The standardised covariance of being chased with the natural delay, per :data:`GRID` u."""
    z = np.full(len(GRID), np.nan)
    for k, u in enumerate(GRID):
        natural = np.minimum(paid_at + u * gain, float(CAP_DAYS))[r.inv]
        # A payment the day of the chase came after it: its natural delay ran past
        # the day with probability u / (1 + u) (uniform within the day, hastened by
        # 1 + u). Those are the chased invoices that belong in the day's risk set
        # (natural delay beyond the day): counted with that weight, at the middle
        # of their possible delays. Unchased invoices paid that day are out.
        natural = np.where(r.same, r.day + 1 + u / 2, natural)
        keep = r.same | (natural >= r.day + 1)
        weight = np.where(r.same, max(u, 0.0) / (1 + u), 1.0)[keep]
        s, var = _score(pd.factorize(r.stratum[keep])[0], r.chased[keep], weight, natural[keep])
        if var > 0:
            z[k] = s / math.sqrt(var)
    return z


def _solve(z: np.ndarray) -> tuple[float, float, float]:
    """(estimate, interval low, high) from a z curve over :data:`GRID`, clipped at 0."""
    inside = GRID[np.abs(z) < 1.96]
    up = np.flatnonzero((z[:-1] < 0) & (z[1:] >= 0))
    if up.size:
        k = up[0]
        u_hat = GRID[k] + (GRID[k + 1] - GRID[k]) * (-z[k]) / (z[k + 1] - z[k])
    elif np.nanmin(z) >= 0:
        u_hat = GRID[0]  # the chased pay later even at the lowest: no uplift
    else:
        u_hat = np.inf  # more than the grid allows
    lo = float(inside.min()) if inside.size else np.nan
    hi = float(inside.max()) if inside.size else np.nan
    if inside.size and inside.max() >= GRID[-1]:
        hi = np.inf
    if not inside.size and u_hat == GRID[0]:
        lo = hi = 0.0  # the whole interval below the grid: no uplift
    return max(float(u_hat), 0.0), max(lo, 0.0), max(hi, 0.0)


def dunning_response(v, acts: pd.DataFrame, steps, *, seed: int = 0) -> pd.DataFrame:
    """Per channel of ``steps`` with activities: the estimated uplift and its 95 % interval.

    G-estimation of the accelerated clock (the model's own structure): for a
    trial uplift ``u`` each invoice's natural delay is its payment day past
    due plus ``u`` times the days its clock spent in the windows of the
    channel's steps before it paid (:func:`_clock_gain`; other channels at
    their current uplifts). At the true ``u`` those natural delays are what
    the payers would have done unchased, so among the invoices not yet
    chased by the channel and still open at the start of a day, whether the
    channel reached them that day is independent of their natural delay,
    within strata of day past due, segment, weekday of the due date and
    which other channels had already reached them. Those paid that day count
    only if chased first, with weight ``u / (1 + u)`` (the share whose
    natural delay ran past the day). The estimate is the ``u`` of
    :data:`GRID` where the within-stratum covariance of "chased that day"
    and the natural delay changes sign, the interval the ``u`` whose
    standardised covariance stays within ±1.96, both clipped at 0; two
    passes over the channels. Where a channel reaches every open invoice of
    an age on the same day there is nothing to compare: ``identified`` is 0
    and the base's uplift stays.

    Columns ``channel``, ``activities``, ``uplift_days`` (the base's window),
    ``uplift`` (NaN when not identified), ``ci_low``, ``ci_high`` (inf when
    the data cannot bound it; both 0 when even no uplift leaves the chased
    paying later), ``identified`` (share of the chasing days
    compared with unchased invoices of the same stratum), ``used`` (interval
    narrower than :data:`MAX_CI_WIDTH`).
    """
    channels = list(dict.fromkeys(s.channel for s in steps))
    width = {c: next(s.uplift_days for s in steps if s.channel == c) for c in channels}
    uplift = {c: next(s.uplift for s in steps if s.channel == c) for c in channels}
    kept, pay_age, segment = _fit_set(v, seed)
    if not len(kept) or acts.empty:
        return pd.DataFrame()
    weekday = (v.b.due_day[kept] + 3) % 7  # day 0 (1970-01-01) was a Thursday
    pos = pd.Series(np.arange(len(kept)), index=kept)
    a_inv = acts["invoice"].to_numpy()
    on = np.isin(a_inv, kept)
    kind, a_age = acts["kind"].to_numpy()[on], acts["age"].to_numpy()[on]
    a_pos = pos[a_inv[on]].to_numpy()
    gain, first, counts = {}, {}, {}
    for c in channels:
        m = kind == c
        counts[c] = int(m.sum())
        if counts[c]:
            gain[c] = _clock_gain(pay_age, a_pos[m], a_age[m], width[c])
            first[c] = np.full(len(kept), np.inf)
            np.minimum.at(first[c], a_pos[m], a_age[m].astype(float))
    risk = {
        c: _risk_days(first[c], pay_age, segment, weekday, [first[o] for o in gain if o != c])
        for c in gain
    }
    estimate = {}
    for _ in range(2):
        for c, r in risk.items():
            if r.identified == 0:
                continue
            rest = sum((uplift[o] * gain[o] for o in gain if o != c), np.zeros(len(kept)))
            paid_at = np.where(np.isfinite(pay_age), pay_age + 0.5, float(CAP_DAYS)) + rest
            estimate[c] = _solve(_z_curve(r, paid_at, gain[c]))
            if np.isfinite(estimate[c][0]):
                uplift[c] = estimate[c][0]
    rows = []
    for c in channels:
        u_hat, lo, hi = estimate.get(c, (np.nan, np.nan, np.nan))
        identified = risk[c].identified if c in risk else 0.0
        rows.append(
            {
                "channel": c,
                "activities": counts.get(c, 0),
                "uplift_days": width[c],
                "uplift": u_hat,
                "ci_low": lo,
                "ci_high": hi,
                "identified": identified,
                "used": bool(np.isfinite(u_hat) and np.isfinite(hi) and hi - lo < MAX_CI_WIDTH),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class DunningCalibration:
    """What :func:`calibrate_dunning` read off a ledger.

    ``steps``: the dunning steps taken, with the uplifts estimated where
    ``response.used`` (the base's elsewhere); ``agency_after_days``: the day
    past due of agency placement (None: not recorded); ``response``: the
    :func:`dunning_response` table."""

    steps: tuple[DunningStep, ...]
    agency_after_days: int | None
    response: pd.DataFrame


def calibrate_dunning(v, base) -> DunningCalibration | None:
    """The ledger's dunning and its payers' response (None when it records no step)."""
    acts = step_activities(v)
    steps, agency = dunning_schedule(acts, base)
    if not steps:
        return None
    response = dunning_response(v, acts, steps, seed=base.seed)
    used = {}
    if len(response):
        used = dict(
            zip(response["channel"], response["uplift"].where(response["used"]), strict=True)
        )
    steps = tuple(
        dataclasses.replace(s, uplift=float(used[s.channel]))
        if s.channel in used and np.isfinite(used[s.channel])
        else s
        for s in steps
    )
    return DunningCalibration(steps=steps, agency_after_days=agency, response=response)
