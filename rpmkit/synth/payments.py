"""Cash lines → payments and allocations (the ground-truth cash application).

Customers who combine payments pay every line due on the same day by the
same method in one payment; others pay each invoice separately. Payment
numbers follow payment date, then customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rpmkit.synth import text
from rpmkit.synth.customers import Customers
from rpmkit.synth.sales import Invoices
from rpmkit.synth.settlement import Lines


@dataclass
class Payments:
    n: int
    customer: np.ndarray
    date: np.ndarray
    amount: np.ndarray  # minor units received
    unapplied: np.ndarray  # minor units beyond the allocations
    method: np.ndarray  # index into Customers.methods
    start: np.ndarray  # first allocation row of each payment
    # allocations, grouped by payment, by invoice number within a payment
    alloc_payment: np.ndarray
    alloc_invoice: np.ndarray
    alloc_amount: np.ndarray

    @cached_property
    def ids(self):
        return text.ids("PAY-", np.arange(1, self.n + 1), text.id_width(self.n, 7))

    def block(self, lo: int, hi: int) -> Payments:
        """Payments ``lo`` to ``hi - 1`` with their allocations, renumbered from 0."""
        hi = min(hi, self.n)
        a0 = self.start[lo] if lo < self.n else len(self.alloc_invoice)
        a1 = self.start[hi] if hi < self.n else len(self.alloc_invoice)
        return Payments(
            n=hi - lo,
            customer=self.customer[lo:hi],
            date=self.date[lo:hi],
            amount=self.amount[lo:hi],
            unapplied=self.unapplied[lo:hi],
            method=self.method[lo:hi],
            start=self.start[lo:hi] - a0,
            alloc_payment=self.alloc_payment[a0:a1] - lo,
            alloc_invoice=self.alloc_invoice[a0:a1],
            alloc_amount=self.alloc_amount[a0:a1],
        )


def group_payments(lines: Lines, inv: Invoices, c: Customers) -> Payments:
    """Group cash lines into payments, vectorised with one sort."""
    cust = inv.customer[lines.invoice]
    order = np.lexsort((lines.invoice, lines.method, cust, lines.date))
    date, cust = lines.date[order], cust[order]
    method, invoice = lines.method[order], lines.invoice[order]
    applied, extra = lines.applied[order], lines.extra[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (date[1:] == date[:-1]) & (cust[1:] == cust[:-1]) & (method[1:] == method[:-1])
    same &= c.combines[cust]
    starts = np.flatnonzero(~same)
    payment = np.cumsum(~same) - 1

    # The same invoice twice in one payment (an instalment and a dispute
    # settlement on one day) is one allocation.
    dup = np.zeros(len(order), dtype=bool)
    dup[1:] = (payment[1:] == payment[:-1]) & (invoice[1:] == invoice[:-1])
    alloc_start = np.flatnonzero(~dup)
    alloc_amount = np.add.reduceat(applied, alloc_start) if len(order) else applied
    alloc_payment = payment[alloc_start]
    unapplied = np.add.reduceat(extra, starts) if len(order) else extra
    received = (np.add.reduceat(applied, starts) if len(order) else applied) + unapplied
    first_alloc = np.searchsorted(alloc_payment, np.arange(len(starts)))
    return Payments(
        n=len(starts),
        customer=cust[starts],
        date=date[starts],
        amount=received,
        unapplied=unapplied,
        method=method[starts],
        start=first_alloc,
        alloc_payment=alloc_payment,
        alloc_invoice=invoice[alloc_start],
        alloc_amount=alloc_amount,
    )
