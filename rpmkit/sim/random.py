"""Random streams of one replication: one ``numpy.random.Generator`` per purpose.

The generator for a purpose (and optionally a sub-key such as a segment
name) is seeded by ``SeedSequence(seed, spawn_key=(replication, purpose, …))``,
the same seed as ``SeedSequence(seed).spawn(…)[replication].spawn(…)[purpose]``:
replication r is reproducible on its own, and a purpose's draws depend only
on the seed, the replication and the inputs of that purpose. Changing a
policy (dunning, collectors, credit) therefore re-draws nothing in arrivals,
amounts or payment delays: common random numbers across scenarios. New
purposes are appended to :data:`PURPOSES` so existing streams keep their draws.

>>> a, b = Streams(7, replication=0), Streams(7, replication=0)
>>> float(a.rng("amounts", "smb").random()) == float(b.rng("amounts", "smb").random())
True
>>> float(Streams(7, 1).rng("amounts", "smb").random()) == float(
...     Streams(7, 0).rng("amounts", "smb").random()
... )
False
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["PURPOSES", "Streams"]

PURPOSES: tuple[str, ...] = (
    "arrivals",
    "customers",
    "amounts",
    "payment_delay",
    "terms_response",
    "discount",
    "dispute",
    "agency",
    "handling",
    "opening",
    "promises",
    "channels",
    "customer_habit",
)
"""Random purposes, in a fixed order (their position is part of the seed)."""


class Streams:
    """The generators of one replication, created on first use and cached.

    Parameters
    ----------
    seed
        Root entropy (the scenario's seed), a non-negative integer.
    replication
        Replication index, a non-negative integer.
    """

    def __init__(self, seed: int, replication: int = 0) -> None:
        if isinstance(replication, bool) or not isinstance(replication, int) or replication < 0:
            raise ValueError(f"replication must be a non-negative integer, got {replication!r}")
        self.seed = seed
        self.replication = replication
        self._cache: dict[tuple[str, str | None], np.random.Generator] = {}

    def seed_sequence(self, purpose: str, key: str | None = None) -> np.random.SeedSequence:
        """The ``SeedSequence`` of a purpose (and sub-key: a stable CRC-32 of the text)."""
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")
        spawn_key = (self.replication, PURPOSES.index(purpose))
        if key is not None:
            spawn_key += (zlib.crc32(key.encode("utf-8")),)
        return np.random.SeedSequence(self.seed, spawn_key=spawn_key)

    def rng(self, purpose: str, key: str | None = None) -> np.random.Generator:
        """The generator of a purpose; the same object on every call (draws continue)."""
        k = (purpose, key)
        if k not in self._cache:
            self._cache[k] = np.random.default_rng(self.seed_sequence(purpose, key))
        return self._cache[k]

    def __repr__(self) -> str:
        return f"Streams(seed={self.seed}, replication={self.replication})"
