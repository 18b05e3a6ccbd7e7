"""The dunning policy: which collection step applies to an open item, from a YAML file.

A policy is a list of steps. A step applies to an open item when the item's
days past due (negative before the due date) lie in ``[from_day, to_day]``,
its segment is one of ``segments`` (empty: any) and its open amount is at
least ``min_amount``. When several steps apply, the highest ``level`` wins.
Each step says what the collector does (``action``), how (``channel``), how
long it takes (``minutes``) and its assumed ``uplift``: the share of the cash
at risk that the action brings in within the horizon.

The example policy ``policies/dunning.yaml`` equals :meth:`DunningPolicy.default`.

Examples
--------
>>> import numpy as np
>>> policy = DunningPolicy.default()
>>> [
...     policy.steps[i].name
...     for i in policy.step_index(np.array([-3, 10, 45, 75]), np.array(["smb"] * 4))
... ]
['courtesy_reminder', 'first_reminder', 'second_notice_call', 'final_demand_hold']
>>> int(policy.step_index(np.array([-20]), np.array(["smb"]))[0])  # too early for any step
-1
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["ACTIONS", "CHANNELS", "DEFAULT_POLICY", "DunningPolicy", "DunningStep"]

ACTIONS = ("reminder", "call", "letter", "escalation", "hold")
CHANNELS = ("email", "sms", "phone", "letter", "agency")


@dataclass(frozen=True)
class DunningStep:
    """One step of the policy (see the module docstring for the fields)."""

    name: str
    action: str
    from_day: int
    to_day: int | None = None
    level: int = 1
    channel: str = "email"
    minutes: float = 5.0
    uplift: float = 0.1
    segments: tuple[str, ...] = ()
    min_amount: float = 0.0

    def __post_init__(self) -> None:
        where = f"dunning step {self.name!r}"
        if self.action not in ACTIONS:
            raise ValueError(
                f"{where}: action must be one of {', '.join(ACTIONS)}; got {self.action!r}"
            )
        if self.channel not in CHANNELS:
            raise ValueError(
                f"{where}: channel must be one of {', '.join(CHANNELS)}; got {self.channel!r}"
            )
        if self.to_day is not None and self.to_day < self.from_day:
            raise ValueError(
                f"{where}: to_day ({self.to_day}) is before from_day ({self.from_day})"
            )
        if not 0 <= self.level <= 4:
            raise ValueError(
                f"{where}: level must be in [0, 4] (0 courtesy … 4 final); got {self.level!r}"
            )
        if not 0 < self.minutes <= 480:
            raise ValueError(f"{where}: minutes must be in (0, 480]; got {self.minutes!r}")
        if not 0 <= self.uplift <= 1:
            raise ValueError(f"{where}: uplift must be in [0, 1]; got {self.uplift!r}")
        if self.min_amount < 0:
            raise ValueError(f"{where}: min_amount must be >= 0; got {self.min_amount!r}")
        object.__setattr__(self, "segments", tuple(str(s) for s in self.segments))


DEFAULT_POLICY: dict = {
    "name": "standard",
    "steps": [
        {
            "name": "courtesy_reminder",
            "action": "reminder",
            "from_day": -5,
            "to_day": 0,
            "level": 0,
            "channel": "email",
            "minutes": 2,
            "uplift": 0.05,
        },
        {
            "name": "first_reminder",
            "action": "reminder",
            "from_day": 1,
            "to_day": 14,
            "level": 1,
            "channel": "email",
            "minutes": 3,
            "uplift": 0.10,
        },
        {
            "name": "key_account_call",
            "action": "call",
            "from_day": 1,
            "to_day": 30,
            "level": 2,
            "channel": "phone",
            "minutes": 12,
            "uplift": 0.25,
            "segments": ["enterprise"],
            "min_amount": 5000,
        },
        {
            "name": "second_notice_call",
            "action": "call",
            "from_day": 15,
            "to_day": 60,
            "level": 2,
            "channel": "phone",
            "minutes": 10,
            "uplift": 0.20,
        },
        {
            "name": "final_demand_hold",
            "action": "hold",
            "from_day": 61,
            "to_day": 90,
            "level": 3,
            "channel": "letter",
            "minutes": 15,
            "uplift": 0.25,
        },
        {
            "name": "escalation",
            "action": "escalation",
            "from_day": 91,
            "to_day": None,
            "level": 4,
            "channel": "agency",
            "minutes": 20,
            "uplift": 0.15,
        },
    ],
}
"""The built-in policy, written out in ``policies/dunning.yaml``."""


@dataclass(frozen=True)
class DunningPolicy:
    """An ordered set of :class:`DunningStep`.

    Parameters
    ----------
    name
        A label for the policy.
    steps
        The steps (at least one).
    """

    name: str = "standard"
    steps: tuple[DunningStep, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a dunning policy needs at least one step")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"dunning step names must be unique; got {names}")

    @classmethod
    def from_dict(cls, spec: dict) -> DunningPolicy:
        """A policy from plain data: ``{"name": ..., "steps": [{...}, ...]}``."""
        if not isinstance(spec, dict) or not isinstance(spec.get("steps"), list):
            raise ValueError("a dunning policy is a mapping with a list of 'steps'")
        known = set(DunningStep.__dataclass_fields__)
        steps = []
        for i, raw in enumerate(spec["steps"]):
            if not isinstance(raw, dict):
                raise ValueError(f"dunning step {i + 1} must be a mapping")
            unknown = sorted(set(raw) - known)
            if unknown:
                raise ValueError(f"dunning step {i + 1}: unknown field(s) {', '.join(unknown)}")
            missing = [k for k in ("name", "action", "from_day") if k not in raw]
            if missing:
                raise ValueError(f"dunning step {i + 1}: missing {', '.join(missing)}")
            steps.append(DunningStep(**{**raw, "segments": tuple(raw.get("segments") or ())}))
        return cls(name=str(spec.get("name", "policy")), steps=tuple(steps))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> DunningPolicy:
        """Read a policy from a YAML file (see ``policies/dunning.yaml``)."""
        import yaml

        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(yaml.safe_load(fh))

    @classmethod
    def default(cls) -> DunningPolicy:
        """The built-in policy (:data:`DEFAULT_POLICY`)."""
        return cls.from_dict(DEFAULT_POLICY)

    def step_index(
        self, days_past_due: np.ndarray, segments: np.ndarray, amounts: np.ndarray | None = None
    ) -> np.ndarray:
        """Per item, the index of the applicable step with the highest level (``-1``: none)."""
        from rpmkit import keys

        dpd = np.asarray(days_past_due)
        amt = np.full(len(dpd), np.inf) if amounts is None else np.asarray(amounts, dtype=float)
        best = np.full(len(dpd), -1, dtype=np.int64)
        best_level = np.full(len(dpd), -1, dtype=np.int64)
        for i, step in enumerate(self.steps):  # a handful of steps, each vectorised
            ok = dpd >= step.from_day
            if step.to_day is not None:
                ok &= dpd <= step.to_day
            if step.segments:
                # Arrow's hash lookup: no Python string per item
                ok &= keys.isin(
                    pd.Series(segments, copy=False).astype("string"), list(step.segments)
                )
            if step.min_amount > 0:
                ok &= amt >= step.min_amount
            ok &= step.level >= best_level
            best[ok] = i
            best_level[ok] = step.level
        return best

    def table(self) -> pd.DataFrame:
        """The steps as a DataFrame (one row each)."""
        return pd.DataFrame([s.__dict__ for s in self.steps])
