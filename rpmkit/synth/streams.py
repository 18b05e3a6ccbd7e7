"""Random streams: one ``numpy.random.Generator`` per random purpose.

All streams come from ``SeedSequence(seed).spawn(len(PURPOSES))``, so a
purpose's draws depend only on the seed and on the inputs of that purpose:
changing the dispute rate re-draws nothing in ``sales`` or ``delays``
(common random numbers). Within a stream, per-invoice draws are made for
every invoice, whether or not a rate selects it, for the same reason.
New purposes are appended at the end so existing streams keep their draws.
"""

from __future__ import annotations

import numpy as np

PURPOSES: tuple[str, ...] = (
    "customers",
    "sales",
    "amounts",
    "delays",
    "credits",
    "disputes",
    "partials",
    "activities",
    "remittance",
    "fx",
)


def streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per purpose in :data:`PURPOSES`.

    >>> rngs = streams(1)
    >>> sorted(rngs) == sorted(PURPOSES)
    True
    >>> float(streams(1)["fx"].random()) == float(rngs["fx"].random())
    True
    """
    children = np.random.SeedSequence(seed).spawn(len(PURPOSES))
    pairs = zip(PURPOSES, children, strict=True)
    return {name: np.random.default_rng(child) for name, child in pairs}


def uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniforms in ``[0, 1)`` as float32 (half the memory; ample for rates)."""
    return rng.random(n, dtype=np.float32)


def pick(u: np.ndarray, shares) -> np.ndarray:
    """Category index per uniform ``u`` for a sequence of shares summing to 1."""
    cum = np.cumsum(np.asarray(shares, dtype=np.float64))
    return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(cum) - 1)
