"""Point-in-time aging: open AR by days past due (or by age), exact to the minor unit.

>>> from rpmkit.kpi.aging import bucket_labels
>>> bucket_labels((0, 30, 60, 90))
['current', '1-30', '31-60', '61-90', '91+']
>>> bucket_labels((30, 60, 90), basis="invoice")
['0-30', '31-60', '61-90', '91+']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.kpi.book import book, day_number
from rpmkit.ledger import Ledger, to_date

__all__ = ["DEFAULT_CUTOFFS", "AgingResult", "aging", "bucket_labels"]

DEFAULT_CUTOFFS = (0, 30, 60, 90)
By = Literal["customer", "segment", "currency"] | None


def bucket_labels(cutoffs: Sequence[int], basis: str = "due") -> list[str]:
    """Labels of the buckets a list of upper cut-offs makes (the last bucket is open-ended)."""
    cuts = list(cutoffs)
    if not cuts or any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
        raise ValueError(f"cut-offs must be a non-empty increasing list, got {cuts}")
    labels = []
    low = None
    for c in cuts:
        if low is None:
            labels.append("current" if basis == "due" and c == 0 else f"0-{c}")
        else:
            labels.append(f"{low + 1}-{c}")
        low = c
    labels.append(f"{low + 1}+")
    return labels


@dataclass(frozen=True)
class AgingResult:
    """Open AR at ``as_of`` by bucket.

    ``amounts`` and ``counts`` have one row per group (``"total"`` when not
    grouped) and one column per bucket; ``amounts`` is in minor units of
    ``currency`` (per row's currency when grouped by currency) and has a
    ``total`` column equal to the row's open AR. ``unapplied_cash`` is cash
    received and not applied, kept out of the buckets and shown beside them.
    """

    as_of: pd.Timestamp
    basis: str
    labels: list[str]
    amounts: pd.DataFrame
    counts: pd.DataFrame
    currency: str
    unapplied_cash: int
    by: str | None = None

    @property
    def open_ar(self) -> int:
        """Open AR in minor units (reporting currency; grouped by currency: not defined)."""
        if self.by == "currency":
            raise ValueError("amounts grouped by currency are in different currencies")
        return int(self.amounts["total"].sum())

    def totals(self) -> pd.Series:
        """Bucket totals over all groups, minor units."""
        if self.by == "currency":
            raise ValueError("amounts grouped by currency are in different currencies")
        return self.amounts.sum(axis=0).astype("int64")

    def summary(self) -> pd.DataFrame:
        """Amounts in currency units with counts, ready to display."""
        units = self.amounts.copy().astype("float64")
        exps = (
            money.exponents(pd.Series(self.amounts.index))
            if self.by == "currency"
            else np.full(len(units), money.exponent(self.currency))
        )
        units = units.div(np.power(10.0, exps), axis=0)
        units["invoices"] = self.counts.sum(axis=1)
        return units

    def to_dict(self) -> dict:
        scale = 10 ** money.exponent(self.currency)
        totals = self.totals() if self.by != "currency" else None
        return {
            "as_of": self.as_of.date().isoformat(),
            "basis": self.basis,
            "currency": self.currency,
            "buckets": {k: int(v) / scale for k, v in totals.items() if k != "total"}
            if totals is not None
            else None,
            "open_ar": self.open_ar / scale if totals is not None else None,
            "unapplied_cash": self.unapplied_cash / scale,
        }

    def __repr__(self) -> str:
        return (
            f"AgingResult(as of {self.as_of.date()}, {len(self.amounts)} row(s), "
            f"buckets {self.labels}, {self.currency})"
        )


def _unapplied(ledger: Ledger, as_of: pd.Timestamp) -> int:
    cash = ledger.unapplied_cash(as_of)
    if cash.empty:
        return 0
    # one conversion per currency and day, so splitting a payment changes nothing
    daily = cash.groupby(["currency", "payment_date"], as_index=False)["unapplied"].sum()
    rep = ledger.to_reporting(daily["unapplied"], daily["currency"], daily["payment_date"])
    return int(rep.sum())


def aging(
    ledger: Ledger,
    as_of,
    *,
    cutoffs: Sequence[int] = DEFAULT_CUTOFFS,
    basis: Literal["due", "invoice"] = "due",
    by: By = None,
) -> AgingResult:
    """Open AR at the end of ``as_of`` by bucket.

    Parameters
    ----------
    cutoffs
        Upper bounds of each bucket but the last, in days. With the default
        basis they are days past due (``as_of − due_date``; zero or less is
        current, so due today is current): ``(0, 30, 60, 90)`` makes
        ``current, 1-30, 31-60, 61-90, 91+``.
    basis
        ``"due"`` ages by days past due, ``"invoice"`` by days since the
        invoice date (then use e.g. ``(30, 60, 90)``).
    by
        ``None`` (one total row), ``"customer"``, ``"segment"`` or
        ``"currency"``. Grouped by currency, each row is in its own currency;
        otherwise amounts are in the reporting currency (each invoice converted
        at its invoice-date rate).

    Examples
    --------
    >>> import rpmkit
    >>> from rpmkit.config import sample_dir
    >>> ledger = rpmkit.load(sample_dir()).ledger
    >>> result = aging(ledger, "2024-06-30")
    >>> int(result.totals()[result.labels].sum()) == result.open_ar
    True
    """
    if basis not in ("due", "invoice"):
        raise ValueError(f"basis must be 'due' or 'invoice', got {basis!r}")
    t = to_date(as_of)
    labels = bucket_labels(cutoffs, basis)
    day = int(day_number(pd.Series([t]))[0])
    cuts = np.asarray(cutoffs, dtype=np.int64)

    if by == "currency":
        items = ledger.open_items(t)
        age = items["days_past_due"] if basis == "due" else items["days_outstanding"]
        bucket = np.searchsorted(cuts, age.to_numpy(), side="left")
        group_codes, groups = pd.factorize(items["currency"], sort=True)
        values = items["open_amount"].to_numpy(dtype=np.int64)
    else:
        b = book(ledger)
        open_ = b.open_at(day)
        sel = open_ > 0
        age = (day - b.due_day[sel]) if basis == "due" else (day - b.inv_day[sel])
        bucket = np.searchsorted(cuts, age, side="left")
        values = open_[sel]
        if by is None:
            group_codes, groups = np.zeros(sel.sum(), dtype=np.int64), pd.Index(["total"])
        elif by == "customer":
            group_codes, groups = b.customer[sel], b.customers
        elif by == "segment":
            group_codes, groups = b.segment[sel], b.segments
        else:
            raise ValueError(f"by must be None, 'customer', 'segment' or 'currency'; got {by!r}")

    nb = len(labels)
    flat = np.asarray(group_codes, dtype=np.int64) * nb + bucket
    size = len(groups) * nb
    amounts = np.zeros(size, dtype=np.int64)
    np.add.at(amounts, flat, values)
    counts = np.bincount(flat, minlength=size)
    amounts_df = pd.DataFrame(amounts.reshape(-1, nb), index=groups, columns=labels)
    counts_df = pd.DataFrame(counts.reshape(-1, nb), index=groups, columns=labels)
    keep = counts_df.sum(axis=1) > 0
    if by is not None:
        amounts_df, counts_df = amounts_df[keep], counts_df[keep]
    amounts_df["total"] = amounts_df[labels].sum(axis=1)
    amounts_df.index.name = counts_df.index.name = by or "group"
    return AgingResult(
        as_of=t,
        basis=basis,
        labels=labels,
        amounts=amounts_df,
        counts=counts_df,
        currency=ledger.reporting_currency,
        unapplied_cash=_unapplied(ledger, t),
        by=by,
    )
