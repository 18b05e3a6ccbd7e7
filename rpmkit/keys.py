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


def positions(keys, table_keys) -> np.ndarray:
    """For each of ``keys``, its position in ``table_keys`` (first match), or -1."""
    keys, table_keys = _arrow(keys), _arrow(table_keys)
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
