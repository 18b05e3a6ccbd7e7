"""Disputes and calls: the handlers of :class:`~rpmkit.sim.model.Model` that meet shared capacity.

The dispute desk (a SimPy ``Resource``) and the collectors' call centre
(:class:`~rpmkit.sim.processes.CallCentre`) are where invoices wait for one
another; these methods are mixed into the model and use its per-invoice state.

>>> from rpmkit.sim.model import Model
>>> issubclass(Model, Interactions)
True
"""

from __future__ import annotations

import numpy as np

from rpmkit.sim import records as rec
from rpmkit.sim.fastpath import accelerate

__all__ = ["Interactions"]

INF = float("inf")


class Interactions:
    """Dispute and call handlers of the model (a mixin: the state lives in ``Model``)."""

    def _withdraw_call(self, i: int) -> None:
        """Take a waiting call off the collectors' queue: nothing left to call about."""
        centre = self.centre
        if centre is not None and i in centre:
            step = centre.cancel(i)
            self.log.append((self.env.now, rec.CALL_DROPPED, i, 0, float(step), 0.0))

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
        return self.open[i], self.issue_t[i], self.due[i], self.risk[i]

    def _call_start(self, i: int, queued: float, step: int, handling: float) -> None:
        self.log.append((self.env.now, rec.CALL, i, 0, self.env.now - queued, handling))

    def _call_done(self, i: int, k: int) -> None:
        if self.settled[i] or self.hold[i]:
            return
        step = self.scenario.dunning[k]
        self.pay[i] = accelerate(self.pay[i], self.env.now, step.uplift, step.uplift_days)
        self._next(i)
