"""The sections of a scenario: sales, payer behaviour and the policy levers.

Each section is a frozen dataclass validated on construction; messages name
the owner, the field and the allowed range (the helpers of
:mod:`rpmkit.synth.specs`), or, built from a scenario file's list, the item's
place there (:func:`located`). Units are in the field names or docstrings:
``*_days`` are calendar days, money is in units of the reporting currency
(not minor units), rates and shares are in ``[0, 1]``.

>>> Collectors(count=2).rule
'by_expected_value'
>>> DunningStep(800)
Traceback (most recent call last):
...
ValueError: DunningStep.day must be an integer in [-60, 730], got 800
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rpmkit.sim.policies import RULES
from rpmkit.synth import specs
from rpmkit.synth.specs import parse_terms

__all__ = [
    "DEFAULT_DUNNING",
    "DEFAULT_SALES",
    "DUNNING_CHANNELS",
    "HANDLING_DISTRIBUTIONS",
    "Behaviour",
    "Collections",
    "Collectors",
    "CreditPolicy",
    "CustomerHabit",
    "Disputes",
    "DunningStep",
    "PayerBehaviour",
    "SegmentSales",
]

DUNNING_CHANNELS = ("reminder", "email", "sms", "letter", "call")
HANDLING_DISTRIBUTIONS = ("exponential", "lognormal", "fixed")

# Where the item being built sits in a scenario file, e.g. "dunning[1]" (see located).
_location: ContextVar[str | None] = ContextVar("rpmkit_sim_location", default=None)


@contextmanager
def located(where: str) -> Iterator[None]:
    """Name ``where`` instead of the class in the messages of the items built inside.

    ``Scenario.from_dict`` builds each item of a list with its place in the
    file, so a message says which step or segment is wrong:

    >>> with located("dunning[1]"):
    ...     DunningStep(-100)
    Traceback (most recent call last):
    ...
    ValueError: dunning[1]: day must be an integer in [-60, 730], got -100
    """
    token = _location.set(where)
    try:
        yield
    finally:
        _location.reset(token)


def _relocated(owner: str, exc: ValueError) -> ValueError:
    where = _location.get()
    if where is None:
        return exc
    return ValueError(f"{where}: {str(exc).removeprefix(f'{owner}.')}")


def fail(owner: str, name: str, allowed: str, value) -> None:
    """:func:`rpmkit.synth.specs.fail`, naming the place set by :func:`located` if any."""
    try:
        specs.fail(owner, name, allowed, value)
    except ValueError as exc:
        raise _relocated(owner, exc) from None


def check_number(owner: str, name: str, value, lo, hi, *, integer: bool = False) -> None:
    """:func:`rpmkit.synth.specs.check_number`, naming the place set by :func:`located`."""
    try:
        specs.check_number(owner, name, value, lo, hi, integer=integer)
    except ValueError as exc:
        raise _relocated(owner, exc) from None


def _optional(owner: str, name: str, value, lo, hi, *, integer: bool = False) -> None:
    if value is not None:
        check_number(owner, name, value, lo, hi, integer=integer)


@dataclass(frozen=True)
class SegmentSales:
    """New sales of one customer segment.

    Parameters
    ----------
    name
        Segment code written to ``customers.segment`` and ``invoices.segment``.
    customers
        Number of customer accounts, in ``[1, 10_000_000]``; each order goes to
        one of them at random (uniformly).
    invoices_per_day
        Mean number of orders per calendar day for the whole segment, in
        ``(0, 1e6]``; orders arrive as a Poisson process.
    amount_mean, amount_sigma
        Invoice amounts are lognormal with this arithmetic mean (currency
        units, in ``[0.01, 1e9]``) and this sigma of the log, in ``[0, 3]``.
    terms
        Terms code of the segment's invoices: ``NETn`` or ``p/d NETn`` (a
        discount of p % when paid within d days of the invoice date).
    growth_per_year
        Growth of the order rate, a fraction per year in ``[-0.9, 10]``
        (0.1 = 10 % a year, compounded daily): ``invoices_per_day`` is the
        rate at the start and day ``d`` runs at ``(1 + growth)^(d / 365.25)``
        times it. Default 0.
    seasonality
        ``None`` (default: no seasonality) or 12 factors, January to
        December, each in ``(0, 10]``, multiplying the rate in that calendar
        month (used as given: factors averaging 1 keep the yearly volume).
    """

    name: str
    customers: int
    invoices_per_day: float
    amount_mean: float
    amount_sigma: float = 0.8
    terms: str = "NET30"
    growth_per_year: float = 0.0
    seasonality: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        o = f"SegmentSales({self.name!r})"
        if not (isinstance(self.name, str) and self.name):
            fail("SegmentSales", "name", "a non-empty string", self.name)
        check_number(o, "customers", self.customers, 1, 10_000_000, integer=True)
        check_number(o, "invoices_per_day", self.invoices_per_day, 1e-9, 1e6)
        check_number(o, "amount_mean", self.amount_mean, 0.01, 1e9)
        check_number(o, "amount_sigma", self.amount_sigma, 0.0, 3.0)
        check_number(o, "growth_per_year", self.growth_per_year, -0.9, 10.0)
        if self.seasonality is not None:
            f = self.seasonality
            if not (
                isinstance(f, tuple)
                and len(f) == 12
                and all(isinstance(x, (int, float)) and 0 < x <= 10 for x in f)
            ):
                fail(o, "seasonality", "12 monthly factors in (0, 10], or null", f)
        try:
            net, pct, days = parse_terms(self.terms)
        except (ValueError, TypeError):
            fail(o, "terms", "a code like NET30 or 2/10 NET30", self.terms)
        if not (0 <= net <= 365 and pct < 0.5 and days <= net):
            fail(
                o,
                "terms",
                "net days in [0, 365], discount < 50 %, discount days <= net",
                self.terms,
            )

    def daily_rates(self, start: pd.Timestamp, days: int) -> np.ndarray:
        """Expected orders on each of ``days`` days from ``start`` (growth and seasonality).

        >>> s = SegmentSales(
        ...     "smb", 10, 2.0, 100.0, growth_per_year=1.0, seasonality=(2.0,) + (1.0,) * 11
        ... )
        >>> s.daily_rates(pd.Timestamp("2025-01-31"), 2).round(4).tolist()
        [4.0038, 2.0057]
        """
        d = np.arange(days, dtype=float)
        rate = self.invoices_per_day * (1.0 + self.growth_per_year) ** ((d + 0.5) / 365.25)
        if self.seasonality is not None:
            months = pd.date_range(start, periods=days, freq="D").month.to_numpy() - 1
            rate = rate * np.asarray(self.seasonality, dtype=float)[months]
        return rate

    @property
    def net_days(self) -> int:
        """Days from invoice date to due date."""
        return parse_terms(self.terms)[0]

    @property
    def discount(self) -> tuple[float, int]:
        """``(rate, days)`` of the early-payment discount; ``(0.0, 0)`` without one."""
        return parse_terms(self.terms)[1:]


@dataclass(frozen=True)
class PayerBehaviour:
    """How the customers of one segment pay when nobody chases them.

    Parameters
    ----------
    segment
        Name of a :class:`SegmentSales`.
    delay_mean_days, delay_sd_days
        Payment delay after the due date is normal with this mean (in
        ``[-60, 365]`` days, negative = early) and standard deviation (in
        ``[0, 120]``), observed under terms of ``reference_net_days``. A payment
        never comes before its invoice date.
    reference_net_days
        Net days of the terms the delays were observed under, in ``[0, 365]``.
    due_date_share
        When the segment's terms differ from the reference, the share of
        invoices paid relative to the new due date; the rest keep paying
        the same number of days after the invoice date as before.
    default_rate
        Share of invoices the customer never pays of its own accord (only an
        agency recovery or a write-off settles them).
    customer_sd_days
        How much the segment's customers differ in habit, in ``[0,
        delay_sd_days]``: each customer pays with a lasting shift of its
        delays, normal with this standard deviation (drawn once per customer
        and replication, or a :class:`CustomerHabit`'s), and each invoice
        varies about it by ``sqrt(delay_sd_days² − customer_sd_days²)``, so
        the segment's delays keep their mean and spread. 0: customers alike.
    """

    segment: str
    delay_mean_days: float = 8.0
    delay_sd_days: float = 10.0
    reference_net_days: int = 30
    due_date_share: float = 0.6
    default_rate: float = 0.01
    customer_sd_days: float = 0.0

    def __post_init__(self) -> None:
        o = f"PayerBehaviour({self.segment!r})"
        if not (isinstance(self.segment, str) and self.segment):
            fail("PayerBehaviour", "segment", "a non-empty string", self.segment)
        check_number(o, "delay_mean_days", self.delay_mean_days, -60.0, 365.0)
        check_number(o, "delay_sd_days", self.delay_sd_days, 0.0, 120.0)
        check_number(o, "reference_net_days", self.reference_net_days, 0, 365, integer=True)
        check_number(o, "due_date_share", self.due_date_share, 0.0, 1.0)
        check_number(o, "default_rate", self.default_rate, 0.0, 1.0)
        check_number(o, "customer_sd_days", self.customer_sd_days, 0.0, self.delay_sd_days)

    @property
    def invoice_sd_days(self) -> float:
        """Spread of an invoice's delay about its customer's habit."""
        return math.sqrt(max(self.delay_sd_days**2 - self.customer_sd_days**2, 0.0))


@dataclass(frozen=True)
class CustomerHabit:
    """One customer's own payment habit, as calibrated from its history.

    Parameters
    ----------
    customer_id
        The customer (an id of the opening balance or of the simulated customers).
    delay_shift_days
        Days its delays run after (positive) or before its segment's mean, in
        ``[-365, 365]``; it replaces the customer's draw from ``customer_sd_days``.
    """

    customer_id: str
    delay_shift_days: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.customer_id, str) and self.customer_id):
            fail("CustomerHabit", "customer_id", "a non-empty string", self.customer_id)
        o = f"CustomerHabit({self.customer_id!r})"
        check_number(o, "delay_shift_days", self.delay_shift_days, -365.0, 365.0)


@dataclass(frozen=True)
class Behaviour:
    """Payer behaviour by segment and the response to discounts.

    Parameters
    ----------
    segments
        One :class:`PayerBehaviour` per sales segment.
    discount_take_up_max, discount_rate_scale
        Share of invoices paid within a discount window:
        ``take_up_max × (1 − exp(−rate / rate_scale))`` for a discount ``rate``
        (0.02 for 2 %); max in ``[0, 1]``, scale in ``[1e-4, 1]``. Takers pay
        between half-way through and the end of the discount window.
    customers
        :class:`CustomerHabit` of named customers (calibrated with
        ``by="customer"``); the others draw theirs from their segment's
        ``customer_sd_days``.
    """

    segments: tuple[PayerBehaviour, ...] = (
        PayerBehaviour("enterprise", 12.0, 12.0, 45, 0.6, 0.005),
        PayerBehaviour("mid_market", 9.0, 11.0, 30, 0.6, 0.01),
        PayerBehaviour("smb", 6.0, 10.0, 30, 0.6, 0.02),
    )
    discount_take_up_max: float = 0.8
    discount_rate_scale: float = 0.01
    customers: tuple[CustomerHabit, ...] = ()

    def __post_init__(self) -> None:
        o = "Behaviour"
        if not (
            isinstance(self.segments, tuple)
            and self.segments
            and all(isinstance(s, PayerBehaviour) for s in self.segments)
        ):
            fail(o, "segments", "a non-empty tuple of PayerBehaviour", self.segments)
        check_number(o, "discount_take_up_max", self.discount_take_up_max, 0.0, 1.0)
        check_number(o, "discount_rate_scale", self.discount_rate_scale, 1e-4, 1.0)
        if not (
            isinstance(self.customers, tuple)
            and all(isinstance(c, CustomerHabit) for c in self.customers)
        ):
            fail(o, "customers", "a tuple of CustomerHabit", self.customers)
        ids = [c.customer_id for c in self.customers]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
            fail(o, "customers", "one habit per customer", f"repeated ids {dup}")

    def take_up(self, rate: float) -> float:
        """Share of invoices paid within the discount window for a discount ``rate``."""
        return self.discount_take_up_max * (1.0 - math.exp(-rate / self.discount_rate_scale))


@dataclass(frozen=True)
class DunningStep:
    """One collection step, taken on every invoice still open (and not in dispute) then.

    Parameters
    ----------
    day
        Days relative to the due date, in ``[-60, 730]`` (negative = a
        reminder before the due date).
    channel
        ``reminder``, ``email``, ``sms``, ``letter`` (sent at once) or
        ``call`` (queued for the collectors; made when one is free).
    cost
        Cost of the step in currency units, in ``[0, 1e6]`` (for ``call``
        steps the cost is :attr:`Collectors.cost_per_call` instead).
    uplift, uplift_days
        For ``uplift_days`` days (in ``[0, 365]``) after the step the payer's
        payment clock runs ``1 + uplift`` times faster (``uplift`` in
        ``[0, 20]``), which pulls the payment earlier (see ``docs/simulation.md``).
    """

    day: int
    channel: str = "reminder"
    cost: float = 0.5
    uplift: float = 0.3
    uplift_days: float = 7.0

    def __post_init__(self) -> None:
        o = "DunningStep"
        check_number(o, "day", self.day, -60, 730, integer=True)
        if self.channel not in DUNNING_CHANNELS:
            fail(o, "channel", f"one of {DUNNING_CHANNELS}", self.channel)
        check_number(o, "cost", self.cost, 0.0, 1e6)
        check_number(o, "uplift", self.uplift, 0.0, 20.0)
        check_number(o, "uplift_days", self.uplift_days, 0.0, 365.0)


@dataclass(frozen=True)
class Collectors:
    """The collection team that makes the ``call`` steps.

    Parameters
    ----------
    count
        Number of collectors, in ``[0, 100_000]`` (0: no calls are made).
    hours_per_day
        Working hours per calendar day, in ``(0, 24]``; the shift starts at
        midnight of the simulation clock. A call started in the shift is finished.
    handling_minutes
        Mean handling time of a call, in ``(0, 1440]`` minutes.
    handling_distribution
        ``exponential``, ``lognormal`` (with ``handling_sigma`` of the log,
        in ``[0, 3]``) or ``fixed``.
    rule
        Name of the prioritisation rule ordering the call queue, one of
        :data:`rpmkit.sim.policies.RULES`.
    cost_per_call
        Cost of one completed call in currency units, in ``[0, 1e6]``.
    """

    count: int = 3
    hours_per_day: float = 8.0
    handling_minutes: float = 15.0
    handling_distribution: str = "lognormal"
    handling_sigma: float = 0.5
    rule: str = "by_expected_value"
    cost_per_call: float = 4.0

    def __post_init__(self) -> None:
        o = "Collectors"
        check_number(o, "count", self.count, 0, 100_000, integer=True)
        check_number(o, "hours_per_day", self.hours_per_day, 1e-3, 24.0)
        check_number(o, "handling_minutes", self.handling_minutes, 1e-3, 1440.0)
        if self.handling_distribution not in HANDLING_DISTRIBUTIONS:
            fail(
                o,
                "handling_distribution",
                f"one of {HANDLING_DISTRIBUTIONS}",
                self.handling_distribution,
            )
        check_number(o, "handling_sigma", self.handling_sigma, 0.0, 3.0)
        if self.rule not in RULES:
            fail(o, "rule", f"one of {tuple(RULES)}", self.rule)
        check_number(o, "cost_per_call", self.cost_per_call, 0.0, 1e6)


@dataclass(frozen=True)
class Disputes:
    """Disputes and the desk that resolves them.

    Parameters
    ----------
    rate
        Share of invoices disputed, in ``[0, 1]``.
    opened_within_days
        A dispute is raised uniformly within this many days after the invoice
        date, in ``[0, 365]``; it is never raised on an invoice already settled.
    desk_capacity
        Disputes worked at once, in ``[1, 100_000]``; ``None`` = unlimited (no queue).
    resolution_median_days, resolution_sigma
        Work time of a dispute: lognormal with this median (``[0.01, 365]``
        days) and sigma of the log (``[0, 3]``); queueing for the desk comes on top.
    upheld_share
        Share of disputes resolved in the customer's favour, in ``[0, 1]``.
    credit_fraction
        Share of the open amount an upheld dispute credits, in ``(0, 1]``.
    pay_after_resolution_days
        While disputed an invoice is on hold (no payment, no dunning); after
        resolution the customer pays at the later of its natural payment day
        and this many days after resolution, in ``[0, 365]``.
    """

    rate: float = 0.025
    opened_within_days: float = 20.0
    desk_capacity: int | None = 12
    resolution_median_days: float = 1.0
    resolution_sigma: float = 0.8
    upheld_share: float = 0.45
    credit_fraction: float = 1.0
    pay_after_resolution_days: float = 5.0

    def __post_init__(self) -> None:
        o = "Disputes"
        check_number(o, "rate", self.rate, 0.0, 1.0)
        check_number(o, "opened_within_days", self.opened_within_days, 0.0, 365.0)
        _optional(o, "desk_capacity", self.desk_capacity, 1, 100_000, integer=True)
        check_number(o, "resolution_median_days", self.resolution_median_days, 0.01, 365.0)
        check_number(o, "resolution_sigma", self.resolution_sigma, 0.0, 3.0)
        check_number(o, "upheld_share", self.upheld_share, 0.0, 1.0)
        check_number(o, "credit_fraction", self.credit_fraction, 1e-9, 1.0)
        check_number(o, "pay_after_resolution_days", self.pay_after_resolution_days, 0.0, 365.0)


@dataclass(frozen=True)
class CreditPolicy:
    """Credit limits and holds; a blocked order is a lost sale.

    Parameters
    ----------
    limit_days_of_sales
        A customer's credit limit is this many days of its expected sales
        (segment sales per day / customers × mean amount), in ``[0, 3650]``;
        an order that would take its open AR over the limit is lost.
        ``None`` = no limit.
    hold_days_past_due
        Orders are lost while the customer has an invoice more than this
        many days past due, in ``[0, 3650]``; ``None`` = no hold.
    """

    limit_days_of_sales: float | None = None
    hold_days_past_due: int | None = None

    def __post_init__(self) -> None:
        _optional("CreditPolicy", "limit_days_of_sales", self.limit_days_of_sales, 0.0, 3650.0)
        _optional(
            "CreditPolicy", "hold_days_past_due", self.hold_days_past_due, 0, 3650, integer=True
        )


@dataclass(frozen=True)
class Collections:
    """Escalation to a collection agency and write-off.

    Parameters
    ----------
    agency_after_days
        Days past due at which an open invoice goes to the agency, in
        ``[1, 3650]``; ``None`` = never. Dunning stops then.
    agency_fee_rate
        Agency fee as a share of what it recovers, in ``[0, 1]``.
    recovery_rate
        Share of placed invoices the agency recovers in full, in ``[0, 1]``
        (the rest are never paid).
    recovery_mean_days
        Mean time from placement to recovery (exponential), in ``[0, 3650]`` days.
    write_off_after_days
        Days past due at which an invoice still open is written off, in
        ``[1, 3650]``; ``None`` = never.
    """

    agency_after_days: int | None = 120
    agency_fee_rate: float = 0.25
    recovery_rate: float = 0.4
    recovery_mean_days: float = 45.0
    write_off_after_days: int | None = 270

    def __post_init__(self) -> None:
        o = "Collections"
        _optional(o, "agency_after_days", self.agency_after_days, 1, 3650, integer=True)
        check_number(o, "agency_fee_rate", self.agency_fee_rate, 0.0, 1.0)
        check_number(o, "recovery_rate", self.recovery_rate, 0.0, 1.0)
        check_number(o, "recovery_mean_days", self.recovery_mean_days, 0.0, 3650.0)
        _optional(o, "write_off_after_days", self.write_off_after_days, 1, 3650, integer=True)


DEFAULT_SALES: tuple[SegmentSales, ...] = (
    SegmentSales("enterprise", 500, 40.0, 12_000.0, 0.9, "NET45"),
    SegmentSales("mid_market", 1_500, 90.0, 3_500.0, 0.8, "NET30"),
    SegmentSales("smb", 3_000, 150.0, 800.0, 0.7, "NET30"),
)

DEFAULT_DUNNING: tuple[DunningStep, ...] = (
    DunningStep(3, "email", 0.2, 0.3, 7.0),
    DunningStep(10, "call", 0.0, 1.0, 10.0),
    DunningStep(30, "letter", 1.5, 0.5, 14.0),
    DunningStep(60, "call", 0.0, 1.0, 10.0),
)
