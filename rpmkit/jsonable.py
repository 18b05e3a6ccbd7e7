"""Values made ready for ``json.dumps(..., allow_nan=False)``: what every ``to_dict()`` returns.

Missing and non-finite numbers become ``None`` (JSON ``null``), numpy scalars Python
ones, timestamps ISO dates; containers are converted all the way down.

>>> import numpy as np, pandas as pd
>>> plain({"a": np.float64("nan"), "b": [np.int64(3), pd.Timestamp("2024-06-30")], "c": pd.NA})
{'a': None, 'b': [3, '2024-06-30'], 'c': None}
>>> number(np.float32(1.5)), number(float("inf")), number(None)
(1.5, None, None)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["number", "plain"]


def plain(value: Any) -> Any:
    """``value`` with every part JSON-safe (see the module docstring)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def number(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when it is missing or not finite."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
