"""Hand freed memory back to the operating system.

Arrow's allocator (mimalloc) keeps the pages of freed buffers for reuse and glibc's
``malloc`` keeps freed space at the top of its heaps. Between big phases of a load at
millions of rows, or after a dashboard's control change, that is memory the process
goes on holding though nothing uses it: tens to hundreds of megabytes. Releasing it
takes under a millisecond.

>>> give_back_memory()  # safe anywhere: a no-op where there is nothing to release
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

__all__ = ["give_back_memory", "heap_trims"]


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def heap_trims() -> bool:
    """Whether the C library can trim its heap (glibc): then the system allocator gives
    freed memory back when asked, and can stand in for Arrow's pool."""
    return _malloc_trim() is not None


def give_back_memory() -> None:
    """Release Arrow's unused pool memory, then trim glibc's heap."""
    pyarrow = sys.modules.get("pyarrow")  # only if something already imported it
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
