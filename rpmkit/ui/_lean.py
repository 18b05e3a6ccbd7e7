"""Keep an app's kernel from paying for imports it never uses.

Plotly's ``FigureWidget`` imports ``nbformat``, which imports ``jsonschema``, which
imports ``rfc3987_syntax`` when it is installed; that module builds a Lark parser for
the RFC 3987 grammar at import, costing one to five seconds of CPU in every kernel.
The apps never validate IRIs, so jsonschema's optional IRI format check is turned off
before it is first imported: each kernel of a shared server then starts in about a
second instead of several, which is what starves visitors' pages when a preheated pool
is refilled. Importing this module has that effect; :func:`skip_slow_optional_imports`
is the same, for callers who want it spelled out.

Examples
--------
>>> import sys
>>> skip_slow_optional_imports()
>>> "rfc3987_syntax" in sys.modules
True
"""

from __future__ import annotations

import sys

__all__ = ["SKIPPED", "skip_slow_optional_imports"]

# Optional imports whose absence only disables a feature the apps do not use.
SKIPPED = ("rfc3987_syntax",)


def skip_slow_optional_imports() -> None:
    """Make the optional imports in :data:`SKIPPED` fail fast, unless already imported.

    A ``None`` entry in ``sys.modules`` makes ``import`` raise ``ImportError``, which
    jsonschema treats as "not installed".
    """
    for name in SKIPPED:
        sys.modules.setdefault(name, None)


skip_slow_optional_imports()
