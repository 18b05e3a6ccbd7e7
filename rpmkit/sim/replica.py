"""One replication summarised for a run: :func:`run_replication` → :class:`Replica`.

A run keeps, per replication, the daily series, the monthly KPIs and the
headline :data:`KPIS` — never the events. :func:`run_replication` computes
them straight from the event loop's records: the daily series by
:func:`rpmkit.sim.outputs.daily_columns`, the monthly KPIs by the same
``rpmkit.kpi`` series code the canonical ledger would go through, fed with the
ledger's prepared arrays (a :class:`rpmkit.kpi.book.Book`) built from the
records directly, so the canonical ledger (strings, validation) and the event
frame are built only when asked for. :func:`summarise_result` computes the
same summary from a full :class:`~rpmkit.sim.records.SimResult` through the
canonical ledger: the reference the records path is tested against, value for
value.

>>> from rpmkit.sim import Behaviour, Model, PayerBehaviour, Scenario, SegmentSales
>>> s = Scenario(
...     horizon_days=60,
...     sales=(SegmentSales("smb", 50, 4.0, 800.0),),
...     behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
... )
>>> lean = run_replication(s, 0)
>>> daily, monthly, ends, kpis, error = summarise_result(Model(s, 0).run())
>>> np.array_equal(lean.daily, daily), np.array_equal(lean.monthly, monthly, equal_nan=True)
(True, True)
>>> lean.kpis == kpis
True
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.kpi.base import period_bounds
from rpmkit.kpi.book import NEVER, Book, day_number
from rpmkit.kpi.dso import cei_percent, dso_standard
from rpmkit.kpi.series import FREQUENCIES, period_ends
from rpmkit.ledger import Ledger
from rpmkit.sim import outputs
from rpmkit.sim import records as rec
from rpmkit.sim.channels import CHANNEL_DAILY, channel_daily
from rpmkit.sim.model import Model, paused_gc
from rpmkit.sim.orders import Orders
from rpmkit.sim.outputs import DAILY_COLUMNS
from rpmkit.sim.params import Scenario
from rpmkit.sim.policies import Rule
from rpmkit.sim.promises import PROMISE_DAILY, promise_daily
from rpmkit.sim.records import SimResult
from rpmkit.sim.validity import littles_law_arrays

__all__ = [
    "DAILY_MEASURES",
    "KPIS",
    "MONEY_MEASURES",
    "MONTHLY_KPIS",
    "Replica",
    "run_replication",
    "summarise_result",
]

DAILY_MEASURES: tuple[str, ...] = tuple(DAILY_COLUMNS) + tuple(PROMISE_DAILY) + tuple(CHANNEL_DAILY)
"""Daily series kept per replication (``outputs.DAILY_COLUMNS``, then the promise and
channel series), money in currency units."""

_NOT_MONEY = {"disputes_open", "lost_orders", "calls", "collector_utilisation", "queue_length"}
_NOT_MONEY |= {"promises_made", "promises_kept", "promises_broken", "promises_open"}
MONEY_MEASURES = frozenset(m for m in DAILY_MEASURES if m not in _NOT_MONEY)

MONTHLY_KPIS: tuple[str, ...] = ("dso", "bpdso", "add", "cei", "bad_debt_ratio")
"""Columns of ``SimResult.monthly_kpis()`` kept per replication (bands per month end)."""

KPIS: dict[str, tuple[str, str, int]] = {
    "dso": ("DSO", "days", -1),
    "bpdso": ("best-possible DSO", "days", -1),
    "add": ("average days delinquent", "days", -1),
    "cei": ("CEI", "percent", 1),
    "bad_debt_ratio": ("bad-debt ratio", "percent", -1),
    "cash_collected": ("cash collected", "money", 1),
    "sales": ("sales invoiced", "money", 1),
    "open_ar_end": ("open AR at the end", "money", -1),
    "write_offs": ("write-offs", "money", -1),
    "credit_notes": ("credit notes", "money", 0),
    "discount_cost": ("discount cost", "money", -1),
    "agency_fees": ("agency fees", "money", -1),
    "dunning_cost": ("dunning and call cost", "money", -1),
    "payment_fees": ("payment fees", "money", -1),
    "collection_cost": ("collection cost", "money", -1),
    "lost_sales": ("lost sales", "money", -1),
    "calls": ("calls made", "count", 0),
    "collector_utilisation": ("collector utilisation", "share", 0),
}
"""Headline KPIs of a replication: name → (label, unit, +1 if higher is better, −1 if lower, 0).

``dso``, ``bpdso``, ``add``, ``cei``: the last month end of
``SimResult.monthly_kpis()`` (``rpmkit.kpi``; month periods). ``bad_debt_ratio``:
write-offs over the whole horizon as a percentage of its credit sales
(``rpmkit.kpi.bad_debt_ratio`` with the horizon as the period). Money totals over
the horizon in currency units; ``collection_cost`` = dunning and call cost +
discount cost + agency fees + payment fees (``Scenario.channels``);
``collector_utilisation`` is the mean of the daily series.
"""


@dataclass(frozen=True, eq=False)
class Replica:
    """What a worker sends back for one replication (small: no events).

    Attributes
    ----------
    replication
        The replication index.
    daily
        ``(days, len(DAILY_MEASURES))`` float64, money in currency units.
    monthly
        ``(month ends, len(MONTHLY_KPIS))`` float64 (NaN where a KPI is undefined).
    period_ends
        The month ends of ``monthly``.
    kpis
        The :data:`KPIS` of the replication.
    stats
        ``sim_events``, ``sim_seconds`` (event loop), ``seconds`` (the whole
        replication with its outputs and KPIs), ``cpu_seconds`` (its processor
        time: what a busy machine does not inflate), ``sim_cpu_seconds`` (the
        processor time of drawing the orders and the event loop; the rest of
        ``cpu_seconds`` is the summary), ``littles_law_error``.
    ledger, result
        Replication 0's ledger (when asked for) and the full ``SimResult`` (``keep``).
    """

    replication: int
    daily: np.ndarray
    monthly: np.ndarray
    period_ends: np.ndarray
    kpis: dict[str, float]
    stats: dict[str, float]
    ledger: Ledger | None = None
    result: SimResult | None = None


# -------------------------------------------------------------- the summary
def _log(rows: list[tuple], extra: tuple[np.ndarray, ...] | None) -> rec.Log:
    """:meth:`Log.from_rows <rpmkit.sim.records.Log.from_rows>`, the same arrays in half
    the time: the row tuples read as one flat stream, then sorted column by column."""
    n = len(rows)
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=float, count=6 * n)
    cols = list(flat.reshape(n, 6).T)
    if extra is not None:
        cols = [
            np.concatenate([c, np.asarray(e, dtype=float)])
            for c, e in zip(cols, extra, strict=True)
        ]
    order = np.argsort(cols[0], kind="stable")
    t, k, o, a, v, d = (c[order] for c in cols)
    return rec.Log(t, k.astype(np.int64), o.astype(np.int64), a.astype(np.int64), v, d)


def _ledger_book(scenario: Scenario, o: Orders, log: rec.Log) -> Book:
    """The :class:`~rpmkit.kpi.book.Book` of :func:`rpmkit.sim.outputs.ledger`, from the
    records: invoices in issue-record order, the payments' allocations then the
    discounts, credit notes and write-offs as adjustments, one currency (no conversion)."""
    start = _calendar(scenario.start_date, scenario.end_date, scenario.horizon_days).start
    inv = log.order[log.kind == rec.ISSUE]
    row = np.full(o.n, -1, dtype=np.int64)
    row[inv] = np.arange(len(inv))
    inv_day = start + np.floor(o.issue[inv]).astype(np.int64)
    amount = o.amount[inv]
    day = start + log.day()
    book_kind = {rec.PAYMENT: 0, rec.DISCOUNT: 3, rec.CREDIT_NOTE: 1, rec.WRITE_OFF: 2}
    masks = [log.kind == k for k in book_kind]
    ev_inv = np.concatenate([row[log.order[m]] for m in masks])
    ev_day = np.maximum(np.concatenate([day[m] for m in masks]), inv_day[ev_inv])
    ev_amount = np.concatenate([log.amount[m] for m in masks])
    ev_kind = np.concatenate(
        [
            np.full(int(m.sum()), k, dtype=np.int8)
            for m, k in zip(masks, book_kind.values(), strict=True)
        ]
    )
    # the day each invoice was fully settled (as rpmkit.kpi.book computes it)
    order = np.lexsort((ev_kind, ev_day, ev_inv))
    inv_sorted = ev_inv[order]
    cum = np.cumsum(ev_amount[order])
    first = np.flatnonzero(np.r_[True, inv_sorted[1:] != inv_sorted[:-1]])
    cum -= np.repeat(cum[first] - ev_amount[order][first], np.diff(np.r_[first, len(order)]))
    settled = np.full(len(inv), NEVER, dtype=np.int64)
    done = np.flatnonzero(cum >= amount[inv_sorted])
    if len(done):
        firsts = done[np.r_[True, inv_sorted[done][1:] != inv_sorted[done][:-1]]]
        settled[inv_sorted[firsts]] = ev_day[order][firsts]
    customer, customers = pd.factorize(o.customer[inv])
    segment, segments = pd.factorize(o.segment[inv])
    return Book(
        reporting_currency=scenario.currency,
        inv_day=inv_day,
        due_day=start + np.floor(o.due[inv]).astype(np.int64),
        amount=amount,
        customer=customer,
        customers=pd.Index(np.asarray(o.customer_ids.take(customers).to_pylist(), dtype=object)),
        segment=segment,
        segments=pd.Index([o.segment_names[k] for k in segments]),
        ev_inv=ev_inv,
        ev_day=ev_day,
        ev_amount=ev_amount,
        ev_kind=ev_kind,
        settled=settled,
    )


class _Calendar(NamedTuple):
    start: int  # day number of the start date
    month_ends: np.ndarray  # datetime64[ns]
    month_end: np.ndarray  # day numbers of the month ends
    month_start: np.ndarray  # and of their months' first days
    horizon: tuple[int, int]  # the bad-debt period: day numbers of its first and last day


@functools.lru_cache(maxsize=16)
def _calendar(start: pd.Timestamp, end: pd.Timestamp, horizon_days: int) -> _Calendar:
    """The day numbers a summary needs, alike for every replication of a scenario."""
    ends = period_ends(start, end, "month")
    period = FREQUENCIES["month"][1]
    starts = pd.DatetimeIndex([period_bounds(x, period).start for x in ends])
    p = period_bounds(end, horizon_days)
    first, last = (int(x) for x in day_number(pd.Series([p.start, p.end])))
    arrays = (
        ends.to_numpy(dtype="datetime64[ns]").copy(),
        day_number(pd.Series(ends)),
        day_number(pd.Series(starts)),
    )
    for a in arrays:
        a.flags.writeable = False  # shared by the replications
    return _Calendar(int(day_number(pd.Series([start]))[0]), *arrays, (first, last))


def _monthly(scenario: Scenario, b: Book) -> tuple[np.ndarray, np.ndarray]:
    """``SimResult.monthly_kpis()`` from the book: the formulas ``kpi_series`` applies per
    month (standard DSO and BPDSO, ADD as their difference, CEI on the month's sales,
    write-offs over sales), on one set of its cumulative curves for all five."""
    # the series engine of rpmkit.kpi.kpi_series, used without a ledger
    from rpmkit.kpi.series import _Curves, _each

    cal = _calendar(scenario.start_date, scenario.end_date, scenario.horizon_days)
    e, s = cal.month_end, cal.month_start
    d = e - s + 1
    c = _Curves(b)
    ar_end, ar_begin = c.ar(e), c.ar(s - 1)
    sales = c.invoiced().between(s, e)
    ar_cur = c.current(e, 0)
    dso = _each(dso_standard, ar_end, sales, d)
    bpdso = _each(dso_standard, ar_cur, sales, d)
    cei = _each(cei_percent, ar_begin, sales.astype(np.float64), ar_end, ar_cur)
    written = c.settled("write_off").between(s, e)
    with np.errstate(divide="ignore", invalid="ignore"):
        bad = np.where(sales > 0, written / np.where(sales > 0, sales, 1) * 100.0, np.nan)
    values = np.column_stack([dso, bpdso, dso - bpdso, cei, bad]).reshape(len(e), 5)
    return values, cal.month_ends.copy()


def _bad_debt(scenario: Scenario, b: Book) -> float:
    """``rpmkit.kpi.bad_debt_ratio`` at the end of the horizon over the horizon."""
    start, end = _calendar(scenario.start_date, scenario.end_date, scenario.horizon_days).horizon
    sales = b.sales_between(start, end)
    return math.nan if sales <= 0 else b.settled_between(start, end, ("write_off",)) / sales * 100


def _headline(
    scenario: Scenario, daily: np.ndarray, monthly: np.ndarray, bad_debt: float
) -> dict[str, float]:
    last = monthly[-1] if len(monthly) else np.full(len(MONTHLY_KPIS), np.nan)
    total = dict(zip(DAILY_MEASURES, daily.sum(axis=0), strict=True))
    kpis = {name: float(last[k]) for k, name in enumerate(MONTHLY_KPIS[:4])}
    kpis["bad_debt_ratio"] = bad_debt
    kpis["cash_collected"] = total["receipts"]
    kpis["sales"] = total["sales"]
    kpis["open_ar_end"] = float(daily[-1, DAILY_MEASURES.index("open_ar")])
    for name in ("write_offs", "credit_notes", "discount_cost", "agency_fees", "dunning_cost"):
        kpis[name] = total[name]
    kpis["payment_fees"] = total["fees"]
    kpis["collection_cost"] = (
        total["dunning_cost"] + total["discount_cost"] + total["agency_fees"] + total["fees"]
    )
    kpis["lost_sales"] = total["lost_sales"]
    kpis["calls"] = total["calls"]
    kpis["collector_utilisation"] = total["collector_utilisation"] / scenario.horizon_days
    return {k: kpis[k] for k in KPIS}


def _daily_array(scenario: Scenario, columns) -> np.ndarray:
    scale = 10 ** money.exponent(scenario.currency)
    daily = np.empty((scenario.horizon_days, len(DAILY_MEASURES)))
    for j, name in enumerate(DAILY_MEASURES):
        col = np.asarray(columns[name], dtype=float)
        daily[:, j] = col / scale if name in MONEY_MEASURES else col
    return daily


def _littles(scenario: Scenario, open_ar, issue, accepted, settled, amount) -> float:
    h = scenario.horizon_days
    try:
        law = littles_law_arrays(open_ar, issue, accepted, settled, amount, h, h // 4, h // 4)
    except (ValueError, ZeroDivisionError):
        return math.nan
    return float(law["relative_error"])


def _summarise_log(scenario: Scenario, o: Orders, log: rec.Log):
    columns = outputs.daily_columns(scenario, o, log)
    columns |= promise_daily(scenario, log) | channel_daily(scenario, o, log)
    daily = _daily_array(scenario, columns)
    b = _ledger_book(scenario, o, log)
    monthly, ends = _monthly(scenario, b)
    kpis = _headline(scenario, daily, monthly, _bad_debt(scenario, b))
    accepted, _, settled = outputs.settlement(o, log)
    error = _littles(scenario, columns["open_ar"], o.issue, accepted, settled, o.amount)
    return daily, monthly, ends, kpis, error


def summarise_result(r: SimResult):
    """``(daily, monthly, period_ends, kpis, littles_law_error)`` of a full SimResult,
    through its canonical ledger and ``rpmkit.kpi`` (the reference for :func:`run_replication`)."""
    from rpmkit.kpi import bad_debt_ratio

    s = r.scenario
    daily = _daily_array(s, r.daily)
    m = r.monthly_kpis()
    monthly = m[list(MONTHLY_KPIS)].to_numpy(dtype=float, na_value=np.nan)
    value = bad_debt_ratio(r.ledger, s.end_date, s.horizon_days).value
    kpis = _headline(s, daily, monthly, math.nan if value is None else float(value))
    o = r.orders
    error = _littles(
        s,
        r.daily["open_ar"].to_numpy(),
        o["issue_time"].to_numpy(),
        o["accepted"].to_numpy(),
        o["settled_time"].to_numpy(),
        o["amount"].to_numpy(),
    )
    return daily, monthly, m["period_end"].to_numpy(dtype="datetime64[ns]"), kpis, error


def run_replication(
    scenario: Scenario,
    replication: int,
    rule: str | Rule | None = None,
    opening: pd.DataFrame | None = None,
    keep: bool = False,
    with_ledger: bool = False,
) -> Replica:
    """Run one replication and summarise it (what each worker does).

    The summary comes from the event records (see the module docstring); the
    full :class:`SimResult` with its canonical ledger is built only with ``keep``
    or ``with_ledger``.
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    model = Model(scenario, replication, rule=rule, opening=opening)
    with paused_gc():  # the summary too: it reads a tuple per record
        run = model.simulate()
        sim_cpu = time.process_time() - cpu0
        o, log = run["o"], _log(run["rows"], run["extra"])
        daily, monthly, ends, kpis, error = _summarise_log(scenario, o, log)
        sim_events, sim_seconds = run["sim_events"], run["sim_seconds"]
        result = ledger = None
        if keep or with_ledger:
            # the full build: its ledger carries what build_result adds to
            # outputs.ledger (promise activities, channels)
            result = rec.build_result(**run)
            ledger = result.ledger
        model._release()  # while the collector is paused: see Model._release
    stats = {
        "sim_events": float(sim_events),
        "sim_seconds": sim_seconds,
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - cpu0,
        "sim_cpu_seconds": sim_cpu,
        "littles_law_error": float(error),
    }
    return Replica(
        replication=replication,
        daily=daily,
        monthly=monthly,
        period_ends=ends,
        kpis=kpis,
        stats=stats,
        ledger=ledger if with_ledger else None,
        result=result if keep else None,
    )
