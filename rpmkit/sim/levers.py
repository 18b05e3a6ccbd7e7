"""Scenario sections for promises to pay and for invoice channels and payment methods.

Both are off by default (:class:`Promises` ``rate = 0``, :class:`Channels`
without ``electronic_share`` or ``methods``): a scenario that does not set
them simulates exactly what it did before they existed, draw for draw.
Units as in :mod:`rpmkit.sim.sections`: ``*_days`` are calendar days, money
is in units of the reporting currency, rates and shares are in ``[0, 1]``.

>>> Promises().on, Promises(rate=0.4).on
(False, True)
>>> Promises(rate=0.4, segments=(PromiseKeeping("smb", 0.3),)).kept_rate_of("smb")
0.3
>>> Channels(methods=(PaymentMethod("ach", 0.7), PaymentMethod("check", 0.3))).on
True
>>> PaymentMethod("cash", 1.0)
Traceback (most recent call last):
...
ValueError: PaymentMethod.name must be one of ('ach', 'wire', 'card', 'check', 'other'), got 'cash'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rpmkit.schema import PAYMENT_METHODS
from rpmkit.sim.sections import check_number, fail  # they name the place in a file

__all__ = [
    "FOLLOW_UPS",
    "Channels",
    "PaymentMethod",
    "PromiseKeeping",
    "Promises",
]

FOLLOW_UPS = ("call", "next_step")


@dataclass(frozen=True)
class PromiseKeeping:
    """The probability that the customers of one segment keep a promise to pay.

    Parameters
    ----------
    segment
        Name of a sales segment.
    kept_rate
        Probability a promise is kept, in ``[0, 1]``.
    """

    segment: str
    kept_rate: float

    def __post_init__(self) -> None:
        if not (isinstance(self.segment, str) and self.segment):
            fail("PromiseKeeping", "segment", "a non-empty string", self.segment)
        check_number(f"PromiseKeeping({self.segment!r})", "kept_rate", self.kept_rate, 0.0, 1.0)


@dataclass(frozen=True)
class Promises:
    """Promises to pay made on collector calls, kept or broken.

    Parameters
    ----------
    rate
        Share of completed calls that end with a promise to pay, in ``[0, 1]``;
        0 (the default) switches promises off.
    lead_median_days, lead_sigma
        Days from the call to the promised date: lognormal with this median
        (``[0.5, 365]``) and sigma of the log (``[0, 3]``), rounded to whole
        days, at least 1.
    kept_rate
        Probability a promise is kept, in ``[0, 1]``, for segments not in ``segments``.
    segments
        :class:`PromiseKeeping` entries overriding ``kept_rate`` per segment.
    slip_mean_days, slip_sd_days
        A kept promise pays ``slip`` days after the promised date, normal with
        this mean (``[-30, 30]``) and standard deviation (``[0, 30]``),
        clipped to ``[-lead, grace_days]`` (never before the call, never
        after the grace period).
    grace_days
        A promise still unpaid ``grace_days`` after the promised date is
        broken, in ``[0, 60]``; calibration judges recorded promises by the same rule.
    broken_delay_days
        A broken promise's payment comes no earlier than the end of the grace
        period plus an exponential extra delay of this mean, in ``[0, 365]``
        days (default 0: no earlier than the end of the grace period).
    follow_up
        What a broken promise returns the invoice to: ``call`` (a follow-up
        call is queued at the end of the grace period) or ``next_step`` (the
        dunning sequence resumes with its next step).
    max_promises
        Promises per invoice at most, in ``[1, 10]``; later calls end without one.
    """

    rate: float = 0.0
    lead_median_days: float = 7.0
    lead_sigma: float = 0.5
    kept_rate: float = 0.55
    segments: tuple[PromiseKeeping, ...] = ()
    slip_mean_days: float = 0.0
    slip_sd_days: float = 0.0
    grace_days: int = 3
    broken_delay_days: float = 0.0
    follow_up: str = "call"
    max_promises: int = 2

    def __post_init__(self) -> None:
        o = "Promises"
        check_number(o, "rate", self.rate, 0.0, 1.0)
        check_number(o, "lead_median_days", self.lead_median_days, 0.5, 365.0)
        check_number(o, "lead_sigma", self.lead_sigma, 0.0, 3.0)
        check_number(o, "kept_rate", self.kept_rate, 0.0, 1.0)
        if not (
            isinstance(self.segments, tuple)
            and all(isinstance(s, PromiseKeeping) for s in self.segments)
        ):
            fail(o, "segments", "a tuple of PromiseKeeping", self.segments)
        names = [s.segment for s in self.segments]
        if len(set(names)) != len(names):
            fail(o, "segments", "at most one entry per segment", names)
        check_number(o, "slip_mean_days", self.slip_mean_days, -30.0, 30.0)
        check_number(o, "slip_sd_days", self.slip_sd_days, 0.0, 30.0)
        check_number(o, "grace_days", self.grace_days, 0, 60, integer=True)
        check_number(o, "broken_delay_days", self.broken_delay_days, 0.0, 365.0)
        if self.follow_up not in FOLLOW_UPS:
            fail(o, "follow_up", f"one of {FOLLOW_UPS}", self.follow_up)
        check_number(o, "max_promises", self.max_promises, 1, 10, integer=True)

    @property
    def on(self) -> bool:
        """Whether calls can end in promises (``rate > 0``)."""
        return self.rate > 0.0

    def kept_rate_of(self, segment: str) -> float:
        """The kept rate of a segment: its :class:`PromiseKeeping` entry, else ``kept_rate``."""
        return next((s.kept_rate for s in self.segments if s.segment == segment), self.kept_rate)


@dataclass(frozen=True)
class PaymentMethod:
    """One payment method of the mix: its share, what it costs and how long cash takes.

    Parameters
    ----------
    name
        ``ach``, ``wire``, ``card``, ``check`` or ``other`` (``payments.method``).
    share
        Share of invoices paid by this method, in ``[0, 1]``; the shares of
        :attr:`Channels.methods` sum to 1.
    fee_rate
        Fee as a share of the amount received, in ``[0, 0.2]`` (a cost to the company).
    fee_fixed
        Fixed fee per payment in currency units, in ``[0, 1e4]``.
    float_days
        Days from the customer's payment to cash available, in ``[0, 60]``.
    delay_days
        Days this method's payments come later than the mix's average, in
        ``[-30, 30]`` (a cheque travels by mail); the shift is centred on
        the mix, so the behaviour's mean delay is kept.
    """

    name: str
    share: float
    fee_rate: float = 0.0
    fee_fixed: float = 0.0
    float_days: float = 0.0
    delay_days: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in PAYMENT_METHODS:
            fail("PaymentMethod", "name", f"one of {PAYMENT_METHODS}", self.name)
        o = f"PaymentMethod({self.name!r})"
        check_number(o, "share", self.share, 0.0, 1.0)
        check_number(o, "fee_rate", self.fee_rate, 0.0, 0.2)
        check_number(o, "fee_fixed", self.fee_fixed, 0.0, 1e4)
        check_number(o, "float_days", self.float_days, 0.0, 60.0)
        check_number(o, "delay_days", self.delay_days, -30.0, 30.0)


@dataclass(frozen=True)
class Channels:
    """How invoices reach customers (paper or electronic) and how customers pay.

    Parameters
    ----------
    electronic_share
        Share of customers on e-invoicing, in ``[0, 1]``; ``None`` (default)
        leaves channels out (``invoices.channel`` blank, no effect on payment times).
    paper_delay_days
        Days paper invoices are paid later than electronic ones, in
        ``[-60, 60]``; the shift is centred on ``electronic_share`` (the mix
        the behaviour was observed under), so without a move the mean delay is kept.
    move_to_electronic
        The policy lever: share of the paper customers moved to e-invoicing,
        in ``[0, 1]``; their invoices lose the paper delay.
    methods
        The payment-method mix (:class:`PaymentMethod`, distinct names, shares
        summing to 1); empty (default) leaves methods out (``payments.method``
        blank, no fees, cash available on the payment date).
    """

    electronic_share: float | None = None
    paper_delay_days: float = 0.0
    move_to_electronic: float = 0.0
    methods: tuple[PaymentMethod, ...] = ()

    def __post_init__(self) -> None:
        o = "Channels"
        if self.electronic_share is not None:
            check_number(o, "electronic_share", self.electronic_share, 0.0, 1.0)
        check_number(o, "paper_delay_days", self.paper_delay_days, -60.0, 60.0)
        check_number(o, "move_to_electronic", self.move_to_electronic, 0.0, 1.0)
        m = self.methods
        if not (isinstance(m, tuple) and all(isinstance(x, PaymentMethod) for x in m)):
            fail(o, "methods", "a tuple of PaymentMethod", m)
        names = [x.name for x in m]
        if len(set(names)) != len(names):
            fail(o, "methods", "methods with distinct names", names)
        if m and not math.isclose(sum(x.share for x in m), 1.0, abs_tol=1e-6):
            fail(o, "methods", "shares summing to 1", [x.share for x in m])

    @property
    def on(self) -> bool:
        """Whether channels or methods are modelled."""
        return self.electronic_share is not None or bool(self.methods)

    @property
    def electronic_after_move(self) -> float:
        """Share of customers on e-invoicing once ``move_to_electronic`` is applied."""
        e = self.electronic_share or 0.0
        return e + (1.0 - e) * self.move_to_electronic
