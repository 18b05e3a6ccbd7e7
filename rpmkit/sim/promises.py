"""Promises to pay in a replication: the pre-drawn numbers and the outputs built from the records.

A completed call can end with a promise (:class:`~rpmkit.sim.levers.Promises`).
Whether it does, the promised date, whether the promise is kept, the slip of a
kept payment and the extra delay of a broken one are pre-drawn per order and
per promise number (first, second, … promise on the invoice) from the
``promises`` stream, so two scenarios that differ only in policy give the same
invoice the same promise outcomes (common random numbers). The model applies
them when a call ends (:meth:`~rpmkit.sim.interactions.Interactions._call_done`).

Records: ``promise`` when made (``amount`` = open amount promised, ``value`` =
the promised day, ``duration`` = days from the call to the end of the grace
period), then ``promise_kept`` (paid in full by the end of the grace period)
or ``promise_broken`` (the grace period ended unpaid, or a dispute, an agency
placement or a non-cash settlement overtook the promise); a promise still
running at the horizon has neither.

>>> import numpy as np
>>> from rpmkit.sim.levers import Promises
>>> d = draw_promises(
...     Promises(rate=0.5, kept_rate=0.8),
...     1000,
...     np.zeros(1000, int),
...     ["smb"],
...     np.random.default_rng(1),
... )
>>> d.make.shape, round(float(d.make[:, 0].mean()), 1), round(float(d.kept[:, 0].mean()), 1)
((1000, 2), 0.5, 0.8)
>>> int(d.lead.min()) >= 1
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rpmkit.keys import group_sum
from rpmkit.ledger import Ledger
from rpmkit.sim import records as rec
from rpmkit.sim.levers import Promises
from rpmkit.sim.orders import Orders
from rpmkit.sim.params import Scenario
from rpmkit.synth import text

__all__ = ["PROMISE_DAILY", "PromiseDraws", "draw_promises", "promise_daily", "promise_ledger"]

PROMISE_DAILY: dict[str, str] = {
    "promises_made": "promises to pay made that day",
    "promises_kept": "promises kept that day (paid in full by the end of the grace period)",
    "promises_broken": "promises broken that day",
    "promises_open": "promises running at the end of the day",
}
"""Daily series of promises to pay (all zero when promises are off)."""


@dataclass(frozen=True, eq=False)
class PromiseDraws:
    """Per order (rows) and promise number (columns): what the ``promises`` stream decided.

    Attributes
    ----------
    make
        True when the call ends with a promise.
    lead
        Whole days from the call's day to the promised day (at least 1).
    kept
        True when the promise will be kept.
    slip
        Days after the promised date a kept promise pays (clipped as documented).
    extra
        Days after the grace period before a broken promiser pays at the earliest.
    """

    make: np.ndarray
    lead: np.ndarray
    kept: np.ndarray
    slip: np.ndarray
    extra: np.ndarray


def draw_promises(
    p: Promises,
    n: int,
    segment: np.ndarray,
    segment_names,
    rng: np.random.Generator,
) -> PromiseDraws:
    """Draw every order's promise numbers (``n × max_promises`` of each, in field order).

    Parameters
    ----------
    p
        The scenario's promise settings.
    n
        Number of orders.
    segment, segment_names
        Each order's segment index and the segment names (for per-segment kept rates).
    rng
        The ``promises`` stream.
    """
    shape = (n, p.max_promises)
    u_make, u_keep = rng.random(shape), rng.random(shape)
    z_lead, z_slip = rng.standard_normal(shape), rng.standard_normal(shape)
    e_extra = rng.standard_exponential(shape)
    kept_p = np.array([p.kept_rate_of(s) for s in segment_names])[segment]
    lead = np.maximum(1, np.rint(p.lead_median_days * np.exp(p.lead_sigma * z_lead)))
    slip = np.clip(p.slip_mean_days + p.slip_sd_days * z_slip, -lead, float(p.grace_days))
    return PromiseDraws(
        make=u_make < p.rate,
        lead=lead.astype(np.int64),
        kept=u_keep < kept_p[:, None],
        slip=slip,
        extra=p.broken_delay_days * e_extra,
    )


def _made(log: rec.Log) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the ``promise`` records and, for each, its closing record (-1 = none)."""
    made = np.flatnonzero(log.kind == rec.PROMISE)
    closed = np.flatnonzero(log.mask(rec.PROMISE_KEPT, rec.PROMISE_BROKEN))
    close = np.full(len(made), -1, dtype=np.int64)
    if len(made) and len(closed):
        # an invoice has at most one promise running: its next closing record closes it
        key_m = log.order[made].astype(np.int64) * (len(log.kind) + 1) + made
        key_c = log.order[closed].astype(np.int64) * (len(log.kind) + 1) + closed
        order = np.argsort(key_c)
        pos = np.searchsorted(key_c[order], key_m)
        ok = pos < len(closed)
        cand = closed[order[np.minimum(pos, len(closed) - 1)]]
        ok &= log.order[cand] == log.order[made]
        close[ok] = cand[ok]
    return made, close


def promise_daily(scenario: Scenario, log: rec.Log) -> dict[str, np.ndarray]:
    """The :data:`PROMISE_DAILY` series, one value per simulated day."""
    h = scenario.horizon_days
    day = log.day()
    one = np.ones(len(day), dtype=np.int64)
    out = {}
    for name, kind in (
        ("promises_made", rec.PROMISE),
        ("promises_kept", rec.PROMISE_KEPT),
        ("promises_broken", rec.PROMISE_BROKEN),
    ):
        m = (log.kind == kind) & (day >= 0) & (day < h)
        out[name] = group_sum(day[m], one[m], h)
    opened = np.cumsum(out["promises_made"])
    closed = np.cumsum(out["promises_kept"] + out["promises_broken"])
    out["promises_open"] = opened - closed
    return out


def promise_ledger(scenario: Scenario, o: Orders, log: rec.Log, ledger: Ledger) -> Ledger:
    """The simulated ledger with one ``promise_to_pay`` activity per promise made.

    ``date`` is the day of the call, ``promised_date`` the promised day,
    ``promised_amount`` the open amount then, ``outcome`` ``kept`` or
    ``broken`` (blank while running at the horizon). Activity ids ``PTP-…``.
    """
    made, close = _made(log)
    if not len(made):
        return ledger
    start = np.datetime64(scenario.start_date.date(), "D")
    inv = log.order[made]
    kept = log.kind[np.maximum(close, 0)] == rec.PROMISE_KEPT
    outcome = np.where(close < 0, -1, np.where(kept, 0, 1))
    n = len(made)
    promised = log.value[made].astype(np.int64)
    frame = pd.DataFrame(
        {
            "activity_id": text.series(text.ids("PTP-", np.arange(1, n + 1), text.id_width(n, 6))),
            "date": (start + log.day()[made]).astype("datetime64[us]"),
            "customer_id": text.series(text.rows(o.customer_ids, o.customer[inv])),
            "kind": "promise_to_pay",
            "invoice_id": text.series(text.rows(o.ids, inv)),
            "outcome": text.series(text.take(["kept", "broken"], outcome)),
            "promised_date": (start + promised).astype("datetime64[us]"),
            "promised_amount": log.amount[made],
        }
    )
    acts = pd.concat([ledger.activities, frame], ignore_index=True)
    acts = acts.sort_values(["date", "activity_id"], kind="stable", ignore_index=True)
    return ledger.replace(activities=acts)
