"""Presets: how external receivables exports map onto the canonical tables.

A preset reads the source's tables as text (keyed by table, sheet or file
stem; a single file is ``"flat"``) and returns canonical text tables keyed by
canonical table name, or ``"flat"`` for the flat invoice form, plus an
optional ``"_ignored"`` frame of input rows it could not use (``_source,
_line, reason, message``). :func:`rpmkit.load` parses and validates the
result. Each preset is documented in ``docs/presets.md``.

>>> names()
['flat', 'ibm-ar', 'erpnext', 'odoo', 'sap-fbl5n', 'quickbooks', 'xero']
>>> get("ibm-ar").options["date_format"]
'%m/%d/%Y'
>>> detect(["Invoice ID", "Customer ID", "Invoice Date", "Due Date", "Amount"])
'flat'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from rpmkit.presets import erpnext, flat, ibm, odoo, quickbooks, sap, xero
from rpmkit.presets.base import (
    IGNORED,
    IGNORED_COLUMNS,
    PROVENANCE,
    REASONS,
    MissingColumnsError,
    Preset,
    SourceColumn,
)

__all__ = [
    "IGNORED",
    "IGNORED_COLUMNS",
    "PROVENANCE",
    "REASONS",
    "MissingColumnsError",
    "Preset",
    "SourceColumn",
    "detect",
    "get",
    "names",
]

_REGISTRY: dict[str, Preset] = {
    p.name: p
    for p in (
        flat.PRESET,
        ibm.PRESET,
        erpnext.PRESET,
        odoo.PRESET,
        sap.PRESET,
        quickbooks.PRESET,
        xero.PRESET,
    )
}


def names() -> list[str]:
    """Names of the built-in presets."""
    return list(_REGISTRY)


def get(name: str) -> Preset:
    """The preset called ``name`` (a copy: changing its options changes nothing else).

    Raises ``KeyError`` listing the known names.
    """
    try:
        preset = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known presets: {', '.join(_REGISTRY)}") from None
    return dataclasses.replace(preset, options=dict(preset.options))


def detect(headers: Iterable[str]) -> str | None:
    """The preset whose signature columns are all among ``headers``, else ``None``.

    Headers compare ignoring case, spaces and punctuation. When several
    match, the one with the most signature columns wins (ties: registry
    order). Report exports (``quickbooks``, ``xero``) put titles above their
    header, so a caller should try the first lines of such a file, not only
    the first.
    """
    headers = list(headers)
    hits = [p for p in _REGISTRY.values() if p.matches(headers)]
    if not hits:
        return None
    return max(hits, key=lambda p: len(p.signature)).name
