"""Everything about an order that does not interact, drawn before the simulation starts.

Orders arrive per segment as a Poisson process over the horizon; each gets a
customer, an amount and its payer's *natural* payment time (when it would
pay if nobody chased it), its discount decision, whether and when it will be
disputed, how long the dispute takes to work and how it ends, and whether an
agency would recover it. Every draw is made for every order from the stream
of its purpose and segment (:class:`~rpmkit.sim.random.Streams`), whether or
not a policy later uses it, so two scenarios that differ only in policy see
the same orders and the same natural payment times (common random numbers).

Draw order within a segment (the contract the draw-for-draw test relies on):
``arrivals``: count ~ Poisson, then sorted uniform times (mapped through the
inverse cumulative rate under growth or seasonality); ``customers``:
integers; ``amounts``: lognormal; ``payment_delay``: standard normals, then
uniforms for default; ``terms_response``: uniforms; ``discount``: take-up
uniforms, then timing uniforms; ``dispute``: occurrence uniforms, opening
uniforms, standard normals of the work time, outcome uniforms; ``agency``:
recovery uniforms, then standard exponentials of the recovery time. With
channels on, :func:`rpmkit.sim.channels.apply_channels` then draws from the
``channels`` stream (one uniform per customer, then one per order, over all
orders) and shifts the natural payment times; promise numbers are drawn by
the model from the ``promises`` stream (:mod:`rpmkit.sim.promises`). Both
purposes come last in :data:`~rpmkit.sim.random.PURPOSES`: with the features
off nothing is drawn and every other stream is unchanged. So does
``customer_habit`` (:func:`customer_shifts`), drawn only when customers differ in
habit: a customer's shift is added to the delays of all its orders, whose own
normals are then scaled to the spread left within the customer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.special import ndtr, ndtri

from rpmkit import keys, money
from rpmkit.sim.params import Scenario
from rpmkit.sim.random import Streams
from rpmkit.synth import text

__all__ = ["Orders", "customer_shifts", "draw_orders", "natural_payment_times"]

OPENING_COLUMNS = ("invoice_id", "customer_id", "segment", "invoice_date", "due_date", "amount")


@dataclass(frozen=True, eq=False)
class Orders:
    """Per-order arrays: opening invoices first (rows ``< n_opening``), then new orders by time.

    Times are simulation days (0 = midnight of the start date; opening invoices
    have negative issue times); money is int64 minor units of the scenario's
    currency; ``natural`` is ``inf`` for an order its customer never pays.
    """

    ids: pa.Array
    issue: np.ndarray
    due: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    amount: np.ndarray
    terms: np.ndarray  # index into ``terms_codes``; -1 when unknown (opening items)
    discount_rate: np.ndarray
    discount_days: np.ndarray
    natural: np.ndarray
    taker: np.ndarray
    dispute_at: np.ndarray  # inf when never disputed
    dispute_work: np.ndarray  # days of desk work
    upheld: np.ndarray
    recovered: np.ndarray
    recovery_delay: np.ndarray  # days from agency placement to recovery
    n_opening: int
    terms_codes: tuple[str, ...]
    customer_ids: pa.Array
    customer_segment: np.ndarray
    customer_limit: np.ndarray  # minor units; -1 = no limit
    segment_names: tuple[str, ...]
    segment_risk: np.ndarray  # default rate per segment
    electronic: np.ndarray | None = None  # per customer: on e-invoicing (channels on)
    method: np.ndarray | None = None  # per order: index into ``Channels.methods``

    @property
    def n(self) -> int:
        return len(self.issue)


def natural_payment_times(
    issue: np.ndarray,
    net_days: np.ndarray,
    reference_net_days: np.ndarray,
    relative_to_due: np.ndarray,
    delay_days: np.ndarray,
) -> np.ndarray:
    """When a payer pays unchased: ``issue + net (or reference net) + delay``, not before issue.

    Payers relative to the due date add their delay to the current terms;
    the others to the terms their behaviour was observed under.

    >>> natural_payment_times(
    ...     np.array([0.5, 0.5]),
    ...     np.array([30, 30]),
    ...     np.array([45, 45]),
    ...     np.array([True, False]),
    ...     np.array([5.0, -60.0]),
    ... ).tolist()
    [35.5, 0.5]
    """
    base = issue + np.where(relative_to_due, net_days, reference_net_days)
    return np.maximum(base + delay_days, issue)


def _arrivals(seg, start: pd.Timestamp, h: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times of a Poisson process over ``[0, h)`` at the segment's rate.

    A flat rate: count ~ Poisson(rate × h), then sorted uniforms. With growth
    or seasonality the same two draws (the count's mean is the integrated
    rate) and each uniform mapped through the inverse of the cumulative rate,
    piecewise linear by day: a time change that keeps the draws in order."""
    if seg.growth_per_year == 0.0 and seg.seasonality is None:
        n = int(rng.poisson(seg.invoices_per_day * h))
        return np.sort(rng.uniform(0.0, h, n))
    cum = np.r_[0.0, np.cumsum(seg.daily_rates(start, h))]
    n = int(rng.poisson(cum[-1]))
    u = np.sort(rng.uniform(0.0, h, n))
    return np.minimum(np.interp(u * (cum[-1] / h), cum, np.arange(h + 1.0)), np.nextafter(h, 0))


def _customers(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer segment and credit limit (minor units, -1 = none); first row per segment."""
    sizes = np.array([s.customers for s in scenario.sales], dtype=np.int64)
    segment = np.repeat(np.arange(len(sizes)), sizes)
    scale = 10 ** money.exponent(scenario.currency)
    days = scenario.credit.limit_days_of_sales
    per_day = np.array([s.invoices_per_day * s.amount_mean / s.customers for s in scenario.sales])
    limit = np.full(len(segment), -1, dtype=np.int64)
    if days is not None:
        limit = np.rint(per_day[segment] * days * scale).astype(np.int64)
    return segment, limit, np.r_[0, np.cumsum(sizes)[:-1]]


def _segment_draws(
    scenario: Scenario, streams: Streams, k: int, first_customer: int, shift: np.ndarray | None
) -> dict:
    seg = scenario.sales[k]
    payer = scenario.payer(seg.name)
    h = scenario.horizon_days
    rng = lambda purpose: streams.rng(purpose, seg.name)  # noqa: E731
    issue = _arrivals(seg, scenario.start_date, h, rng("arrivals"))
    n = len(issue)
    customer = first_customer + rng("customers").integers(0, seg.customers, n)
    mu = math.log(seg.amount_mean) - seg.amount_sigma**2 / 2
    units = rng("amounts").lognormal(mu, seg.amount_sigma, n)
    amount = np.maximum(1, np.rint(units * 10 ** money.exponent(scenario.currency)))
    z = rng("payment_delay").standard_normal(n)
    u_default = rng("payment_delay").random(n)
    u_terms = rng("terms_response").random(n)
    u_take, u_when = rng("discount").random(n), rng("discount").random(n)
    d = rng("dispute")
    u_dispute, u_open, z_work, u_upheld = (
        d.random(n),
        d.random(n),
        d.standard_normal(n),
        d.random(n),
    )
    u_recover, e_recover = rng("agency").random(n), rng("agency").standard_exponential(n)

    net = seg.net_days
    rate, days = seg.discount
    same_terms = net == payer.reference_net_days
    relative_to_due = same_terms | (u_terms < payer.due_date_share)
    if shift is None:
        delay = payer.delay_mean_days + payer.delay_sd_days * z
    else:  # about the customer's habit
        delay = payer.delay_mean_days + payer.invoice_sd_days * z + shift[customer]
    natural = natural_payment_times(
        issue,
        np.full(n, net),
        np.full(n, payer.reference_net_days),
        relative_to_due,
        delay,
    )
    taker = (u_take < scenario.behaviour.take_up(rate)) if rate > 0 else np.zeros(n, dtype=bool)
    natural = np.where(u_default < payer.default_rate, np.inf, natural)
    # A discount taker pays between half-way through and the end of the window.
    natural = np.where(taker, issue + days * (0.5 + 0.5 * u_when), natural)
    disp = scenario.disputes
    disputed = u_dispute < disp.rate
    work = disp.resolution_median_days * np.exp(disp.resolution_sigma * z_work)
    coll = scenario.collections
    return {
        "issue": issue,
        "due": issue + net,
        "customer": customer,
        "segment": np.full(n, k),
        "amount": amount.astype(np.int64),
        "terms": np.full(n, k),
        "discount_rate": np.full(n, rate),
        "discount_days": np.full(n, days),
        "natural": natural,
        "taker": taker,
        "dispute_at": np.where(disputed, issue + disp.opened_within_days * u_open, np.inf),
        "dispute_work": work,
        "upheld": u_upheld < disp.upheld_share,
        "recovered": u_recover < coll.recovery_rate,
        "recovery_delay": coll.recovery_mean_days * e_recover,
    }


@dataclass(frozen=True, eq=False)
class _OpeningBook:
    """What an opening balance is to every replication alike (nothing drawn).

    ``customer`` indexes ``customer_ids``: the scenario's customers, then those
    found only in the opening, whose segments are ``extra_segment``."""

    issue: np.ndarray
    due: np.ndarray
    segment: np.ndarray
    amount: np.ndarray
    customer: np.ndarray
    customer_ids: pa.Array
    extra_segment: np.ndarray
    ids: pa.Array


# The last opening balance read (a copy, the scenario fields it used, its book): a
# run's replications all start from the same one, and reading it (strings, dates)
# is a few per cent of a replication.
_last_book: list[tuple[pd.DataFrame, tuple, _OpeningBook]] = []


def _opening_book(scenario: Scenario, opening: pd.DataFrame) -> _OpeningBook:
    """The :class:`_OpeningBook` of ``opening``, reused while the opening (compared by
    value) and the scenario's start and customers are those of the last call."""
    key = (scenario.start_date, tuple((s.name, s.customers) for s in scenario.sales))
    for frame, used, book in _last_book:
        if used == key and frame.equals(opening):
            return book
    book = _read_opening(scenario, opening)
    _last_book[:] = [(opening.copy(deep=True), key, book)]
    return book


def _read_opening(scenario: Scenario, opening: pd.DataFrame) -> _OpeningBook:
    missing = [c for c in OPENING_COLUMNS if c not in opening.columns]
    if missing:
        raise ValueError(f"opening: missing column(s) {', '.join(missing)}")
    seg_index = {s.name: k for k, s in enumerate(scenario.sales)}
    codes, labels = pd.factorize(opening["segment"].astype(str))
    unknown = sorted(set(labels) - set(seg_index))
    if unknown:
        raise ValueError(f"opening.segment: {unknown} are not segments of the scenario")
    start = scenario.start_date
    issue = (pd.to_datetime(opening["invoice_date"]) - start).dt.days.to_numpy(dtype=float)
    due = (pd.to_datetime(opening["due_date"]) - start).dt.days.to_numpy(dtype=float)
    if (issue >= 0).any():
        raise ValueError("opening.invoice_date must be before the scenario start")
    segment = np.array([seg_index[s] for s in labels], dtype=np.int64)[codes]
    n_cust = sum(s.customers for s in scenario.sales)
    cust_ids = text.ids("C", np.arange(1, n_cust + 1), text.id_width(n_cust, 6))
    known = pd.Series(np.asarray(cust_ids.to_pylist()), dtype=str)
    op_cust = opening["customer_id"].astype(str).reset_index(drop=True)
    # a hash lookup: Series.isin on Arrow strings walks the known ids in Python
    first_new = op_cust[pd.Index(known).get_indexer(op_cust) < 0].drop_duplicates()
    extra = first_new.reset_index(drop=True)
    all_ids = pd.concat([known, extra], ignore_index=True)
    pos = pd.Index(all_ids).get_indexer(op_cust)
    book = _OpeningBook(
        issue=issue,
        due=due,
        segment=segment,
        amount=opening["amount"].to_numpy(dtype=np.int64, copy=True),
        customer=pos.astype(np.int64),
        customer_ids=pa.array(all_ids.to_numpy(dtype=object), type=pa.string()),
        extra_segment=segment[first_new.index],
        ids=pa.array(opening["invoice_id"].astype(str).to_numpy(dtype=object)),
    )
    for a in (book.issue, book.due, book.segment, book.amount, book.customer):
        a.flags.writeable = False  # shared by the replications
    return book


def _opening_draws(
    scenario: Scenario, streams: Streams, book: _OpeningBook, shift: np.ndarray | None
) -> dict:
    """Open invoices at the start: their payment delay drawn conditional on being unpaid so far."""
    n = len(book.issue)
    segment, due = book.segment, book.due
    payers = [scenario.payer(s.name) for s in scenario.sales]
    mean = np.array([p.delay_mean_days for p in payers])[segment]
    if shift is None:
        sd = np.array([p.delay_sd_days for p in payers])[segment]
    else:  # about the customer's habit
        mean = mean + shift[book.customer]
        sd = np.array([p.invoice_sd_days for p in payers])[segment]
    sd = np.maximum(sd, 1e-9)
    default = np.array([p.default_rate for p in payers])[segment]
    rng = streams.rng("opening")
    u, u_default = rng.random(n), rng.random(n)
    u_recover, e_recover = rng.random(n), rng.standard_exponential(n)
    # Delay > -due (paid after the start): inverse CDF on the surviving tail.
    p0 = ndtr((-due - mean) / sd)
    delay = mean + sd * ndtri(np.clip(p0 + u * (1 - p0), 0.0, 1 - 1e-16))
    natural = np.maximum(due + delay, 0.0)
    natural = np.where(u_default < default, np.inf, natural)
    coll = scenario.collections
    return {
        "issue": book.issue,
        "due": due,
        "customer": book.customer,
        "segment": segment,
        "amount": book.amount,
        "terms": np.full(n, -1),
        "discount_rate": np.zeros(n),
        "discount_days": np.zeros(n, dtype=np.int64),
        "natural": natural,
        "taker": np.zeros(n, dtype=bool),
        "dispute_at": np.full(n, np.inf),
        "dispute_work": np.zeros(n),
        "upheld": np.zeros(n, dtype=bool),
        "recovered": u_recover < coll.recovery_rate,
        "recovery_delay": coll.recovery_mean_days * e_recover,
    }


def customer_shifts(
    scenario: Scenario, streams: Streams, customer_ids: pa.Array, extra_segment: np.ndarray
) -> np.ndarray | None:
    """Each customer's lasting shift of its payment delays (days), None when customers are alike.

    ``customer_ids`` are the scenario's customers, segment by segment, then
    ``len(extra_segment)`` customers found only in the opening balance. A
    customer with a :class:`~rpmkit.sim.params.CustomerHabit` keeps its
    shift; the others draw ``customer_sd_days × N(0, 1)`` of their segment
    from the ``customer_habit`` stream (one normal per scenario customer from
    the stream of its segment, then one per opening-only customer).
    """
    behaviour = scenario.behaviour
    sd = np.array([scenario.payer(s.name).customer_sd_days for s in scenario.sales])
    if not behaviour.customers and not sd.any():
        return None
    parts = [
        sd[k] * streams.rng("customer_habit", seg.name).standard_normal(seg.customers)
        for k, seg in enumerate(scenario.sales)
    ]
    z = streams.rng("customer_habit", "(opening)").standard_normal(len(extra_segment))
    shift = np.concatenate(parts + [sd[extra_segment] * z])
    if behaviour.customers:
        named = pa.array([h.customer_id for h in behaviour.customers], type=pa.string())
        at = keys.positions(customer_ids, named)
        value = np.array([h.delay_shift_days for h in behaviour.customers])
        shift = np.where(at >= 0, value[np.maximum(at, 0)], shift)
    return shift


def draw_orders(
    scenario: Scenario, streams: Streams, opening: pd.DataFrame | None = None
) -> Orders:
    """Draw every order of one replication (see the module docstring for the draw order).

    ``opening`` lists invoices open at the start: columns ``invoice_id,
    customer_id, segment, invoice_date, due_date, amount`` (open amount,
    minor units). Customers not in the simulated population are added.
    """
    cust_segment, limit, first = _customers(scenario)
    book = None
    if opening is not None and len(opening):
        book = _opening_book(scenario, opening)
        extra = book.extra_segment
        cust_ids = book.customer_ids
    else:
        extra = np.zeros(0, dtype=np.int64)
        n_cust = len(cust_segment)
        cust_ids = text.ids("C", np.arange(1, n_cust + 1), text.id_width(n_cust, 6))
    shift = customer_shifts(scenario, streams, cust_ids, extra)
    parts = [_segment_draws(scenario, streams, k, int(first[k]), shift) for k in range(len(first))]
    new = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.argsort(new["issue"], kind="stable")
    new = {key: v[order] for key, v in new.items()}
    n_new = len(order)
    ids = text.ids("SIM-", np.arange(1, n_new + 1), text.id_width(n_new, 7))
    n_open = 0
    if book is not None:
        op = _opening_draws(scenario, streams, book, shift)
        n_open = len(opening)
        cust_segment = np.r_[cust_segment, extra]
        limit = np.r_[limit, np.full(len(extra), -1, dtype=np.int64)]
        new = {key: np.concatenate([op[key], new[key]]) for key in new}
        ids = pa.concat_arrays([book.ids, ids])
    orders = Orders(
        ids=ids,
        n_opening=n_open,
        terms_codes=tuple(s.terms for s in scenario.sales),
        customer_ids=cust_ids,
        customer_segment=cust_segment,
        customer_limit=limit,
        segment_names=tuple(s.name for s in scenario.sales),
        segment_risk=np.array([scenario.payer(s.name).default_rate for s in scenario.sales]),
        **new,
    )
    if scenario.channels.on:
        from rpmkit.sim.channels import apply_channels

        orders = apply_channels(scenario, streams, orders)
    return orders
