"""Paths and defaults in one place; importing this module has no side effects."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO_ROOT", "sample_dir", "voila_environment"]

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The checkout this package runs from (an editable install's source tree)."""


def sample_dir() -> Path:
    """The folder of the default sample ledger.

    ``RPMKIT_SAMPLE_DIR`` overrides it; otherwise ``data/samples`` of the checkout.
    """
    override = os.environ.get("RPMKIT_SAMPLE_DIR")
    return Path(override) if override else REPO_ROOT / "data" / "samples"


def voila_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment to start Voila in: ``base`` (default ``os.environ``) plus the repo's
    ``share/jupyter`` first on ``JUPYTER_PATH``, where the ``rpmkit`` Voila template lives
    (the lab template without links to a CDN; ``voila.json`` selects it).
    """
    env = dict(os.environ if base is None else base)
    ours = str(REPO_ROOT / "share" / "jupyter")
    rest = env.get("JUPYTER_PATH")
    env["JUPYTER_PATH"] = os.pathsep.join([ours, rest]) if rest else ours
    return env
