"""Small, widget-free computations the apps present: views of a ledger and display tables.

Everything here is a pure function of a :class:`~rpmkit.ledger.Ledger` and
dates, so the headless tests and the apps agree. KPI arithmetic itself lives in
:mod:`rpmkit.kpi`; these functions only select, call and reshape.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rpmkit import kpi, money
from rpmkit.ledger import Ledger, to_date

log = logging.getLogger("rpmkit.ui")

__all__ = [
    "ALL",
    "benchmarks",
    "customer_ledger",
    "customer_open_items",
    "customer_segments",
    "default_as_of",
    "dso_trend",
    "month_back",
    "regroup_aging",
    "segment_ledger",
    "segment_of_invoices",
    "segments",
    "top_past_due",
]

ALL = "All segments"


def benchmarks() -> dict[str, float]:
    """CRF median benchmarks by KPI name (``dso``, ``bpdso``, ``add``, ``cei`` …)."""
    return {name: b.value for name, b in kpi.CRF_BENCHMARKS.items()}


def month_back(as_of, months: int) -> pd.Timestamp:
    """The same point ``months`` calendar months earlier; month ends map to month ends.

    >>> month_back("2024-03-31", 1).date(), month_back("2024-03-15", 1).date()
    (datetime.date(2024, 2, 29), datetime.date(2024, 2, 15))
    """
    t = to_date(as_of)
    return pd.Timestamp(t + pd.Timedelta(days=1) - pd.DateOffset(months=months)) - pd.Timedelta(
        days=1
    )


def default_as_of(ledger: Ledger) -> pd.Timestamp:
    """The last month end on or before the ledger's last document (or that last day)."""
    _, last = ledger.date_range()
    end = last + pd.offsets.MonthEnd(0)
    return end if end == last else last - pd.offsets.MonthEnd(1)


def initial_as_of(ledger: Ledger, as_of, app: str) -> tuple[pd.Timestamp, str]:
    """The as-of date an app opens on, and a notice when the one asked for cannot be used.

    Blank means :func:`default_as_of`; a value that is not a date, or lies outside the
    ledger, falls back to it with a sentence saying why (and a log line naming ``app``).
    """
    fallback = default_as_of(ledger)
    if as_of is None or as_of == "":
        return fallback, ""
    try:
        t = to_date(as_of)
    except (ValueError, TypeError):
        log.warning("%s: unusable as_of %r", app, as_of)
        return fallback, f"“{as_of}” is not a date (use YYYY-MM-DD); showing {fallback.date()}."
    first, last = ledger.date_range()
    if not first <= t <= last:
        return fallback, (
            f"{t.date()} is outside the ledger ({first.date()} to {last.date()}); "
            f"showing {fallback.date()}."
        )
    return t, ""


def picked_as_of(value, first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Timestamp | None, str]:
    """A date picker's value as the as-of date, or ``None`` and the sentence to show."""
    if value is None:
        return None, "Pick an as-of date."
    t = pd.Timestamp(value if isinstance(value, dt.date) else str(value))
    if not first <= t <= last:
        return None, (
            f"Pick a date between {first.date()} and {last.date()}: "
            "the ledger has no documents outside that range."
        )
    return t, ""


def segment_of_invoices(ledger: Ledger) -> pd.Series:
    """Each invoice's segment: its own when given, else its customer's, else ``(none)``."""
    inv = ledger.invoices
    master = ledger.customers.set_index("customer_id")["segment"]
    return inv["segment"].fillna(inv["customer_id"].map(master)).fillna("(none)").astype(str)


def segments(ledger: Ledger) -> list[str]:
    """Segments with invoices, largest first by invoice count."""
    return list(segment_of_invoices(ledger).value_counts().index)


def _in(values: pd.Series, allowed) -> np.ndarray:
    """Membership test that stays in Arrow (pandas' ``isin`` on Arrow strings is slow)."""

    def strings(s) -> pa.Array:
        s = pd.Series(s, copy=False)
        if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
            arr = pa.array(s.array)  # a view of the Arrow buffers, not a copy to Python
        else:
            arr = pa.array(s.astype("string").to_numpy(na_value=None), type=pa.string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return arr.cast(pa.large_string())

    found = pc.is_in(strings(values), value_set=strings(allowed)).fill_null(False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _restrict(ledger: Ledger, invoice_mask: np.ndarray, customer_ids: pd.Series) -> Ledger:
    inv = ledger.invoices[invoice_mask]
    ids = inv["invoice_id"]
    alloc = ledger.allocations[_in(ledger.allocations["invoice_id"], ids)]
    pay_keep = _in(ledger.payments["payment_id"], alloc["payment_id"]) | _in(
        ledger.payments["customer_id"], customer_ids
    )
    tables = {
        "customers": ledger.customers[_in(ledger.customers["customer_id"], customer_ids)],
        "invoices": inv,
        "payments": ledger.payments[pay_keep],
        "allocations": alloc,
        "adjustments": ledger.adjustments[_in(ledger.adjustments["invoice_id"], ids)],
        "disputes": ledger.disputes[_in(ledger.disputes["invoice_id"], ids)],
        "activities": ledger.activities[_in(ledger.activities["customer_id"], customer_ids)],
    }
    # Row subsets of a canonical ledger are canonical once renumbered: skip the
    # constructor's column-by-column coercion (a third of a customer view's cost).
    tables = {name: frame.reset_index(drop=True) for name, frame in tables.items()}
    return Ledger._trusted(
        ledger.reporting_currency, ledger.cutoff, fx_rates=ledger.fx_rates, **tables
    )


def segment_ledger(ledger: Ledger, segment: str) -> Ledger:
    """The part of the ledger whose invoices belong to ``segment``.

    An invoice's segment is its own, else its customer's (:func:`segment_of_invoices`).

    Payments stay when they settle a kept invoice or come from a customer of the
    segment; fx rates are kept whole.
    """
    mask = (segment_of_invoices(ledger) == segment).to_numpy()
    customers = ledger.invoices.loc[mask, "customer_id"].drop_duplicates()
    master = ledger.customers
    customers = pd.concat([customers, master.loc[master["segment"] == segment, "customer_id"]])
    return _restrict(ledger, mask, customers.drop_duplicates())


def customer_ledger(ledger: Ledger, customer_id: str) -> Ledger:
    """The part of the ledger that belongs to one customer."""
    mask = (ledger.invoices["customer_id"] == customer_id).fillna(False).to_numpy(dtype=bool)
    return _restrict(ledger, mask, pd.Series([customer_id]))


def dso_trend(
    ledger: Ledger,
    as_of,
    months: int = 12,
    kpis: Sequence[str] = ("dso", "bpdso", "add"),
) -> pd.DataFrame:
    """DSO, BPDSO and ADD (standard, monthly periods) at ``months`` points ending at ``as_of``.

    Tidy: ``date``, ``kpi``, ``value`` (days; ``NaN`` where undefined). The
    points are the month ends of :func:`rpmkit.kpi.kpi_series`; an ``as_of``
    inside a month adds itself as the last point (the month ending that day), so
    the last point always equals the dashboard's tiles.
    """
    t = to_date(as_of)
    first, _ = ledger.date_range()
    month_end = t + pd.offsets.MonthEnd(0) == t
    start = max(month_back(t, months - 1), first)
    start = start - pd.offsets.MonthBegin(1) if start.day != 1 else start
    parts = []
    if start <= t:
        for k in kpis:
            part = kpi.kpi_series(ledger, k, start, t, freq="month")
            values = {"date": part["period_end"], "kpi": k, "value": part["value"]}
            parts.append(pd.DataFrame(values))
    if not month_end:
        functions = {"dso": kpi.dso, "bpdso": kpi.bpdso, "add": kpi.add}
        values = {k: functions[k](ledger, t, "month").value for k in kpis}
        parts.append(
            pd.DataFrame(
                {
                    "date": [t] * len(kpis),
                    "kpi": list(kpis),
                    "value": [np.nan if values[k] is None else float(values[k]) for k in kpis],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame(columns=["date", "kpi", "value"])
    frame["value"] = frame["value"].astype("float64")
    return frame.sort_values(["date", "kpi"], kind="stable").reset_index(drop=True)


def _customer_names(ledger: Ledger) -> pd.DataFrame:
    master = ledger.customers.drop_duplicates("customer_id").set_index("customer_id")
    return master[["name", "segment"]]


def customer_segments(ledger: Ledger) -> pd.Series | None:
    """Customer → segment, when every invoice's segment is its customer's; else ``None``.

    When it is not ``None``, aging by customer regrouped by this map equals aging
    by segment exactly, so one aging pass serves both the chart and the tables.
    """
    inv = ledger.invoices
    master = ledger.customers.drop_duplicates("customer_id").set_index("customer_id")["segment"]
    of_customer = inv["customer_id"].map(master).fillna("(none)").astype(str)
    if not (segment_of_invoices(ledger) == of_customer).all():
        return None
    mapping = pd.Series(of_customer.to_numpy(), index=inv["customer_id"].astype(str).to_numpy())
    return mapping[~mapping.index.duplicated()]


def regroup_aging(
    by_customer: kpi.AgingResult, mapping: pd.Series | None, segment: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bucket amounts (currency units) and counts per segment from aging by customer.

    With ``segment`` given, one row named after it (all of the ledger's customers);
    otherwise one row per segment through ``mapping``.
    """
    scale = 10 ** money.exponent(by_customer.currency)
    labels = by_customer.labels
    amounts = by_customer.amounts[labels]
    counts = by_customer.counts[labels]
    if segment is not None or mapping is None:
        key = pd.Series(segment or "total", index=amounts.index)
    else:
        key = pd.Series(amounts.index.astype(str).map(mapping), index=amounts.index)
        key = key.fillna("(none)")
    grouped = amounts.groupby(key.to_numpy(), sort=False).sum()
    order = grouped.sum(axis=1).sort_values(ascending=False, kind="stable").index
    grouped = grouped.loc[order]
    n = counts.groupby(key.to_numpy(), sort=False).sum().loc[order]
    return grouped.astype("float64") / scale, n


def top_past_due(
    ledger: Ledger, as_of, n: int | None = 10, *, by_customer: kpi.AgingResult | None = None
) -> pd.DataFrame:
    """Customers with the most past-due AR at ``as_of``, in reporting-currency units.

    Columns: ``customer_id, name, segment, open_ar, past_due, over_90,
    past_due_share`` (percent of the customer's open AR). ``n=None`` keeps all
    customers with anything past due. ``by_customer`` reuses an aging by customer
    at ``as_of`` already computed.
    """
    ag = by_customer if by_customer is not None else kpi.aging(ledger, as_of, by="customer")
    scale = 10 ** money.exponent(ledger.reporting_currency)
    amounts = ag.amounts
    first, last = ag.labels[0], ag.labels[-1]
    frame = pd.DataFrame(
        {
            "customer_id": amounts.index.astype(str),
            "open_ar": amounts["total"].to_numpy() / scale,
            "past_due": (amounts["total"] - amounts[first]).to_numpy() / scale,
            "over_90": amounts[last].to_numpy() / scale,
        }
    )
    frame = frame[frame["past_due"] > 0]
    frame["past_due_share"] = frame["past_due"] / frame["open_ar"] * 100
    frame = frame.sort_values(["past_due", "customer_id"], ascending=[False, True], kind="stable")
    if n is not None:
        frame = frame.head(n)
    names = _customer_names(ledger)
    frame.insert(1, "name", frame["customer_id"].map(names["name"]).astype(object))
    frame.insert(2, "segment", frame["customer_id"].map(names["segment"]).astype(object))
    return frame.reset_index(drop=True)


def customer_open_items(
    ledger: Ledger, customer_id: str, as_of, *, view: Ledger | None = None
) -> pd.DataFrame:
    """One customer's open invoices at ``as_of``, oldest due first, amounts in their currency.

    Columns: ``invoice_id, invoice_date, due_date, currency, amount, open_amount,
    days_past_due, bucket, disputed``. ``view`` reuses :func:`customer_ledger`'s
    result for this customer, already computed.
    """
    if view is None:
        view = customer_ledger(ledger, customer_id)
    items = view.open_items(as_of)
    cols = [
        "invoice_id",
        "invoice_date",
        "due_date",
        "currency",
        "amount",
        "open_amount",
        "days_past_due",
        "bucket",
        "disputed",
    ]
    if items.empty:
        return pd.DataFrame(columns=cols)
    labels = kpi.bucket_labels(kpi.DEFAULT_CUTOFFS)
    cuts = np.asarray(kpi.DEFAULT_CUTOFFS)
    bucket = np.searchsorted(cuts, items["days_past_due"].to_numpy(), side="left")
    t = to_date(as_of)
    disputes = view.disputes
    open_disputes = disputes[disputes["resolved_date"].isna() | (disputes["resolved_date"] > t)]
    open_disputes = open_disputes[open_disputes["opened_date"] <= t]
    out = pd.DataFrame(
        {
            "invoice_id": items["invoice_id"].astype(str),
            "invoice_date": items["invoice_date"],
            "due_date": items["due_date"],
            "currency": items["currency"].astype(str),
            "amount": money.to_units(items["amount"], items["currency"]).astype("float64"),
            "open_amount": money.to_units(items["open_amount"], items["currency"]).astype(
                "float64"
            ),
            "days_past_due": items["days_past_due"].astype("int64"),
            "bucket": [labels[i] for i in bucket],
            "disputed": _in(items["invoice_id"], open_disputes["invoice_id"]),
        }
    )
    return out.sort_values(["due_date", "invoice_id"], kind="stable").reset_index(drop=True)
