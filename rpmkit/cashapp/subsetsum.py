"""Bounded subset-sum: which of a customer's open items add up to a payment.

Meet in the middle: the subset sums of each half of at most ``cap`` items
(``2**(cap/2)`` each, vectorised) are sorted and searched, so the work per
payment is bounded by the cap, never by how many items a customer has open.
Items come oldest first; among several solutions the one whose newest item
is oldest wins (customers pay old invoices first), then the one with fewest
items.

Examples
--------
>>> import numpy as np
>>> sol = subset_sum(np.array([500, 300, 200, 700]), 1000)
>>> sol.indices.tolist(), sol.count
([0, 1, 2], 2)
>>> subset_sum(np.array([500, 300]), 1).count
0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SubsetSolution", "subset_sum", "MAX_ITEMS"]

MAX_ITEMS = 30  # 2 x 2**15 sums: a few milliseconds per search
_MAX_PAIRS = 512  # solutions examined when choosing the preferred one


@dataclass(frozen=True)
class SubsetSolution:
    """The preferred subset (positions into the values) and how many subsets fit."""

    indices: np.ndarray
    count: int
    alternatives: tuple[np.ndarray, ...] = ()


def _sums(values: np.ndarray) -> np.ndarray:
    """All subset sums; entry ``m`` is the sum of the items whose bits are set in ``m``."""
    sums = np.zeros(1, dtype=np.int64)
    for v in values:
        sums = np.concatenate([sums, sums + v])
    return sums


def _bits(mask: int, offset: int = 0) -> list[int]:
    out, k = [], 0
    while mask:
        if mask & 1:
            out.append(k + offset)
        mask >>= 1
        k += 1
    return out


def subset_sum(
    values: np.ndarray, target: int, tolerance: int = 0, max_items: int = MAX_ITEMS
) -> SubsetSolution:
    """Non-empty subsets of ``values[:max_items]`` summing to ``target`` ± ``tolerance``.

    Parameters
    ----------
    values
        Positive integer amounts (minor units), oldest item first.
    target
        The amount to reach, minor units.
    tolerance
        Allowed absolute difference, minor units.
    max_items
        Only the first ``max_items`` values are searched (at most 40).

    Returns
    -------
    SubsetSolution
        ``indices`` of the preferred subset (empty when none fits), the
        number of fitting subsets (``count``, counted exactly) and up to two
        ``alternatives``.
    """
    if max_items < 1 or max_items > 40:
        raise ValueError(f"max_items must be in [1, 40], got {max_items}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    values = np.asarray(values, dtype=np.int64)[:max_items]
    n = len(values)
    empty = SubsetSolution(np.array([], dtype=np.int64), 0)
    if n == 0 or target <= 0:
        return empty
    half = n // 2
    left, right = _sums(values[:half]), _sums(values[half:])
    order = np.argsort(right, kind="stable")
    right_sorted = right[order]
    lo = np.searchsorted(right_sorted, target - tolerance - left, side="left")
    hi = np.searchsorted(right_sorted, target + tolerance - left, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if abs(target) <= tolerance:  # the empty subset fits too
        total -= 1
    if total <= 0:
        return empty
    rows = np.flatnonzero(counts)
    take = np.minimum(counts[rows], _MAX_PAIRS)
    left_masks = np.repeat(rows, take)[:_MAX_PAIRS]
    starts = np.repeat(lo[rows], take)[:_MAX_PAIRS]
    within = (np.arange(len(np.repeat(rows, take))) - np.repeat(np.cumsum(take) - take, take))[
        :_MAX_PAIRS
    ]
    right_masks = order[starts + within]
    keep = (left_masks > 0) | (right_masks > 0)
    left_masks, right_masks = left_masks[keep], right_masks[keep]
    full = [int(a) | (int(b) << half) for a, b in zip(left_masks, right_masks, strict=True)]
    full.sort(key=lambda m: (m.bit_length(), bin(m).count("1")))
    subsets = [np.array(_bits(m), dtype=np.int64) for m in full[:3]]
    return SubsetSolution(subsets[0], total, tuple(subsets[1:]))
