"""Vectorised string building with Arrow: ids, codes and free text for millions of rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rpmkit.schema import DATE_DTYPE, ID_DTYPE


def id_width(n: int, minimum: int) -> int:
    """Digits needed to number ``n`` documents, at least ``minimum``."""
    return max(minimum, len(str(max(n, 1))))


def digits(numbers: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as text, left-padded with zeros to ``width``."""
    text = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded number, e.g. ``INV-000123``."""
    return pc.binary_join_element_wise(prefix, digits(numbers, width), "")


def join(*parts, sep: str = "") -> pa.Array:
    """Element-wise concatenation of Arrow arrays and/or scalar strings."""
    return pc.binary_join_element_wise(*parts, sep)


def take(choices, index: np.ndarray) -> pa.Array:
    """``choices[index]`` as an Arrow string array (``index`` < 0 gives null)."""
    index = np.asarray(index)
    table = pa.array(list(choices), type=pa.string())
    mask = index < 0
    idx = pa.array(np.where(mask, 0, index).astype(np.int64), mask=mask if mask.any() else None)
    return pc.take(table, idx)


def rows(values: pa.Array, index: np.ndarray) -> pa.Array:
    """``values[index]`` for an Arrow array and integer positions."""
    return pc.take(values, pa.array(np.asarray(index, dtype=np.int64)))


def where(mask: np.ndarray, a, b) -> pa.Array:
    """``a`` where ``mask`` else ``b`` (arrays or scalars)."""
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), a, b)


def series(values: pa.Array | pa.ChunkedArray | np.ndarray) -> pd.Series:
    """Arrow strings (or a numpy object array) as a Series of the schema's string dtype."""
    if isinstance(values, np.ndarray):
        values = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    return pd.Series(pd.arrays.ArrowStringArray(values, dtype=ID_DTYPE))


def dates(days: np.ndarray) -> np.ndarray:
    """``datetime64[D]`` days in the schema's date dtype."""
    return days.astype(DATE_DTYPE)
