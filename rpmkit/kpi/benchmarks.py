"""Published benchmarks to show beside a user's own KPIs.

>>> benchmark("dso").value
38.04
>>> print(benchmark("pct_over_90").label)
% over 91 days past due
>>> table = benchmark_table({"dso": 45.0, "cei": 80.0, "open_ar": 1.0})
>>> table["difference"].to_dict()
{'dso': 6.96, 'cei': -6.52}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from rpmkit.kpi.base import KpiValue

__all__ = ["CRF_BENCHMARKS", "CRF_SOURCE", "Benchmark", "benchmark", "benchmark_table"]

CRF_SOURCE = (
    "Credit Research Foundation (CRF), National Summary of Domestic Trade Receivables, "
    "median, Q1 2021"
)
"""Where the :data:`CRF_BENCHMARKS` figures come from."""


@dataclass(frozen=True)
class Benchmark:
    """One published figure: the KPI it matches, its value, unit, label and source."""

    name: str
    value: float
    unit: str
    label: str
    source: str = CRF_SOURCE


CRF_BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark("dso", 38.04, "days", "DSO"),
        Benchmark("bpdso", 32.02, "days", "Best possible DSO"),
        Benchmark("add", 3.00, "days", "Average days delinquent"),
        Benchmark("cei", 86.52, "percent", "Collection effectiveness index"),
        Benchmark("pct_current", 90.56, "percent", "% current"),
        Benchmark("pct_over_90", 0.56, "percent", "% over 91 days past due"),
    )
}
"""CRF national summary medians, Q1 2021, keyed by the rpmkit KPI name they compare with.

CRF's "% over 91 days past due" is the 91+ bucket, which is what
:func:`rpmkit.kpi.pct_over_90` measures (more than 90 days past due).
"""


def benchmark(name: str) -> Benchmark:
    """The CRF benchmark for a KPI name (``KeyError`` naming the known ones otherwise)."""
    try:
        return CRF_BENCHMARKS[name]
    except KeyError:
        known = ", ".join(CRF_BENCHMARKS)
        raise KeyError(f"no benchmark for {name!r}; known: {known}") from None


def benchmark_table(values: Mapping[str, float | None] | Iterable[KpiValue]) -> pd.DataFrame:
    """The user's KPIs side by side with the CRF medians.

    ``values`` is a mapping of KPI name to value or an iterable of
    :class:`~rpmkit.kpi.KpiValue`; KPIs without a benchmark are left out.
    Columns: ``label``, ``value``, ``benchmark``, ``difference`` (value −
    benchmark), ``unit`` and ``source``, indexed by ``kpi``.
    """
    pairs = values.items() if isinstance(values, Mapping) else ((v.name, v.value) for v in values)
    rows = []
    for name, value in pairs:
        if name not in CRF_BENCHMARKS:
            continue
        b = CRF_BENCHMARKS[name]
        shown = float("nan") if value is None else float(value)
        rows.append(
            {
                "kpi": name,
                "label": b.label,
                "value": shown,
                "benchmark": b.value,
                "difference": round(shown - b.value, 10),
                "unit": b.unit,
                "source": b.source,
            }
        )
    columns = ["kpi", "label", "value", "benchmark", "difference", "unit", "source"]
    return pd.DataFrame(rows, columns=columns).set_index("kpi")
