"""Event records of a replication and the :class:`SimResult` built from them.

The model appends one flat tuple per event to a list,
``(time, kind, order, amount, value, duration)``: time in simulation days,
a kind code of :data:`EVENT_KINDS`, the order's row in
:class:`~rpmkit.sim.orders.Orders`, money in minor units, and a number whose
meaning depends on the kind (see :data:`EVENT_KINDS`). Everything else — the
canonical ledger, the daily series, the KPIs — is computed from these
records after the run, never inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.ledger import Ledger
from rpmkit.sim.orders import Orders
from rpmkit.sim.params import Scenario
from rpmkit.synth import text

__all__ = ["EVENT_KINDS", "SimResult", "build_result", "events_frame"]

EVENT_KINDS: dict[str, str] = {
    "issue": "an order accepted and invoiced; amount = invoice amount",
    "lost_sale": "an order blocked by the credit policy; amount = order amount",
    "payment": "cash received (through the agency when escalated); amount = cash",
    "discount": "early-payment discount taken; amount = discount",
    "credit_note": "credit from an upheld dispute; amount = credit",
    "write_off": "open amount written off; amount = written off",
    "dispute_open": "dispute raised, invoice on hold; amount = open amount",
    "dispute_resolved": "dispute resolved; value = 1 if upheld else 0",
    "dunning": "dunning letter, email, SMS or reminder sent; value = step index",
    "call_queued": "call step queued for the collectors; value = step index",
    "call_dropped": "queued call withdrawn (invoice settled, disputed or placed); value = step",
    "call": "call started; value = wait in queue (days), duration = handling (days)",
    "agency": "invoice placed with the collection agency; amount = open amount",
    "agency_fee": "agency fee on a recovery; amount = fee (a cost, not a ledger entry)",
    "promise": "a call ended in a promise to pay; amount = open amount, value = promised day, "
    "duration = days to the end of the grace period",
    "promise_kept": "a promise kept (paid in full by the end of its grace period); "
    "value = promised day",
    "promise_broken": "a promise broken (grace period over unpaid, or overtaken); "
    "value = promised day",
}
"""Event kinds and what their ``amount`` / ``value`` / ``duration`` hold."""

_CODES = {name: k for k, name in enumerate(EVENT_KINDS)}
ISSUE = _CODES["issue"]
LOST_SALE = _CODES["lost_sale"]
PAYMENT = _CODES["payment"]
DISCOUNT = _CODES["discount"]
CREDIT_NOTE = _CODES["credit_note"]
WRITE_OFF = _CODES["write_off"]
DISPUTE_OPEN = _CODES["dispute_open"]
DISPUTE_RESOLVED = _CODES["dispute_resolved"]
DUNNING = _CODES["dunning"]
CALL_QUEUED = _CODES["call_queued"]
CALL_DROPPED = _CODES["call_dropped"]
CALL = _CODES["call"]
AGENCY = _CODES["agency"]
AGENCY_FEE = _CODES["agency_fee"]
PROMISE = _CODES["promise"]
PROMISE_KEPT = _CODES["promise_kept"]
PROMISE_BROKEN = _CODES["promise_broken"]


@dataclass(frozen=True)
class Log:
    """The event records as column arrays, in time order (ties in the order logged)."""

    time: np.ndarray
    kind: np.ndarray
    order: np.ndarray
    amount: np.ndarray
    value: np.ndarray
    duration: np.ndarray

    @classmethod
    def from_rows(cls, rows: list[tuple], extra: tuple[np.ndarray, ...] | None = None) -> Log:
        """From the event loop's row tuples and, optionally, columns written before it."""
        # one 2-D float array: exact for money below 2**53 minor units
        table = np.array(rows, dtype=float).reshape(len(rows), 6)
        if extra is not None:
            table = np.concatenate([table, np.column_stack(extra)])
        if not len(table):
            z = np.zeros(0)
            return cls(z, z.astype(np.int64), z.astype(np.int64), z.astype(np.int64), z, z)
        table = table[np.argsort(table[:, 0], kind="stable")]
        t, k, o, a, v, d = table.T
        return cls(
            t.copy(),
            k.astype(np.int64),
            o.astype(np.int64),
            a.astype(np.int64),
            v.copy(),
            d.copy(),
        )

    def day(self) -> np.ndarray:
        """Day number of each event (0 = the start date)."""
        return np.floor(self.time).astype(np.int64)

    def mask(self, *kinds: int) -> np.ndarray:
        """True for the records of any of ``kinds``."""
        # a lookup by code: ten times faster than np.isin on a few codes
        table = np.zeros(len(EVENT_KINDS), dtype=bool)
        table[list(kinds)] = True
        return table[self.kind]


def events_frame(log: Log, o: Orders, start: pd.Timestamp) -> pd.DataFrame:
    """The records as a DataFrame: ``time, date, kind, invoice_id, amount, value, duration``."""
    names = list(EVENT_KINDS)
    return pd.DataFrame(
        {
            "time": log.time,
            "date": (np.datetime64(start.date(), "D") + log.day()).astype("datetime64[us]"),
            "kind": pd.Categorical.from_codes(log.kind, categories=names),
            "invoice_id": text.series(text.rows(o.ids, log.order)),
            "amount": log.amount,
            "value": log.value,
            "duration": log.duration,
        }
    )


@dataclass(frozen=True, eq=False)
class SimResult:
    """One replication's output.

    Attributes
    ----------
    scenario, replication
        What was simulated.
    events
        Every event (:data:`EVENT_KINDS`): ``time`` (simulation days), ``date``,
        ``kind``, ``invoice_id``, ``amount`` (minor units), ``value``, ``duration``.
    orders
        One row per order: ``invoice_id, customer_id, segment, issue_time,
        due_time, amount, natural_time`` (the pre-drawn unchased payment time,
        ``inf`` = never), ``accepted`` (False = lost sale), ``settled_amount``
        (paid, discounted, credited and written off, minor units) and
        ``settled_time`` (the settling event that closed it, NaN while open).
    ledger
        The canonical :class:`~rpmkit.ledger.Ledger` of the simulated invoices
        (opening items included), so every ``rpmkit.kpi`` function runs on it.
    daily
        One row per simulated day (see :func:`rpmkit.sim.outputs.daily_frame`),
        then the promise series (:data:`rpmkit.sim.promises.PROMISE_DAILY`)
        and the channel series (:data:`rpmkit.sim.channels.CHANNEL_DAILY`).
    sim_events, sim_seconds
        SimPy events processed and wall time of the run (drawing orders and
        the event loop, not building outputs).
    """

    scenario: Scenario = field(repr=False)
    replication: int
    events: pd.DataFrame = field(repr=False)
    orders: pd.DataFrame = field(repr=False)
    ledger: Ledger = field(repr=False)
    daily: pd.DataFrame = field(repr=False)
    sim_events: int = 0
    sim_seconds: float = 0.0

    def monthly_kpis(self) -> pd.DataFrame:
        """DSO, BPDSO, ADD, CEI and bad-debt ratio per month, via :func:`rpmkit.kpi.kpi_series`.

        Columns ``period_end, dso, bpdso, add, cei, bad_debt_ratio`` (days,
        days, days, percent, percent of the month's credit sales).
        """
        from rpmkit.kpi import kpi_series

        s = self.scenario
        out = None
        for name in ("dso", "bpdso", "add", "cei", "bad_debt_ratio"):
            series = kpi_series(self.ledger, name, s.start_date, s.end_date, freq="month")
            col = series[["period_end", "value"]].rename(columns={"value": name})
            out = col if out is None else out.merge(col, on="period_end", how="outer")
        return out.reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Totals over the horizon, money in currency units: one row per measure.

        With promises on, also ``promises_made``, ``promises_kept`` and
        ``promises_broken``; with a payment-method mix, ``fees``."""
        d = self.daily
        units = 10 ** money.exponent(self.scenario.currency)
        rows = {
            "invoices": float((self.orders["accepted"]).sum()),
            "lost_orders": float(d["lost_orders"].sum()),
            "sales": d["sales"].sum() / units,
            "receipts": d["receipts"].sum() / units,
            "open_ar_end": d["open_ar"].iloc[-1] / units,
            "write_offs": d["write_offs"].sum() / units,
            "credit_notes": d["credit_notes"].sum() / units,
            "discount_cost": d["discount_cost"].sum() / units,
            "agency_fees": d["agency_fees"].sum() / units,
            "dunning_cost": d["dunning_cost"].sum() / units,
            "lost_sales": d["lost_sales"].sum() / units,
            "calls": float(d["calls"].sum()),
            "collector_utilisation": float(d["collector_utilisation"].mean()),
            "sim_events": float(self.sim_events),
            "sim_seconds": self.sim_seconds,
        }
        if self.scenario.promises.on:
            for name in ("promises_made", "promises_kept", "promises_broken"):
                rows[name] = float(d[name].sum())
        if self.scenario.channels.methods:
            rows["fees"] = d["fees"].sum() / units
        return pd.DataFrame({"value": rows}).rename_axis("measure")

    def __repr__(self) -> str:
        o = self.orders
        units = 10 ** money.exponent(self.scenario.currency)
        ar = self.daily["open_ar"].iloc[-1] / units if len(self.daily) else 0.0
        paid = int((self.events["kind"] == "payment").sum())
        return (
            f"SimResult(replication {self.replication}, {self.scenario.horizon_days} days: "
            f"{int(o['accepted'].sum()):,} invoices, {paid:,} paid, "
            f"open AR {ar:,.2f} {self.scenario.currency})"
        )


def build_result(
    scenario: Scenario,
    replication: int,
    o: Orders,
    rows: list[tuple],
    *,
    extra: tuple[np.ndarray, ...] | None = None,
    sim_events: int,
    sim_seconds: float,
) -> SimResult:
    """Assemble the :class:`SimResult` of a run from its records."""
    from rpmkit.sim import outputs
    from rpmkit.sim.channels import channel_daily, channel_ledger
    from rpmkit.sim.promises import promise_daily, promise_ledger

    log = Log.from_rows(rows, extra)
    start = scenario.start_date
    ledger = outputs.ledger(scenario, o, log)
    daily = outputs.daily_frame(scenario, o, log)
    # the promise and channel series follow the core ones (zeros, or the
    # receipts as cash available, when those features are off)
    extra_daily = {**promise_daily(scenario, log), **channel_daily(scenario, o, log)}
    daily = pd.concat([daily, pd.DataFrame(extra_daily, index=daily.index)], axis=1)
    if scenario.promises.on:
        ledger = promise_ledger(scenario, o, log, ledger)
    ledger = channel_ledger(scenario, o, log, ledger)
    return SimResult(
        scenario=scenario,
        replication=replication,
        events=events_frame(log, o, start),
        orders=outputs.orders_frame(o, log),
        ledger=ledger,
        daily=daily,
        sim_events=sim_events,
        sim_seconds=sim_seconds,
    )
