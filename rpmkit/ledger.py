"""The canonical AR ledger and its point-in-time view.

A :class:`Ledger` holds the eight tables of :mod:`rpmkit.schema` as pandas
frames, money in integer minor units. Two questions drive everything else:

* :meth:`Ledger.as_of` — the ledger as it was known at the end of a day;
* :meth:`Ledger.open_items` — which invoices are open then, and for how much.

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> flat = pd.DataFrame(
...     {
...         "invoice_id": ["A1", "A2"],
...         "customer_id": ["C1", "C1"],
...         "invoice_date": pd.to_datetime(["2024-01-05", "2024-02-01"]),
...         "due_date": pd.to_datetime(["2024-02-04", "2024-03-02"]),
...         "amount": [10_000, 25_050],
...         "currency": ["USD", "USD"],
...         "paid_date": pd.to_datetime(["2024-02-10", None]),
...     }
... )
>>> ledger = Ledger.from_flat(flat)
>>> ledger.open_items("2024-02-05")[["invoice_id", "open_amount", "days_past_due"]]
  invoice_id  open_amount  days_past_due
0         A1        10000              1
1         A2        25050            -26
>>> ledger.open_items("2024-02-10")["invoice_id"].tolist()
['A2']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from rpmkit import keys, money
from rpmkit.schema import (
    DATE_DTYPE,
    FLAT_INVOICE,
    ID_DTYPE,
    TABLE_ORDER,
    TABLES,
    dtype_for,
    empty_frame,
)

__all__ = ["Ledger", "to_date"]


def to_date(value) -> pd.Timestamp:
    """A calendar date as a midnight ``Timestamp``; refuses anything with a time of day."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        raise ValueError(f"dates are calendar dates without a time zone, got {value!r}")
    if ts != ts.normalize():
        raise ValueError(f"expected a calendar date, got a time of day in {value!r}")
    return ts


def _blank(kind: str, n: int):
    """A column of ``n`` missing values of a kind, built without Python objects."""
    if kind in ("money", "int"):
        return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))
    if kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype=DATE_DTYPE)
    if kind == "rate":
        return np.full(n, np.nan)
    if kind == "bool":
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    return pd.array(pa.nulls(n, pa.large_string()), dtype=dtype_for(kind))


def _coerce(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Give a frame its canonical columns and dtypes; extra columns are kept as attributes."""
    spec = TABLES.get(table, FLAT_INVOICE)
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: missing required column(s) {', '.join(missing)}")
    out = {}
    n = len(frame)
    for col in spec.columns:
        if col.name not in frame.columns:
            out[col.name] = _blank(col.kind, n)
            continue
        s = frame[col.name]
        if col.kind == "money":
            if len(s) == 0:
                s = s.astype("int64")
            if not pd.api.types.is_integer_dtype(s.dtype):
                raise TypeError(
                    f"{table}.{col.name} must hold integer minor units (got {s.dtype}); "
                    "convert with rpmkit.money.units_to_minor or load files with rpmkit.load"
                )
            if col.required:
                if s.isna().any():
                    raise ValueError(f"{table}.{col.name} has missing values")
                s = s.astype("int64")
            else:
                s = s.astype("Int64")
        elif col.kind == "date":
            s = pd.to_datetime(s).astype(DATE_DTYPE)
            if (s.dropna() != s.dropna().dt.normalize()).any():
                raise ValueError(f"{table}.{col.name} has times of day; dates are calendar dates")
        elif s.dtype != dtype_for(col.kind):
            s = s.astype(dtype_for(col.kind))
        out[col.name] = s.reset_index(drop=True)
    extras = [c for c in frame.columns if c not in spec.names]
    result = pd.DataFrame(out, index=pd.RangeIndex(n))
    for c in extras:
        result[c] = frame[c].to_numpy()
    return result


@dataclass(frozen=True, eq=False)
class Ledger:
    """The canonical receivables ledger.

    Parameters
    ----------
    customers, invoices, payments, allocations, adjustments, disputes, activities, fx_rates
        Frames with the columns of :mod:`rpmkit.schema`; missing tables are
        empty and missing optional columns are added as blanks. Money columns
        must already be integer minor units. Extra columns are kept.
    reporting_currency
        ISO 4217 code KPIs are reported in; ``fx_rates`` convert into it.
    cutoff
        Set by :meth:`as_of`: the day this view of the ledger is known up to.

    Construction checks columns and dtypes only; the row-level rules (keys,
    references, amounts that do not over-settle) are enforced by
    :func:`rpmkit.load` at the boundary and can be re-checked with :meth:`check`.
    """

    customers: pd.DataFrame = field(default_factory=lambda: empty_frame("customers"))
    invoices: pd.DataFrame = field(default_factory=lambda: empty_frame("invoices"))
    payments: pd.DataFrame = field(default_factory=lambda: empty_frame("payments"))
    allocations: pd.DataFrame = field(default_factory=lambda: empty_frame("allocations"))
    adjustments: pd.DataFrame = field(default_factory=lambda: empty_frame("adjustments"))
    disputes: pd.DataFrame = field(default_factory=lambda: empty_frame("disputes"))
    activities: pd.DataFrame = field(default_factory=lambda: empty_frame("activities"))
    fx_rates: pd.DataFrame = field(default_factory=lambda: empty_frame("fx_rates"))
    reporting_currency: str = "USD"
    cutoff: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        if not money.is_known_currency(self.reporting_currency):
            raise ValueError(f"reporting_currency {self.reporting_currency!r} is not ISO 4217")
        for name in TABLE_ORDER:
            frame = getattr(self, name)
            if frame is None:
                frame = empty_frame(name)
            object.__setattr__(self, name, _coerce(frame, name))
        if self.cutoff is not None:
            object.__setattr__(self, "cutoff", to_date(self.cutoff))

    @classmethod
    def _trusted(cls, reporting_currency: str, cutoff, **tables: pd.DataFrame) -> Ledger:
        """Build from frames already in canonical form (views of a ledger), skipping coercion."""
        ledger = object.__new__(cls)
        for name in TABLE_ORDER:
            object.__setattr__(ledger, name, tables[name])
        object.__setattr__(ledger, "reporting_currency", reporting_currency)
        object.__setattr__(ledger, "cutoff", cutoff)
        return ledger

    # ------------------------------------------------------------------ basics
    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The eight tables by name, in canonical order."""
        return {name: getattr(self, name) for name in TABLE_ORDER}

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        return iter(self.tables.items())

    def replace(self, **changes) -> Ledger:
        """A copy with some tables or settings replaced."""
        return dataclasses.replace(self, **changes)

    def summary(self) -> pd.DataFrame:
        """Rows per table, with the date range of each dated table."""
        rows = []
        for name, frame in self:
            date_col = TABLES[name].date
            dates = frame[date_col].dropna() if date_col else pd.Series([], dtype=DATE_DTYPE)
            rows.append(
                {
                    "table": name,
                    "rows": len(frame),
                    "first_date": dates.min() if len(dates) else pd.NaT,
                    "last_date": dates.max() if len(dates) else pd.NaT,
                }
            )
        return pd.DataFrame(rows).set_index("table")

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(frame):,}" for name, frame in self if len(frame))
        cut = f", as of {self.cutoff.date()}" if self.cutoff is not None else ""
        return f"Ledger({counts or 'empty'}; reporting {self.reporting_currency}{cut})"

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last document date over invoices, payments and adjustments."""
        dates = pd.concat(
            [
                self.invoices["invoice_date"],
                self.payments["payment_date"],
                self.adjustments["date"],
            ]
        ).dropna()
        if dates.empty:
            raise ValueError("the ledger has no dated documents")
        return dates.min(), dates.max()

    # ------------------------------------------------------- point in time
    def _cached(self, name: str, compute):
        """A derived value computed once per ledger object (tables are never mutated)."""
        value = self.__dict__.get(name)
        if value is None:
            value = compute()
            object.__setattr__(self, name, value)
        return value

    def links(self) -> dict[str, np.ndarray]:
        """Row positions behind the references, ``-1`` where the target is missing.

        ``alloc_invoice`` and ``alloc_payment`` for each allocation, and
        ``adj_invoice`` for each adjustment: one hash join each, done once per
        ledger so every analysis after it works on integer positions.
        """

        def compute() -> dict[str, np.ndarray]:
            # one lookup table of invoice ids serves allocations and adjustments
            refs = pd.concat(
                [self.allocations["invoice_id"], self.adjustments["invoice_id"]],
                ignore_index=True,
            )
            # The two joins are independent and release the GIL (Arrow and numpy
            # kernels): at millions of rows, running them at once saves a third.
            with ThreadPoolExecutor(max_workers=2) as pool:
                to_payment = pool.submit(
                    keys.positions, self.allocations["payment_id"], self.payments["payment_id"]
                )
                to_invoice = keys.positions(refs, self.invoices["invoice_id"])
                alloc_payment = to_payment.result()
            n = len(self.allocations)
            return {
                "alloc_invoice": to_invoice[:n],
                "alloc_payment": alloc_payment,
                "adj_invoice": to_invoice[n:],
            }

        return self._cached("_links", compute)

    def allocation_dates(self) -> pd.Series:
        """Effective date of each allocation.

        The application date when given, else the payment date; never before
        the payment was received nor before the invoice exists (cash received
        ahead of an invoice settles it only once the invoice is issued). An
        allocation whose payment or invoice is missing has no date (``NaT``)
        and never takes effect. Computed once per ledger object.
        """

        def compute() -> pd.Series:
            alloc = self.allocations
            links = self.links()
            inv_pos, pay_pos = links["alloc_invoice"], links["alloc_payment"]
            pay_dates = self.payments["payment_date"].to_numpy(dtype=DATE_DTYPE)
            inv_dates = self.invoices["invoice_date"].to_numpy(dtype=DATE_DTYPE)
            missing = (inv_pos < 0) | (pay_pos < 0)
            pay_date = pay_dates[np.maximum(pay_pos, 0)] if len(pay_dates) else pay_dates[:0]
            inv_date = inv_dates[np.maximum(inv_pos, 0)] if len(inv_dates) else inv_dates[:0]
            applied = alloc["applied_date"].to_numpy(dtype=DATE_DTYPE)
            if len(alloc) and (len(pay_date) == 0 or len(inv_date) == 0):
                return pd.Series(pd.NaT, index=alloc.index, dtype=DATE_DTYPE)
            dates = np.where(np.isnat(applied), pay_date, applied)
            dates = np.maximum(np.maximum(dates, pay_date), inv_date)
            dates[missing] = np.datetime64("NaT")
            return pd.Series(dates, index=alloc.index, dtype=DATE_DTYPE)

        return self._cached("_allocation_dates", compute)

    def as_of(self, date) -> Ledger:
        """The ledger as known at the end of ``date``.

        Documents dated later vanish (invoices, payments, adjustments, disputes
        opened, activities, customers created, fx rates); allocations take
        effect on their :meth:`allocation_dates`; disputes resolved later are
        open again; promises to pay due later have no outcome yet.
        """
        t = to_date(date)
        inv = self.invoices[self.invoices["invoice_date"] <= t]
        pay = self.payments[self.payments["payment_date"] <= t]
        eff = self.allocation_dates()
        # effective dates are never before their payment or invoice: no join needed
        alloc = self.allocations[eff <= t]
        adj = self.adjustments[self.adjustments["date"] <= t]
        disp = self.disputes[self.disputes["opened_date"] <= t].copy()
        later = disp["resolved_date"] > t
        disp.loc[later, "resolved_date"] = pd.NaT
        disp.loc[later, "outcome"] = pd.NA
        act = self.activities[self.activities["date"] <= t].copy()
        unknown = (act["kind"] == "promise_to_pay") & (act["promised_date"] > t)
        act.loc[unknown, "outcome"] = pd.NA
        cust = self.customers[
            self.customers["created_date"].isna() | (self.customers["created_date"] <= t)
        ]
        fx = self.fx_rates[self.fx_rates["date"] <= t]
        view = Ledger._trusted(
            customers=cust.reset_index(drop=True),
            invoices=inv.reset_index(drop=True),
            payments=pay.reset_index(drop=True),
            allocations=alloc.reset_index(drop=True),
            adjustments=adj.reset_index(drop=True),
            disputes=disp.reset_index(drop=True),
            activities=act.reset_index(drop=True),
            fx_rates=fx.reset_index(drop=True),
            reporting_currency=self.reporting_currency,
            cutoff=t,
        )
        object.__setattr__(view, "_allocation_dates", eff[eff <= t].reset_index(drop=True))
        return view

    def cut_date(self, as_of) -> pd.Timestamp:
        """The day a question is asked about: ``as_of``, else this view's cutoff.

        Raises ``ValueError`` when neither is given (rpmkit never reads the clock) or when
        ``as_of`` lies after the cutoff of a view made by :meth:`as_of`.
        """
        if as_of is None:
            if self.cutoff is None:
                raise ValueError("as_of is required: rpmkit never reads the clock")
            return self.cutoff
        t = to_date(as_of)
        if self.cutoff is not None and t > self.cutoff:
            raise ValueError(f"this view is cut at {self.cutoff.date()}; cannot see {t.date()}")
        return t

    def _cut(self, as_of) -> tuple[Ledger, pd.Timestamp]:
        t = self.cut_date(as_of)
        return (self if as_of is None else self.as_of(t)), t

    def settlement(self, as_of=None) -> pd.DataFrame:
        """Per invoice (known at ``as_of``): amount, what settled it, and what is open.

        Columns: the invoice columns plus ``applied`` (cash allocated),
        ``credited`` (credit notes), ``written_off``, ``discounted``
        (discounts and deductions), ``open_amount`` and ``settled_date`` (the
        day the invoice was fully settled, ``NaT`` while open). All money in
        the invoice's minor units.
        """
        view = self.as_of(as_of) if as_of is not None else self
        inv = view.invoices
        links = view.links()
        n = len(inv)

        def total(
            pos: np.ndarray, amounts: pd.Series, mask: np.ndarray | None = None
        ) -> np.ndarray:
            keep = pos >= 0 if mask is None else (pos >= 0) & mask
            return keys.group_sum(pos[keep], amounts.to_numpy(dtype=np.int64)[keep], n)

        adj_kind = view.adjustments["kind"].to_numpy(dtype=object)

        def kind_total(*kinds: str) -> np.ndarray:
            return total(links["adj_invoice"], view.adjustments["amount"], np.isin(adj_kind, kinds))

        out = inv.copy()
        out["applied"] = total(links["alloc_invoice"], view.allocations["amount"])
        out["credited"] = kind_total("credit_note")
        out["written_off"] = kind_total("write_off")
        out["discounted"] = kind_total("discount", "deduction")
        out["open_amount"] = (
            out["amount"] - out["applied"] - out["credited"] - out["written_off"]
        ) - out["discounted"]
        out["settled_date"] = view._settled_dates(out)
        return out

    def _settled_dates(self, settled: pd.DataFrame) -> pd.Series:
        events = pd.concat(
            [
                pd.DataFrame(
                    {
                        "invoice_id": self.allocations["invoice_id"],
                        "date": self.allocation_dates(),
                        "amount": self.allocations["amount"],
                    }
                ),
                self.adjustments[["invoice_id", "date", "amount"]],
            ],
            ignore_index=True,
        )
        result = pd.Series(pd.NaT, index=settled.index, dtype=DATE_DTYPE)
        closed = settled["open_amount"] <= 0
        if events.empty or not closed.any():
            return result
        pos = keys.positions(events["invoice_id"], settled["invoice_id"])
        events = events.assign(pos=pos)[(pos >= 0) & closed.to_numpy()[np.maximum(pos, 0)]]
        events = events.sort_values(["pos", "date"], kind="stable")
        events["cum"] = events.groupby("pos")["amount"].cumsum()
        target = settled["amount"].to_numpy()[events["pos"].to_numpy()]
        reached = events[events["cum"].to_numpy() >= target]
        first = reached.groupby("pos")["date"].min()
        result.iloc[first.index.to_numpy()] = first.to_numpy()
        return result

    def open_items(self, as_of=None) -> pd.DataFrame:
        """Invoices open at the end of ``as_of`` with their open amount.

        Adds ``days_past_due`` (``as_of − due_date``; zero or less is current)
        and ``days_outstanding`` (``as_of − invoice_date``) to the
        :meth:`settlement` columns. Sorted by customer, then due date.
        """
        view, t = self._cut(as_of)
        settled = view.settlement()
        items = settled[settled["open_amount"] > 0].copy()
        items["days_past_due"] = (t - items["due_date"]).dt.days.astype("int64")
        items["days_outstanding"] = (t - items["invoice_date"]).dt.days.astype("int64")
        items = items.drop(columns=["settled_date"])
        return items.sort_values(
            ["customer_id", "due_date", "invoice_id"], kind="stable"
        ).reset_index(drop=True)

    def unapplied_cash(self, as_of=None) -> pd.DataFrame:
        """Payments received by ``as_of`` not (fully) allocated then: cash on account.

        Columns: the payment columns plus ``allocated`` and ``unapplied`` (minor units).
        """
        t = self.cut_date(as_of)
        pay = self.payments[self.payments["payment_date"] <= t].copy()
        pay_pos = self.links()["alloc_payment"]
        keep = (self.allocation_dates() <= t).to_numpy() & (pay_pos >= 0)
        amounts = self.allocations["amount"].to_numpy(dtype=np.int64)
        allocated = keys.group_sum(pay_pos[keep], amounts[keep], len(self.payments))
        pay["allocated"] = allocated[pay.index.to_numpy()]
        pay["unapplied"] = pay["amount"] - pay["allocated"]
        return pay[pay["unapplied"] > 0].reset_index(drop=True)

    # ------------------------------------------------------------- currency
    def fx_factors(self, currencies: pd.Series, dates: pd.Series) -> np.ndarray:
        """Per row, reporting minor units per document minor unit (1.0 in reporting currency).

        The factor is the latest ``fx_rates`` rate dated on or before the row's
        date, scaled by the two currencies' minor-unit exponents. Raises
        ``ValueError`` naming the currencies and first dates with no rate.
        """
        rep = self.reporting_currency
        currencies = pd.Series(currencies, copy=False).astype("string")
        dates = pd.Series(dates, index=currencies.index, copy=False).astype(DATE_DTYPE)
        factors = np.ones(len(currencies), dtype=np.float64)
        foreign = (currencies != rep).fillna(True).to_numpy(dtype=bool)
        if not foreign.any():
            return factors
        frame = pd.DataFrame(
            {
                "pos": np.flatnonzero(foreign),
                "currency": currencies[foreign].astype(ID_DTYPE).to_numpy(),
                "date": dates[foreign].to_numpy(),
            }
        ).sort_values("date", kind="stable")
        rates = self.fx_rates[["date", "currency", "rate"]].sort_values("date", kind="stable")
        merged = pd.merge_asof(frame, rates, on="date", by="currency", direction="backward")
        if merged["rate"].isna().any():
            gaps = merged[merged["rate"].isna()].groupby("currency")["date"].min()
            detail = ", ".join(f"{c} on {d.date()}" for c, d in gaps.items())
            raise ValueError(f"fx_rate_missing: no rate into {rep} for {detail}")
        scale = 10.0 ** (money.exponent(rep) - money.exponents(merged["currency"]))
        factors[merged["pos"].to_numpy()] = merged["rate"].to_numpy() * scale
        return factors

    def to_reporting(
        self, amounts: pd.Series, currencies: pd.Series, dates: pd.Series
    ) -> pd.Series:
        """Convert minor units into reporting-currency minor units.

        Each amount uses :meth:`fx_factors` (the latest rate on or before its
        date) and is rounded half-to-even to the reporting minor unit, document
        by document; amounts already in the reporting currency pass unchanged.
        """
        amounts = pd.Series(amounts, copy=False)
        values = amounts.astype("int64").to_numpy()
        factors = self.fx_factors(
            pd.Series(currencies, index=amounts.index, copy=False),
            pd.Series(dates, index=amounts.index, copy=False),
        )
        converted = np.where(factors == 1.0, values, np.rint(values * factors).astype(np.int64))
        return pd.Series(converted, index=amounts.index, dtype="int64")

    # ------------------------------------------------------------ flat form
    @classmethod
    def from_flat(
        cls,
        flat: pd.DataFrame,
        *,
        reporting_currency: str = "USD",
        customers: pd.DataFrame | None = None,
    ) -> Ledger:
        """Expand the flat invoice form into the full model.

        Each settled invoice gets one payment (``payment_id`` = ``invoice_id``)
        of its full amount on ``paid_date`` and one allocation. ``disputed``
        and any other extra columns stay on the invoices as attributes. When
        ``currency`` is absent every invoice is in the reporting currency.
        ``customers`` gives a customer master; by default it is the distinct
        ``customer_id`` values.
        """
        had_disputed = "disputed" in flat.columns
        flat = flat.copy()
        if "currency" not in flat.columns:
            flat["currency"] = reporting_currency
        flat = _coerce(flat, "flat")
        invoices = flat.drop(columns=["paid_date"] if had_disputed else ["paid_date", "disputed"])
        paid = flat[flat["paid_date"].notna()]
        payments = pd.DataFrame(
            {
                "payment_id": paid["invoice_id"],
                "payment_date": paid["paid_date"],
                "amount": paid["amount"],
                "currency": paid["currency"],
                "customer_id": paid["customer_id"],
            }
        )
        allocations = pd.DataFrame(
            {
                "payment_id": paid["invoice_id"],
                "invoice_id": paid["invoice_id"],
                "amount": paid["amount"],
                "applied_date": paid["paid_date"],
            }
        )
        if customers is None:
            customers = pd.DataFrame(
                {"customer_id": flat["customer_id"].drop_duplicates().reset_index(drop=True)}
            )
        return cls(
            customers=customers,
            invoices=invoices,
            payments=payments,
            allocations=allocations,
            reporting_currency=reporting_currency,
        )

    def to_flat(self, as_of=None) -> pd.DataFrame:
        """One row per invoice with ``paid_date`` (blank while open) and ``disputed``.

        The inverse of :meth:`from_flat` for every column the flat form has.
        """
        view = self.as_of(as_of) if as_of is not None else self
        settled = view.settlement()
        flat = settled.drop(
            columns=["applied", "credited", "written_off", "discounted", "open_amount"]
        ).rename(columns={"settled_date": "paid_date"})
        if "disputed" not in flat.columns:
            flat["disputed"] = keys.isin(flat["invoice_id"], view.disputes["invoice_id"])
        first = [c.name for c in FLAT_INVOICE.columns if c.name in flat.columns]
        rest = [c for c in flat.columns if c not in first]
        return flat[first + rest].reset_index(drop=True)

    # ---------------------------------------------------------------- checks
    def check(self) -> None:
        """Re-check the row-level rules :func:`rpmkit.load` enforces; raise on the first broken one.

        Keys unique; references resolve; amounts positive; due on or after
        invoice date; no invoice settled beyond its amount; no payment
        allocated beyond its amount; currencies known and consistent.
        """
        problems: list[str] = []
        for name, frame in self:
            spec = TABLES[name]
            if frame.duplicated(list(spec.key)).any():
                problems.append(f"{name}: duplicate key {spec.key}")
            for col, target in spec.references.items():
                key = TABLES[target].key[0]
                known = getattr(self, target)[key]
                if name == "invoices" and col == "customer_id" and self.customers.empty:
                    continue
                bad = ~keys.isin(frame[col], known) & frame[col].notna().to_numpy()
                if bad.any():
                    problems.append(f"{name}.{col}: {int(bad.sum())} unknown {target}")
            m = spec.money
            if m and spec.column(m).required and (frame[m] <= 0).any():
                problems.append(f"{name}.{m}: amounts must be > 0")
            for c in spec.columns:
                if c.kind == "currency":
                    codes = frame[c.name].dropna().unique()
                    unknown = [x for x in codes if not money.is_known_currency(x)]
                    if unknown:
                        problems.append(f"{name}.{c.name}: unknown currencies {unknown}")
        if (self.invoices["due_date"] < self.invoices["invoice_date"]).any():
            problems.append("invoices: due_date before invoice_date")
        settled = self.settlement()
        if (settled["open_amount"] < 0).any():
            problems.append("invoices: settled beyond their amount")
        alloc_total = self.allocations.groupby("payment_id", observed=True)["amount"].sum()
        pay_amount = self.payments.set_index("payment_id")["amount"]
        if (alloc_total > pay_amount.reindex(alloc_total.index)).any():
            problems.append("payments: allocated beyond their amount")
        inv_cur = self.invoices.set_index("invoice_id")["currency"]
        pay_cur = self.payments.set_index("payment_id")["currency"]
        a = self.allocations
        if (
            not a.empty
            and (
                a["invoice_id"].map(inv_cur).to_numpy() != a["payment_id"].map(pay_cur).to_numpy()
            ).any()
        ):
            problems.append("allocations: payment and invoice currencies differ")
        if problems:
            raise ValueError("ledger check failed:\n- " + "\n- ".join(problems))
