"""rpmkit: receivables performance management workbench.

>>> import rpmkit
>>> result = rpmkit.load(rpmkit.sample_dir())
>>> result.manifest.reconciled
True
"""

from rpmkit import kpi
from rpmkit._version import __version__
from rpmkit.config import sample_dir
from rpmkit.io import LoadError, LoadResult, Manifest, load
from rpmkit.ledger import Ledger
from rpmkit.writers import write_duckdb, write_ledger

__all__ = [
    "Ledger",
    "LoadError",
    "LoadResult",
    "Manifest",
    "__version__",
    "kpi",
    "load",
    "sample_dir",
    "write_duckdb",
    "write_ledger",
]
