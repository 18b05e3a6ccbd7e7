"""Building blocks every app uses: styles, notices, tables with downloads, method notes."""

from __future__ import annotations

import html
import re

import ipywidgets as w
import pandas as pd

from rpmkit.ui.download import DownloadLinks
from rpmkit.ui.format import html_table

__all__ = ["CSS", "MethodNote", "Notice", "TableView", "style_widget"]

CSS = """
<style>
.rpm-app { font-family: "DejaVu Sans", Arial, sans-serif; color: #1b1b1b; }
.rpm-app .widget-label { min-width: 0; }
.rpm-app .widget-html-content { line-height: 1.35; }
.rpm-scroll { overflow-x: auto; max-width: 100%; }
.rpm-tile { border: 1px solid #d9dde3; border-radius: 6px; padding: 5px 8px;
            background: #fafbfc; box-sizing: border-box; }
.rpm-tile-name { font-size: 12px; color: #555; text-transform: uppercase;
                 letter-spacing: .03em; line-height: 16px; }
.rpm-tile-value { font-size: 20px; font-weight: 600; line-height: 28px;
                  white-space: nowrap; }
.rpm-tile-change { font-size: 12px; line-height: 16px; white-space: nowrap; }
.rpm-tile-bench { font-size: 11.5px; color: #666; line-height: 16px; white-space: nowrap; }
.rpm-good { color: #1e7b34; } .rpm-bad { color: #b3261e; } .rpm-flat { color: #555; }
.rpm-formula { font-size: 12px; line-height: 17px; background: #f4f6f8;
               border-left: 3px solid #1f4e79; padding: 4px 8px; margin-top: 4px; }
.rpm-formula code { font-size: 12px; white-space: normal; }
.rpm-table { border-collapse: collapse; font-size: 12px; width: 100%; line-height: 17px; }
.rpm-table th { text-align: left; border-bottom: 2px solid #c9ced6; padding: 3px 6px;
                white-space: nowrap; font-weight: 600; position: sticky; top: 0;
                background: #fff; }
.rpm-table td { border-bottom: 1px solid #eceff3; padding: 2px 6px; white-space: nowrap; }
.rpm-table td.wrap { white-space: normal; min-width: 160px; }
.rpm-table .num { text-align: right; font-variant-numeric: tabular-nums; }
.rpm-table tbody tr:hover { background: #f3f7fb; }
.rpm-more, .rpm-empty { font-size: 12px; color: #666; padding: 4px 0; }
.rpm-notice { padding: 8px 12px; border-radius: 4px; font-size: 13.5px; }
.rpm-notice-error { background: #fdecea; color: #8a1c14; border: 1px solid #f5c2bd; }
.rpm-notice-info { background: #eef5fb; color: #1f4e79; border: 1px solid #c8ddef; }
.rpm-notice-ok { background: #edf7ee; color: #1e5b2a; border: 1px solid #c5e3c9; }
.rpm-downloads { font-size: 12px; }
.rpm-downloads a { margin-right: 12px; color: #1f4e79; text-decoration: underline; }
.rpm-index { font-size: 15px; line-height: 26px; padding-left: 20px; }
.rpm-index a { font-weight: 600; color: #1f4e79; }
.rpm-h { font-size: 15px; font-weight: 600; margin: 6px 0 2px 0; }
.rpm-sub { font-size: 12.5px; color: #555; }
</style>
"""
"""Styles of every app; each app displays them once through :func:`style_widget`."""


def style_widget() -> w.HTML:
    """An invisible widget carrying :data:`CSS`."""
    return w.HTML(CSS, layout=w.Layout(display="none"))


class Notice(w.HTML):
    """A one-line message: ``error``, ``info`` or ``ok``; empty hides it."""

    def __init__(self) -> None:
        super().__init__("")
        self.add_class("rpm-notice-box")

    def show(self, text: str, kind: str = "info") -> None:
        self.value = f'<div class="rpm-notice rpm-notice-{kind}">{html.escape(text)}</div>'

    def show_html(self, markup: str, kind: str = "info") -> None:
        self.value = f'<div class="rpm-notice rpm-notice-{kind}">{markup}</div>'

    def clear(self) -> None:
        self.value = ""

    @property
    def text(self) -> str:
        return re.sub(r"<[^>]+>", "", html.unescape(self.value))


class TableView(w.VBox):
    """A titled HTML table with its download links."""

    def __init__(self, title: str, **table_options) -> None:
        self._title = w.HTML(f'<div class="rpm-h">{html.escape(title)}</div>')
        self._table = w.HTML("")
        self._downloads = DownloadLinks()
        self._options = table_options
        super().__init__([self._title, self._table, self._downloads])

    def show(
        self,
        frame: pd.DataFrame,
        name: str,
        *,
        download: pd.DataFrame | None = None,
        title: str | None = None,
        **options,
    ) -> None:
        if title is not None:
            self._title.value = f'<div class="rpm-h">{html.escape(title)}</div>'
        self._table.value = html_table(frame, **{**self._options, **options})
        self._downloads.set_frame(frame if download is None else download, name)

    @property
    def html(self) -> str:
        return self._table.value

    @property
    def downloads(self) -> DownloadLinks:
        return self._downloads


class MethodNote(w.Accordion):
    """ "How is this computed?" one click away: a collapsed accordion with the method."""

    def __init__(self, title: str = "How is this computed?") -> None:
        self._body = w.HTML("")
        super().__init__(children=[self._body], titles=(title,), selected_index=None)

    def set(self, markup: str) -> None:
        self._body.value = f'<div class="rpm-formula">{markup}</div>'

    @property
    def text(self) -> str:
        return self._body.value
