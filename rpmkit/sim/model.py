"""One replication of a scenario with SimPy: :class:`Model`.

Each order arrives at its pre-drawn time; the credit policy accepts it (an
invoice) or blocks it (a lost sale). An open invoice has exactly one pending
wake-up in the event queue, at the earliest of its milestones: its payment
time, its next dunning step, its dispute, its agency placement, its credit
hold trigger, its write-off. When something moves a milestone (a reminder
pulls the payment earlier, a dispute puts it on hold), the invoice's version
number goes up and the wake-up already scheduled is ignored when it fires.
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

import math
import time

import numpy as np
import pandas as pd
import simpy
from simpy.events import Timeout

from rpmkit.sim import records as rec
from rpmkit.sim.orders import Orders, draw_orders
from rpmkit.sim.params import Scenario
from rpmkit.sim.policies import Rule, get_rule
from rpmkit.sim.processes import CallCentre, handling_sampler
from rpmkit.sim.random import Streams
from rpmkit.sim.records import SimResult

__all__ = ["Model", "accelerate"]

INF = math.inf
_EPS = 1e-9


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


class Model:
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
        t0 = time.perf_counter()
        s = self.scenario
        streams = Streams(s.seed, self.replication)
        o = draw_orders(s, streams, self.opening)
        self._setup(o, streams)
        env = self.env
        for i in range(o.n_opening):
            # steps that fell due before the start are history, not re-sent
            self._set_dunning(i, -_EPS)
            self._issue(i, float(o.issue[i]))
        if s.credit.limit_days_of_sales is None and s.credit.hold_days_past_due is None:
            # Without a credit policy nothing at an order's arrival depends on
            # the state of the book: one event a day invoices that day's orders
            # at their pre-drawn times, and each order's next event is its
            # first milestone (a heap of all orders at once would be slower).
            days = np.arange(0, s.horizon_days + 1)
            new = o.issue[o.n_opening :]
            self.batches = (o.n_opening + np.searchsorted(new, days, side="left")).tolist()
            self._batch(0)
        else:
            self._arrive(o.n_opening)
        horizon = float(s.horizon_days)
        steps = 0
        step = env.step
        while env.peek() < horizon:
            step()
            steps += 1
        sim_seconds = time.perf_counter() - t0
        return rec.build_result(
            s,
            self.replication,
            o,
            self.log,
            sim_events=steps,
            sim_seconds=sim_seconds,
        )

    def _setup(self, o: Orders, streams: Streams) -> None:
        s = self.scenario
        self.env = simpy.Environment()
        self._on_wake = self._wake  # one bound method for every wake-up
        self.o = o
        self.log: list[tuple] = []
        self.issue_t = o.issue.tolist()
        self.due = o.due.tolist()
        self.amount = o.amount.tolist()
        self.customer = o.customer.tolist()
        self.pay = o.natural.tolist()
        self.dispute_at = o.dispute_at.tolist()
        self.open = [0] * o.n
        self.settled = [False] * o.n
        self.hold = [False] * o.n
        self.flagged = [False] * o.n
        self.escalated = [False] * o.n
        self.step = [0] * o.n
        self.version = [0] * o.n
        self.armed = [INF] * o.n  # time of the valid pending wake-up
        self.cust_open = [0] * len(o.customer_segment)
        self.cust_overdue = [0] * len(o.customer_segment)
        self.limit = o.customer_limit.tolist()
        self.step_day = [float(d.day) for d in s.dunning]
        self.n_steps = len(s.dunning)
        c, cr = s.collections, s.credit
        self.agency_after = INF if c.agency_after_days is None else float(c.agency_after_days)
        self.write_off_after = (
            INF if c.write_off_after_days is None else float(c.write_off_after_days)
        )
        self.hold_after = INF if cr.hold_days_past_due is None else float(cr.hold_days_past_due)
        # Every invoice starts with the same milestone offsets from its due date:
        # the next administrative one (agency placement, credit-hold trigger,
        # write-off) and the next dunning step.
        first_admin = min(self.write_off_after, self.agency_after, self.hold_after)
        self.admin = (o.due + first_admin).tolist()
        first_step = self.step_day[0] if self.step_day else INF
        self.dun_at = (o.due + first_step).tolist()
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
                lambda i, k: self.log.append((self.env.now, rec.CALL_DROPPED, i, 0, float(k), 0.0)),
            )

    # ------------------------------------------------------------- arrivals
    def _arrive(self, j: int) -> None:
        """Schedule order ``j``'s arrival; each arrival schedules the next (no process needed)."""
        if j < self.o.n:
            env = self.env
            env.timeout(self.issue_t[j] - env.now, j).callbacks.append(self._on_arrival)

    def _batch(self, day: int) -> None:
        env = self.env
        env.timeout(day - env.now).callbacks.append(self._on_batch)

    def _on_batch(self, event) -> None:
        day = int(round(self.env.now))
        issue_t, issue = self.issue_t, self._issue
        for j in range(self.batches[day], self.batches[day + 1]):
            issue(j, issue_t[j])
        if day + 1 < len(self.batches) - 1:
            self._batch(day + 1)

    def _on_arrival(self, event) -> None:
        j = event._value
        self._order(j)
        self._arrive(j + 1)

    def _order(self, j: int) -> None:
        c, a = self.customer[j], self.amount[j]
        lim = self.limit[c]
        if (lim >= 0 and self.cust_open[c] + a > lim) or self.cust_overdue[c] > 0:
            self.log.append((self.env.now, rec.LOST_SALE, j, a, 0.0, 0.0))
            return
        self._issue(j, self.env.now)

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
        if t == self.armed[i] or t == INF:
            return  # the pending wake-up already serves (or nothing is pending)
        self.armed[i] = t
        v = self.version[i] + 1
        self.version[i] = v
        env = self.env
        now = env.now
        Timeout(env, t - now if t > now else 0.0, (i, v)).callbacks.append(self._on_wake)

    def _wake(self, event) -> None:
        i, version = event._value
        if version != self.version[i] or self.settled[i]:
            return
        self.armed[i] = INF
        now = self.env.now + _EPS
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
            self._dun(i)
        self._arm(i)

    def _dun(self, i: int) -> None:
        k = self.step[i]
        self.step[i] = k + 1
        self.dun_at[i] = self.due[i] + self.step_day[k + 1] if k + 1 < self.n_steps else INF
        step = self.scenario.dunning[k]
        now = self.env.now
        if step.channel == "call":
            if self.centre is not None and self.centre.enqueue(i, k):
                self.log.append((now, rec.CALL_QUEUED, i, 0, float(k), 0.0))
            return
        self.log.append((now, rec.DUNNING, i, 0, float(k), 0.0))
        self.pay[i] = accelerate(self.pay[i], now, step.uplift, step.uplift_days)

    def _withdraw_call(self, i: int) -> None:
        """Take a waiting call off the collectors' queue: nothing left to call about."""
        centre = self.centre
        if centre is not None and i in centre:
            step = centre.cancel(i)
            self.log.append((self.env.now, rec.CALL_DROPPED, i, 0, float(step), 0.0))

    def _escalate(self, i: int) -> None:
        o = self.o
        self._withdraw_call(i)
        self.escalated[i] = True
        self.step[i] = self.n_steps
        self.dun_at[i] = INF
        self.log.append((self.env.now, rec.AGENCY, i, self.open[i], 0.0, 0.0))
        self.pay[i] = self.env.now + o.recovery_delay[i] if o.recovered[i] else INF

    # ------------------------------------------------------------ settlement
    def _settle_by(self, i: int, kind: int, amount: int) -> None:
        now = self.env.now
        if amount > 0:
            self.log.append((now, kind, i, amount, 0.0, 0.0))
        self.open[i] -= amount
        self.cust_open[self.customer[i]] -= amount
        if self.open[i] <= 0:
            self.settled[i] = True
            if self.flagged[i]:
                self.cust_overdue[self.customer[i]] -= 1
            self._withdraw_call(i)

    def _pay(self, i: int) -> None:
        o = self.o
        rate = o.discount_rate[i]
        if o.taker[i] and rate > 0:
            days = math.floor(self.env.now) - math.floor(self.issue_t[i])
            if days <= o.discount_days[i]:
                self._settle_by(i, rec.DISCOUNT, int(round(self.amount[i] * rate)))
        amount = self.open[i]
        if self.escalated[i]:
            fee = int(round(amount * self.scenario.collections.agency_fee_rate))
            self.log.append((self.env.now, rec.AGENCY_FEE, i, fee, 0.0, 0.0))
        self._settle_by(i, rec.PAYMENT, amount)

    # --------------------------------------------------------------- disputes
    def _open_dispute(self, i: int) -> None:
        self.hold[i] = True
        self._withdraw_call(i)
        self.dispute_at[i] = INF
        self.version[i] += 1
        self.armed[i] = INF
        self.log.append((self.env.now, rec.DISPUTE_OPEN, i, self.open[i], 0.0, 0.0))
        self.env.process(self._dispute_case(i))

    def _dispute_case(self, i: int):
        work = float(self.o.dispute_work[i])
        if self.desk is None:
            yield self.env.timeout(work)
        else:
            with self.desk.request() as request:
                yield request
                yield self.env.timeout(work)
        self._resolve(i)

    def _resolve(self, i: int) -> None:
        now = self.env.now
        s = self.scenario.disputes
        upheld = bool(self.o.upheld[i])
        self.log.append((now, rec.DISPUTE_RESOLVED, i, self.open[i], float(upheld), 0.0))
        self.hold[i] = False
        if upheld:
            credit = self.open[i]
            if s.credit_fraction < 1.0:
                credit = int(round(credit * s.credit_fraction))
            self._settle_by(i, rec.CREDIT_NOTE, credit)
            if self.settled[i]:
                return
        self.pay[i] = max(self.pay[i], now + s.pay_after_resolution_days)
        # Dunning steps that fell due during the dispute are skipped, not caught up.
        self._set_dunning(i, now)
        self._arm(i)

    # ------------------------------------------------------------------ calls
    def _call_items(self, inv: np.ndarray) -> dict[str, np.ndarray]:
        o = self.o
        return {
            "invoice": inv,
            "amount": np.fromiter((self.open[i] for i in inv), dtype=np.int64, count=len(inv)),
            "issued": o.issue[inv],
            "due": o.due[inv],
            "risk": o.segment_risk[o.segment[inv]],
        }

    def _call_start(self, i: int, queued: float, step: int, handling: float) -> None:
        self.log.append((self.env.now, rec.CALL, i, 0, self.env.now - queued, handling))

    def _call_done(self, i: int, k: int) -> None:
        if self.settled[i] or self.hold[i]:
            return
        step = self.scenario.dunning[k]
        self.pay[i] = accelerate(self.pay[i], self.env.now, step.uplift, step.uplift_days)
        self._arm(i)
