"""The invoices nothing can interact with, settled before the event loop: :func:`presettle`.

Without a credit policy, an invoice's life up to its first *interacting*
milestone depends only on its own pre-drawn numbers: letters, emails and
SMS move its payment by the accelerated clock
(:func:`~rpmkit.sim.model.accelerate`) at fixed offsets from its due date,
and nothing else touches it. Only a call (the collectors are shared), a
dispute (the desk is shared), an agency placement or a write-off need the
event loop. So every invoice is walked through its non-call dunning steps at
once, vectorised over all invoices, step by step: an invoice paid before its
first interacting milestone is settled here (its records written as arrays)
and never enters SimPy; the others enter the loop at that milestone with the
state the walk left (payment time, next step). The walk makes the same
decisions the event loop would, in the same order at equal times (payment
first, then dispute, administration, dunning), so with no calls, no
disputes and no escalation a run needs no event per invoice at all; the
event loop remains the model for everything that interacts.

>>> import numpy as np
>>> from rpmkit.sim import Behaviour, PayerBehaviour, Scenario, SegmentSales
>>> from rpmkit.sim.orders import draw_orders
>>> from rpmkit.sim.random import Streams
>>> s = Scenario(
...     horizon_days=60,
...     sales=(SegmentSales("smb", 50, 4.0, 800.0),),
...     behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
... )
>>> o = draw_orders(s, Streams(s.seed))
>>> early = presettle(s, o, calls=True)
>>> o.n, int(early.settled.sum()), int(early.slow.sum())  # orders, paid early, to the loop
(239, 75, 29)
>>> bool((early.pay[early.settled] <= o.natural[early.settled]).all())  # dunning only hastens
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rpmkit.sim import records as rec
from rpmkit.sim.orders import Orders
from rpmkit.sim.params import Scenario

__all__ = ["Presettled", "accelerate", "presettle"]

INF = np.inf
_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class Presettled:
    """What :func:`presettle` decided, per order, and the records it wrote.

    Attributes
    ----------
    slow
        True for an order that enters the event loop (it meets a call, a
        dispute, an agency placement or a write-off before it is paid).
    settled
        True for an order paid in the walk.
    pay, step
        The payment time after the steps already taken, and the index of
        the next dunning step (``len(scenario.dunning)`` when none is left).
    records
        ``(time, kind, order, amount, value, duration)`` columns of the walk's
        records (issues of every order, its dunning steps, discounts, payments).
    """

    slow: np.ndarray
    settled: np.ndarray
    pay: np.ndarray
    step: np.ndarray
    records: tuple[np.ndarray, ...]


def accelerate(pay: float, now: float, uplift: float, days: float) -> float:
    """The payment time after a step at ``now`` speeding the payer's clock (module docstring).

    >>> accelerate(40.0, 30.0, 1.0, 10.0), accelerate(60.0, 30.0, 1.0, 10.0)
    (35.0, 50.0)
    """
    if pay <= now or uplift <= 0.0:
        return pay
    rest = pay - now
    if rest <= (1.0 + uplift) * days:
        return now + rest / (1.0 + uplift)
    return pay - uplift * days


def speedup(uplift: float, days: float) -> tuple[float, float, float] | None:
    """What :func:`accelerate` computes of a step before it knows the payment time:
    ``(1 + uplift, (1 + uplift) × days, uplift × days)``; None when the step speeds nothing.

    >>> speedup(1.0, 10.0), speedup(0.0, 10.0)
    ((2.0, 20.0, 10.0), None)
    """
    if uplift <= 0.0:
        return None
    return 1.0 + uplift, (1.0 + uplift) * days, uplift * days


def hastened(pay: float, now: float, fast: tuple[float, float, float] | None) -> float:
    """:func:`accelerate` with the step's :func:`speedup` (the same float operations).

    >>> hastened(40.0, 30.0, speedup(1.0, 10.0)) == accelerate(40.0, 30.0, 1.0, 10.0)
    True
    """
    if fast is None or pay <= now:
        return pay
    rest = pay - now
    return now + rest / fast[0] if rest <= fast[1] else pay - fast[2]


def _accelerate(pay: np.ndarray, now: np.ndarray, uplift: float, days: float) -> np.ndarray:
    """:func:`accelerate` over arrays (the same float operations)."""
    if uplift <= 0.0:
        return pay
    rest = pay - now
    near = now + rest / (1.0 + uplift)
    far = pay - uplift * days
    out = np.where(rest <= (1.0 + uplift) * days, near, far)
    return np.where(pay <= now, pay, out)


def presettle(scenario: Scenario, o: Orders, *, calls: bool) -> Presettled:
    """Walk every order through its non-interacting milestones (module docstring).

    Parameters
    ----------
    scenario
        The scenario; it must have no credit policy (limits or holds make an
        order's acceptance depend on other invoices).
    o
        The replication's orders.
    calls
        Whether call steps reach the collectors (False: there are no
        collectors, and a call step is skipped as the event loop skips it).
    """
    cr = scenario.credit
    if cr.limit_days_of_sales is not None or cr.hold_days_past_due is not None:
        raise ValueError("presettle: the scenario has a credit policy; use the event loop")
    n = o.n
    c = scenario.collections
    write_off = INF if c.write_off_after_days is None else float(c.write_off_after_days)
    agency = INF if c.agency_after_days is None else float(c.agency_after_days)
    admin = o.due + min(write_off, agency)
    steps = scenario.dunning
    # a sentinel step at infinity: "no step left" needs no special case
    day = np.array([float(d.day) for d in steps] + [INF])
    horizon = float(scenario.horizon_days)
    due = o.due
    # the event loop arms an order first at its arrival batch (the day it is
    # issued) or, for opening items, at the start
    cur = np.floor(o.issue)
    cur[: o.n_opening] = 0.0
    step = np.zeros(n, dtype=np.int64)
    if o.n_opening:
        # steps due before the start are history, not re-sent
        step[: o.n_opening] = (due[: o.n_opening, None] + day[None, :] <= -_EPS).sum(axis=1)
    pay = o.natural.astype(float, copy=True)
    slow = np.zeros(n, dtype=bool)
    settled = np.zeros(n, dtype=bool)
    paid_at = np.full(n, np.nan)
    logs: list[tuple[np.ndarray, ...]] = []
    live = np.arange(n)
    while len(live):
        k = step[live]
        dun = due[live] + day[k]
        p = pay[live]
        t = np.minimum(np.minimum(p, dun), np.minimum(admin[live], o.dispute_at[live]))
        t = np.maximum(t, cur[live])
        now = t + _EPS
        pays = p <= now
        other = ~pays & ((o.dispute_at[live] <= now) | (admin[live] <= now))
        # nothing happens to it within the horizon (the event loop stops there)
        never = t >= horizon
        settle = pays & ~never
        settled[live[settle]] = True
        paid_at[live[settle]] = t[settle]
        slow[live[other & ~never]] = True
        dunning = ~pays & ~other & ~never
        if not dunning.any():
            break
        live, k, t = live[dunning], k[dunning], t[dunning]
        for j, st in enumerate(steps):
            at = k == j
            if not at.any():
                continue
            rows, when = live[at], t[at]
            if st.channel == "call":
                if calls:
                    slow[rows] = True
                    continue
            else:
                z = np.zeros(len(rows))
                logs.append((when, np.full(len(rows), rec.DUNNING), rows, z, z + j, z))
                pay[rows] = _accelerate(pay[rows], when, st.uplift, st.uplift_days)
            step[rows] = j + 1
            cur[rows] = when
        live = live[~slow[live]]
    records = _records(o, settled, paid_at, logs)
    return Presettled(slow=slow, settled=settled, pay=pay, step=step, records=records)


def _records(o: Orders, settled: np.ndarray, paid_at: np.ndarray, logs: list) -> tuple:
    """The walk's records: every issue, the dunning steps taken, discounts and payments."""
    idx = np.arange(o.n)
    z = np.zeros(o.n)
    parts = [(o.issue, np.full(o.n, rec.ISSUE), idx, o.amount.astype(float), z, z), *logs]
    rows = idx[settled]
    t = paid_at[rows]
    amount = o.amount[rows]
    rate = o.discount_rate[rows]
    days = np.floor(t) - np.floor(o.issue[rows])
    discount = np.where(
        o.taker[rows] & (rate > 0) & (days <= o.discount_days[rows]),
        np.round(amount * rate),
        0.0,
    ).astype(np.int64)
    zr = np.zeros(len(rows))
    took = discount > 0
    kind = np.full(took.sum(), rec.DISCOUNT)
    parts.append((t[took], kind, rows[took], discount[took], zr[took], zr[took]))
    cash = amount - discount
    pos = cash > 0
    parts.append((t[pos], np.full(pos.sum(), rec.PAYMENT), rows[pos], cash[pos], zr[pos], zr[pos]))
    return tuple(
        np.concatenate([np.asarray(p[col], dtype=float) for p in parts]) for col in range(6)
    )
