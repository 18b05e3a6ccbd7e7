"""Paired comparison of two scenarios under common random numbers: :func:`compare`.

Both scenarios run the same replication indices with the same seed, so
replication ``r`` of each sees the same orders, amounts and payers (see
:mod:`rpmkit.sim.random`); only what the policy changes differs. Per KPI the
difference ``other − base`` is taken replication by replication, and its mean
gets a 95 % t interval over the replications. Because the pairs share their
noise, the variance of the paired difference is far below that of two
independent runs, ``Var(base) + Var(other)``: the ratio of the two is
reported per KPI (``variance_ratio``). With ``independent=True`` the other
scenario also runs with another seed (``seed + 1``) and the ratio against
that actual independent difference is reported too.

>>> from rpmkit.sim import Behaviour, PayerBehaviour, Scenario, SegmentSales
>>> base = Scenario(
...     horizon_days=90,
...     sales=(SegmentSales("smb", 80, 6.0, 800.0),),
...     behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
... )
>>> import dataclasses
>>> week_earlier = tuple(dataclasses.replace(d, day=d.day - 7) for d in base.dunning)
>>> early = dataclasses.replace(base, dunning=week_earlier)
>>> c = compare(base, early, replications=4, processes=1, progress=False)
>>> c.summary().loc["dso", ["base", "other", "difference"]].round(1).tolist()
[34.4, 32.0, -2.5]
>>> print(c.sentences(["dso"])[0])  # doctest: +NORMALIZE_WHITESPACE
DSO falls by 2.5 days with other, from 34.4 days to 32.0 days
(95 % CI of the change −3.6 days to −1.3 days), better.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from rpmkit.jsonable import plain
from rpmkit.plots.sim import band_figure
from rpmkit.sim.params import Scenario
from rpmkit.sim.policies import Rule
from rpmkit.sim.runner import Collector, RunResult
from rpmkit.sim.workers import KPIS, MONEY_MEASURES, Progress, Task, backend_name, execute

__all__ = ["Comparison", "compare", "paired_difference"]

CONFIDENCE = 0.95


def paired_difference(base: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Mean of ``other − base`` with a 95 % t interval; pairs with a NaN are left out.

    >>> d = paired_difference(np.array([10.0, 12.0, 11.0]), np.array([9.0, 10.5, 10.0]))
    >>> round(d["difference"], 3), round(d["ci_low"], 3), round(d["ci_high"], 3)
    (-1.167, -1.884, -0.45)
    """
    base, other = np.asarray(base, dtype=float), np.asarray(other, dtype=float)
    ok = ~(np.isnan(base) | np.isnan(other))
    b, o = base[ok], other[ok]
    n = len(b)
    d = o - b
    out = {
        "n": float(n),
        "base": float(b.mean()) if n else math.nan,
        "other": float(o.mean()) if n else math.nan,
        "difference": float(d.mean()) if n else math.nan,
        "sd_difference": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "variance_ratio": math.nan,
    }
    if n >= 2:
        sd = float(d.std(ddof=1))
        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * sd / math.sqrt(n)
        apart = float(b.var(ddof=1) + o.var(ddof=1))
        out.update(
            sd_difference=sd,
            ci_low=out["difference"] - half,
            ci_high=out["difference"] + half,
            variance_ratio=sd**2 / apart if apart > 0 else math.nan,
        )
    return out


# ------------------------------------------------------------------ sentences
def _fmt(value: float, unit: str, currency: str, *, change: bool = False) -> str:
    from rpmkit.plots.core import compact_money

    if unit == "money":
        return compact_money(value, currency)
    if unit == "days":
        return f"{value:,.1f} days"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "share":
        value *= 100
    digits = 2 if abs(value) < 1 else 1
    return f"{value:,.{digits}f} {'points' if change else '%'}"


def _signed(value: float, unit: str, currency: str) -> str:
    text = _fmt(abs(value), unit, currency, change=True)
    return f"−{text}" if value < 0 else f"+{text}"


def sentence(kpi: str, row: dict, currency: str, names: tuple[str, str]) -> str:
    """One plain-language sentence on the change of a KPI from ``names[0]`` to ``names[1]``."""
    label, unit, better = KPIS[kpi]
    label = label[0].upper() + label[1:]
    f = lambda v: _fmt(v, unit, currency)  # noqa: E731
    base, other, diff, lo, hi = (
        row[k] for k in ("base", "other", "difference", "ci_low", "ci_high")
    )
    if math.isnan(diff):
        return f"{label}: not defined in these runs."
    if math.isnan(lo):
        return (
            f"{label}: {f(base)} with {names[0]}, {f(other)} with {names[1]} "
            "(one replication: no interval)."
        )
    if lo == hi == diff == 0:
        return f"{label}: the same with {names[0]} and {names[1]} in every replication ({f(base)})."
    interval = (
        f"95 % CI of the change {_signed(lo, unit, currency)} to {_signed(hi, unit, currency)}"
    )
    if lo <= 0 <= hi:
        return (
            f"{label}: no clear difference between {names[0]} ({f(base)}) and "
            f"{names[1]} ({f(other)}); the {interval} includes zero."
        )
    verb = "rises" if diff > 0 else "falls"
    step = _fmt(abs(diff), unit, currency, change=True)
    verdict = "" if better == 0 else (", better" if diff * better > 0 else ", worse")
    before, after = f(base), f(other)
    if before == after and unit == "money":
        # a change too small for three digits: "from $287M to $287M" says nothing
        from rpmkit.plots.core import currency_prefix

        before, after = (f"{currency_prefix(currency)}{v:,.0f}" for v in (base, other))
    return (
        f"{label} {verb} by {step} with {names[1]}, from {before} to {after} ({interval}){verdict}."
    )


# -------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class Comparison:
    """Two scenarios run under common random numbers, and their paired differences.

    Attributes
    ----------
    base, other
        The :class:`RunResult` of each (same seed, same replication indices).
    independent
        The other scenario run with seed ``seed + 1`` when asked for, else None.
    names
        Labels of the two scenarios in sentences, tables and figures.
    differences
        One row per KPI (also ``differences_``): ``label, unit, base, other,
        difference`` (mean of other − base), ``ci_low, ci_high`` (95 % t
        interval), ``sd_difference``, ``n``, ``variance_ratio`` (paired variance
        / (Var(base) + Var(other))), ``independent_variance_ratio`` (paired
        variance / variance of other(seed + 1) − base; NaN when not run),
        ``sentence``.
    wall_seconds
        Wall time of all the runs.
    """

    base: RunResult = field(repr=False)
    other: RunResult = field(repr=False)
    differences: pd.DataFrame = field(repr=False)
    names: tuple[str, str] = ("base", "other")
    independent: RunResult | None = field(default=None, repr=False)
    wall_seconds: float = 0.0

    @property
    def differences_(self) -> pd.DataFrame:
        return self.differences

    def summary(self) -> pd.DataFrame:
        """The :attr:`differences` table."""
        return self.differences

    def sentences(self, kpis: tuple[str, ...] | None = None) -> list[str]:
        """The plain-language sentences, for ``kpis`` (default: all) in table order."""
        d = self.differences
        return d.loc[list(kpis) if kpis else d.index, "sentence"].tolist()

    def to_dict(self) -> dict:
        cols = [c for c in self.differences.columns if c != "label"]
        return plain(
            {
                "names": list(self.names),
                "replications": self.base.replications,
                "seed": self.base.seed,
                "independent_seed": None if self.independent is None else self.independent.seed,
                "currency": self.base.currency,
                "confidence": CONFIDENCE,
                "kpis": {
                    k: {"label": row["label"], **{c: row[c] for c in cols}}
                    for k, row in self.differences.iterrows()
                },
                "wall_seconds": self.wall_seconds,
            }
        )

    def plot(self, measure: str = "open_ar"):
        """Both scenarios' P10–P90 bands and P50 lines of a measure (a plotly Figure)."""
        return band_figure(
            {self.names[0]: self.base.bands(measure), self.names[1]: self.other.bands(measure)},
            title=f"{measure.replace('_', ' ')}: {self.names[0]} vs {self.names[1]}",
            y_title=measure.replace("_", " "),
            currency=self.base.currency if measure in MONEY_MEASURES else None,
        )

    def __repr__(self) -> str:
        d = self.differences.loc["dso"]
        return (
            f"Comparison({self.names[1]} − {self.names[0]}, {self.base.replications} paired "
            f"replications: DSO {d['difference']:+.2f} days "
            f"[{d['ci_low']:+.2f}, {d['ci_high']:+.2f}])"
        )


def compare(
    base: Scenario,
    other: Scenario,
    replications: int = 100,
    seed: int | None = None,
    *,
    names: tuple[str, str] = ("base", "other"),
    independent: bool = False,
    rule: str | Rule | None = None,
    client=None,
    scheduler: str | None = None,
    processes: int | None = None,
    progress: Progress = True,
    opening: pd.DataFrame | None = None,
) -> Comparison:
    """Run ``base`` and ``other`` under common random numbers and compare them.

    Both run replications ``0 … replications − 1`` with ``seed`` (default:
    ``base.seed``; ``other.seed`` is overridden so the pairs share their
    streams). All replications go to one pool (or one Dask client), so the two
    scenarios progress together. ``independent=True`` also runs ``other`` with
    ``seed + 1`` to measure the variance of an unpaired difference. The other
    arguments are those of :class:`~rpmkit.sim.runner.Runner` (``opening``: the
    invoices open at the start, the same for both scenarios, e.g.
    :func:`~rpmkit.sim.calibrate.opening_balance` of the ledger calibrated on).
    """
    for name, s in (("base", base), ("other", other)):
        if not isinstance(s, Scenario):
            raise ValueError(f"{name} must be a Scenario, got {type(s).__name__}")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be an integer >= 1, got {replications!r}")
    if base.currency != other.currency:
        raise ValueError(f"the scenarios' currencies differ: {base.currency}, {other.currency}")
    if (base.horizon_days, base.start_date) != (other.horizon_days, other.start_date):
        # paired replications compare the same days: totals and month-end KPIs of
        # other periods differ by the calendar, not by the policy
        raise ValueError(
            f"the scenarios cover different periods ({base.horizon_days} days from "
            f"{base.start} and {other.horizon_days} days from {other.start}); a comparison "
            "needs the same horizon_days and start"
        )
    seed = base.seed if seed is None else seed
    scenarios = [dataclasses.replace(base, seed=seed), dataclasses.replace(other, seed=seed)]
    if independent:
        scenarios.append(dataclasses.replace(other, seed=(seed + 1) % 2**63))
    n = replications
    tasks = [Task(k, r) for r in range(n) for k in range(len(scenarios))]
    collectors = [Collector(s, n) for s in scenarios]
    t0 = time.perf_counter()
    for pos, replica in execute(
        scenarios,
        tasks,
        rule=rule,
        opening=opening,
        client=client,
        scheduler=scheduler,
        processes=processes,
        progress=progress,
    ):
        t = tasks[pos]
        collectors[t.scenario].add(t.replication, replica)
    seconds = time.perf_counter() - t0
    where = backend_name(client, scheduler, processes)
    runs = [c.result(where, seconds) for c in collectors]
    rows = {}
    for kpi in KPIS:
        b = runs[0].kpis[kpi].to_numpy()
        row = paired_difference(b, runs[1].kpis[kpi].to_numpy())
        row["independent_variance_ratio"] = math.nan
        if independent and n >= 2:
            unpaired = runs[2].kpis[kpi].to_numpy() - b
            var = float(np.nanvar(unpaired, ddof=1))
            if var > 0:
                row["independent_variance_ratio"] = row["sd_difference"] ** 2 / var
        row["sentence"] = sentence(kpi, row, base.currency, names)
        rows[kpi] = {"label": KPIS[kpi][0], "unit": KPIS[kpi][1], **row}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("kpi")
    return Comparison(
        base=runs[0],
        other=runs[1],
        differences=table,
        names=tuple(names),
        independent=runs[2] if independent else None,
        wall_seconds=seconds,
    )
