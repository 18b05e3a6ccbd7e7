"""Operational KPIs: disputes, promises to pay, collector activity, cash application, billing.

Each function looks at the ledger as known at the end of ``as_of``: documents
dated later are ignored, disputes resolved later are still open, promises due
later are not judged. Several related KPIs come back together as a
:class:`KpiSet`; a KPI the data cannot support is present with value ``None``
and a note saying what is missing, never silently zero.

Examples
--------
>>> table = product_limit([2, 5, 5, 8], [True, True, False, True])
>>> table[["time", "at_risk", "resolved", "censored", "survival"]]
   time  at_risk  resolved  censored  survival
0     2        4         1         0      0.75
1     5        3         1         1      0.50
2     8        1         1         0      0.00
>>> km_median(table), km_restricted_mean(table)
(5.0, 5.75)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.keys import group_sum, positions
from rpmkit.kpi.base import KpiValue, Period, period_bounds
from rpmkit.kpi.book import EVENT_KINDS, book, day_number
from rpmkit.kpi.payment import NEVER, UNKNOWN, _day, _units
from rpmkit.ledger import Ledger, to_date
from rpmkit.schema import ACTIVITY_KINDS

__all__ = [
    "KpiSet",
    "activity_counts",
    "cash_application_rates",
    "dispute_kpis",
    "invoice_management",
    "km_median",
    "km_restricted_mean",
    "product_limit",
    "promise_kept_rate",
]


@dataclass(frozen=True)
class KpiSet:
    """Several related KPIs at one as-of date, with the tables behind them.

    ``values`` maps a KPI name to its :class:`~rpmkit.kpi.KpiValue`;
    ``tables`` holds supporting DataFrames (a reason-code Pareto, a survival
    table); ``period`` is the measurement period when there is one.
    """

    name: str
    as_of: pd.Timestamp
    values: dict[str, KpiValue]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    period: Period | None = None

    def __getitem__(self, key: str) -> KpiValue:
        return self.values[key]

    def summary(self) -> pd.DataFrame:
        """One row per KPI: value, unit, method and note."""
        rows = [
            {"kpi": k, "value": v.value, "unit": v.unit, "method": v.method, "note": v.note}
            for k, v in self.values.items()
        ]
        return pd.DataFrame(rows).set_index("kpi")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "as_of": self.as_of.date().isoformat(),
            "period": None if self.period is None else str(self.period),
            "values": {k: v.to_dict() for k, v in self.values.items()},
        }

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={'undefined' if v.value is None else f'{v.value:,.2f}'}"
            for k, v in self.values.items()
        )
        return f"KpiSet({self.name} as of {self.as_of.date()}: {shown})"


def _period_dict(p: Period) -> dict[str, Any]:
    return {
        "period_start": p.start.date().isoformat(),
        "period_end": p.end.date().isoformat(),
        "D": p.days,
    }


def _pct(part: float, whole: float) -> float | None:
    return None if whole <= 0 else part / whole * 100


def _kpi(name: str, value, unit: str, comps: dict, note_if_none: str, method: str = ""):
    return KpiValue(
        name,
        None if value is None else float(value),
        comps,
        unit=unit,
        method=method,
        note="" if value is not None else note_if_none,
    )


def _days_between(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return (later - earlier).dt.days.to_numpy(dtype=np.int64)


# ---------------------------------------------------------------- survival
def product_limit(durations, resolved) -> pd.DataFrame:
    """Kaplan–Meier product-limit table of durations, some of them censored.

    ``resolved`` is True where the duration ended in the event (a resolved
    dispute) and False where it is censored (still open: we only know it has
    lasted at least that long). At each distinct time, events are counted before
    censorings, so a case censored at ``t`` is at risk at ``t``. Columns:
    ``time``, ``at_risk``, ``resolved``, ``censored``, ``survival`` (the
    estimated share still unresolved after ``time``).
    """
    durations = np.asarray(durations, dtype=np.int64)
    resolved = np.asarray(resolved, dtype=bool)
    if len(durations) == 0:
        return pd.DataFrame(
            {"time": [], "at_risk": [], "resolved": [], "censored": [], "survival": []}
        )
    times, inverse = np.unique(durations, return_inverse=True)
    leaving = np.bincount(inverse, minlength=len(times))
    events = np.bincount(inverse, weights=resolved, minlength=len(times)).astype(np.int64)
    at_risk = len(durations) - np.r_[0, np.cumsum(leaving)[:-1]]
    survival = np.cumprod(1.0 - events / at_risk)
    return pd.DataFrame(
        {
            "time": times,
            "at_risk": at_risk,
            "resolved": events,
            "censored": leaving - events,
            "survival": survival,
        }
    )


def km_median(table: pd.DataFrame) -> float | None:
    """Smallest time at which the product-limit survival is at or below 0.5 (None if never)."""
    reached = table["survival"].to_numpy() <= 0.5
    return float(table["time"].to_numpy()[reached][0]) if reached.any() else None


def km_restricted_mean(table: pd.DataFrame) -> float | None:
    """Area under the product-limit curve up to the longest observed time (restricted mean)."""
    if table.empty:
        return None
    times = table["time"].to_numpy(dtype=np.float64)
    before = np.r_[1.0, table["survival"].to_numpy()[:-1]]
    return float((before * np.diff(np.r_[0.0, times])).sum())


# ---------------------------------------------------------------- disputes
def dispute_kpis(ledger: Ledger, as_of, period: str | int | None = None) -> KpiSet:
    """Dispute KPIs at the end of ``as_of``.

    Parameters
    ----------
    as_of
        A dispute is known when opened on or before it, and open when not
        resolved by then (resolved later = still open).
    period
        ``None`` (default): resolution days and the Pareto cover every dispute
        opened up to ``as_of``; otherwise only those opened in the period ending
        at ``as_of``. Open disputed AR and the past-due share always use every
        dispute open at ``as_of``.

    Returns
    -------
    KpiSet
        ``open_disputed_ar`` (open amount of invoices with an open dispute,
        reporting currency units; ``disputed_amount`` in the components is the
        sum of the open disputes' own amounts), ``disputed_past_due_share``
        (percent of past-due AR on invoices with an open dispute),
        ``open_disputes`` (count) and ``dispute_resolution_days`` (Kaplan–Meier
        median of opened → resolved days; open disputes are censored at
        ``as_of``, not dropped; the components add the restricted mean and,
        for comparison, the biased mean over resolved disputes only). Tables:
        ``pareto`` (by ``reason_code``: disputes, amount, open, share and
        cumulative share of the count, largest first) and ``survival`` (the
        :func:`product_limit` table).
    """
    t = to_date(as_of)
    day = _day(t)
    currency = ledger.reporting_currency
    b = book(ledger)
    inv = ledger.invoices
    d = ledger.disputes
    pos = positions(d["invoice_id"], inv["invoice_id"])
    known = (d["opened_date"] <= t).to_numpy() & (pos >= 0)
    d, pos = d[known].reset_index(drop=True), pos[known]
    is_open = (d["resolved_date"].isna() | (d["resolved_date"] > t)).to_numpy()
    amount_rep = ledger.to_reporting(
        d["amount"],
        inv["currency"].iloc[pos].reset_index(drop=True),
        inv["invoice_date"].iloc[pos].reset_index(drop=True),
    ).to_numpy()

    open_amount = b.open_at(day)
    disputed = np.zeros(b.n, dtype=bool)
    disputed[pos[is_open]] = True
    past_due = ((day - b.due_day) > 0) & (open_amount > 0)
    ar_end = int(open_amount[open_amount > 0].sum())
    open_disputed = int(open_amount[disputed & (open_amount > 0)].sum())
    pd_total = int(open_amount[past_due].sum())
    pd_disputed = int(open_amount[past_due & disputed].sum())

    scope = np.ones(len(d), dtype=bool)
    p = None
    if period is not None:
        p = period_bounds(t, period)
        scope = (d["opened_date"] >= p.start).to_numpy()
    ended = d["resolved_date"].where(~is_open, t)
    durations = _days_between(ended, d["opened_date"])[scope]
    observed = ~is_open[scope]
    table = product_limit(durations, observed)
    median = km_median(table)
    note = "" if len(durations) else "no dispute opened"
    if len(durations) and median is None:
        note = "fewer than half of the disputes are resolved: the median is not reached yet"

    values = {
        "open_disputed_ar": _kpi(
            "open_disputed_ar",
            _units(open_disputed, currency),
            currency,
            {
                "as_of": t.date().isoformat(),
                "AR_end": _units(ar_end, currency),
                "open_disputes": int(is_open.sum()),
                "disputed_invoices": int(disputed.sum()),
                "disputed_amount": _units(amount_rep[is_open].sum(), currency),
            },
            "",
        ),
        "disputed_past_due_share": _kpi(
            "disputed_past_due_share",
            _pct(pd_disputed, pd_total),
            "percent",
            {
                "past_due_AR": _units(pd_total, currency),
                "past_due_disputed_AR": _units(pd_disputed, currency),
            },
            "no past-due AR",
        ),
        "open_disputes": _kpi("open_disputes", int(is_open.sum()), "count", {}, ""),
        "dispute_resolution_days": KpiValue(
            "dispute_resolution_days",
            median,
            {
                **({} if p is None else _period_dict(p)),
                "n": len(durations),
                "resolved": int(observed.sum()),
                "censored": int((~observed).sum()),
                "median": median,
                "restricted_mean": km_restricted_mean(table),
                "tau": float(durations.max()) if len(durations) else None,
                "mean_resolved_only": float(durations[observed].mean()) if observed.any() else None,
            },
            unit="days",
            method="kaplan_meier",
            note=note,
        ),
    }
    return KpiSet(
        "disputes",
        t,
        values,
        {
            "pareto": _pareto(d[scope], is_open[scope], amount_rep[scope], currency),
            "survival": table,
        },
        p,
    )


def _pareto(d: pd.DataFrame, is_open: np.ndarray, amounts: np.ndarray, currency: str):
    frame = pd.DataFrame(
        {
            "reason_code": d["reason_code"].astype("string").fillna("(none)").to_numpy(),
            "disputes": 1,
            "amount": amounts / 10 ** money.exponent(currency),
            "open": is_open.astype(np.int64),
        }
    )
    table = frame.groupby("reason_code", sort=False).sum()
    table = table.sort_values(["disputes", "amount"], ascending=False, kind="stable")
    total = max(int(table["disputes"].sum()), 1)
    table["share"] = table["disputes"] / total * 100
    table["cumulative_share"] = table["share"].cumsum()
    return table


# ---------------------------------------------------------------- promises
def _window_sums(keys, days, amounts, q_keys, q_lo, q_hi) -> np.ndarray:
    """Per query, the sum of ``amounts`` with ``key == q_key`` and ``q_lo <= day <= q_hi``."""
    out = np.zeros(len(q_keys), dtype=np.int64)
    if len(keys) == 0 or len(q_keys) == 0:
        return out
    base = min(int(days.min()), int(q_lo.min()))
    combined = (keys.astype(np.int64) << 32) | (days - base)
    order = np.argsort(combined, kind="stable")
    combined = combined[order]
    cum = np.r_[0, np.cumsum(amounts[order])]
    lo = np.searchsorted(combined, (q_keys.astype(np.int64) << 32) | (q_lo - base), "left")
    hi = np.searchsorted(combined, (q_keys.astype(np.int64) << 32) | (q_hi - base), "right")
    valid = (q_keys >= 0) & (hi > lo)
    out[valid] = cum[hi[valid]] - cum[lo[valid]]
    return out


def promise_kept_rate(ledger: Ledger, as_of, period: str | int = "month") -> KpiValue:
    """Share of promises to pay falling due in the period that were kept, in percent.

    The rule: a promise (an activity of kind ``promise_to_pay`` dated on or
    before ``as_of``) whose ``promised_date`` falls in the period is **kept**
    when the cash received from the day it was made up to and including the
    promised date reaches ``promised_amount``:

    * promise on an invoice: payments (by payment date) allocated to that invoice,
      counting only allocations in effect by ``as_of``, in the invoice's currency;
    * promise on a customer (no ``invoice_id``): that customer's payments in
      the promise's currency (the customer's currency, else the reporting
      currency), applied or not; a payment without ``customer_id`` belongs to the
      customer of the invoices it was applied to;
    * no ``promised_amount``: kept when any such cash arrived.

    Credit notes do not keep a promise. The source's own ``outcome`` column is
    not used for the value; its kept share is reported as
    ``recorded_kept_rate`` for comparison.
    """
    p = period_bounds(as_of, period)
    t = p.end
    a = ledger.activities
    prom = a[
        (a["kind"] == "promise_to_pay")
        & (a["date"] <= t)
        & (a["promised_date"] >= p.start)
        & (a["promised_date"] <= t)
    ].reset_index(drop=True)
    q_lo = day_number(prom["date"])
    q_hi = day_number(prom["promised_date"])
    on_invoice = prom["invoice_id"].notna().to_numpy()
    cash = np.zeros(len(prom), dtype=np.int64)

    b = book(ledger)
    pay = ledger.payments
    pay_day = day_number(pay["payment_date"])
    a_pay = ledger.links()["alloc_payment"]
    a_inv = b.ev_inv[: len(a_pay)]  # the book's first events are the allocations, in order
    a_ok = np.flatnonzero((b.ev_day[: len(a_pay)] <= _day(t)) & (a_pay >= 0))
    a_amount = ledger.allocations["amount"].to_numpy(dtype=np.int64)
    if on_invoice.any():
        q_inv = positions(prom["invoice_id"][on_invoice], ledger.invoices["invoice_id"])
        cash[on_invoice] = _window_sums(
            a_inv[a_ok],
            pay_day[a_pay[a_ok]],
            a_amount[a_ok],
            q_inv,
            q_lo[on_invoice],
            q_hi[on_invoice],
        )
    if (~on_invoice).any():
        # a payment without customer_id belongs to the customer of its first applied invoice
        first = np.full(len(pay), len(a_pay), dtype=np.int64)
        np.minimum.at(first, a_pay[a_ok], a_ok)
        customer = pay["customer_id"].astype(object).to_numpy(copy=True)
        fill = pd.isna(customer) & (first < len(a_pay))
        labels = np.asarray(b.customers, dtype=object)
        customer[fill] = labels[b.customer[a_inv[first[fill]]]]
        q = prom[~on_invoice]
        cust_currency = ledger.customers.set_index("customer_id")["currency"]
        q_currency = q["customer_id"].map(cust_currency).astype(object)
        q_currency = q_currency.fillna(ledger.reporting_currency).to_numpy()
        cust_codes, _ = pd.factorize(np.r_[customer, q["customer_id"].astype(object).to_numpy()])
        cur_codes, currencies = pd.factorize(
            np.r_[pay["currency"].astype(object).to_numpy(), q_currency]
        )
        both = np.where(cust_codes >= 0, cust_codes * (len(currencies) + 1) + cur_codes, -1)
        cash[~on_invoice] = _window_sums(
            both[: len(pay)],
            pay_day,
            pay["amount"].to_numpy(dtype=np.int64),
            both[len(pay) :],
            q_lo[~on_invoice],
            q_hi[~on_invoice],
        )
    promised = prom["promised_amount"]
    has_amount = promised.notna().to_numpy()
    target = promised.fillna(1).to_numpy(dtype=np.int64)
    kept = (cash >= target) & (cash > 0)
    recorded = prom["outcome"].astype("string").str.lower()
    judged = recorded.isin(["kept", "broken"]).to_numpy(dtype=bool)
    recorded_kept = (recorded == "kept").to_numpy(dtype=bool, na_value=False)
    return _kpi(
        "promise_kept_rate",
        _pct(int(kept.sum()), len(prom)),
        "percent",
        {
            **_period_dict(p),
            "promises": len(prom),
            "kept": int(kept.sum()),
            "broken": int((~kept).sum()),
            "on_invoice": int(on_invoice.sum()),
            "on_customer": int((~on_invoice).sum()),
            "without_amount": int((~has_amount).sum()),
            "recorded_kept_rate": _pct(int(recorded_kept[judged].sum()), int(judged.sum())),
        },
        "no promise to pay fell due in the period",
    )


# -------------------------------------------------------------- activities
def activity_counts(
    ledger: Ledger, as_of, period: str | int = "month", *, by: str = "kind"
) -> pd.DataFrame:
    """Collection activities dated in the period ending at ``as_of``.

    ``by="kind"``: one row per activity kind (every kind of the schema, zero
    when unused) with ``activities``, distinct ``customers`` and ``invoices``
    touched, and ``share`` (percent of all activities). ``by="customer"`` or
    the name of any other activities column (e.g. a ``collector`` attribute):
    one row per value with a count column per kind and ``total``, largest first.
    """
    p = period_bounds(as_of, period)
    a = ledger.activities
    a = a[(a["date"] >= p.start) & (a["date"] <= p.end)]
    kind = a["kind"].astype("string").fillna(UNKNOWN)
    if by == "kind":
        grouped = a.assign(kind=kind).groupby("kind", sort=False)
        table = pd.DataFrame(
            {
                "activities": grouped.size(),
                "customers": grouped["customer_id"].nunique(),
                "invoices": grouped["invoice_id"].nunique(),
            }
        )
        order = list(ACTIVITY_KINDS) + sorted(set(table.index) - set(ACTIVITY_KINDS))
        table = table.reindex(order, fill_value=0).astype("int64")
        table["share"] = table["activities"] / max(len(a), 1) * 100
        table.index.name = "kind"
        return table
    column = "customer_id" if by == "customer" else by
    if column not in a.columns:
        raise ValueError(
            f"by must be 'kind', 'customer' or an activities column; got {by!r} "
            f"(columns: {', '.join(a.columns)})"
        )
    group = a[column].astype("string").fillna(UNKNOWN)
    table = pd.crosstab(group.to_numpy(), kind.to_numpy())
    table["total"] = table.sum(axis=1)
    table.index.name, table.columns.name = by, None
    return table.sort_values("total", ascending=False, kind="stable")


# -------------------------------------------------------- cash application
def cash_application_rates(ledger: Ledger, as_of, period: str | int = "month") -> KpiSet:
    """How fully and how fast the period's receipts were applied to invoices.

    Over payments dated in the period ending at ``as_of``, with the
    allocations in effect by ``as_of``:

    * ``payments_applied_share``: percent of payments fully applied (count);
    * ``cash_applied_share``: percent of the received amount applied;
    * ``unapplied_cash``: cash on account at ``as_of`` over *all* payments
      received by then (reporting currency units, as beside the aging);
    * ``days_to_apply``: mean days from payment date to ``applied_date`` over
      allocations that carry an ``applied_date`` (count-weighted; the
      amount-weighted mean and median are in the components).

    Amounts are converted to the reporting currency at each payment's date.
    When the ledger has no allocations at all, every value is ``None`` with a
    note: cash application is not recorded, which is not the same as nothing
    applied.
    """
    p = period_bounds(as_of, period)
    t = p.end
    currency = ledger.reporting_currency
    names = ("payments_applied_share", "cash_applied_share", "unapplied_cash", "days_to_apply")
    if ledger.allocations.empty:
        note = "the ledger has no allocations: cash application is not recorded"
        return KpiSet(
            "cash_application",
            t,
            {n: KpiValue(n, None, _period_dict(p), unit="", note=note) for n in names},
            period=p,
        )
    pay = ledger.payments
    pay_day = day_number(pay["payment_date"])
    alloc = ledger.allocations
    a_pay = ledger.links()["alloc_payment"]
    a_ok = (ledger.allocation_dates() <= t).to_numpy() & (a_pay >= 0)
    amount = pay["amount"].to_numpy(dtype=np.int64)
    a_amount = alloc["amount"].to_numpy(dtype=np.int64)
    allocated = group_sum(a_pay[a_ok], a_amount[a_ok], len(pay))

    def rep(values: np.ndarray, sel: np.ndarray) -> int:
        part = pay[sel]
        series = pd.Series(values[sel], index=part.index)
        return int(ledger.to_reporting(series, part["currency"], part["payment_date"]).sum())

    received_by_t = pay_day <= _day(t)
    unapplied = amount - allocated
    on_account = rep(unapplied, received_by_t & (unapplied > 0))
    in_period = received_by_t & (pay_day >= _day(p.start))
    received, applied = rep(amount, in_period), rep(np.minimum(allocated, amount), in_period)
    full = in_period & (allocated >= amount)
    partly = in_period & (allocated > 0) & ~full
    n = int(in_period.sum())
    no_pay = "no payment was received in the period"

    dated = a_ok & alloc["applied_date"].notna().to_numpy()
    dated[dated] = in_period[a_pay[dated]]
    lag = day_number(alloc["applied_date"][dated]) - pay_day[a_pay[dated]]
    w = a_amount[dated].astype(np.float64)
    comps = _period_dict(p)
    values = {
        "payments_applied_share": _kpi(
            "payments_applied_share",
            _pct(int(full.sum()), n),
            "percent",
            {
                **comps,
                "payments": n,
                "fully_applied": int(full.sum()),
                "partly_applied": int(partly.sum()),
                "not_applied": n - int(full.sum()) - int(partly.sum()),
            },
            no_pay,
        ),
        "cash_applied_share": _kpi(
            "cash_applied_share",
            _pct(applied, received),
            "percent",
            {
                **comps,
                "received": _units(received, currency),
                "applied": _units(applied, currency),
                "unapplied": _units(rep(unapplied, in_period & (unapplied > 0)), currency),
            },
            no_pay,
        ),
        "unapplied_cash": _kpi(
            "unapplied_cash",
            _units(on_account, currency),
            currency,
            {
                "as_of": t.date().isoformat(),
                "payments_on_account": int((received_by_t & (unapplied > 0)).sum()),
            },
            "",
        ),
        "days_to_apply": _kpi(
            "days_to_apply",
            float(lag.mean()) if len(lag) else None,
            "days",
            {
                **comps,
                "allocations": len(lag),
                "amount_weighted": float((lag * w).sum() / w.sum()) if w.sum() > 0 else None,
                "median": float(np.median(lag)) if len(lag) else None,
            },
            no_pay if n == 0 else "no allocation of the period's payments has an applied_date",
        ),
    }
    return KpiSet("cash_application", t, values, period=p)


# ------------------------------------------------------- invoice management
BILLING_LAG_COLUMNS = ("delivery_date", "order_date")
"""Invoice attribute columns a billing lag is measured from, in order of preference."""


def invoice_management(
    ledger: Ledger, as_of, period: str | int = "month", *, correction_days: int = 30
) -> KpiSet:
    """Billing quality of the invoices dated in the period ending at ``as_of``.

    * ``billing_lag``: mean days from ``delivery_date`` (else ``order_date``)
      to ``invoice_date``, when the invoices carry such an attribute column;
    * ``credit_note_rate``: percent of the invoices with a credit note dated
      within ``correction_days`` of the invoice date (and by ``as_of``);
      ``immature`` in the components counts invoices whose window had not
      closed by ``as_of`` (they may still be corrected);
    * ``e_invoicing_share``: percent of invoices with a known ``channel`` that
      were ``electronic`` (the amount-weighted share is in the components).

    Each value is ``None`` with a note when the data lacks what it needs.
    """
    if correction_days < 0:
        raise ValueError(f"correction_days must be >= 0, got {correction_days}")
    p = period_bounds(as_of, period)
    t = p.end
    b = book(ledger)
    sel = (b.inv_day >= _day(p.start)) & (b.inv_day <= _day(t))
    inv = ledger.invoices[sel].reset_index(drop=True)
    amounts = b.amount[sel]
    n = len(inv)
    comps = {**_period_dict(p), "invoices": n}
    none_note = "no invoice dated in the period"

    source = next((c for c in BILLING_LAG_COLUMNS if c in inv.columns), None)
    if source is None:
        lag_value = KpiValue(
            "billing_lag",
            None,
            comps,
            note="invoices have no delivery_date or order_date column",
        )
    else:
        start = pd.to_datetime(inv[source], errors="coerce")
        lags = _days_between(inv["invoice_date"][start.notna()], start[start.notna()])
        lag_value = _kpi(
            "billing_lag",
            float(lags.mean()) if len(lags) else None,
            "days",
            {
                **comps,
                "with_date": len(lags),
                "median": float(np.median(lags)) if len(lags) else None,
            },
            none_note if n == 0 else f"no invoice in the period has a {source}",
            method=source,
        )

    credit = (b.ev_kind == EVENT_KINDS.index("credit_note")) & (b.ev_day <= _day(t))
    first_credit = np.full(b.n, NEVER, dtype=np.int64)
    np.minimum.at(first_credit, b.ev_inv[credit], b.ev_day[credit])
    corrected = (first_credit - b.inv_day)[sel] <= correction_days
    immature = b.inv_day[sel] + correction_days > _day(t)
    credit_value = _kpi(
        "credit_note_rate",
        _pct(int(corrected.sum()), n),
        "percent",
        {
            **comps,
            "corrected": int(corrected.sum()),
            "correction_days": correction_days,
            "corrected_amount_share": _pct(int(amounts[corrected].sum()), int(amounts.sum())),
            "immature": int(immature.sum()),
        },
        none_note,
    )

    channel = inv["channel"].astype("string").str.lower()
    known = channel.notna().to_numpy(dtype=bool)
    electronic = (channel == "electronic").to_numpy(dtype=bool, na_value=False)
    e_value = _kpi(
        "e_invoicing_share",
        _pct(int(electronic.sum()), int(known.sum())),
        "percent",
        {
            **comps,
            "electronic": int(electronic.sum()),
            "paper": int(known.sum() - electronic.sum()),
            "unknown": int((~known).sum()),
            "amount_share": _pct(int(amounts[electronic].sum()), int(amounts[known].sum())),
        },
        none_note if n == 0 else "no invoice in the period has a channel",
    )
    return KpiSet(
        "invoice_management",
        t,
        {"billing_lag": lag_value, "credit_note_rate": credit_value, "e_invoicing_share": e_value},
        period=p,
    )
