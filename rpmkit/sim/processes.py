"""The collectors' call centre, a process with its own state, as callbacks in SimPy's queue.

:func:`call_later` is how the model and the call centre schedule their callbacks."""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappop, heappush
from math import floor
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from rpmkit.sim.params import Collectors
from rpmkit.sim.policies import Rule

__all__ = ["CallCentre", "call_later", "handling_sampler"]

MINUTES_PER_DAY = 1440.0
_EPS = 1e-9


class _Wake:
    """A scheduled callback: what SimPy's loop reads of an event (``callbacks``,
    ``_ok``) and the value the callback reads (``_value``, as of a ``Timeout``)."""

    __slots__ = ("_value", "callbacks")
    _ok = True


def call_later(
    env: simpy.Environment, delay: float, callback: Callable[[Any], None], value: Any = None
) -> None:
    """``Timeout(env, delay, value).callbacks.append(callback)`` without the ``Timeout``.

    The queue entry is the one ``Environment.schedule`` makes, ``(now + delay,
    NORMAL, next event id, event)``, so events run in the same order; the event
    is a bare slotted object, which spares the ``Timeout`` and ``schedule``
    calls: a third of what scheduling costs, once or twice per invoice step.

    >>> env = simpy.Environment()
    >>> call_later(env, 2.5, lambda event: print(env.now, event._value), "due")
    >>> env.run()
    2.5 due
    """
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    event = _Wake()
    event.callbacks = [callback]
    event._value = value
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), event))


def handling_sampler(
    c: Collectors, rng: np.random.Generator, block: int = 4096
) -> Callable[[], float]:
    """Handling time of the next call, in days, drawn in blocks from the ``handling`` stream."""
    mean = c.handling_minutes / MINUTES_PER_DAY
    if c.handling_distribution == "fixed":
        return lambda: mean
    buffer: list[float] = []

    def refill() -> None:
        if c.handling_distribution == "exponential":
            draws = rng.exponential(mean, block)
        else:
            mu = math.log(mean) - c.handling_sigma**2 / 2
            draws = rng.lognormal(mu, c.handling_sigma, block)
        buffer.extend(draws[::-1].tolist())

    def draw() -> float:
        if not buffer:
            refill()
        return buffer.pop()

    return draw


class CallCentre:
    """``count`` collectors serving a call queue in the order a :data:`Rule` gives.

    Calls are queued with :meth:`enqueue` and withdrawn with :meth:`cancel`
    (the model withdraws an invoice's call when it is settled, disputed or
    placed with the agency). When a collector picks, the calls
    queued since the last pick get their keys from the rule (one vectorised
    call for the batch) and join a heap; the collector takes the smallest key,
    ties in queueing order. A call whose invoice is no longer callable
    (settled, disputed, with the agency) is dropped unhandled. An idle
    collector waits until a call is queued. Outside the shift (``[day, day +
    hours/24)`` of every day) collectors wait for the next shift; a call
    started in the shift is finished.

    Parameters
    ----------
    env
        The environment.
    collectors
        Team settings.
    rule
        Prioritisation rule.
    items
        ``items(invoices) -> dict of arrays`` for the rule (see :mod:`rpmkit.sim.policies`).
    callable_
        ``callable_(invoice) -> bool``: is the call still worth making.
    handling
        Draws the next handling time in days.
    item
        ``item(invoice) -> (open amount, issue time, due time, risk)``: with it, a
        built-in rule keys a call when it is queued, without arrays.
    on_start, on_done, on_drop
        Callbacks ``(invoice, queued_time, step, handling)``, ``(invoice, step)``
        and ``(invoice, step)``.
    """

    def __init__(
        self,
        env: simpy.Environment,
        collectors: Collectors,
        rule: Rule,
        items: Callable[[np.ndarray], dict[str, np.ndarray]],
        callable_: Callable[[int], bool],
        handling: Callable[[], float],
        on_start: Callable[[int, float, int, float], None],
        on_done: Callable[[int, int], None],
        on_drop: Callable[[int, int], None],
        item: Callable[[int], tuple[int, float, float, float]] | None = None,
    ) -> None:
        self.env = env
        self.shift = collectors.hours_per_day / 24.0
        self.rule = rule
        self.items = items
        self.callable = callable_
        self.handling = handling
        self.on_start, self.on_done, self.on_drop = on_start, on_done, on_drop
        self.item = item
        # a built-in rule keys each call as it is queued (policies._scalar_keys)
        self.scalar = getattr(rule, "scalar", None) if item is not None else None
        self.heap: list[tuple[float, int, int, float, int]] = []
        self.incoming: list[tuple[int, float, int, int]] = []
        self.seq = 0
        self.idle = collectors.count  # collectors waiting for a call
        self.calling = False  # a wake-up for the idle collectors is scheduled
        self.waiting: dict[int, tuple[int, int]] = {}  # invoice -> (sequence number, step)
        # bound once: a bound method made per scheduled callback costs as much as the call
        self._on_free, self._on_idle, self._on_shift = self._free, self._call_idle, self._serve

    def __len__(self) -> int:
        return len(self.heap) + len(self.incoming)

    def __contains__(self, invoice: int) -> bool:
        return invoice in self.waiting

    def enqueue(self, invoice: int, step: int) -> bool:
        """Queue a call; False (nothing queued) when the invoice already waits for one."""
        waiting = self.waiting
        if invoice in waiting:
            return False
        now = self.env._now
        seq = self.seq
        waiting[invoice] = (seq, step)
        self.seq = seq + 1
        if self.scalar is not None:
            amount, issued, due, risk = self.item(invoice)
            heappush(
                self.heap, (self.scalar(amount, issued, due, now, risk), seq, invoice, now, step)
            )
        else:
            self.incoming.append((invoice, now, step, seq))
        if self.idle and not self.calling:
            # the idle collectors look once every call queued at this instant is in
            self.calling = True
            call_later(self.env, 0.0, self._on_idle)
        return True

    def cancel(self, invoice: int) -> int:
        """Withdraw an invoice's waiting call (its heap entry is skipped later); its step."""
        return self.waiting.pop(invoice)[1]

    def _key_incoming(self) -> None:
        calls, self.incoming = self.incoming, []
        n = len(calls)
        calls = [c for c in calls if self.waiting.get(c[0], (-1,))[0] == c[3]]
        n = len(calls)
        if not n:
            return
        inv = np.fromiter((c[0] for c in calls), dtype=np.int64, count=n)
        items = self.items(inv)
        items["queued"] = np.fromiter((c[1] for c in calls), dtype=float, count=n)
        keys = np.asarray(self.rule(items, self.env._now), dtype=float).tolist()
        for key, (invoice, queued, step, seq) in zip(keys, calls, strict=True):
            heappush(self.heap, (key, seq, invoice, queued, step))

    def _call_idle(self, event) -> None:
        self.calling = False
        while self.idle and (self.heap or self.incoming):
            self.idle -= 1
            if not self._serve():
                return

    def _free(self, event) -> None:
        """A collector finished a call: report it, then serve the next."""
        invoice, step = event._value
        self.on_done(invoice, step)
        self._serve()

    def _serve(self, event=None) -> bool:
        """One free collector: wait for the shift, take the next call or go idle.

        Callbacks scheduled with :func:`call_later` rather than a process per collector: a
        process resume costs several times a callback, and idle collectors
        are woken one per queued call instead of all at once."""
        env = self.env
        now = env._now
        if self.shift < 1.0:
            day = floor(now + _EPS)
            if now - day >= self.shift - _EPS:
                call_later(env, day + 1 - now, self._on_shift)
                return True
        if self.incoming:
            self._key_incoming()
        # the next call: the smallest key still waiting (once per call made, inlined)
        heap, waiting = self.heap, self.waiting
        while heap:
            _, seq, invoice, queued, step = heappop(heap)
            live = waiting.pop(invoice, None)
            if live is None or live[0] != seq:
                if live is not None:
                    waiting[invoice] = live  # queued again after a cancel: a later entry
                continue  # withdrawn with :meth:`cancel`
            if self.callable(invoice):
                handling = self.handling()
                self.on_start(invoice, queued, step, handling)
                call_later(env, handling, self._on_free, (invoice, step))
                return True
            self.on_drop(invoice, step)
        self.idle += 1
        return False
