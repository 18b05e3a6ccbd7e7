"""The lever panel: one row per lever — its name, what the ledger says today, the changed value.

The panel reads its controls into a :class:`~rpmkit.ui.simulator.policy.Policy`
(which validates them); it knows nothing of runs.

>>> from rpmkit.sim import Scenario
>>> from rpmkit.ui.simulator.policy import Policy
>>> panel = LeverPanel()
>>> panel.set_baseline(Scenario(horizon_days=90))
>>> panel.controls["collectors"].value = 5
>>> panel.policy().collectors, panel.policy().terms_days
(5, None)
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as w

from rpmkit.sim import Scenario
from rpmkit.ui.simulator.parts import lever_frame
from rpmkit.ui.simulator.policy import Policy

__all__ = ["KEEP", "LeverPanel"]

KEEP = -1  # "as today" in the option lists (a Dropdown cannot hold None as a choice)
TERMS = (("as today", KEEP),) + tuple((f"Net {n}", n) for n in (10, 15, 20, 30, 45, 60, 90))
LIMITS = (("none", KEEP),) + tuple((f"{n} days of sales", n) for n in (30, 45, 60, 90, 120))
HOLDS = (("none", KEEP),) + tuple((f"after {n} days past due", n) for n in (15, 30, 60, 90))
DESKS = (("unlimited", KEEP),) + tuple((f"{n} at once", n) for n in (1, 2, 3, 5, 10, 20))
LABELS = (
    "Payment terms",
    "Early-payment discount",
    "Dunning (− earlier)",
    "Collectors",
    "Credit limit",
    "Order hold",
    "Dispute desk",
    "Dispute resolution",
)
_CELL = {"width": "150px"}
_WIDE = {"width": "190px"}


def _text(text: str, cls: str = "rpm-sub") -> w.HTML:
    return w.HTML(f'<span class="{cls}">{html.escape(text)}</span>')


def _keep(value):
    return None if value == KEEP else value


def _option(options, value) -> int:
    return value if value in [v for _, v in options] else KEEP


def _with(options: tuple, value, label: str) -> tuple:
    """``options`` with today's ``value`` among them, in order: a calibrated baseline
    (the default dispute desk of 12, say) may hold a value the list lacks, which the
    dropdown would otherwise show, and the changed policy take, as "none"."""
    if value is None or value in [v for _, v in options]:
        return options
    first, *rest = options
    return (first, *sorted([*rest, (label.format(value), value)], key=lambda o: o[1]))


def _uniform_discount(scenario: Scenario) -> tuple[float, int] | None:
    """The scenario's discount (percent, days) when every segment has the same one."""
    found = {seg.discount for seg in scenario.sales}
    if len(found) != 1:
        return None
    rate, days = next(iter(found))
    return round(rate * 100, 2), int(days)


def discount_text(scenario: Scenario) -> str:
    found = _uniform_discount(scenario)
    if found is None:
        return "by segment"
    return "none" if found[0] == 0 else f"{found[0]:g} % within {found[1]} days"


class LeverPanel(w.VBox):
    """The levers: today's value (read-only) beside the changed policy's control."""

    def __init__(self) -> None:
        self._scenario: Scenario | None = None
        self._quiet = False
        self._callback: Callable[[], None] | None = None
        self._c = {
            "terms": w.Dropdown(options=TERMS, value=KEEP, layout=w.Layout(**_WIDE)),
            "discount_percent": w.BoundedFloatText(
                value=0.0, min=-100, max=100, step=0.5, layout=w.Layout(width="64px")
            ),
            "discount_days": w.IntText(value=10, layout=w.Layout(width="56px")),
            "dunning_shift": w.IntSlider(value=0, min=-30, max=30, layout=w.Layout(**_WIDE)),
            "collectors": w.IntText(value=3, layout=w.Layout(width="80px")),
            "credit_limit": w.Dropdown(options=LIMITS, value=KEEP, layout=w.Layout(**_WIDE)),
            "order_hold": w.Dropdown(options=HOLDS, value=KEEP, layout=w.Layout(**_WIDE)),
            "dispute_desk": w.Dropdown(options=DESKS, value=KEEP, layout=w.Layout(**_WIDE)),
            "dispute_days": w.FloatText(value=1.0, step=1, layout=w.Layout(width="80px")),
        }
        c = self._c
        changed = [
            c["terms"],
            w.HBox([c["discount_percent"], _text(" % in "), c["discount_days"], _text(" days")]),
            c["dunning_shift"],
            c["collectors"],
            c["credit_limit"],
            c["order_hold"],
            c["dispute_desk"],
            w.HBox([c["dispute_days"], _text(" days (median)")]),
        ]
        self._today = [w.HTML("", layout=w.Layout(**_CELL)) for _ in LABELS]
        head = w.HBox(
            [
                w.HTML('<div class="rpm-h">Lever</div>', layout=w.Layout(**_CELL)),
                w.HTML('<div class="rpm-h">Today (ledger)</div>', layout=w.Layout(**_CELL)),
                w.HTML('<div class="rpm-h">Changed policy</div>'),
            ]
        )
        rows = [
            w.HBox(
                [w.HTML(html.escape(label), layout=w.Layout(**_CELL)), today, ctrl],
                layout=w.Layout(align_items="center", min_height="30px"),
            )
            for label, today, ctrl in zip(LABELS, self._today, changed, strict=True)
        ]
        for row in rows:
            row.add_class("rpm-lever")
        self._reset = w.Button(description="Reset to today", layout=w.Layout(width="130px"))
        self._reset.on_click(lambda _: self.reset())
        super().__init__(
            [head, *rows, self._reset], layout=w.Layout(width="530px", padding="0 12px 0 0")
        )
        for control in c.values():
            control.observe(self._changed, names="value")

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever a person changes a lever."""
        self._callback = callback

    def _changed(self, _change) -> None:
        if not self._quiet and self._callback is not None:
            self._callback()

    @property
    def controls(self) -> dict[str, w.Widget]:
        return dict(self._c)

    def set_baseline(self, scenario: Scenario) -> None:
        """Show ``scenario``'s levers as today's and reset the changed policy to them."""
        self._scenario = scenario
        p = Policy.of(scenario)
        c = self._c
        self._quiet = True
        try:
            c["credit_limit"].options = _with(LIMITS, p.limit_days_of_sales, "{:g} days of sales")
            c["order_hold"].options = _with(HOLDS, p.hold_days_past_due, "after {} days past due")
            c["dispute_desk"].options = _with(DESKS, p.dispute_capacity, "{} at once")
        finally:
            self._quiet = False
        today = lever_frame(scenario, p, scenario)["baseline"].tolist()
        today.insert(1, discount_text(scenario))
        for cell, text in zip(self._today, today, strict=True):
            # the dunning's groups of steps one per line
            lines = "<br>".join(html.escape(part) for part in text.split(" · "))
            cell.value = f"<span>{lines}</span>"
        self.reset()

    def reset(self) -> None:
        """The changed policy back to today's levers."""
        if self._scenario is not None:
            self.set(Policy.of(self._scenario))

    def set(self, p: Policy) -> None:
        """Show ``p`` in the controls (one change notification at the end)."""
        c = self._c
        self._quiet = True
        try:
            discount = _uniform_discount(self._scenario) if self._scenario else None
            discount = discount or (0.0, 10)
            if p.discount_percent is not None:
                discount = (p.discount_percent, p.discount_days)
            c["terms"].value = _option(TERMS, p.terms_days)
            c["discount_percent"].value = discount[0]
            # a window of 10 days to start from when there is no discount, else today's
            c["discount_days"].value = discount[1] if discount[0] else (discount[1] or 10)
            c["dunning_shift"].value = p.dunning_shift_days
            c["collectors"].value = p.collectors
            c["credit_limit"].value = _option(c["credit_limit"].options, p.limit_days_of_sales)
            c["order_hold"].value = _option(c["order_hold"].options, p.hold_days_past_due)
            c["dispute_desk"].value = _option(c["dispute_desk"].options, p.dispute_capacity)
            c["dispute_days"].value = p.dispute_days  # unrounded: today's must read back as is
        finally:
            self._quiet = False
        self._changed(None)

    def policy(self) -> Policy:
        """The changed policy; ``ValueError`` (fit to show) when a lever is out of range."""
        c = self._c
        typed = (float(c["discount_percent"].value), int(c["discount_days"].value))
        today = _uniform_discount(self._scenario) if self._scenario else None
        keep = (today is not None and typed == today) or (
            typed[0] == 0 and (today is None or today[0] == 0)
        )
        return Policy(
            terms_days=_keep(c["terms"].value),
            discount_percent=None if keep else typed[0],
            discount_days=typed[1],
            dunning_shift_days=int(c["dunning_shift"].value),
            collectors=int(c["collectors"].value),
            limit_days_of_sales=_keep(c["credit_limit"].value),
            hold_days_past_due=_keep(c["order_hold"].value),
            dispute_capacity=_keep(c["dispute_desk"].value),
            dispute_days=float(c["dispute_days"].value),
        )
