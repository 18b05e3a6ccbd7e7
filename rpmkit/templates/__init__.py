"""Letter and statement templates (``string.Template`` HTML) for :mod:`rpmkit.worklist.letters`.

Every ``$name`` is filled with text that is already HTML-escaped; the templates
themselves hold no customer data.

>>> sorted(p.name for p in TEMPLATE_DIR.glob("*.html"))
['letter.html', 'statement.html']
"""

from __future__ import annotations

from pathlib import Path
from string import Template

__all__ = ["TEMPLATE_DIR", "load"]

TEMPLATE_DIR = Path(__file__).resolve().parent


def load(name: str) -> Template:
    """The template ``name`` (``letter`` or ``statement``)."""
    if name not in ("letter", "statement"):
        raise ValueError(f"template must be 'letter' or 'statement', got {name!r}")
    return Template((TEMPLATE_DIR / f"{name}.html").read_text(encoding="utf-8"))
