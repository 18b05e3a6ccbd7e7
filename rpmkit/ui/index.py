"""The index of apps: every numbered notebook with one line on the question it answers.

The line comes from the notebook itself (its ``# title`` and the first sentence
after it), so adding an app adds it to the index.
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as w

from rpmkit.ui.widgets import style_widget

__all__ = ["AppEntry", "AppIndex", "app_entries"]

log = logging.getLogger("rpmkit.ui")

_APP = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.ipynb$")


@dataclass(frozen=True)
class AppEntry:
    """One app: its notebook file, title and one-line question."""

    file: str
    title: str
    line: str


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.?!])(\s|$)", text)
    return match.group(1) if match else text


def app_entries(folder: str | Path = ".") -> list[AppEntry]:
    """The numbered notebooks (``NN_name.ipynb``) of ``folder``, in order.

    >>> from rpmkit.config import REPO_ROOT
    >>> [e.file for e in app_entries(REPO_ROOT / "notebooks")][:2]
    ['01_data_quality.ipynb', '02_ar_dashboard.ipynb']
    """
    entries = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        if not _APP.match(path.name):
            continue
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            first = next(c for c in cells if c["cell_type"] == "markdown")
            source = "".join(first["source"]).strip()
        except (OSError, ValueError, KeyError, StopIteration):
            log.warning("app index: %s has no readable title", path.name)
            continue
        heading, _, rest = source.partition("\n")
        title = heading.lstrip("#").strip() or path.stem
        entries.append(AppEntry(path.name, title, _first_sentence(rest)))
    return entries


class AppIndex(w.VBox):
    """Links to every app with one line each."""

    def __init__(self, folder: str | Path = ".") -> None:
        self.entries = app_entries(folder)
        items = "".join(
            f'<li><a href="{html.escape(e.file)}">{html.escape(e.title)}</a> — '
            f"{html.escape(e.line)}</li>"
            for e in self.entries
        )
        body = (
            f'<ul class="rpm-index">{items}</ul>'
            if items
            else '<div class="rpm-empty">No apps found.</div>'
        )
        self._list = w.HTML(body)
        super().__init__([style_widget(), self._list])
        self.add_class("rpm-app")

    @property
    def html(self) -> str:
        return self._list.value
