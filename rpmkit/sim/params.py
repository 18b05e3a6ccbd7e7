"""Scenario parameters of the policy simulator: frozen, validated dataclasses.

A :class:`Scenario` is the whole input of one simulation: the horizon, the
sales by segment, how payers behave, and the policy levers (terms and
discounts, dunning, collectors, disputes, credit policy, escalation and
write-off). Units are in the field names or docstrings: ``*_days`` are
calendar days, money is in units of the reporting currency (not minor
units), rates and shares are in ``[0, 1]``. Vary a scenario with
:func:`dataclasses.replace`; load and save it as YAML. Every field is listed
with its default in ``docs/simulation.md``.

>>> s = Scenario(horizon_days=90)
>>> s.horizon_days, [seg.name for seg in s.sales]
(90, ['enterprise', 'mid_market', 'smb'])
>>> Scenario.from_dict(s.to_dict()) == s
True
>>> Scenario(horizon_days=0)
Traceback (most recent call last):
...
ValueError: Scenario.horizon_days must be an integer in [1, 7300], got 0
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from rpmkit import money
from rpmkit.jsonable import plain
from rpmkit.sim.levers import Channels, PaymentMethod, PromiseKeeping, Promises
from rpmkit.sim.sections import (
    DEFAULT_DUNNING,
    DEFAULT_SALES,
    Behaviour,
    Collections,
    Collectors,
    CreditPolicy,
    CustomerHabit,
    Disputes,
    DunningStep,
    PayerBehaviour,
    SegmentSales,
    located,
)
from rpmkit.synth.specs import check_number, fail

__all__ = [
    "Behaviour",
    "Channels",
    "Collections",
    "Collectors",
    "CreditPolicy",
    "CustomerHabit",
    "Disputes",
    "DunningStep",
    "PayerBehaviour",
    "PaymentMethod",
    "PromiseKeeping",
    "Promises",
    "Scenario",
    "SegmentSales",
]


@dataclass(frozen=True)
class Scenario:
    """One policy scenario: horizon, sales, payer behaviour and the policy levers.

    Parameters
    ----------
    horizon_days
        Length of the simulation in days, in ``[1, 7300]``.
    start
        First simulated day, an ISO date such as ``'2025-01-01'`` (a
        ``datetime.date``, e.g. an unquoted YAML date, is kept as its ISO
        string); simulation time 0 is its midnight.
    currency
        ISO 4217 code of every amount (the reporting currency).
    seed
        Root of the ``numpy.random.SeedSequence``, a non-negative integer.
    sales
        One :class:`SegmentSales` per segment (distinct names).
    behaviour
        :class:`Behaviour`: one :class:`PayerBehaviour` per sales segment.
    dunning
        The :class:`DunningStep` sequence, in increasing ``day``.
    collectors, disputes, credit, collections
        :class:`Collectors`, :class:`Disputes`, :class:`CreditPolicy`, :class:`Collections`.
    promises
        :class:`Promises`: promises to pay made on calls (off by default).
    channels
        :class:`Channels`: e-invoicing and the payment-method mix (off by default).
    """

    horizon_days: int = 365
    start: str = "2025-01-01"
    currency: str = "USD"
    seed: int = 20250101
    sales: tuple[SegmentSales, ...] = DEFAULT_SALES
    behaviour: Behaviour = field(default_factory=Behaviour)
    dunning: tuple[DunningStep, ...] = DEFAULT_DUNNING
    collectors: Collectors = field(default_factory=Collectors)
    disputes: Disputes = field(default_factory=Disputes)
    credit: CreditPolicy = field(default_factory=CreditPolicy)
    collections: Collections = field(default_factory=Collections)
    promises: Promises = field(default_factory=Promises)
    channels: Channels = field(default_factory=Channels)

    def __post_init__(self) -> None:
        o = "Scenario"
        check_number(o, "horizon_days", self.horizon_days, 1, 7300, integer=True)
        if isinstance(self.start, datetime.date) and not isinstance(self.start, datetime.datetime):
            object.__setattr__(self, "start", self.start.isoformat())  # YAML's unquoted date
        try:
            start = pd.Timestamp(self.start)
        except (ValueError, TypeError):
            start = None
        if not isinstance(self.start, str) or start is None or start != start.normalize():
            fail(o, "start", "an ISO calendar date such as '2025-01-01'", self.start)
        if not money.is_known_currency(self.currency):
            fail(o, "currency", "an ISO 4217 currency code", self.currency)
        check_number(o, "seed", self.seed, 0, 2**63 - 1, integer=True)
        for name, kind in (("sales", SegmentSales), ("dunning", DunningStep)):
            items = getattr(self, name)
            if not (isinstance(items, tuple) and all(isinstance(x, kind) for x in items)):
                fail(o, name, f"a tuple of {kind.__name__}", items)
        names = [s.name for s in self.sales]
        if not names or len(set(names)) != len(names):
            fail(o, "sales", "a non-empty tuple of segments with distinct names", names)
        covered = [b.segment for b in self.behaviour.segments]
        if sorted(covered) != sorted(names):
            fail(o, "behaviour.segments", f"one PayerBehaviour per segment {names}", covered)
        days = [s.day for s in self.dunning]
        if days != sorted(days) or len(set(days)) != len(days):
            fail(o, "dunning", "steps in strictly increasing day order", days)
        for name, kind in (
            ("behaviour", Behaviour),
            ("collectors", Collectors),
            ("disputes", Disputes),
            ("credit", CreditPolicy),
            ("collections", Collections),
            ("promises", Promises),
            ("channels", Channels),
        ):
            if not isinstance(getattr(self, name), kind):
                fail(o, name, f"a {kind.__name__}", getattr(self, name))
        stray = sorted({k.segment for k in self.promises.segments} - set(names))
        if stray:
            fail(o, "promises.segments", f"kept rates of segments among {names}", stray)
        c = self.collections
        if (
            c.agency_after_days is not None
            and c.write_off_after_days is not None
            and c.write_off_after_days <= c.agency_after_days
        ):
            fail(
                o,
                "collections.write_off_after_days",
                f"greater than agency_after_days ({c.agency_after_days})",
                c.write_off_after_days,
            )

    # ------------------------------------------------------------ derived
    @property
    def start_date(self) -> pd.Timestamp:
        """``start`` as a ``Timestamp``."""
        return pd.Timestamp(self.start)

    @property
    def end_date(self) -> pd.Timestamp:
        """Last simulated day: ``start + horizon_days − 1``."""
        return self.start_date + pd.Timedelta(days=self.horizon_days - 1)

    def payer(self, segment: str) -> PayerBehaviour:
        """The :class:`PayerBehaviour` of a segment."""
        return next(b for b in self.behaviour.segments if b.segment == segment)

    # -------------------------------------------------------------- YAML
    def to_dict(self) -> dict:
        """Plain dicts, lists and scalars (what :meth:`from_dict` and YAML take)."""
        return plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> Scenario:
        """Build from nested dicts and lists; fields left out keep their defaults."""
        return _build(cls, data, "Scenario")

    @classmethod
    def from_ledger(cls, ledger, as_of, **kwargs) -> Scenario:
        """A scenario calibrated on a ledger's history up to ``as_of``.

        See :func:`rpmkit.sim.calibrate.calibrate` for the estimators and options.
        """
        from rpmkit.sim.calibrate import calibrate

        return calibrate(ledger, as_of, **kwargs)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> Scenario:
        """Read a scenario from a YAML file (see ``scenarios/`` for examples)."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return cls.from_dict(data)

    def to_yaml(self, path: str | os.PathLike | None = None) -> str:
        """The scenario as YAML text; also written to ``path`` when given."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


# What names the item of a list in messages: class -> (its field, the word for it).
_ITEM_NAMES = {
    SegmentSales: ("name", "segment"),
    PayerBehaviour: ("segment", "segment"),
    CustomerHabit: ("customer_id", "customer"),
    PromiseKeeping: ("segment", "segment"),
    PaymentMethod: ("name", "method"),
}


def _place(cls, data, path: str) -> str:
    """Where a list's item is in the file: ``dunning[1]``, ``sales[0] (segment 'smb')``."""
    where = path.partition(".")[2]  # below the root (Scenario)
    key, word = _ITEM_NAMES.get(cls, (None, None))
    if isinstance(data, dict) and key in data:
        where += f" ({word} {data[key]!r})"
    return where


def _build(cls, data, owner: str, where: str | None = None):
    """A dataclass from a mapping, recursing into nested dataclasses and tuples of them.

    ``where`` is the place of a list's item (:func:`_place`): its messages name
    it instead of ``owner`` (:func:`rpmkit.sim.sections.located`).
    """
    if isinstance(data, cls):
        return data
    label = owner if where is None else where
    if not isinstance(data, dict):
        raise ValueError(f"{label} must be a mapping of fields, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    known = {f.name for f in fields}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{label} has no field(s) {', '.join(unknown)}; known: {sorted(known)}")
    missing = [
        f.name
        for f in fields
        if f.name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ValueError(f"{label}: missing field(s) {', '.join(missing)}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        inner = typing.get_args(hint)
        if dataclasses.is_dataclass(hint):
            value = _build(hint, value, f"{owner}.{name}")
        elif typing.get_origin(hint) is tuple and inner and dataclasses.is_dataclass(inner[0]):
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{owner}.{name} must be a list, got {value!r}")
            paths = [f"{owner}.{name}[{k}]" for k in range(len(value))]
            value = tuple(
                _build(inner[0], v, p, _place(inner[0], v, p))
                for p, v in zip(paths, value, strict=True)
            )
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    if where is None:
        return cls(**kwargs)
    with located(where):
        return cls(**kwargs)
