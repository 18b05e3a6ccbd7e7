"""Invoice channels and payment methods in a replication: draws, payment-time shifts, outputs.

With :class:`~rpmkit.sim.levers.Channels` on, every customer is on
e-invoicing or on paper, and every order has a payment method, drawn from the
``channels`` stream (:class:`~rpmkit.sim.random.Streams`: sub-key
``customers`` then ``methods``, one uniform per customer and per order). A
policy change re-draws nothing: moving paper customers to e-invoicing moves
those whose uniform lies just above the old share (common random numbers).

Payment times: a new order's natural payment time moves by
``paper_delay_days × (paper − (1 − electronic_share))`` plus its method's
``delay_days`` minus the mix's mean ``delay_days``. Both shifts are centred on
the mix the behaviour was observed under, so the mean delay is kept until a
lever moves the mix. Discount takers, defaults and opening items are not
moved; no payment moves before its invoice date. The customer's payment date
clears the invoice (it is the ``payment_date`` of the ledger and what DSO
uses); cash is available ``float_days`` later (the ``cash_available`` daily
series), and each payment costs its method's fee (``fees``).

>>> import dataclasses
>>> from rpmkit.sim import Behaviour, PayerBehaviour, Scenario, SegmentSales
>>> from rpmkit.sim.levers import Channels, PaymentMethod
>>> from rpmkit.sim.orders import draw_orders
>>> from rpmkit.sim.random import Streams
>>> mix = (PaymentMethod("ach", 0.5), PaymentMethod("check", 0.5, delay_days=4.0))
>>> s = Scenario(
...     horizon_days=60,
...     sales=(SegmentSales("smb", 50, 4.0, 800.0),),
...     behaviour=Behaviour(segments=(PayerBehaviour("smb", default_rate=0.0),)),
...     channels=Channels(electronic_share=0.5, paper_delay_days=6.0, methods=mix),
... )
>>> o = draw_orders(s, Streams(s.seed))
>>> paper = ~o.electronic[o.customer]
>>> check = o.method == 1
>>> plain = draw_orders(dataclasses.replace(s, channels=Channels()), Streams(s.seed))
>>> moved = (o.natural > o.issue) & (plain.natural > plain.issue)  # none clipped at issue
>>> shift = (o.natural - plain.natural).round(6)
>>> sorted(set(shift[moved].tolist()))  # paper +3 / electronic -3, check +2 / ach -2
[-5.0, -1.0, 1.0, 5.0]
>>> bool((shift[moved & paper & check] == 5.0).all())
True
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.keys import group_sum
from rpmkit.ledger import Ledger
from rpmkit.sim import records as rec
from rpmkit.sim.levers import Channels
from rpmkit.sim.orders import Orders
from rpmkit.sim.params import Scenario
from rpmkit.sim.random import Streams
from rpmkit.synth import text

__all__ = ["CHANNEL_DAILY", "apply_channels", "channel_daily", "channel_ledger"]

CHANNEL_DAILY: dict[str, str] = {
    "fees": "payment-method fees on the payments of that day (minor units)",
    "cash_available": "receipts whose cash is available that day, after float (minor units)",
}
"""Daily series of channels and methods (zero fees and ``cash_available = receipts`` when off)."""


def payment_shift(ch: Channels, paper: np.ndarray, method: np.ndarray | None) -> np.ndarray:
    """Days each order's payment moves: the paper delay and the method delay, centred on the mix.

    >>> from rpmkit.sim.levers import Channels
    >>> payment_shift(
    ...     Channels(electronic_share=0.75, paper_delay_days=8.0), np.array([True, False]), None
    ... ).tolist()
    [6.0, -2.0]
    """
    shift = np.zeros(len(paper))
    if ch.electronic_share is not None and ch.paper_delay_days:
        shift += ch.paper_delay_days * (paper - (1.0 - ch.electronic_share))
    if ch.methods and method is not None:
        delay = np.array([m.delay_days for m in ch.methods])
        share = np.array([m.share for m in ch.methods])
        shift += delay[method] - float(delay @ share)
    return shift


def apply_channels(scenario: Scenario, streams: Streams, o: Orders) -> Orders:
    """The orders with each customer's channel, each order's method and shifted payment times."""
    ch = scenario.channels
    n_cust = len(o.customer_segment)
    electronic = None
    paper = np.zeros(o.n, dtype=bool)
    if ch.electronic_share is not None:
        u = streams.rng("channels", "customers").random(n_cust)
        electronic = u < ch.electronic_after_move
        paper = ~electronic[o.customer]
    method = None
    if ch.methods:
        u = streams.rng("channels", "methods").random(o.n)
        cum = np.cumsum([m.share for m in ch.methods])
        method = np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)
    shift = payment_shift(ch, paper, method)
    movable = np.isfinite(o.natural) & ~o.taker
    movable[: o.n_opening] = False
    natural = np.where(movable, np.maximum(o.natural + shift, o.issue), o.natural)
    return dataclasses.replace(o, natural=natural, electronic=electronic, method=method)


def _fees_float(scenario: Scenario, o: Orders, log: rec.Log) -> tuple[np.ndarray, ...]:
    """Per payment event: its mask, fee (minor units) and float days."""
    ch = scenario.channels
    pay = log.kind == rec.PAYMENT
    rows = log.order[pay]
    if not ch.methods or o.method is None:
        z = np.zeros(len(rows))
        return pay, z.astype(np.int64), z
    scale = 10 ** money.exponent(scenario.currency)
    m = o.method[rows]
    rate = np.array([x.fee_rate for x in ch.methods])[m]
    fixed = np.array([x.fee_fixed for x in ch.methods])[m]
    fee = np.rint(log.amount[pay] * rate + fixed * scale).astype(np.int64)
    return pay, fee, np.array([x.float_days for x in ch.methods])[m]


def channel_daily(scenario: Scenario, o: Orders, log: rec.Log) -> dict[str, np.ndarray]:
    """The :data:`CHANNEL_DAILY` series, one value per simulated day."""
    h = scenario.horizon_days
    pay, fee, float_days = _fees_float(scenario, o, log)
    t = log.time[pay]
    day = np.floor(t).astype(np.int64)
    available = np.floor(t + float_days).astype(np.int64)
    out = {}
    for name, d, values in (("fees", day, fee), ("cash_available", available, log.amount[pay])):
        keep = (d >= 0) & (d < h)
        out[name] = group_sum(d[keep], values[keep], h)
    return out


def channel_ledger(scenario: Scenario, o: Orders, log: rec.Log, ledger: Ledger) -> Ledger:
    """The simulated ledger with ``invoices.channel`` and ``payments.method`` filled in.

    Payments are written one per payment event in event order (as
    :func:`rpmkit.sim.outputs.ledger` writes them), so the method of
    payment ``k`` is that of the order of the ``k``-th payment event.
    """
    ch = scenario.channels
    if not ch.on:
        return ledger
    changes = {}
    if o.electronic is not None:
        inv = log.order[log.kind == rec.ISSUE]
        invoices = ledger.invoices.copy()
        paper = ~o.electronic[o.customer[inv]]
        invoices["channel"] = text.series(text.where(paper, "paper", "electronic"))
        changes["invoices"] = invoices
    if ch.methods and o.method is not None:
        rows = log.order[log.kind == rec.PAYMENT]
        payments = ledger.payments.copy()
        names = [m.name for m in ch.methods]
        payments["method"] = text.series(text.take(names, o.method[rows]))
        changes["payments"] = payments
    return ledger.replace(**changes) if changes else ledger


def channel_summary(result) -> pd.DataFrame:
    """Per channel and method: invoices, mean days from invoice to payment, fees (currency units).

    ``result`` is a :class:`~rpmkit.sim.records.SimResult` of a scenario with channels on.
    """
    led = result.ledger
    units = 10 ** money.exponent(result.scenario.currency)
    alloc = led.allocations.merge(led.payments[["payment_id", "payment_date", "method"]])
    paid = alloc.merge(led.invoices[["invoice_id", "invoice_date", "channel"]])
    paid["days"] = (paid["payment_date"] - paid["invoice_date"]).dt.days
    out = paid.groupby(["channel", "method"], dropna=False, observed=True).agg(
        payments=("days", "size"), mean_days=("days", "mean"), amount=("amount", "sum")
    )
    out["amount"] = out["amount"] / units
    return out
