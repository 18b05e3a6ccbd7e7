"""The apps and their building blocks; notebooks display one app each.

An app is an ``ipywidgets.VBox`` whose callbacks read only its own controls,
call :mod:`rpmkit`, and redraw ``FigureWidget`` charts made by
:mod:`rpmkit.plots`. Bad input shows a friendly message in the app; the detail
goes to the ``rpmkit.ui`` logger.
"""

from rpmkit.ui.behaviour import PaymentBehaviourApp
from rpmkit.ui.charts import ChartSlot, figure_widget, refresh_figure
from rpmkit.ui.dashboard import ARDashboardApp
from rpmkit.ui.download import DownloadLinks
from rpmkit.ui.format import format_days, format_money, format_percent, html_table
from rpmkit.ui.index import AppIndex
from rpmkit.ui.quality import DataQualityApp
from rpmkit.ui.tile import KpiTile
from rpmkit.ui.widgets import MethodNote, Notice, TableView

__all__ = [
    "ARDashboardApp",
    "AppIndex",
    "ChartSlot",
    "DataQualityApp",
    "DownloadLinks",
    "KpiTile",
    "MethodNote",
    "Notice",
    "PaymentBehaviourApp",
    "TableView",
    "figure_widget",
    "format_days",
    "format_money",
    "format_percent",
    "html_table",
    "refresh_figure",
]
