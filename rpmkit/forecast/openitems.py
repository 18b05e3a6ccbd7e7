"""Open items at an as-of date and the payment curves that say when they turn into cash.

Everything here reads one ledger view known at the as-of date (``ledger.as_of(t)``),
so nothing dated later can reach a forecast.

The model, per invoice known at the as-of date:

* **time** is counted in days from the due date (``pay day − due date``), since
  customers pay against terms; each customer gets a **shift**: the recency-weighted
  mean of its paid invoices' days beyond terms minus its group's, shrunk toward zero
  as ``n / (n + prior_invoices)`` so a customer with few paid invoices follows its
  segment;
* **groups** are segment × dispute state (an invoice with a dispute known by then);
  a group with fewer than ``min_events`` payments uses its segment's curve, a segment
  with too few uses the whole book's;
* the **curves** (:class:`rpmkit.forecast.curves.Curves`) are fitted on the
  customer-shifted times of every invoice: paid in cash (an event), written off or
  closed by credit notes only (a competing event), still open (censored at the
  as-of date);
* an open invoice is **open after** ``as_of − due date − shift`` on its group's
  curve; its remaining chance of never paying in cash is its expected write-off;
* the **cash** an open item brings is its open amount × its group's cash ratio
  (cash received ÷ amount over paid invoices; discounts and deductions lower it).

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> flat = pd.DataFrame(
...     {
...         "invoice_id": ["A", "B", "C", "D"],
...         "customer_id": ["C1", "C1", "C1", "C1"],
...         "invoice_date": pd.to_datetime(
...             ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
...         ),
...         "due_date": pd.to_datetime(["2024-01-31", "2024-03-02", "2024-03-31", "2024-05-01"]),
...         "amount": [100_00, 100_00, 100_00, 300_00],
...         "paid_date": pd.to_datetime(["2024-02-05", "2024-03-07", "2024-04-05", None]),
...     }
... )
>>> items = OpenItems(min_events=1).fit(Ledger.from_flat(flat), "2024-04-30")
>>> items.items_[["invoice_id", "open_amount", "after_day"]]
  invoice_id  open_amount  after_day
0          D        30000         -1
>>> items.expected(2).round(2).tolist()  # pays 5 days late
[300.0, 0.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit import keys, money
from rpmkit.forecast.curves import CENSORED, LOSS, PAY, Curves
from rpmkit.kpi.book import NEVER as BOOK_NEVER
from rpmkit.kpi.book import Book, as_of_day, book
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger

__all__ = ["OpenItems", "cash_by_invoice", "view_at"]

_CASH = 0  # rpmkit.kpi.book.EVENT_KINDS.index("applied")
FIRST_DAY, LAST_DAY = -120, 1095
"""The due-relative grid: payments over 120 days early count as 120, beyond three years as never."""


def view_at(ledger: Ledger, as_of) -> tuple[Ledger, pd.Timestamp, int]:
    """The ledger as known at ``as_of`` (itself when already cut there), the date and its day."""
    t, day = as_of_day(ledger, as_of)
    view = ledger if ledger.cutoff is not None and ledger.cutoff == t else ledger.as_of(t)
    return view, t, day


def cash_by_invoice(b: Book) -> np.ndarray:
    """Per invoice, cash applied to it (reporting minor units)."""
    m = b.ev_kind == _CASH
    return keys.group_sum(b.ev_inv[m], b.ev_amount[m], b.n)


def _disputed(view: Ledger, open_only: bool) -> np.ndarray:
    """Per invoice: any dispute known in ``view`` (or only unresolved ones)."""
    inv, disp = view.invoices, view.disputes
    if disp.empty:
        if "disputed" in inv.columns and not open_only:
            return inv["disputed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        return np.zeros(len(inv), dtype=bool)
    if open_only:
        disp = disp[disp["resolved_date"].isna()]
    pos = keys.positions(disp["invoice_id"], inv["invoice_id"])
    flag = np.zeros(len(inv), dtype=bool)
    flag[pos[pos >= 0]] = True
    return flag


class OpenItems:
    """Payment curves fitted on a ledger view, and its open items placed on them.

    Parameters
    ----------
    min_events
        Cash payments a group needs to keep its own curve (else its segment's).
    prior_invoices
        Shrinkage of the customer shift: weight of the segment, in paid invoices.
    half_life_days
        Recency weighting of a customer's paid invoices in its shift.

    Attributes
    ----------
    items_
        One row per open item: ``invoice_id``, ``customer_id``, ``segment``,
        ``disputed`` (open dispute), ``open_amount`` (reporting minor units),
        ``due_day``, ``shift``, ``group``, ``after_day``, ``cash`` (expected cash if
        paid, minor units) and ``pay_probability``.
    curves_
        Due-relative :class:`Curves` per group (segment × 2 + disputed).
    sales_cash_
        ``(segments, days)``: cash received ``d`` days after issue per unit invoiced,
        for new sales (from invoices issued 1 to 365 days before the horizon's length
        before the as-of date, so every age counted was observable; partial payments,
        discounts and write-offs included as they happened).
    cash_ratio_
        Per segment, cash received ÷ amount over paid invoices.
    segments_, currency_, as_of_
    """

    def __init__(
        self, min_events: int = 30, prior_invoices: float = 3.0, half_life_days: float = 180.0
    ) -> None:
        if min_events < 1:
            raise ValueError(f"min_events must be at least 1, got {min_events}")
        if prior_invoices < 0:
            raise ValueError(f"prior_invoices must be >= 0, got {prior_invoices}")
        if half_life_days <= 0:
            raise ValueError(f"half_life_days must be > 0, got {half_life_days}")
        self.min_events = min_events
        self.prior_invoices = prior_invoices
        self.half_life_days = half_life_days

    def fit(self, ledger: Ledger, as_of=None, horizon_days: int = 91) -> OpenItems:
        """Fit the curves on what ``ledger`` knew at ``as_of`` and place its open items."""
        view, t, day = view_at(ledger, as_of)
        b = book(view)
        if b.n == 0:
            raise ValueError(f"the ledger has no invoices by {t.date()}")
        paid = paid_invoices(b)
        cash = cash_by_invoice(b)
        seg = b.segment.astype(np.int64)
        n_seg = len(b.segments)
        ever = _disputed(view, open_only=False)
        if view.disputes.empty:
            # a flat file's undated ``disputed`` flag may have been set after the as-of
            # date: trust it only on invoices already settled then
            ever &= b.settled < BOOK_NEVER
        group = seg * 2 + ever
        closed = b.settled < BOOK_NEVER
        event = np.where(paid.paid, PAY, np.where(closed, LOSS, CENSORED))
        end_day = np.where(closed, b.settled, day)
        rel = end_day - b.due_day

        shift = self._shifts(b, paid.paid, rel, group, day)
        inv_shift = shift[b.customer]
        curves = Curves.fit(rel - inv_shift, event, group, 2 * n_seg, FIRST_DAY, LAST_DAY)
        by_seg = Curves.fit(rel - inv_shift, event, seg, n_seg, FIRST_DAY, LAST_DAY)
        pooled = Curves.fit(rel - inv_shift, event, np.zeros_like(seg), 1, FIRST_DAY, LAST_DAY)
        by_seg = by_seg.with_fallback(np.zeros(n_seg, dtype=np.int64), pooled, self.min_events)
        curves = curves.with_fallback(np.arange(2 * n_seg) // 2, by_seg, self.min_events)
        sales_pmf = self._sales_cash(b, seg, n_seg, day, horizon_days + 7)

        amount = b.amount.astype(np.float64)
        ratio = np.bincount(seg[paid.paid], cash[paid.paid], n_seg) / np.maximum(
            np.bincount(seg[paid.paid], amount[paid.paid], n_seg), 1.0
        )
        ratio = np.where(np.bincount(seg[paid.paid], minlength=n_seg) > 0, ratio, 1.0)

        open_amount = b.amount - b.settled_by(day)
        rows = np.flatnonzero((open_amount > 0) & (b.inv_day <= day))
        now = _disputed(view, open_only=True)[rows]
        g = seg[rows] * 2 + now
        after = day - b.due_day[rows] - inv_shift[rows]
        items = pd.DataFrame(
            {
                "invoice_id": view.invoices["invoice_id"].to_numpy()[rows],
                "customer_id": b.customers.to_numpy()[b.customer[rows]],
                "segment": np.asarray(b.segments, dtype=object)[seg[rows]],
                "disputed": now,
                "open_amount": open_amount[rows],
                "due_day": b.due_day[rows],
                "shift": inv_shift[rows],
                "group": g,
                "after_day": after,
                "cash": open_amount[rows] * ratio[seg[rows]],
            }
        )
        items["pay_probability"] = curves.pay_probability(g, after)
        self.items_ = items
        self.curves_ = curves
        self.sales_cash_ = sales_pmf
        self.cash_ratio_ = pd.Series(ratio, index=pd.Index(b.segments.astype(str), name="segment"))
        self.segments_ = pd.Index(b.segments.astype(str))
        self.currency_ = view.reporting_currency
        self.as_of_ = t
        self.day_ = day
        self.book_ = b
        self.view_ = view
        return self

    def _sales_cash(self, b: Book, seg: np.ndarray, n_seg: int, day: int, width: int) -> np.ndarray:
        """Per segment, cash by days since issue per unit invoiced (amount-weighted)."""
        lo, hi = day - width - 365, day - width
        chosen = (b.inv_day > lo) & (b.inv_day <= hi)
        ev = np.flatnonzero((b.ev_kind == _CASH) & chosen[b.ev_inv])
        age = b.ev_day[ev] - b.inv_day[b.ev_inv[ev]]
        ev, age = ev[age < width], age[age < width]
        cell = seg[b.ev_inv[ev]] * width + age
        cash = np.bincount(cell, b.ev_amount[ev].astype(np.float64), n_seg * width)
        cash = cash.reshape(n_seg, width)
        invoiced = np.bincount(seg[chosen], b.amount[chosen].astype(np.float64), n_seg)
        counts = np.bincount(seg[chosen], minlength=n_seg)
        pooled = cash.sum(axis=0) / max(invoiced.sum(), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            own = cash / invoiced[:, None]
        # a segment with few invoices in the window follows the whole book
        return np.where((counts >= self.min_events)[:, None], own, pooled[None, :])

    def _shifts(
        self, b: Book, paid: np.ndarray, rel: np.ndarray, group: np.ndarray, day: int
    ) -> np.ndarray:
        """Per customer, its shrunk, recency-weighted days beyond terms relative to its group."""
        n_cust = len(b.customers)
        sel = np.flatnonzero(paid)
        if len(sel) == 0:
            return np.zeros(n_cust, dtype=np.int64)
        r = rel[sel].astype(np.float64)
        n_groups = int(group.max()) + 1
        g_mean = np.bincount(group[sel], r, n_groups) / np.maximum(
            np.bincount(group[sel], minlength=n_groups), 1
        )
        dev = r - g_mean[group[sel]]
        w = 0.5 ** ((day - b.settled[sel]) / self.half_life_days)
        cust = b.customer[sel]
        wsum = np.bincount(cust, w, n_cust)
        mean_w = np.bincount(cust, w * dev, n_cust) / np.maximum(wsum, 1e-12)
        # effective sample size of the recency weights, so shrinkage counts invoices
        n_eff = wsum**2 / np.maximum(np.bincount(cust, w * w, n_cust), 1e-12)
        shrink = n_eff / (n_eff + self.prior_invoices)
        return np.rint(mean_w * shrink).astype(np.int64)

    def _check_fitted(self) -> None:
        if not hasattr(self, "items_"):
            raise ValueError("OpenItems is not fitted; call fit(ledger, as_of) first")

    def week_cdf(self, weeks: int) -> np.ndarray:
        """``(items, weeks)`` float32: chance each open item has paid in cash by each week end."""
        self._check_fitted()
        key = ("_week_cdf", weeks)
        if getattr(self, "_week_cdf_key", None) != key:
            it = self.items_
            cdf = self.curves_.week_cdf(it["group"].to_numpy(), it["after_day"].to_numpy(), weeks)
            self._week_cdf, self._week_cdf_key = cdf.astype(np.float32), key
        return self._week_cdf

    def draw_weeks(self, u: np.ndarray, weeks: int) -> np.ndarray:
        """Week (0-based) each open item pays in for uniforms ``u``; ``weeks`` if later or never.

        ``u`` has the items on its last axis; a week is the number of week-end
        conditional CDF values the uniform exceeds (inversion on a weekly grid).
        """
        cdf = self.week_cdf(weeks)
        week = np.zeros(u.shape, dtype=np.int8 if weeks < 127 else np.int16)
        for w in range(weeks):  # one vector comparison per week boundary, never per item
            week += u > cdf[:, w]
        return week

    def expected(self, weeks: int) -> np.ndarray:
        """Exact expected cash per week from the open items (currency units)."""
        self._check_fitted()
        it = self.items_
        g = it["group"].to_numpy()
        after = it["after_day"].to_numpy()
        base = self.day_ - it["due_day"].to_numpy() - it["shift"].to_numpy()
        c = self.curves_
        cif_now, surv = c._state(g, after)
        ok = surv > 1e-12
        out = np.zeros(weeks)
        for w in range(weeks):  # one vector pass per week, never per invoice
            cif_end, _ = c._state(g, base + 7 * (w + 1))
            cif_start, _ = c._state(g, base + 7 * w)
            p = np.where(ok, (cif_end - np.maximum(cif_start, cif_now)) / np.where(ok, surv, 1), 0)
            out[w] = float((it["cash"].to_numpy() * np.clip(p, 0, 1)).sum())
        return out / 10 ** money.exponent(self.currency_)

    def expected_write_off(self) -> float:
        """Open amount expected never to be paid in cash (currency units)."""
        self._check_fitted()
        it = self.items_
        lost = (it["open_amount"] * (1 - it["pay_probability"])).sum()
        return float(lost) / 10 ** money.exponent(self.currency_)

    def __repr__(self) -> str:
        if not hasattr(self, "items_"):
            return "OpenItems(not fitted)"
        return (
            f"OpenItems(as of {self.as_of_.date()}: {len(self.items_):,} open items, "
            f"{len(self.segments_)} segments)"
        )
