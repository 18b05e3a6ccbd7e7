"""Paths and defaults in one place; importing this module has no side effects."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO_ROOT", "sample_dir"]

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The checkout this package runs from (an editable install's source tree)."""


def sample_dir() -> Path:
    """The folder of the default sample ledger.

    ``RPMKIT_SAMPLE_DIR`` overrides it; otherwise ``data/samples`` of the checkout.
    """
    override = os.environ.get("RPMKIT_SAMPLE_DIR")
    return Path(override) if override else REPO_ROOT / "data" / "samples"
