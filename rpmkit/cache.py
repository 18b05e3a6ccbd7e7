"""A loaded ledger kept as memory-mapped Arrow files, keyed by what it was loaded from.

A dashboard server runs one kernel per visitor, and each used to read and validate the
same source on its own: seconds of CPU and a private copy of every table per kernel.
:func:`cached_ledger` loads a source once, writes the accepted tables as uncompressed
Arrow IPC files, and lets every later caller memory-map them instead. Mapped pages
live in the operating system's page cache and are shared by all the kernels that map
the same file, so the ledger's bytes are held once, not once per kernel.

The key is a hash of the source's bytes (every file of a ledger folder, by relative
name and content), the preset's name and the versions of rpmkit and of the cache
format, so a changed file, another preset or an upgrade is a different entry and can
never be served stale data. Entries are written to a temporary folder and renamed into
place, so a reader sees a whole entry or none; a lock file lets the first of several
kernels starting together load the source while the others wait and then map it.

The cache lives in ``RPMKIT_CACHE_DIR`` when set (``off`` disables it), else in a
``rpmkit-cache`` folder beside Jupyter's runtime files; never in the repository.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "ar.csv").write_text(
...     "Invoice No,Customer,Invoice Date,Due Date,Amount,Paid Date\\n"
...     "A1,C1,2024-01-05,2024-02-04,100.00,2024-02-01\\n"
... )
>>> store = pathlib.Path(tempfile.mkdtemp())
>>> first = cached_ledger(folder / "ar.csv", cache=store)
>>> first.hit, first.ledger
(False, Ledger(customers=1, invoices=1, payments=1, allocations=1; reporting USD))
>>> again = cached_ledger(folder / "ar.csv", cache=store)
>>> again.hit, again.ledger.invoices["amount"].tolist()
(True, [10000])
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from rpmkit._version import __version__
from rpmkit.ledger import TABLE_ORDER, Ledger

__all__ = ["CachedLedger", "cache_dir", "cached_ledger", "read_entry", "source_key", "write_entry"]

log = logging.getLogger("rpmkit.cache")

FORMAT = 1  # bump when the layout of an entry changes
LOCK_WAIT_S = 120.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CachedLedger:
    """What :func:`cached_ledger` found: the ledger, whether it came from the cache, its key.

    ``ledger`` is ``None`` when the source could not be loaded; ``error`` is then the
    exception the loader raised.
    """

    ledger: Ledger | None
    hit: bool
    key: str | None
    error: Exception | None = None


def cache_dir() -> Path | None:
    """The cache folder: ``RPMKIT_CACHE_DIR``, or ``rpmkit-cache`` in Jupyter's runtime folder.

    ``RPMKIT_CACHE_DIR=off`` (or ``0``, ``none``) disables the cache: ``None``.
    """
    env = os.environ.get("RPMKIT_CACHE_DIR", "").strip()
    if env.lower() in {"off", "0", "none", "false"}:
        return None
    if env:
        return Path(env).expanduser()
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir()) / "rpmkit-cache"


def _files(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(p for p in source.rglob("*") if p.is_file())
    return [source]


def source_key(source, preset: str | None = None) -> str | None:
    """A hash of everything a load of ``source`` depends on, or ``None`` when not cacheable.

    Cacheable sources are a file or a folder on disk (database URLs, lists of files and
    preset objects are not). The hash covers each file's name relative to the source and
    its full content, the preset's name, rpmkit's version and the cache format.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = f.write_text("x")
    >>> k = source_key(f)
    >>> _ = f.write_text("y")
    >>> k == source_key(f), source_key("postgresql://db/ar") is None
    (False, True)
    """
    if preset is not None and not isinstance(preset, str):
        return None
    if not isinstance(source, str | os.PathLike):
        return None
    text = str(source)
    if "://" in text:
        return None
    path = Path(text).expanduser()
    if not path.exists():
        return None
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"rpmkit {__version__} cache {FORMAT} preset {preset or ''}\n".encode())
    for file in _files(path):
        name = file.relative_to(path).as_posix() if path.is_dir() else file.name
        digest.update(f"{name}\0{file.stat().st_size}\0".encode())
        with file.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def write_entry(ledger: Ledger, folder: Path) -> None:
    """Write ``ledger``'s tables as Arrow IPC files in ``folder`` (created; whole or not at all).

    Raises ``FileExistsError`` when another writer got there first.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        for name in TABLE_ORDER:
            table = pa.Table.from_pandas(getattr(ledger, name), preserve_index=False)
            path = str(tmp / f"{name}.arrow")
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        meta = {
            "rpmkit": __version__,
            "format": FORMAT,
            "reporting_currency": ledger.reporting_currency,
            "cutoff": None if ledger.cutoff is None else str(ledger.cutoff.date()),
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        try:
            os.rename(tmp, folder)  # atomic: readers see a whole entry or none
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise FileExistsError(folder) from None
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_entry(folder: Path) -> Ledger:
    """The ledger of a cache entry, its columns memory-mapped where Arrow allows.

    Columns without missing values (ids, dates, amounts) and every text column stay
    views of the mapped files; nullable integer columns are copied by pandas.
    """
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"cache entry {folder.name} has format {meta.get('format')}")
    tables = {}
    for name in TABLE_ORDER:
        source = pa.memory_map(str(folder / f"{name}.arrow"), "r")
        table = pa.ipc.open_file(source).read_all()
        tables[name] = table.to_pandas(split_blocks=True)
    cutoff = meta["cutoff"]
    return Ledger._trusted(
        meta["reporting_currency"], None if cutoff is None else _timestamp(cutoff), **tables
    )


def _timestamp(text: str):
    import pandas as pd

    return pd.Timestamp(text)


@contextlib.contextmanager
def _locked(path: Path, wait_s: float):
    """Hold an exclusive lock on ``path`` (waiting up to ``wait_s``); yields whether it is held."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except OSError:
                if time.monotonic() > deadline:
                    held = False
                    break
                time.sleep(0.1)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fh, fcntl.LOCK_UN)


def cached_ledger(source, preset: str | None = None, *, cache: Path | None = None, load=None):
    """The ledger loaded from ``source``, from the cache when an entry for its bytes exists.

    Parameters
    ----------
    source, preset
        As for :func:`rpmkit.load`.
    cache
        The cache folder; default :func:`cache_dir` (``None`` there: no caching).
    load
        ``load(source, preset) -> Ledger`` for a miss; default :func:`rpmkit.load`'s
        accepted rows. Exceptions it raises are returned in ``error``, not raised.

    Returns
    -------
    CachedLedger
        ``ledger``, ``hit`` (read from the cache), ``key`` (``None``: not cacheable).
        A cache that cannot be read or written is logged and bypassed, never fatal.
    """
    if load is None:

        def load(src, pre):
            from rpmkit import io as rio

            return rio.load(src, preset=pre).ledger

    root = cache_dir() if cache is None else Path(cache)
    key = source_key(source, preset) if root is not None else None

    def fresh(hit_key):
        try:
            return CachedLedger(load(source, preset), False, hit_key)
        except Exception as exc:
            return CachedLedger(None, False, hit_key, exc)

    if key is None:
        return fresh(None)
    entry = root / key
    found = _try_read(entry)
    if found is not None:
        return CachedLedger(found, True, key)
    # One loader per key: kernels starting together wait for the first, then map its entry.
    with _locked(root / f"{key}.lock", LOCK_WAIT_S):
        found = _try_read(entry)
        if found is not None:
            return CachedLedger(found, True, key)
        if entry.exists():  # damaged (a full disk, a killed writer's leftovers): replace it
            shutil.rmtree(entry, ignore_errors=True)
        result = fresh(key)
        if result.ledger is not None:
            try:
                write_entry(result.ledger, entry)
            except FileExistsError:
                pass
            except OSError:
                log.warning("could not write the ledger cache entry %s", key, exc_info=True)
                return result
            mapped = _try_read(entry)
            if mapped is not None:
                # Serve the mapped copy so this kernel shares pages with the others too.
                return CachedLedger(mapped, False, key)
        return result


def _try_read(entry: Path) -> Ledger | None:
    if not (entry / "meta.json").exists():
        return None
    try:
        return read_entry(entry)
    except Exception:
        log.warning("unreadable cache entry %s; loading the source", entry.name, exc_info=True)
        return None
