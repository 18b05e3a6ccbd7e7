"""One replication of a scenario with SimPy: :class:`Model`.

Each order arrives at its pre-drawn time; the credit policy accepts it (an
invoice) or blocks it (a lost sale). An open invoice has exactly one pending
wake-up in the event queue, at the earliest of its milestones: its payment
time, its next dunning step, its dispute, its agency placement, its credit
hold trigger, its write-off. When something moves a milestone (a reminder
pulls the payment earlier, a dispute puts it on hold), a new wake-up becomes
the invoice's pending one and the one already scheduled is ignored when it
fires. With the daily batches of the walk (below), wake-ups of later days wait
in a list per day until the day before, so SimPy's queue stays about a day
deep; they keep the ids they were scheduled with, so the order is the same.
Nothing polls: an invoice paid on time before any dunning step costs two
events (arrival and payment).

Dunning and calls move the payment by an accelerated clock: for
``uplift_days`` after a step at time ``s`` the payer's clock runs
``1 + uplift`` times faster, so a natural payment time ``T > s`` becomes
``s + (T − s)/(1 + uplift)`` when ``T − s ≤ (1 + uplift) × uplift_days`` and
``T − uplift × uplift_days`` otherwise (see :func:`accelerate`). This is
what multiplying the payment hazard by ``1 + uplift`` in that window does
when the hazard is locally flat; it needs no new random draw (common random
numbers), never delays a payment and is the identity for ``uplift = 0``.
"""

from __future__ import annotations

import gc
import math
import time
from contextlib import contextmanager
from heapq import heappush

import numpy as np
import pandas as pd
import simpy
from simpy.events import NORMAL

from rpmkit.sim import fastpath
from rpmkit.sim import records as rec
from rpmkit.sim.fastpath import accelerate, hastened, speedup
from rpmkit.sim.interactions import Interactions
from rpmkit.sim.orders import Orders, draw_orders
from rpmkit.sim.params import Scenario
from rpmkit.sim.policies import Rule, get_rule
from rpmkit.sim.processes import CallCentre, call_later, handling_sampler
from rpmkit.sim.promises import draw_promises
from rpmkit.sim.random import Streams
from rpmkit.sim.records import SimResult

__all__ = ["Model", "accelerate"]

INF = math.inf
_EPS = 1e-9


class _InvoiceWake:
    """An invoice's wake-up in SimPy's queue (see :func:`~rpmkit.sim.processes.call_later`):
    the invoice (``_value``) and the time it was armed for (``at``)."""

    __slots__ = ("_value", "at", "callbacks")
    _ok = True


@contextmanager
def paused_gc():
    """Python's cyclic garbage collector off for the block, then as it was.

    The event loop allocates a tuple per record and event; the collector's
    generational passes over them find nothing to free (about a fifth of the
    loop's time); cycles left behind go at the next pass after the block."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Model(Interactions):
    """One replication of a :class:`~rpmkit.sim.params.Scenario`.

    Parameters
    ----------
    scenario
        The scenario.
    replication
        Replication index: streams are ``SeedSequence(seed)`` children keyed by it.
    rule
        A prioritisation rule overriding ``scenario.collectors.rule`` (a name or
        a callable, see :mod:`rpmkit.sim.policies`).
    opening
        Invoices open at the start (columns ``invoice_id, customer_id,
        segment, invoice_date, due_date, amount``; open amount in minor units).

    Examples
    --------
    >>> from rpmkit.sim import Behaviour, Model, PayerBehaviour, Scenario, SegmentSales
    >>> s = Scenario(
    ...     horizon_days=60,
    ...     sales=(SegmentSales("smb", 50, 4.0, 800.0),),
    ...     behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
    ... )
    >>> result = Model(s).run()
    >>> result
    SimResult(replication 0, 60 days: 239 invoices, 98 paid, open AR 97,254.53 USD)
    >>> Model(s).run().events.equals(result.events)
    True
    >>> result.ledger.check()
    """

    presettle = True
    """Settle what nothing can interact with before the loop (:mod:`rpmkit.sim.fastpath`);
    False sends every invoice through the event loop (the reference it is tested against)."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int = 0,
        *,
        rule: str | Rule | None = None,
        opening: pd.DataFrame | None = None,
    ) -> None:
        self.scenario = scenario
        self.replication = replication
        self.rule = get_rule(rule if rule is not None else scenario.collectors.rule)
        self.opening = opening

    def __repr__(self) -> str:
        return f"Model(replication={self.replication}, horizon_days={self.scenario.horizon_days})"

    # ------------------------------------------------------------------ run
    def run(self) -> SimResult:
        """Simulate the horizon and return the :class:`~rpmkit.sim.records.SimResult`."""
        return rec.build_result(**self.simulate())

    def simulate(self) -> dict:
        """Simulate the horizon and return the raw records: the keyword arguments of
        :func:`~rpmkit.sim.records.build_result` (a summary needs no canonical ledger)."""
        t0 = time.perf_counter()
        s = self.scenario
        streams = Streams(s.seed, self.replication)
        o = draw_orders(s, streams, self.opening)
        self._setup(o, streams)
        env = self.env
        walked = None
        no_credit = s.credit.limit_days_of_sales is None and s.credit.hold_days_past_due is None
        if no_credit and self.presettle:
            # Without a credit policy nothing at an order's arrival depends on
            # the state of the book: the orders nothing can interact with are
            # settled before the loop (rpmkit.sim.fastpath); one event a day
            # arms that day's other orders at their first interacting
            # milestone (a heap of all orders at once would be slower).
            walked = fastpath.presettle(s, o, calls=self.centre is not None)
            self._next = self._walk
            self._enter(walked)
            # wake-ups of later days wait in a list per day, which the day before's
            # batch moves into SimPy's queue (see _arm): the queue stays a day deep
            self.released = 1.0
            self.later = [[] for _ in range(s.horizon_days)]
            slow = np.flatnonzero(walked.slow)
            for i in slow[slow < o.n_opening].tolist():
                self._arm(i)
            new = slow[slow >= o.n_opening]
            # a new order's first milestone, as _arm would find it on its day (nothing
            # touches an order before): those after the horizon need no wake-up
            first = np.minimum.reduce(
                [
                    walked.pay[new],
                    self.dun_at_start[new],
                    o.due[new] + self._first_admin,
                    o.dispute_at[new],
                ]
            )
            new, first = new[first < self.horizon], first[first < self.horizon]
            days = np.arange(0, s.horizon_days + 1)
            self.batch_rows = new.tolist()
            self.batch_first = first.tolist()
            self.batches = np.searchsorted(o.issue[new], days, side="left").tolist()
            self._batch(0)
        else:
            self._enter(None)
            for i in range(o.n_opening):
                # steps that fell due before the start are history, not re-sent
                self._set_dunning(i, -_EPS)
                self._issue(i, float(o.issue[i]))
            self._arrive(o.n_opening)
        # SimPy's own loop up to the horizon (its stop event goes before the events
        # at the horizon). Every event scheduled takes an id, so the loop ran those
        # waiting before plus the ids taken meanwhile, less those still waiting
        # after; less the stop event, which ran and was put back (a second id).
        queue, ids = env._queue, env._eid
        id0, waiting = next(ids), len(queue) + self._parked()
        with paused_gc():
            env.run(until=float(s.horizon_days))
        taken = next(ids) - id0 - 1
        steps = waiting + taken - (len(queue) + self._parked()) - 1
        return {
            "scenario": s,
            "replication": self.replication,
            "o": o,
            "rows": self.log,
            "extra": walked.records if walked is not None else None,
            "sim_events": steps,
            "sim_seconds": time.perf_counter() - t0,
        }

    def _parked(self) -> int:
        """How many wake-ups wait outside SimPy's queue."""
        return self.parked + sum(len(day) for day in self.later)

    def _release(self) -> None:
        """Drop what the run left (per-invoice state, records), keeping the settings.

        The handlers make reference cycles (bound methods held by the call centre
        and by pending events), so without this the run's lists wait for the
        garbage collector, whose passes over them cost more than freeing them
        here, by reference count."""
        state = vars(self)
        self.log.clear()
        given = ("scenario", "replication", "rule", "opening", "presettle")
        for name in [k for k in state if k not in given]:
            del state[name]

    def _setup(self, o: Orders, streams: Streams) -> None:
        s = self.scenario
        self.env = simpy.Environment()
        # every wake-up's callbacks: one tuple for all (SimPy's loop only iterates
        # over an event's callbacks and then drops them), not a list each
        self._on_wake = (self._wake,)
        self._next = self._arm  # what follows a call or a resolution
        self.horizon = float(s.horizon_days)
        self.o = o
        self.log: list[tuple] = []
        self.issue_t = o.issue.tolist()
        self.due = o.due.tolist()
        self.amount = o.amount.tolist()
        self.customer = o.customer.tolist()
        # one shared infinity for the many orders never disputed (a float object each else)
        self.dispute_at = [INF] * o.n
        disputed = np.flatnonzero(np.isfinite(o.dispute_at))
        for i, t in zip(disputed.tolist(), o.dispute_at[disputed].tolist(), strict=True):
            self.dispute_at[i] = t
        self.hold = [False] * o.n
        self.flagged = [False] * o.n
        self.escalated = [False] * o.n
        # the invoice's one valid pending wake-up (None: nothing pending); one
        # that is no longer it (the milestone moved) is ignored when it fires
        self.pending: list[_InvoiceWake | None] = [None] * o.n
        self.queue, self.ids = self.env._queue, self.env._eid  # where call_later puts events
        # wake-ups at or after ``released`` wait in ``later`` (one list per day);
        # those at or after the horizon are only counted (``parked``): never run
        self.released = INF
        self.later: list[list[tuple]] = []
        self.parked = 0
        self.cust_open = [0] * len(o.customer_segment)
        self.cust_overdue = [0] * len(o.customer_segment)
        self.limit = o.customer_limit.tolist()
        self.segment = o.segment.tolist()
        self.segment_risk = o.segment_risk.tolist()
        self.step_day = [float(d.day) for d in s.dunning]
        self.n_steps = len(s.dunning)
        self.step_call = [d.channel == "call" for d in s.dunning]
        self.step_speedup = [speedup(d.uplift, d.uplift_days) for d in s.dunning]
        # per order: the last day (after the issue day) a discount is taken, -1 without one
        self.discount_until = np.where(
            o.taker & (o.discount_rate > 0), o.discount_days, -1
        ).tolist()
        c, cr = s.collections, s.credit
        self.agency_after = INF if c.agency_after_days is None else float(c.agency_after_days)
        self.write_off_after = (
            INF if c.write_off_after_days is None else float(c.write_off_after_days)
        )
        self.hold_after = INF if cr.hold_days_past_due is None else float(cr.hold_days_past_due)
        # Every invoice starts with the same milestone offsets from its due date:
        # the next administrative one (agency placement, credit-hold trigger,
        # write-off) and the next dunning step.
        self._first_admin = min(self.write_off_after, self.agency_after, self.hold_after)
        self.admin = (o.due + self._first_admin).tolist()
        self.call_callable = lambda i: not (self.settled[i] or self.hold[i] or self.escalated[i])
        self.desk = (
            simpy.Resource(self.env, s.disputes.desk_capacity)
            if s.disputes.desk_capacity is not None
            else None
        )
        self.centre = None
        if s.collectors.count > 0 and any(d.channel == "call" for d in s.dunning):
            self.centre = CallCentre(
                self.env,
                s.collectors,
                self.rule,
                self._call_items,
                self.call_callable,
                handling_sampler(s.collectors, streams.rng("handling")),
                self._call_start,
                self._call_done,
                self._call_dropped,
                self._call_item,
            )
        # promises to pay: invoice -> (end of grace period, call step, promised day)
        self.promising: dict[int, tuple[float, int, int]] = {}
        self.promised_count: dict[int, int] = {}
        self.promise_draws = None
        if s.promises.on and self.centre is not None:
            self.promise_draws = draw_promises(
                s.promises, o.n, o.segment, o.segment_names, streams.rng("promises")
            )
            # per promise number, whether each order's call ends in one (read on every call)
            make = self.promise_draws.make
            self.promise_make = [make[:, c].tolist() for c in range(make.shape[1])]

    # ------------------------------------------------------------- arrivals
    def _arrive(self, j: int) -> None:
        """Schedule order ``j``'s arrival; each arrival schedules the next (no process needed)."""
        if j < self.o.n:
            env = self.env
            call_later(env, self.issue_t[j] - env._now, self._on_arrival, j)

    def _batch(self, day: int) -> None:
        env = self.env
        call_later(env, day - env._now, self._on_batch)

    def _on_batch(self, event) -> None:
        day = int(round(self.env._now))
        if day + 1 < len(self.later):
            # tomorrow's wake-ups into SimPy's queue, each with the id it was armed
            # with: the queue runs them in the order it would have
            queue = self.queue
            for entry in self.later[day + 1]:
                heappush(queue, entry)
            self.later[day + 1] = []
        self.released = day + 2.0
        # the day's new orders armed at their first milestones, found before the loop
        now, wake_at = self.env._now, self._wake_at
        rows, first = self.batch_rows, self.batch_first
        for j in range(self.batches[day], self.batches[day + 1]):
            wake_at(rows[j], first[j], now)
        if day + 1 < len(self.batches) - 1:
            self._batch(day + 1)

    def _enter(self, walked: fastpath.Presettled | None) -> None:
        """The per-invoice state the loop starts from: the walk's (every order issued,
        the early ones settled) or, without a walk, none issued yet."""
        o = self.o
        if walked is None:
            self.settled = [False] * o.n
            self.open = [0] * o.n
            self.pay = o.natural.tolist()
            self.step = [0] * o.n
            first_step = self.step_day[0] if self.step_day else INF
            self.dun_at = (o.due + first_step).tolist()
            return
        self.settled = walked.settled.tolist()
        self.open = np.where(walked.settled, 0, o.amount).tolist()
        self.pay = walked.pay.tolist()
        self.step = walked.step.tolist()
        day = np.array(self.step_day + [INF])
        self.dun_at_start = o.due + day[walked.step]
        self.dun_at = self.dun_at_start.tolist()

    def _on_arrival(self, event) -> None:
        j = event._value
        self._order(j)
        self._arrive(j + 1)

    def _order(self, j: int) -> None:
        c, a = self.customer[j], self.amount[j]
        lim = self.limit[c]
        if (lim >= 0 and self.cust_open[c] + a > lim) or self.cust_overdue[c] > 0:
            self.log.append((self.env._now, rec.LOST_SALE, j, a, 0.0, 0.0))
            return
        self._issue(j, self.env._now)

    def _issue(self, i: int, t: float) -> None:
        a = self.amount[i]
        self.open[i] = a
        self.cust_open[self.customer[i]] += a
        self.log.append((t, rec.ISSUE, i, a, 0.0, 0.0))
        self._arm(i)

    # ----------------------------------------------------------- milestones
    def _set_admin(self, i: int) -> None:
        """The next administrative milestone: agency placement, credit-hold trigger, write-off."""
        d = self.due[i]
        t = d + self.write_off_after
        if not self.escalated[i]:
            t = min(t, d + self.agency_after)
        if not self.flagged[i]:
            t = min(t, d + self.hold_after)
        self.admin[i] = t

    def _set_dunning(self, i: int, after: float) -> None:
        """Skip the dunning steps due at or before ``after``; note when the next one is due."""
        d, days, k = self.due[i], self.step_day, self.step[i]
        while k < self.n_steps and d + days[k] <= after:
            k += 1
        self.step[i] = k
        self.dun_at[i] = d + days[k] if k < self.n_steps else INF

    def _arm(self, i: int) -> None:
        """Schedule invoice ``i``'s one wake-up at its earliest pending milestone."""
        if self.settled[i] or self.hold[i]:
            return
        t = self.pay[i]
        x = self.dun_at[i]
        if x < t:
            t = x
        x = self.admin[i]
        if x < t:
            t = x
        x = self.dispute_at[i]
        if x < t:
            t = x
        if t == INF:
            return
        pending = self.pending[i]
        if pending is not None and pending.at == t:
            return  # the pending wake-up already serves
        self._wake_at(i, t, self.env._now)

    def _wake_at(self, i: int, t: float, now: float) -> None:
        """Make invoice ``i``'s pending wake-up at ``t`` (not before ``now``).

        :func:`~rpmkit.sim.processes.call_later`'s queue entry, put into SimPy's
        queue, or into the list of its day when that day is not yet released
        (see :meth:`_on_batch`), or only counted when it falls at or after the horizon."""
        event = _InvoiceWake()
        event.callbacks = self._on_wake
        event._value = i
        event.at = t
        self.pending[i] = event
        at = now + (t - now if t > now else 0.0)
        entry = (at, NORMAL, next(self.ids), event)
        if at < self.released:
            heappush(self.queue, entry)
        elif at < self.horizon:
            self.later[int(at)].append(entry)
        else:
            self.parked += 1

    def _walk(self, i: int) -> None:
        """:func:`~rpmkit.sim.fastpath.presettle` for one invoice, from now (no credit policy).

        Letters and emails before the next interacting milestone are sent and
        an early payment is recorded at its time without waking the invoice:
        nothing can touch it in between (a waiting call would, so then it is
        only armed)."""
        centre = self.centre
        if centre is not None and i in centre.waiting:
            self._arm(i)
            return
        now, horizon = self.env._now, self.horizon
        pay, k, dun = self.pay[i], self.step[i], self.dun_at[i]
        # what the walk stops at: the first dispute, agency or hold milestone, the
        # end of a promise's grace period (the event loop's) or a call with collectors
        stop = min(self.admin[i], self.dispute_at[i])
        if self.promising and i in self.promising:
            stop = min(stop, dun)
        calls = self.step_call if centre is not None else ()
        while True:
            t = pay if pay < dun else dun
            if stop < t:
                t = stop
            if t >= horizon:
                break
            if t < now:
                t = now
            if pay <= t + _EPS:
                self.step[i], self.dun_at[i] = k, dun
                self._pay(i, t)
                return
            if stop <= t + _EPS or (calls and calls[k]):
                break
            if not self.step_call[k]:
                self.log.append((t, rec.DUNNING, i, 0, float(k), 0.0))
                pay = hastened(pay, t, self.step_speedup[k])
            k += 1
            dun = self.due[i] + self.step_day[k] if k < self.n_steps else INF
            now = t
        self.pay[i], self.step[i], self.dun_at[i] = pay, k, dun
        if t < horizon:
            self._arm(i)

    def _wake(self, event) -> None:
        i = event._value
        if self.pending[i] is not event or self.settled[i]:
            return
        self.pending[i] = None
        now = self.env._now + _EPS
        if self.pay[i] <= now:
            self._pay(i)
            return
        if self.dispute_at[i] <= now:
            self._open_dispute(i)
            return
        if self.admin[i] <= now:
            d = self.due[i]
            if d + self.write_off_after <= now:
                self._settle_by(i, rec.WRITE_OFF, self.open[i])
                return
            if not self.escalated[i] and d + self.agency_after <= now:
                self._escalate(i)
            else:
                self.flagged[i] = True
                self.cust_overdue[self.customer[i]] += 1
            self._set_admin(i)
        elif self.dun_at[i] <= now:
            if self.promising and i in self.promising:
                self._promise_end(i)
            else:
                self._dun(i)
        self._arm(i)

    def _dun(self, i: int) -> None:
        k = self.step[i]
        self.step[i] = k + 1
        self.dun_at[i] = self.due[i] + self.step_day[k + 1] if k + 1 < self.n_steps else INF
        now = self.env._now
        if self.step_call[k]:
            if self.centre is not None and self.centre.enqueue(i, k):
                self.log.append((now, rec.CALL_QUEUED, i, 0, float(k), 0.0))
            return
        self.log.append((now, rec.DUNNING, i, 0, float(k), 0.0))
        self.pay[i] = hastened(self.pay[i], now, self.step_speedup[k])

    def _escalate(self, i: int) -> None:
        o = self.o
        self._withdraw_call(i)
        if self.promising:
            self._close_promise(i, False, self.env._now)
        self.escalated[i] = True
        self.step[i] = self.n_steps
        self.dun_at[i] = INF
        self.log.append((self.env._now, rec.AGENCY, i, self.open[i], 0.0, 0.0))
        self.pay[i] = self.env._now + o.recovery_delay[i] if o.recovered[i] else INF

    # ------------------------------------------------------------ settlement
    def _settle_by(self, i: int, kind: int, amount: int, now: float | None = None) -> None:
        if now is None:
            now = self.env._now
        if amount > 0:
            self.log.append((now, kind, i, amount, 0.0, 0.0))
        left = self.open[i] - amount
        self.open[i] = left
        c = self.customer[i]
        self.cust_open[c] -= amount
        if left <= 0:
            self._settled(i, c, kind == rec.PAYMENT, now)

    def _settled(self, i: int, c: int, paid: bool, now: float) -> None:
        """Invoice ``i`` of customer ``c`` is closed: its waiting call and its promise too."""
        self.settled[i] = True
        if self.flagged[i]:
            self.cust_overdue[c] -= 1
        centre = self.centre
        if centre is not None and i in centre.waiting:
            self._withdraw_call(i)
        if self.promising:
            self._close_promise(i, paid, now)

    def _pay(self, i: int, now: float | None = None) -> None:
        """Payment now, or at ``now`` ahead of the clock (see :meth:`_walk`)."""
        if now is None:
            now = self.env._now
        until = self.discount_until[i]
        if until >= 0 and math.floor(now) - math.floor(self.issue_t[i]) <= until:
            rate = self.o.discount_rate.item(i)
            self._settle_by(i, rec.DISCOUNT, int(round(self.amount[i] * rate)), now)
        amount = self.open[i]
        if self.escalated[i]:
            fee = int(round(amount * self.scenario.collections.agency_fee_rate))
            self.log.append((now, rec.AGENCY_FEE, i, fee, 0.0, 0.0))
        # _settle_by(i, PAYMENT, amount, now), inlined: the payment of what is open
        if amount > 0:
            self.log.append((now, rec.PAYMENT, i, amount, 0.0, 0.0))
        self.open[i] = 0
        c = self.customer[i]
        self.cust_open[c] -= amount
        self._settled(i, c, True, now)
