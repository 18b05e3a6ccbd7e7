"""Pieces of the policy simulator app: the difference tile, the lever rows and the tables.

>>> tile = DeltaTile("dso", "DSO at the end", "days", better=-1)
>>> tile.set(54.0, 50.5, -3.5, -4.1, -2.9)
>>> tile.value_text, tile.tone
('−3.5 days', 'good')
>>> tile.set(54.0, 54.1, 0.1, -0.3, 0.5)
>>> tile.tone
'flat'
"""

from __future__ import annotations

import html
import math
import re

import ipywidgets as w
import numpy as np
import pandas as pd

from rpmkit.plots.core import compact_money
from rpmkit.sim import Scenario
from rpmkit.ui.format import MISSING, format_days, format_money, format_percent
from rpmkit.ui.simulator.outcome import clear
from rpmkit.ui.simulator.policy import Policy, terms_text

__all__ = ["DeltaTile", "differences_frame", "interval", "lever_frame", "signed"]


def _plain(value: float, unit: str, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if unit == "money":
        return format_money(value, currency, decimals=0)
    if unit == "days":
        return format_days(value)
    if unit in ("percent", "share"):
        return format_percent(value * (100 if unit == "share" else 1), 2)
    return f"{value:,.0f}"


def signed(value: float, unit: str, currency: str) -> str:
    """A change with its sign (a real minus) in the unit of the KPI.

    >>> signed(-1234.5, "money", "USD"), signed(0.25, "percent", "USD"), signed(3, "days", "USD")
    ('−$1.23k', '+0.25 pts', '+3.0 days')
    """
    if value is None or math.isnan(value):
        return MISSING
    sign = "−" if value < 0 else "+"
    v = abs(float(value))
    if unit == "money":
        return sign + compact_money(v, currency)
    if unit == "days":
        return f"{sign}{v:,.1f} days"
    if unit in ("percent", "share"):
        return f"{sign}{v * (100 if unit == 'share' else 1):,.2f} pts"
    return f"{sign}{v:,.0f}"


def interval(lo: float, hi: float, unit: str, currency: str) -> str:
    """Both ends of an interval, the unit written once.

    >>> interval(-17.8, -13.31, "days", "USD"), interval(7.41e6, 1.01e7, "money", "USD")
    ('−17.8 to −13.3 days', '+$7.41M to +$10.1M')
    """
    a, b = signed(lo, unit, currency), signed(hi, unit, currency)
    for suffix in (" days", " pts"):
        if a.endswith(suffix) and b.endswith(suffix):
            return f"{a[: -len(suffix)]} to {b}"
    return f"{a} to {b}"


class DeltaTile(w.VBox):
    """One difference: changed − baseline, both values, the 95 % interval; coloured
    good or bad only when the interval excludes zero."""

    def __init__(self, key: str, title: str, unit: str, better: int, currency: str = "USD"):
        self.key, self.unit, self.better, self.currency = key, unit, better, currency
        self._name = w.HTML("")
        self._value = w.HTML("")
        self._detail = w.HTML("")
        self._ci = w.HTML("")
        self.tone = "flat"
        super().__init__(
            [self._name, self._value, self._detail, self._ci],
            layout=w.Layout(width="190px", margin="0 6px 6px 0"),
        )
        self.add_class("rpm-tile")
        self.set_title(title)
        self.clear()

    def set_title(self, title: str) -> None:
        self._name.value = f'<div class="rpm-tile-name">{html.escape(title)}</div>'

    def clear(self, text: str = "press Run") -> None:
        self.tone = "flat"
        self._value.value = f'<div class="rpm-tile-value rpm-flat">{MISSING}</div>'
        self._detail.value = f'<div class="rpm-tile-change rpm-flat">{html.escape(text)}</div>'
        self._ci.value = '<div class="rpm-tile-bench">&nbsp;</div>'

    def set(self, base: float, other: float, diff: float, lo: float, hi: float) -> None:
        row = {"ci_low": lo, "ci_high": hi}
        if clear(row) and self.better:
            self.tone = "good" if diff * self.better > 0 else "bad"
        else:
            self.tone = "flat"
        shown = html.escape(signed(diff, self.unit, self.currency))
        self._value.value = f'<div class="rpm-tile-value rpm-{self.tone}">{shown}</div>'
        a, b = (_plain(v, self.unit, self.currency) for v in (base, other))
        self._detail.value = (
            f'<div class="rpm-tile-change">{html.escape(a)} → {html.escape(b)}</div>'
        )
        if lo == hi == diff == 0:
            ci = "the same in every replication"
        elif math.isnan(lo):
            ci = "one replication: no interval"
        else:
            ci = "95 % CI " + interval(lo, hi, self.unit, self.currency)
            if not clear(row):
                ci += " (noise)"
        self._ci.value = f'<div class="rpm-tile-bench">{html.escape(ci)}</div>'

    @property
    def value_text(self) -> str:
        return re.sub(r"<[^>]+>", "", html.unescape(self._value.value))

    @property
    def text(self) -> str:
        parts = (self._name, self._value, self._detail, self._ci)
        return " ".join(re.sub(r"<[^>]+>", "", html.unescape(p.value)) for p in parts)


# ------------------------------------------------------------------ tables
def _dunning_text(steps) -> str:
    """The steps' days from due, grouped by channel and effect, e.g. ``+7, +21 days reminder
    (1.3× for 7 d) · +35, +55 days call (no effect)``: the effect is the calibrated uplift,
    how much faster payers pay for some days after the step."""
    if not steps:
        return "none"
    groups: list[tuple[tuple, list[int]]] = []
    for s in steps:
        key = (s.channel, s.uplift, s.uplift_days)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(s.day)
        else:
            groups.append((key, [s.day]))
    parts = []
    for (channel, uplift, days), at in groups:
        effect = "no effect" if uplift == 0 else f"{1 + uplift:.2g}× for {days:g}\u00a0d"
        parts.append(f"{', '.join(f'{d:+d}' for d in at)} days {channel} ({effect})")
    return " · ".join(parts)


def _policy_rows(policy: Policy, scenario: Scenario) -> dict[str, str]:
    def none(value, unit: str, missing: str) -> str:
        return missing if value is None else f"{value:g} {unit}"

    return {
        "payment terms": terms_text(scenario),
        "dunning steps (from due)": _dunning_text(scenario.dunning),
        "collectors": f"{policy.collectors}",
        "credit limit": none(policy.limit_days_of_sales, "days of sales", "none"),
        "order hold": none(policy.hold_days_past_due, "days past due", "none"),
        "dispute desk": none(policy.dispute_capacity, "at once", "unlimited"),
        "dispute resolution": f"{policy.dispute_days:g} days (median)",
    }


def lever_frame(scenario: Scenario, policy: Policy, changed: Scenario) -> pd.DataFrame:
    """Lever, baseline (``scenario``) and changed policy, as text (the table and its download)."""
    a = _policy_rows(Policy.of(scenario), scenario)
    b = _policy_rows(policy, changed)
    return pd.DataFrame(
        {
            "lever": list(a),
            "baseline": list(a.values()),
            "changed policy": [b[k] for k in a],
            "changed": [a[k] != b[k] for k in a],
        }
    )


def differences_frame(comparison, tiles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI differences as shown (text) and as downloaded (numbers), cash window first."""
    d = comparison.differences
    cur = comparison.base.currency
    cash = tiles.loc["cash_window"]
    raw = pd.concat(
        [
            pd.DataFrame(
                {
                    "label": [cash["title"].lower()],
                    "unit": ["money"],
                    **{c: [cash[c]] for c in ("base", "other", "difference", "ci_low", "ci_high")},
                    "variance_ratio": [np.nan],
                },
                index=pd.Index(["cash_window"], name="kpi"),
            ),
            d[
                [
                    "label",
                    "unit",
                    "base",
                    "other",
                    "difference",
                    "ci_low",
                    "ci_high",
                    "variance_ratio",
                ]
            ],
        ]
    )
    keep = [k for k in raw.index if k not in ("credit_notes",)]
    raw = raw.loc[keep]
    shown = pd.DataFrame(
        {
            "KPI": raw["label"].to_numpy(),
            "baseline": [_plain(v, u, cur) for v, u in zip(raw["base"], raw["unit"], strict=True)],
            "changed": [_plain(v, u, cur) for v, u in zip(raw["other"], raw["unit"], strict=True)],
            "difference": [
                signed(v, u, cur) for v, u in zip(raw["difference"], raw["unit"], strict=True)
            ],
            "95 % CI": [
                MISSING
                if math.isnan(lo)
                else "the same in every replication"
                if lo == hi == 0
                else interval(lo, hi, u, cur)
                for lo, hi, u in zip(raw["ci_low"], raw["ci_high"], raw["unit"], strict=True)
            ],
        }
    )
    out = raw.reset_index().rename(columns={"base": "baseline", "other": "changed_policy"})
    out["label"] = out["label"].astype(str)
    return shown, out
