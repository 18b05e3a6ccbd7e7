"""Paths and defaults in one place; importing this module has no side effects."""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from pathlib import Path

__all__ = [
    "PLOTLY_BUNDLE_URL",
    "REPO_ROOT",
    "sample_dir",
    "serve_plotly_bundle",
    "voila_environment",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The checkout this package runs from (an editable install's source tree)."""

TEMPLATE_STATIC = REPO_ROOT / "share" / "jupyter" / "voila" / "templates" / "rpmkit" / "static"
"""The ``rpmkit`` Voila template's static folder, served at ``voila/templates/rpmkit/static/``."""

PLOTLY_BUNDLE_URL = "templates/rpmkit/static/plotly-widget.js"
"""Where Voila serves plotly's widget bundle, relative to its ``voila/`` base URL.

The template starts loading it with the page and the charts import it from the
same URL, so the browser fetches and runs it once per page.
"""


def sample_dir() -> Path:
    """The folder of the default sample ledger.

    ``RPMKIT_SAMPLE_DIR`` overrides it; otherwise ``data/samples`` of the checkout.
    """
    override = os.environ.get("RPMKIT_SAMPLE_DIR")
    return Path(override) if override else REPO_ROOT / "data" / "samples"


def serve_plotly_bundle(folder: Path = TEMPLATE_STATIC) -> Path:
    """Put the installed plotly's widget bundle (``FigureWidget``'s front end) in ``folder``.

    The copy follows plotly's upgrades (it is replaced when it differs) and is made
    atomically, so kernels starting at the same time never serve a half-written file.
    Returns its path.
    """
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    target = folder / "plotly-widget.js"
    if target.is_file() and filecmp.cmp(source, target, shallow=False):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with (
        source.open("rb") as src,
        tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp,
    ):
        shutil.copyfileobj(src, tmp)
    os.chmod(tmp.name, 0o644)  # a temporary file is private; the server must read it
    os.replace(tmp.name, target)
    return target


def voila_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment to start Voila in: ``base`` (default ``os.environ``) plus the repo's
    ``share/jupyter`` first on ``JUPYTER_PATH``, where the ``rpmkit`` Voila template lives
    (the lab template without links to a CDN; ``voila.json`` selects it).

    Also puts plotly's widget bundle where the template serves it
    (:func:`serve_plotly_bundle`).
    """
    serve_plotly_bundle()
    env = dict(os.environ if base is None else base)
    ours = str(REPO_ROOT / "share" / "jupyter")
    rest = env.get("JUPYTER_PATH")
    env["JUPYTER_PATH"] = os.pathsep.join([ours, rest]) if rest else ours
    return env
