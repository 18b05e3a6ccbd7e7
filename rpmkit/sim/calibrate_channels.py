"""Invoice channels and payment methods calibrated from a ledger.

:func:`channel_effects` measures, on ``ledger.as_of(as_of)``, how the
invoices of the history window were delivered (``invoices.channel``) and
paid (``payments.method`` of the payment that completed each invoice's cash
settlement), and how many days later paper invoices and each method's
payments came, **within segment**: per segment, the 5 %-winsorized mean of
the Kaplan–Meier delay after due (open invoices censored at ``as_of``; the
estimator of the behaviour's delay) of paper invoices minus that of
electronic ones (per method: that of the invoices it paid minus the
segment's over all paid invoices), then
averaged over segments weighted by their invoices. Comparing within segment
keeps a segment's mix of channels from passing for a channel effect.
:func:`estimate_channels` turns the effects into
:class:`~rpmkit.sim.levers.Channels` for :func:`rpmkit.sim.calibrate.calibrate`.
Fees and float are not in a ledger: they come from the base scenario's
method of the same name, else from :data:`DEFAULT_METHOD_COSTS`.

>>> DEFAULT_METHOD_COSTS["card"]
(0.025, 0.0, 2.0)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rpmkit.kpi.book import NEVER, book, day_number
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger, to_date
from rpmkit.schema import PAYMENT_METHODS
from rpmkit.sim.levers import Channels, PaymentMethod

__all__ = ["DEFAULT_METHOD_COSTS", "MIN_INVOICES", "channel_effects", "estimate_channels"]

MIN_INVOICES = 30
"""Invoices each side of a comparison needs in a segment for the segment to count."""

DEFAULT_METHOD_COSTS: dict[str, tuple[float, float, float]] = {
    "ach": (0.0, 0.30, 1.0),
    "wire": (0.0, 15.0, 0.0),
    "card": (0.025, 0.0, 2.0),
    "check": (0.0, 1.50, 3.0),
    "other": (0.0, 0.0, 1.0),
}
"""Assumed ``(fee_rate, fee_fixed, float_days)`` per method when the base has none."""


def _location(durations: np.ndarray, events: np.ndarray) -> float:
    """5 %-winsorized mean of the Kaplan–Meier delay distribution (as the behaviour's delay)."""
    from rpmkit.sim.calibrate import _GRID, _location_scale, _quantiles

    return _location_scale(_quantiles(durations, events, _GRID))[0]


def _invoice_methods(view: Ledger, b, p) -> np.ndarray:
    """Per invoice of the book: the method of the payment completing its cash settlement."""
    out = np.full(b.n, None, dtype=object)
    links = view.links()["alloc_payment"]
    ev = p.last_cash_event
    # the book's first events are the allocations, in order
    ok = (ev >= 0) & (ev < len(links))
    pay = links[ev[ok]]
    method = view.payments["method"].astype("string").to_numpy(dtype=object, na_value=None)
    out[np.flatnonzero(ok)[pay >= 0]] = method[pay[pay >= 0]]
    return out


def channel_effects(
    ledger: Ledger,
    as_of,
    *,
    labels: np.ndarray | None = None,
    window_days: int = 365,
) -> dict:
    """Channel and method shares and within-segment payment-day differences (module docstring).

    Returns a dict with ``electronic_share`` (share of the window's invoices
    with a known channel that were electronic; None without both channels),
    ``paper_delay_days`` (None when no segment has 30 invoices of each
    channel), ``channel_invoices`` (invoices with a known
    channel), and ``methods``: ``{name: (share of paid invoices, delay_days or
    None)}`` over the paid invoices with a known method.
    """
    t = to_date(as_of)
    view = ledger if ledger.cutoff == t else ledger.as_of(t)  # a view at t already is one
    b = book(view)
    p = paid_invoices(b)
    as_day = int(day_number(pd.Series([t]))[0])
    window = b.inv_day > as_day - window_days
    # integer codes: the loops below compare them many times
    seg = pd.factorize(np.asarray(labels if labels is not None else np.zeros(b.n), dtype=object))[0]
    keep = window & ~(p.credit_only & (p.settled <= as_day))
    paid = p.paid & (p.pay_day <= as_day)
    end = np.where(paid, p.pay_day, np.where(p.settled < NEVER, p.settled, as_day))
    delay = (end - b.due_day).astype(float)
    out: dict = {"electronic_share": None, "paper_delay_days": None, "methods": {}}
    channel = view.invoices["channel"].astype("string").str.lower()
    channel = channel.to_numpy(dtype=object, na_value=None)
    known = keep & np.isin(channel, ["paper", "electronic"])
    out["channel_invoices"] = int(known.sum())
    electronic = channel == "electronic"
    if known.any() and 0 < electronic[known].sum() < known.sum():
        out["electronic_share"] = float(electronic[known].mean())
        diffs, weights = [], []
        for k in np.unique(seg[known]):
            s = known & (seg == k)
            e, q = s & electronic, s & ~electronic
            if e.sum() >= MIN_INVOICES and q.sum() >= MIN_INVOICES:
                diffs.append(_location(delay[q], paid[q]) - _location(delay[e], paid[e]))
                weights.append(s.sum())
        if diffs:
            out["paper_delay_days"] = float(np.average(diffs, weights=weights))
    method = pd.Categorical(_invoice_methods(view, b, p), categories=PAYMENT_METHODS).codes
    with_method = keep & paid & (method >= 0)
    if with_method.any():
        counts = np.bincount(method[with_method], minlength=len(PAYMENT_METHODS))
        for j in np.flatnonzero(counts).tolist():
            diffs, weights = [], []
            for k in np.unique(seg[with_method]):
                s = with_method & (seg == k)
                m = s & (method == j)
                if m.sum() >= MIN_INVOICES and (s & ~m).sum() >= MIN_INVOICES:
                    everyone = np.ones(s.sum(), dtype=bool)
                    diffs.append(
                        _location(delay[m], everyone[: m.sum()]) - _location(delay[s], everyone)
                    )
                    weights.append(s.sum())
            effect = float(np.average(diffs, weights=weights)) if diffs else None
            share = float(counts[j] / with_method.sum())
            out["methods"][PAYMENT_METHODS[j]] = (share, effect)
    return out


def estimate_channels(
    ledger: Ledger,
    as_of,
    base: Channels,
    *,
    labels: np.ndarray | None = None,
    window_days: int = 365,
) -> Channels | None:
    """:class:`Channels` calibrated on the ledger; None when it records no channel or method.

    ``electronic_share`` and ``paper_delay_days`` (0 when not measurable) from
    :func:`channel_effects` when the ledger records both channels; the method
    mix with each method's ``delay_days`` (0 when not measurable) when it
    records methods; fees and float from ``base`` or :data:`DEFAULT_METHOD_COSTS`.
    ``move_to_electronic`` is the base's.
    """
    fx = channel_effects(ledger, as_of, labels=labels, window_days=window_days)
    changes: dict = {}
    if fx["electronic_share"] is not None:
        changes["electronic_share"] = fx["electronic_share"]
        changes["paper_delay_days"] = float(np.clip(fx["paper_delay_days"] or 0.0, -60, 60))
    if fx["methods"]:
        known = {m.name: m for m in base.methods}
        methods = []
        for name, (share, effect) in fx["methods"].items():
            rate, fixed, float_days = DEFAULT_METHOD_COSTS[name]
            if name in known:
                k = known[name]
                rate, fixed, float_days = k.fee_rate, k.fee_fixed, k.float_days
            delay = float(np.clip(effect or 0.0, -30, 30))
            methods.append(PaymentMethod(name, share, rate, fixed, float_days, delay))
        # shares as fractions of one total can miss 1 by rounding: the last takes the rest
        rest = 1.0 - sum(m.share for m in methods[:-1])
        methods[-1] = dataclasses.replace(methods[-1], share=float(np.clip(rest, 0.0, 1.0)))
        changes["methods"] = tuple(methods)
    if not changes:
        return None
    return dataclasses.replace(base, **changes)
