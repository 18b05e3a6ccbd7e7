"""Invoices: when customers buy (growth, seasonality, onboarding) and how much."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.synth import calendar, text
from rpmkit.synth.customers import Customers
from rpmkit.synth.params import SynthParams
from rpmkit.synth.specs import parse_terms
from rpmkit.synth.streams import uniform


@dataclass
class Invoices:
    """Per-invoice arrays in invoice-number order (by date, then customer)."""

    n: int
    customer: np.ndarray
    date: np.ndarray  # datetime64[D], a business day
    due: np.ndarray  # datetime64[D]
    amount: np.ndarray  # int64 minor units of the customer's currency
    po: np.ndarray  # int64 purchase-order number, -1 when none

    @cached_property
    def ids(self):
        return text.ids("INV-", np.arange(1, self.n + 1), text.id_width(self.n, 6))

    def block(self, lo: int, hi: int) -> Invoices:
        """Invoices ``lo`` to ``hi - 1`` (views, no copies)."""
        return Invoices(
            n=min(hi, self.n) - lo,
            customer=self.customer[lo:hi],
            date=self.date[lo:hi],
            due=self.due[lo:hi],
            amount=self.amount[lo:hi],
            po=self.po[lo:hi],
        )


def _windows(p: SynthParams) -> tuple[np.ndarray, np.ndarray]:
    edges = pd.date_range(p.start_date, periods=p.months + 1, freq=pd.DateOffset(months=1))
    edges = edges.to_numpy().astype(calendar.DAY)
    return edges[:-1], edges[1:]


def monthly_intensity(p: SynthParams) -> np.ndarray:
    """Sales volume of each month relative to the start: growth × seasonality."""
    lo, hi = _windows(p)
    mid = lo + (hi - lo) // 2
    years = (mid - calendar.as_day(p.start_date.date())).astype(np.int64) / 365.25
    month = mid.astype("datetime64[M]").astype(np.int64) % 12 + 1
    season = 1 + p.seasonality_amplitude * np.cos(2 * np.pi * (month - p.seasonal_peak_month) / 12)
    return (1 + p.annual_growth) ** years * season


def draw_invoices(
    p: SynthParams, c: Customers, rng_sales: np.random.Generator, rng_amounts: np.random.Generator
) -> Invoices:
    """Poisson counts per customer and month, spread over the month's business days."""
    lo, hi = _windows(p)
    months = len(lo)
    # A customer opened mid-month buys only in the rest of that month.
    first = np.maximum(lo[None, :], c.created[:, None])
    share = np.clip((hi[None, :] - first).astype(np.int64) / (hi - lo).astype(np.int64), 0, 1)
    lam = c.rate[:, None] * monthly_intensity(p)[None, :] * share
    counts = rng_sales.poisson(lam).ravel()
    cell = np.repeat(np.arange(c.n * months, dtype=np.int64), counts)
    del counts, lam, share
    cust, month = cell // months, cell % months
    del cell
    begin = calendar.forward(np.maximum(lo[month], c.created[cust]))
    room = np.busday_count(begin, hi[month])
    date = np.busday_offset(begin, (uniform(rng_sales, len(cust)) * room).astype(np.int64))
    keep = room > 0
    cust, date = cust[keep], date[keep]
    order = np.lexsort((cust, date))
    cust, date = cust[order], date[order]
    n = len(cust)

    u_po = uniform(rng_sales, n)
    po_style = c.po_style[cust]
    po = np.where(
        po_style == 1,
        4_500_000_000 + (u_po * 999_999).astype(np.int64),
        np.where(po_style == 2, 100_000 + (u_po * 899_999).astype(np.int64), -1),
    )

    net_days = np.array([parse_terms(code)[0] for code in c.terms_codes])[c.terms[cust]]
    z, u_round = rng_amounts.standard_normal(n), uniform(rng_amounts, n)
    units = c.amount_scale[cust] * np.exp(c.amount_sigma[cust] * z)
    exps = np.array([money.exponent(code) for code in c.currencies])[c.currency[cust]]
    scale = 10.0**exps
    # A third of invoices are round amounts (service fees, fixed prices).
    minor = np.where(u_round < 0.3, np.round(units) * scale, np.round(units * scale))
    minor = np.clip(minor, scale, 1e13).astype(np.int64)
    return Invoices(n=n, customer=cust, date=date, due=date + net_days, amount=minor, po=po)


def invoices_frame(inv: Invoices, c: Customers) -> pd.DataFrame:
    """The ``invoices`` table."""
    po_style = c.po_style[inv.customer]
    po_text = text.where(po_style == 2, text.join("PO-", text.digits(inv.po)), text.digits(inv.po))
    po_text = text.where(po_style == 0, None, po_text)
    return pd.DataFrame(
        {
            "invoice_id": text.series(inv.ids),
            "customer_id": text.series(text.rows(c.ids, inv.customer)),
            "invoice_date": text.dates(inv.date),
            "due_date": text.dates(inv.due),
            "amount": inv.amount,
            "currency": text.series(text.take(c.currencies, c.currency[inv.customer])),
            "terms": text.series(text.take(c.terms_codes, c.terms[inv.customer])),
            "po_number": text.series(po_text),
            "channel": text.series(text.where(c.electronic[inv.customer], "electronic", "paper")),
        }
    )
