"""rpmkit."""
from rpmkit._version import __version__

__all__ = ["__version__"]
