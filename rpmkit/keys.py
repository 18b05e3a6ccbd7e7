"""Fast lookups of string keys, done by Arrow's hash kernels instead of Python objects.

pandas' ``map``/``reindex``/``isin`` on string columns hash through Python
objects on some paths; at millions of rows that dominates everything else.

>>> import pandas as pd
>>> positions(pd.Series(["b", "x", "a"]), pd.Series(["a", "b", "c"])).tolist()
[1, -1, 0]
>>> lookup(pd.Series(["b", "a"]), pd.Series(["a", "b"]), pd.Series([10, 20])).tolist()
[20, 10]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["group_sum", "isin", "lookup", "positions"]


def _arrow(values) -> pa.Array | pa.ChunkedArray:
    """Strings as Arrow ``large_string`` (what pandas' Arrow-backed strings hold: no copy)."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        arr = values
    else:
        s = pd.Series(values, copy=False)
        arr = s.astype("string[pyarrow]").array._pa_array if len(s) else pa.array([], pa.string())
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    return arr


# Keys of one fixed byte length up to 16 (``INV-00012345``: most document numbers) are
# matched as integers: sorting and binary search on 64-bit words beat Arrow's string
# hash table about 1.5x at ten million keys, and the two joins of a ledger run at once.
_FIXED_MAX = 16
_FIXED_MIN_ROWS = 100_000
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _fixed_words(arr: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray | None:
    """``(n, 2)`` uint64 words of keys that all have ``width`` bytes, else ``None``."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if arr.null_count or len(arr) == 0:
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    start, end = int(offsets[0]), int(offsets[-1])
    if end - start != width * len(arr) or not np.all(np.diff(offsets) == width):
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start:end].reshape(len(arr), width)
    padded = np.zeros((len(arr), _FIXED_MAX), dtype=np.uint8)
    padded[:, :width] = data
    return padded.view(np.uint64)


def _width(arr) -> int | None:
    lengths = pc.min_max(pc.binary_length(arr))
    lo, hi = lengths["min"].as_py(), lengths["max"].as_py()
    return lo if lo is not None and lo == hi and 0 < lo <= _FIXED_MAX else None


def _fixed_positions(keys, table) -> np.ndarray | None:
    """:func:`positions` for fixed-width keys; ``None`` when it does not apply."""
    if len(keys) < _FIXED_MIN_ROWS:
        return None
    width = _width(table)
    if width is None or _width(keys) != width:
        return None
    wk, wt = _fixed_words(keys, width), _fixed_words(table, width)
    if wk is None or wt is None:
        return None
    hk = wk[:, 0] * _MIX ^ wk[:, 1]
    ht = wt[:, 0] * _MIX ^ wt[:, 1]
    order = np.argsort(ht, kind="stable")  # stable: the first of equal keys comes first
    sorted_h = ht[order]
    at = np.minimum(np.searchsorted(sorted_h, hk), len(sorted_h) - 1)
    hit = sorted_h[at] == hk
    # For a given first word the hash is a bijection of the second, so equal hashes
    # with equal first words are equal keys; anything else is a collision: Arrow answers.
    if not np.array_equal(wt[order, 0][at[hit]], wk[hit, 0]):
        return None
    pos = np.where(hit, order[at], -1)
    return pos.astype(np.int64)


def positions(keys, table_keys) -> np.ndarray:
    """For each of ``keys``, its position in ``table_keys`` (first match), or -1."""
    keys, table_keys = _arrow(keys), _arrow(table_keys)
    fast = _fixed_positions(keys, table_keys)
    if fast is not None:
        return fast
    if isinstance(table_keys, pa.ChunkedArray):
        table_keys = table_keys.combine_chunks()
    idx = pc.index_in(keys, value_set=table_keys)
    return pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def isin(keys, table_keys) -> np.ndarray:
    """Boolean array: which of ``keys`` occur in ``table_keys``."""
    return pc.is_in(_arrow(keys), value_set=_arrow(table_keys)).to_numpy(zero_copy_only=False)


def lookup(keys, table_keys, table_values: pd.Series) -> pd.Series:
    """``table_values`` at the position of each key (missing where the key is unknown)."""
    pos = positions(keys, table_keys)
    values = pd.Series(table_values, copy=False).reset_index(drop=True)
    if len(values) == 0:
        return pd.Series([pd.NA] * len(pos), dtype=values.dtype)
    found = pos >= 0
    out = values.iloc[np.where(found, pos, 0)].reset_index(drop=True)
    if not found.all():
        out[~found] = None
    return out


_FLOAT_EXACT = 2**53


def group_sum(index: np.ndarray, values, n: int) -> np.ndarray:
    """Exact int64 sums of ``values`` by group position ``index`` (0 ≤ index < n).

    ``np.bincount`` sums in float64, which is exact while every partial sum stays
    below 2**53; that is checked, and ``np.add.at`` on int64 takes over beyond it.

    >>> group_sum(np.array([0, 2, 0]), np.array([5, 7, 1]), 3).tolist()
    [6, 0, 7]
    """
    values = np.asarray(values, dtype=np.int64)
    if np.abs(values).sum(dtype=np.float64) < _FLOAT_EXACT:
        return np.bincount(index, weights=values, minlength=n).astype(np.int64)
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, index, values)
    return out
