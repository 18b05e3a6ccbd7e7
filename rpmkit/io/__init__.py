"""Loading ledgers: ``load(source, preset=, mapping=) -> LoadResult(ledger, rejects, manifest)``.

Loaders that lose nothing and explain everything: every input row is loaded,
rejected (with every reason it fails, as stable codes from
:data:`rpmkit.schema.REASONS`) or skipped as an exact duplicate, and the
manifest's control totals prove input = loaded + rejected + skipped per table
and currency. See ``docs/loading.md``.
"""

from rpmkit.io.loader import load
from rpmkit.io.result import REJECT_COLUMNS, LoadError, LoadResult, Manifest
from rpmkit.io.totals import control_totals

__all__ = ["REJECT_COLUMNS", "LoadError", "LoadResult", "Manifest", "control_totals", "load"]
