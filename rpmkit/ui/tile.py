"""The KPI tile: a value, its change against the prior period, the benchmark, the formula."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import ipywidgets as w

from rpmkit.plots import compact_money
from rpmkit.ui.format import format_days, format_money, format_percent

__all__ = ["KpiTile", "format_value"]

_LOWER_IS_BETTER = {"dso", "bpdso", "add", "pct_over_90", "past_due"}
_HIGHER_IS_BETTER = {"cei", "pct_current"}


def format_value(value, unit: str, currency: str) -> str:
    if unit == "money":
        return format_money(value, currency, decimals=0)
    if unit == "percent":
        return format_percent(value)
    return format_days(value)


class KpiTile(w.VBox):
    """One KPI: its value, the change against the prior period, the benchmark, the formula.

    ``kind`` decides which direction of change is good (lower DSO is better,
    higher CEI is better; open AR is neutral). The formula toggle shows the
    formula with the user's own components.
    """

    def __init__(self, kind: str, title: str, unit: str = "days", currency: str = "USD") -> None:
        self.kind = kind
        self.unit = unit
        self.currency = currency
        self._name = w.HTML(f'<div class="rpm-tile-name">{html.escape(title)}</div>')
        self._value = w.HTML("")
        self._change = w.HTML("")
        self._bench = w.HTML("")
        self._toggle = w.ToggleButton(
            value=False,
            description="ƒ formula",
            tooltip=f"Show how {title} is computed",
            layout=w.Layout(width="86px", height="22px", margin="2px 0 0 0"),
        )
        self._formula = w.HTML("", layout=w.Layout(display="none"))
        self._toggle.observe(self._on_toggle, names="value")
        super().__init__(
            [self._name, self._value, self._change, self._bench, self._toggle],
            layout=w.Layout(width="170px", margin="0 6px 6px 0"),
        )
        self.add_class("rpm-tile")
        self._formula_host: Callable[[KpiTile, bool], None] | None = None

    def on_formula(self, callback: Callable[[KpiTile, bool], None]) -> None:
        """Let an app show the formula in its own panel: ``callback(tile, shown)``."""
        self._formula_host = callback

    def _on_toggle(self, change) -> None:
        if self._formula_host is not None:
            self._formula_host(self, bool(self._toggle.value))
        else:
            self._formula.layout.display = "" if self._toggle.value else "none"

    def set(
        self,
        value,
        *,
        prior=None,
        prior_label: str = "prior period",
        benchmark: float | None = None,
        formula_html: str = "",
    ) -> None:
        """Show ``value`` with its change from ``prior`` and ``benchmark`` (both optional)."""
        shown = html.escape(format_value(value, self.unit, self.currency))
        self._value.value = f'<div class="rpm-tile-value">{shown}</div>'
        change = self._change_html(value, prior, prior_label)
        self._change.value = f'<div class="rpm-tile-change">{change}</div>'
        bench = (
            f"CRF median {format_value(benchmark, self.unit, self.currency)}"
            if benchmark is not None
            else "&nbsp;"
        )
        self._bench.value = f'<div class="rpm-tile-bench">{bench}</div>'
        self._formula.value = f'<div class="rpm-formula">{formula_html}</div>'

    def _change_html(self, value, prior, prior_label: str) -> str:
        if value is None or prior is None:
            return '<span class="rpm-flat">no prior period to compare</span>'
        delta = float(value) - float(prior)
        if self.unit == "money":
            shown = compact_money(abs(delta), self.currency)
        elif self.unit == "percent":
            shown = f"{abs(delta):,.1f} pts"
        else:
            shown = f"{abs(delta):,.1f} days"
        if abs(delta) < 0.05 and self.unit != "money":
            return f'<span class="rpm-flat">= unchanged vs {html.escape(prior_label)}</span>'
        arrow = "▲" if delta > 0 else "▼"
        if self.kind in _LOWER_IS_BETTER:
            tone = "rpm-bad" if delta > 0 else "rpm-good"
        elif self.kind in _HIGHER_IS_BETTER:
            tone = "rpm-good" if delta > 0 else "rpm-bad"
        else:
            tone = "rpm-flat"
        label = html.escape(prior_label)
        return f'<span class="{tone}">{arrow} {html.escape(shown)}</span> vs {label}'

    @property
    def value_text(self) -> str:
        return re.sub(r"<[^>]+>", "", html.unescape(self._value.value))

    @property
    def change_text(self) -> str:
        return re.sub(r"<[^>]+>", "", html.unescape(self._change.value))

    @property
    def formula_html(self) -> str:
        return self._formula.value

    @property
    def formula_panel(self) -> w.HTML:
        return self._formula

    @property
    def toggle(self) -> w.ToggleButton:
        return self._toggle
