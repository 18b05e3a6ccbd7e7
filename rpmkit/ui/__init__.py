"""The apps and their building blocks; notebooks display one app each.

An app is an ``ipywidgets.VBox`` whose callbacks read only its own controls,
call :mod:`rpmkit`, and redraw ``FigureWidget`` charts made by
:mod:`rpmkit.plots`. Bad input shows a friendly message in the app; the detail
goes to the ``rpmkit.ui`` logger.

Names are imported when first used: each dashboard's kernel loads its own app
(and what it needs), not every app's models and dependencies, which keeps the
kernels of a shared server smaller and quicker to start; and in a kernel, memory
freed by a control change is handed back at once (:mod:`rpmkit.ui.kernel_memory`).
"""

from __future__ import annotations

import importlib

from rpmkit.ui import (
    _lean,  # noqa: F401  (before plotly/nbformat load anywhere in a kernel)
    kernel_memory,
)

kernel_memory.install()  # in an app's kernel: freed memory goes back after each change

_WHERE = {
    "ARDashboardApp": "dashboard",
    "AppIndex": "index",
    "CashApplicationApp": "cashapp",
    "CashForecastApp": "forecast",
    "ChartSlot": "charts",
    "CreditRiskApp": "risk",
    "DataQualityApp": "quality",
    "DownloadLinks": "download",
    "KpiTile": "tile",
    "MethodNote": "widgets",
    "Notice": "widgets",
    "PaymentBehaviourApp": "behaviour",
    "PolicySimulatorApp": "simulator",
    "TableView": "widgets",
    "figure_widget": "charts",
    "format_days": "format",
    "format_money": "format",
    "format_percent": "format",
    "html_table": "format",
    "refresh_figure": "charts",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'rpmkit.ui' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"rpmkit.ui.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
