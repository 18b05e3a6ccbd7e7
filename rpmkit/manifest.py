"""Run manifests: what a simulation or forecast needs to be reproduced exactly.

A :class:`RunManifest` records the kind of run, every parameter (the whole
scenario for a simulation; the source, its files' SHA-256 and the settings for a
forecast), the seed, the versions of Python, numpy, pandas, simpy, statsmodels,
scipy and rpmkit, and a digest of the numbers the run produced. :meth:`RunManifest.rerun`
repeats the run from the manifest alone and :meth:`RunManifest.check` says whether
it gave the same numbers, bit for bit, and which versions differ if not.

>>> from rpmkit.sim import Behaviour, PayerBehaviour, Runner, Scenario, SegmentSales
>>> s = Scenario(
...     horizon_days=30,
...     sales=(SegmentSales("smb", 20, 2.0, 500.0),),
...     behaviour=Behaviour(segments=(PayerBehaviour("smb"),)),
... )
>>> run = Runner(s, replications=2, processes=1, progress=False).run()
>>> m = simulation_manifest(run)
>>> m.kind, m.parameters["replications"], m.parameters["seed"]
('simulate', 2, 20250101)
>>> m.check().same
True
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rpmkit.jsonable import plain

__all__ = ["Check", "RunManifest", "forecast_manifest", "simulation_manifest", "versions"]

PACKAGES = ("rpmkit", "numpy", "pandas", "pyarrow", "scipy", "simpy", "statsmodels")
KINDS = ("simulate", "forecast")


def versions() -> dict[str, str]:
    """Python and the versions of the packages a run's numbers depend on."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Check:
    """The outcome of re-running a manifest."""

    same: bool
    digest: str
    expected: str
    version_changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.same:
            return "reproduced: the same numbers, bit for bit"
        changes = ", ".join(f"{k} {a} → {b}" for k, (a, b) in self.version_changes.items())
        return "NOT reproduced: the numbers differ" + (
            f" (versions changed: {changes})" if changes else ""
        )


@dataclass(frozen=True)
class RunManifest:
    """Everything needed to repeat a run exactly, and a digest of what it produced."""

    kind: str
    parameters: dict[str, Any]
    digest: str
    versions: dict[str, str]
    created: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"manifest kind must be one of {KINDS}, got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "kind": self.kind,
                "created": self.created,
                "versions": self.versions,
                "parameters": self.parameters,
                "digest": self.digest,
            }
        )

    def write(self, path: str | os.PathLike) -> Path:
        """Write the manifest as JSON; return the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | os.PathLike) -> RunManifest:
        """Read a manifest written by :meth:`write`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                kind=data["kind"],
                parameters=data["parameters"],
                digest=data["digest"],
                versions=data.get("versions", {}),
                created=data.get("created", ""),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a run manifest: {exc}") from None

    def rerun(self):
        """Repeat the run; returns its result (a ``RunResult`` or a ``CashForecast``)."""
        p = self.parameters
        if self.kind == "simulate":
            from rpmkit.sim import Runner, Scenario

            scenario = Scenario.from_dict(p["scenario"])
            return Runner(
                scenario, p["replications"], seed=p["seed"], processes=1, progress=False
            ).run()
        from rpmkit.forecast import CashForecast
        from rpmkit.io import load

        result = load(p["source"], preset=p.get("preset"))
        now = {s.get("path"): s.get("sha256") for s in result.manifest.sources}
        then = {s["path"]: s["sha256"] for s in p.get("files", [])}
        if then and now != then:
            changed = sorted(k for k in set(now) | set(then) if now.get(k) != then.get(k))
            raise ValueError(f"the source changed since the run: {', '.join(map(str, changed))}")
        return CashForecast(**p["settings"]).fit(result.ledger, p["as_of"])

    def check(self) -> Check:
        """Re-run and compare the digest of the numbers with the recorded one."""
        result = self.rerun()
        digest = (
            simulation_manifest(result).digest
            if self.kind == "simulate"
            else _forecast_digest(result)
        )
        now = versions()
        changes = {
            k: (self.versions.get(k, "?"), now.get(k, "?"))
            for k in sorted(set(self.versions) | set(now))
            if self.versions.get(k) != now.get(k)
        }
        return Check(digest == self.digest, digest, self.digest, changes)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def simulation_manifest(run) -> RunManifest:
    """The manifest of a ``rpmkit.sim.RunResult`` (a run without an opening balance or a
    custom rule: those live outside the scenario)."""
    digest = _digest(run.daily, run.monthly, run.kpis.to_numpy(dtype=float))
    return RunManifest(
        kind="simulate",
        parameters={
            "scenario": run.scenario.to_dict(),
            "replications": run.replications,
            "seed": run.seed,
        },
        digest=digest,
        versions=versions(),
        created=_now(),
    )


def _forecast_digest(fc) -> str:
    numbers = fc.weekly_.select_dtypes("number").to_numpy(dtype=float)
    return _digest(numbers, np.asarray([fc.open_ar_, fc.expected_write_off_], dtype=float))


def forecast_manifest(
    fc, source: str | os.PathLike, *, preset: str | None = None, load_result=None
):
    """The manifest of a fitted ``rpmkit.forecast.CashForecast`` made from ``source``.

    ``load_result`` (the ``rpmkit.load`` result the ledger came from) adds the SHA-256
    of every file read, so a re-run refuses a source that changed.
    """
    files = []
    if load_result is not None:
        files = [
            {"path": s.get("path"), "sha256": s.get("sha256")}
            for s in load_result.manifest.sources
            if s.get("sha256")
        ]
    settings = {
        "weeks": fc.weeks,
        "draws": fc.draws,
        "seed": fc.seed,
        "new_sales": fc.new_sales,
        "timing": fc.timing,
        "min_events": fc._items.min_events,
        "prior_invoices": fc._items.prior_invoices,
        "half_life_days": fc._items.half_life_days,
    }
    return RunManifest(
        kind="forecast",
        parameters={
            "source": str(source),
            "preset": preset,
            "files": files,
            "as_of": str(pd.Timestamp(fc.as_of_).date()),
            "settings": settings,
            "seed": fc.seed,
        },
        digest=_forecast_digest(fc),
        versions=versions(),
        created=_now(),
    )
