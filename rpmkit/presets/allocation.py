"""Applying payments and credits to invoices, oldest first, in exact minor units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Slot", "Source", "allocate"]


@dataclass
class Slot:
    """Something to settle: an invoice's open amount."""

    invoice_id: str
    amount: int
    order: tuple


@dataclass
class Source:
    """Something that settles: a payment's or credit note's available amount."""

    doc_id: str
    amount: int
    order: tuple
    ref: Any = None


def allocate(
    slots: list[Slot], sources: list[Source], limit: int | None = None
) -> list[tuple[Slot, Source, int]]:
    """Apply sources to slots, both oldest first, in exact minor units.

    Each slot takes from the current source until one of them is used up;
    ``limit`` caps the total applied. Mutates the amounts left on ``slots``
    and ``sources`` and returns ``(slot, source, amount)`` triples.

    >>> s = [Slot("I1", 100, (1,)), Slot("I2", 50, (2,))]
    >>> p = [Source("P1", 120, (1,))]
    >>> [(a.invoice_id, b.doc_id, n) for a, b, n in allocate(s, p)]
    [('I1', 'P1', 100), ('I2', 'P1', 20)]
    """
    out: list[tuple[Slot, Source, int]] = []
    budget = np.iinfo(np.int64).max if limit is None else int(limit)
    si = sorted((s for s in slots if s.amount > 0), key=lambda s: s.order)
    pi = sorted((p for p in sources if p.amount > 0), key=lambda p: p.order)
    i = j = 0
    while i < len(si) and j < len(pi) and budget > 0:
        n = min(si[i].amount, pi[j].amount, budget)
        if n > 0:
            si[i].amount -= n
            pi[j].amount -= n
            budget -= n
            out.append((si[i], pi[j], n))
        if si[i].amount == 0:
            i += 1
        if pi[j].amount == 0:
            j += 1
    return out
