"""Disputes, calls and promises: the :class:`~rpmkit.sim.model.Model` handlers at shared capacity.

The dispute desk (a SimPy ``Resource``) and the collectors' call centre
(:class:`~rpmkit.sim.processes.CallCentre`) are where invoices wait for one
another; these methods are mixed into the model and use its per-invoice state.

>>> from rpmkit.sim.model import Model
>>> issubclass(Model, Interactions)
True
"""

from __future__ import annotations

import math

import numpy as np

from rpmkit.sim import records as rec
from rpmkit.sim.fastpath import hastened

__all__ = ["Interactions"]

INF = float("inf")
_EPS = 1e-9


class Interactions:
    """Dispute and call handlers of the model (a mixin: the state lives in ``Model``)."""

    def _withdraw_call(self, i: int) -> None:
        """Take a waiting call off the collectors' queue: nothing left to call about."""
        centre = self.centre
        if centre is not None and i in centre.waiting:
            step = centre.cancel(i)
            self.log.append((self.env._now, rec.CALL_DROPPED, i, 0, float(step), 0.0))

    # --------------------------------------------------------------- disputes
    def _open_dispute(self, i: int) -> None:
        self.hold[i] = True
        self._withdraw_call(i)
        if self.promising:
            self._close_promise(i, False, self.env._now)
        self.dispute_at[i] = INF
        self.pending[i] = None  # its wake-up is void: the dispute desk has it
        self.log.append((self.env._now, rec.DISPUTE_OPEN, i, self.open[i], 0.0, 0.0))
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
        now = self.env._now
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
        self._next(i)

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

    def _call_item(self, i: int) -> tuple[int, float, float, float]:
        return self.open[i], self.issue_t[i], self.due[i], self.segment_risk[self.segment[i]]

    def _call_start(self, i: int, queued: float, step: int, handling: float) -> None:
        now = self.env._now
        self.log.append((now, rec.CALL, i, 0, now - queued, handling))

    def _call_dropped(self, i: int, k: int) -> None:
        self.log.append((self.env._now, rec.CALL_DROPPED, i, 0, float(k), 0.0))

    def _call_done(self, i: int, k: int) -> None:
        if self.settled[i] or self.hold[i]:
            return
        self.pay[i] = hastened(self.pay[i], self.env._now, self.step_speedup[k])
        if self.promise_draws is not None:
            self._promise(i, k)
        self._next(i)

    # --------------------------------------------------------------- promises
    def _promise(self, i: int, k: int) -> None:
        """The call may end in a promise: move the payment and defer dunning to the grace end.

        A kept promise replaces the payment time: the middle of the promised day
        plus ``slip`` days (not before now); a broken one pays no earlier than
        the end of the grace period plus its extra delay. Dunning steps
        wait for the end of the grace period (:meth:`_promise_end`)."""
        c = self.promised_count.get(i, 0)
        make = self.promise_make
        if c >= len(make) or not make[c][i] or i in self.promising:
            return
        self.promised_count[i] = c + 1
        d = self.promise_draws
        now = self.env._now
        # .item(): a Python number; numpy scalars are slow in this per-call path
        promised = math.floor(now + _EPS) + d.lead.item(i, c)
        end = float(promised + 1 + self.scenario.promises.grace_days)
        if d.kept.item(i, c):
            self.pay[i] = max(now, promised + 0.5 + d.slip.item(i, c))
        else:
            self.pay[i] = max(self.pay[i], end + d.extra.item(i, c))
        self.dun_at[i] = end
        self.promising[i] = (end, k, promised)
        self.log.append((now, rec.PROMISE, i, self.open[i], float(promised), end - now))

    def _promise_end(self, i: int) -> None:
        """The grace period ended unpaid: the promise is broken and the invoice back in dunning.

        ``follow_up = "call"``: the steps that fell due meanwhile are skipped and a
        follow-up call (the promise's call step) is queued now; ``"next_step"``:
        the next step is taken at the later of its own day and now."""
        end, k, promised = self.promising.pop(i)
        now = self.env._now
        self.log.append((now, rec.PROMISE_BROKEN, i, 0, float(promised), 0.0))
        if self.scenario.promises.follow_up == "call":
            self._set_dunning(i, now)
            if self.centre.enqueue(i, k):
                self.log.append((now, rec.CALL_QUEUED, i, 0, float(k), 0.0))
        else:
            n = self.step[i]
            self.dun_at[i] = max(self.due[i] + self.step_day[n], now) if n < self.n_steps else INF

    def _close_promise(self, i: int, paid: bool, now: float) -> None:
        """Settled, disputed or placed with a promise running: kept if paid before its end."""
        entry = self.promising.pop(i, None)
        if entry is not None:
            kind = rec.PROMISE_KEPT if paid and now < entry[0] else rec.PROMISE_BROKEN
            self.log.append((now, kind, i, 0, float(entry[2]), 0.0))
