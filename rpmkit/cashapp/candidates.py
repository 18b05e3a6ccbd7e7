"""Matching rules: one payment against one customer's open items.

Each rule proposes allocations and says how sure it is. Confidences are
fixed per rule (:data:`RULES`) and were set from the evaluation on the
synthetic sample, where each rule's precision is measured separately
(``docs/cashapp.md``). References come first: what the payer wrote beats
what the amounts suggest. Amount-only rules never auto-apply a choice
between equal alternatives (two open invoices with the same amount, two
combinations with the same total).

Examples
--------
>>> import numpy as np
>>> items = OpenItems(
...     pos=np.array([10, 11]),
...     open=np.array([5000, 7000]),
...     due=np.array([1, 2]),
...     net=np.array([5000, 7000]),
...     keys=["1", "2"],
...     digits=["01", "02"],
... )
>>> p = propose(12000, items, Hints.empty())
>>> p.rule, p.positions.tolist(), p.amounts.tolist(), p.unapplied
('amount_subset', [10, 11], [5000, 7000], 0)
>>> propose(7000, items, Hints(refs=np.array([11]))).rule
'reference'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from rpmkit.cashapp.subsetsum import subset_sum

__all__ = ["RULES", "Hints", "OpenItems", "Proposal", "payer_factor", "propose"]

RULES: dict[str, tuple[float, str]] = {
    "reference": (0.99, "the referenced open invoices add up to the payment"),
    "reference_typo": (
        0.96,
        "as 'reference', after correcting a one-character typo that is unique among "
        "the customer's open invoices",
    ),
    "reference_discount": (
        0.97,
        "the referenced invoices net of the early-payment discount, paid within the "
        "discount window",
    ),
    "reference_subset": (
        0.95,
        "exactly one subset of the referenced invoices adds up to the payment (an extra reference)",
    ),
    "reference_residual": (
        0.7,
        "the referenced invoices plus exactly one combination of other open items "
        "(a cut or missing reference)",
    ),
    "reference_truncated": (
        0.9,
        "a text cut at its field length: the readable references plus exactly one "
        "combination of the open items due no earlier than the last of them",
    ),
    "reference_partial": (0.95, "one referenced invoice paid in part (an instalment)"),
    "reference_short_pay": (
        0.95,
        "one referenced invoice paid short within tolerance; the residual is a deduction to review",
    ),
    "reference_over_pay": (
        0.9,
        "the referenced invoices in full; a small excess is unapplied cash",
    ),
    "reference_ambiguous": (
        0.5,
        "several referenced invoices that do not add up: applied oldest first",
    ),
    "amount_exact": (0.92, "the only open invoice of the customer with exactly this amount"),
    "amount_discount": (
        0.9,
        "the only open invoice whose amount net of the early-payment discount matches, "
        "paid within the discount window",
    ),
    "amount_group": (0.9, "the open invoices due on one day add up to the payment"),
    "amount_subset": (0.85, "exactly one combination of open invoices adds up to the payment"),
    "amount_ambiguous": (0.4, "several invoices or combinations fit: the oldest is proposed"),
    "amount_short_pay": (0.3, "the oldest open invoice, paid short within tolerance"),
    "unmatched": (0.0, "nothing fits: the payment stays unapplied cash"),
}
# Unresolvable references make amount-only evidence doubtful (the payer meant
# something else, perhaps another customer's invoice).
UNRESOLVED_REFERENCE_FACTOR = 0.8


@dataclass
class OpenItems:
    """One customer's open invoices in the payment's currency at the payment date, oldest first."""

    pos: np.ndarray  # invoice positions
    open: np.ndarray  # open amounts, minor units
    due: np.ndarray  # due days
    net: np.ndarray  # open amount net of a discount still available (else the open amount)
    keys: Sequence[str]  # normalised invoice keys
    digits: Sequence[str]  # the invoice number's digits as written in the id

    def __len__(self) -> int:
        return len(self.pos)


@dataclass
class Hints:
    """What the remittance text says: invoice positions referenced, tokens left unresolved."""

    refs: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    unresolved: tuple[str, ...] = ()
    cut: tuple[str, ...] = ()

    @classmethod
    def empty(cls) -> Hints:
        return cls()


@dataclass
class Proposal:
    """Allocations proposed for one payment by one rule."""

    rule: str
    confidence: float
    positions: np.ndarray
    amounts: np.ndarray
    unapplied: int
    deduction: int = 0
    alternatives: list[tuple[str, np.ndarray, np.ndarray]] = field(default_factory=list)


def _make(rule, positions, amounts, payment, deduction=0, alternatives=None, factor=1.0):
    positions = np.asarray(positions, dtype=np.int64)
    amounts = np.asarray(amounts, dtype=np.int64)
    return Proposal(
        rule,
        RULES[rule][0] * factor,
        positions,
        amounts,
        int(payment - amounts.sum()),
        int(deduction),
        alternatives or [],
    )


def _oldest_first(payment: int, opens: np.ndarray) -> np.ndarray:
    """Spread ``payment`` over items in order, each up to its open amount."""
    before = np.concatenate([[0], np.cumsum(opens)[:-1]])
    return np.clip(payment - before, 0, opens)


def resolve(items: OpenItems, hints: Hints) -> tuple[np.ndarray, bool]:
    """Indices into ``items`` the text refers to, and whether a typo had to be corrected."""
    if len(hints.refs):
        idx = np.flatnonzero(np.isin(items.pos, hints.refs, kind="sort"))
    else:
        idx = np.array([], dtype=np.int64)
    found = set(idx.tolist())
    found_keys = {items.keys[i] for i in found}
    typo = False
    for frag in hints.cut:
        if (frag.lstrip("0") or "0") in found_keys:
            continue
        hit = [i for i, d in enumerate(items.digits) if d.startswith(frag) and i not in found]
        if len(hit) == 1:
            found.add(hit[0])
    tokens = [t for t in hints.unresolved if t not in found_keys]
    choices = list(items.keys) if tokens else []
    for token in tokens:
        # edit distance 1, accepted only when unique among the customer's open items
        near = process.extract(token, choices, scorer=Levenshtein.distance, score_cutoff=1, limit=3)
        near = [k for _, score, k in near if score == 1 and k not in found]
        if len(near) == 1:
            found.add(near[0])
            typo = True
    return np.array(sorted(found), dtype=np.int64), typo


def propose(
    payment: int,
    items: OpenItems,
    hints: Hints,
    max_candidates: int = 20,
    short_pay_tolerance: float = 0.1,
    over_pay_tolerance: float = 0.05,
) -> Proposal:
    """The best proposal for a payment of ``payment`` minor units against ``items``.

    Parameters
    ----------
    payment
        Amount received, minor units (positive).
    items
        The customer's open items in the payment's currency at the payment date.
    hints
        References found in the remittance text.
    max_candidates
        Items searched for combinations (the oldest; referenced items always count).
    short_pay_tolerance, over_pay_tolerance
        Largest short-pay and over-payment, as a share of the matched open amount.
    """
    if len(items) == 0:
        return _make("unmatched", [], [], payment)
    ref, typo = resolve(items, hints)
    if len(ref):
        return _by_reference(
            payment,
            items,
            ref,
            typo,
            max_candidates,
            short_pay_tolerance,
            over_pay_tolerance,
            cut=bool(hints.cut),
        )
    factor = UNRESOLVED_REFERENCE_FACTOR if (hints.unresolved or len(hints.refs)) else 1.0
    return _by_amount(payment, items, max_candidates, short_pay_tolerance, factor)


def _by_reference(payment, items, ref, typo, cap, short_tol, over_tol, cut=False) -> Proposal:
    opens = items.open[ref]
    total = int(opens.sum())
    pos = items.pos[ref]
    if total == payment:
        return _make("reference_typo" if typo else "reference", pos, opens, payment)
    net = items.net[ref]
    if (net < opens).any() and abs(int(net.sum()) - payment) <= len(ref):
        amounts = net.copy()
        amounts[-1] += payment - int(net.sum())
        return _make("reference_discount", pos, amounts, payment)
    if len(ref) > 1:
        sol = subset_sum(opens, payment, max_items=min(len(ref), 30))
        if sol.count == 1:
            return _make("reference_subset", pos[sol.indices], opens[sol.indices], payment)
    if total < payment and cut:
        # A cut text lost the references listed last: items due no earlier than
        # the last one still readable.
        later = np.setdiff1d(np.flatnonzero(items.due >= items.due[ref].max()), ref)[:cap]
        sol = subset_sum(items.open[later], payment - total, max_items=min(len(later), 40) or 1)
        if sol.count == 1:
            both = np.concatenate([ref, later[sol.indices]])
            return _make("reference_truncated", items.pos[both], items.open[both], payment)
    if total < payment:
        rest = np.setdiff1d(np.arange(len(items)), ref)[:cap]
        sol = subset_sum(items.open[rest], payment - total, max_items=min(len(rest), 40) or 1)
        if sol.count == 1:
            extra = rest[sol.indices]
            both = np.concatenate([ref, extra])
            return _make("reference_residual", items.pos[both], items.open[both], payment)
        factor = 1.0 if payment - total <= over_tol * total else 0.5
        return _make("reference_over_pay", pos, opens, payment, factor=factor)
    if len(ref) == 1:
        short = payment >= (1 - short_tol) * total
        rule = "reference_short_pay" if short else "reference_partial"
        return _make(rule, pos, [payment], payment, deduction=total - payment if short else 0)
    amounts = _oldest_first(payment, opens)
    keep = amounts > 0
    return _make("reference_ambiguous", pos[keep], amounts[keep], payment)


def _by_amount(payment, items, cap, short_tol, factor) -> Proposal:
    eq = np.flatnonzero(items.open == payment)
    if len(eq) == 1:
        return _make("amount_exact", items.pos[eq], items.open[eq], payment, factor=factor)
    if len(eq) > 1:
        alts = [("amount_exact", items.pos[[i]], items.open[[i]]) for i in eq[1:3]]
        return _make(
            "amount_ambiguous", items.pos[eq[:1]], items.open[eq[:1]], payment, alternatives=alts
        )
    disc = np.flatnonzero((items.net < items.open) & (np.abs(items.net - payment) <= 1))
    if len(disc) == 1:
        return _make("amount_discount", items.pos[disc], [payment], payment, factor=factor)
    # Customers who combine payments pay everything due on one day at once.
    days, first = np.unique(items.due, return_index=True)
    sums = np.add.reduceat(items.open, first) if len(first) else first
    counts = np.diff(np.append(first, len(items)))
    group = np.flatnonzero((sums == payment) & (counts > 1))
    if len(group) == 1:
        sel = np.flatnonzero(items.due == days[group[0]])
        return _make("amount_group", items.pos[sel], items.open[sel], payment, factor=factor)
    sol = subset_sum(items.open, payment, max_items=min(cap, 40))
    if sol.count == 1:
        sel = sol.indices
        return _make("amount_subset", items.pos[sel], items.open[sel], payment, factor=factor)
    if sol.count > 1:
        alts = [("amount_subset", items.pos[a], items.open[a]) for a in sol.alternatives]
        sel = sol.indices
        return _make(
            "amount_ambiguous", items.pos[sel], items.open[sel], payment, alternatives=alts
        )
    short = np.flatnonzero((items.open > payment) & (payment >= (1 - short_tol) * items.open))
    if len(short):
        i = short[:1]
        return _make(
            "amount_short_pay",
            items.pos[i],
            [payment],
            payment,
            deduction=int(items.open[i[0]]) - payment,
        )
    return _make("unmatched", [], [], payment)


AMBIGUOUS_MARGIN = 0.02  # candidate payers this close in confidence are a tie
# Rules whose amounts fit exactly: evidence of the payer on their own.
EXACT_RULES = frozenset(
    {"reference", "reference_typo", "reference_discount", "reference_subset", "reference_over_pay"}
)


def payer_factor(source: str, rule: str, candidates: int) -> float:
    """How much a proposal's confidence keeps when the payer was inferred, not given."""
    if source in ("given", "reference+name"):
        return 1.0
    if source == "reference":
        # the text names the invoice, but a partial or short payment of a stray
        # (mistyped) reference is weak evidence without the payer's name
        return 1.0 if rule in EXACT_RULES else 0.8
    if rule in EXACT_RULES:
        return 1.0
    return 1.0 if candidates == 1 else 0.9
