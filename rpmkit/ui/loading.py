"""Loading a ledger for an app: friendly messages for people, details for the server log.

A source typed into an app by whoever is looking at the page is not trusted
like a notebook parameter: :func:`resolve_typed_source` only accepts paths
under the folders the app may read (the sample data's folder, or those listed
in ``RPMKIT_DATA_ROOTS``), so a published dashboard cannot be made to read
arbitrary files on the server.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from rpmkit.config import sample_dir
from rpmkit.schema import REASONS

__all__ = [
    "SourceRefused",
    "data_roots",
    "friendly_load_error",
    "load_friendly",
    "load_ledger",
    "preset_names",
    "resolve_typed_source",
]

log = logging.getLogger("rpmkit.ui")

_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)

CANNOT_READ = (
    "That source could not be read as a ledger. Check that it is a ledger folder, a CSV, "
    "Excel or Parquet file or a DuckDB file, and that the preset matches the export."
)
NOT_FOUND = "No ledger was found at that location. Check the spelling and try again."


class SourceRefused(ValueError):
    """A typed source the app may not read; ``str()`` is safe to show."""


def data_roots() -> list[Path]:
    """Folders an app may read typed sources from.

    ``RPMKIT_DATA_ROOTS`` (paths separated by ``os.pathsep``) when set, else the
    folder that holds the sample ledger.
    """
    env = os.environ.get("RPMKIT_DATA_ROOTS", "")
    roots = [Path(p) for p in env.split(os.pathsep) if p.strip()]
    if not roots:
        roots = [sample_dir().parent]
    return [r.resolve() for r in roots]


def resolve_typed_source(text: str, extra_roots: list[Path] | tuple[Path, ...] = ()) -> Path:
    """The path a person typed, if it lies under an allowed folder; else :class:`SourceRefused`."""
    text = text.strip().strip('"').strip("'")
    if _URL.match(text):
        raise SourceRefused(
            "Database URLs cannot be typed here; set the notebook's SOURCE parameter instead."
        )
    roots = [*data_roots(), *(Path(r).resolve() for r in extra_roots)]
    raw = Path(text).expanduser()
    candidates = [raw] if raw.is_absolute() else [Path.cwd() / raw, *(r / raw for r in roots)]
    for candidate in candidates:
        path = candidate.resolve()
        if any(path == r or path.is_relative_to(r) for r in roots) and path.exists():
            return path
    for candidate in candidates:
        path = candidate.resolve()
        if path.exists():
            raise SourceRefused(
                "This app may only read ledgers from its data folder. Ask whoever runs the "
                "server to add the location to RPMKIT_DATA_ROOTS."
            )
    raise SourceRefused(NOT_FOUND)


def preset_names() -> list[str]:
    """Names of the presets a source can be read with."""
    from rpmkit import presets

    return list(presets.names())


def friendly_load_error(problems: list[dict]) -> str:
    """One line per file-level problem: table, what is wrong, the column; no paths."""
    lines = []
    for p in problems:
        reason = p.get("reason") or ""
        what = REASONS.get(reason, reason.replace("_", " ") or "unreadable")
        where = p.get("table") or "source"
        column = f" (column {p['column']})" if p.get("column") else ""
        lines.append(f"{where}: {what}{column}")
    unique = list(dict.fromkeys(lines))
    shown = "; ".join(unique[:6]) + (f"; and {len(unique) - 6} more" if len(unique) > 6 else "")
    return f"The ledger could not be loaded: {shown}."


def load_friendly(source=None, preset=None, *, typed: bool = False, extra_roots=()):
    """``(LoadResult, "")`` or ``(None, message)`` with a message safe to show anyone.

    ``source`` blank or ``None`` loads the sample ledger. ``typed=True`` marks a
    source typed into the app (checked with :func:`resolve_typed_source`).
    """
    from rpmkit import io as rio

    known = preset_names()
    if preset and preset not in known:
        return None, f"Unknown preset “{preset}”. Choose one of: {', '.join(known)}."
    try:
        if source is None or str(source).strip() == "":
            target = sample_dir()
            if not target.exists():
                log.error("sample ledger missing at %s", target)
                return None, "The sample ledger is missing; run `make samples` on the server."
        elif typed:
            target = resolve_typed_source(str(source), extra_roots)
        else:
            target = source
            if isinstance(source, str | Path) and not _URL.match(str(source)):
                target = Path(source).expanduser()
                if not target.exists():
                    log.warning("source not found: %s", target)
                    return None, NOT_FOUND
        return rio.load(target, preset=preset or None), ""
    except SourceRefused as exc:
        log.warning("refused typed source %r: %s", source, exc)
        return None, str(exc)
    except rio.LoadError as exc:
        log.warning("load failed for %r: %s", source, exc)
        return None, friendly_load_error(exc.problems)
    except Exception:
        log.exception("load failed for %r", source)
        return None, CANNOT_READ


class _Unloadable(Exception):
    """A failed load's friendly message, carried through :func:`rpmkit.cache.cached_ledger`."""


def load_ledger(source=None, preset=None):
    """``(Ledger, "")`` or ``(None, message)`` like :func:`load_friendly`, through the cache.

    A source on disk is loaded once per content (see :mod:`rpmkit.cache`): the kernels
    of a shared server then map one copy of the ledger instead of each loading its own.
    Only notebook parameters come here, never a source typed into an app.

    Examples
    --------
    >>> ledger, message = load_ledger("no/such/folder")
    >>> ledger is None, message == NOT_FOUND
    (True, True)
    """
    from rpmkit.cache import cached_ledger

    def load(src, pre):
        result, message = load_friendly(source, preset)
        if result is None:
            raise _Unloadable(message)
        return result.ledger

    blank = source is None or str(source).strip() == ""
    target = sample_dir() if blank else source
    if isinstance(target, str) and not _URL.match(target):
        target = Path(target).expanduser()
    if not blank and isinstance(target, Path) and not target.exists():
        log.warning("source not found: %s", target)
        return None, NOT_FOUND
    try:
        found = cached_ledger(target, preset or None, load=load)
    except Exception:
        log.exception("ledger cache failed for %r; loading directly", source)
        result, message = load_friendly(source, preset)
        return (None, message) if result is None else (result.ledger, "")
    if found.ledger is None:
        error = found.error
        return None, str(error) if isinstance(error, _Unloadable) else CANNOT_READ
    if found.hit:
        log.info("ledger mapped from the cache (%s)", found.key)
    return found.ledger, ""
