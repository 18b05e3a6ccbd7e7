"""Give memory back after each thing an app's kernel does.

A dashboard kernel builds large temporary frames on every control change (an aging at
a new as-of date over 100k invoices) and frees them when the charts are sent. Freed
memory does not leave the process by itself: Arrow's allocator (mimalloc) keeps the
pages of freed buffers for reuse and glibc's ``malloc`` keeps freed space at the top of
its heaps. On the AR dashboard over a 100k-invoice ledger the heap only this kernel
holds was 169 MB after the first render and 146-150 MB after each as-of change;
releasing both brings it to 127-129 MB, each time, in under a millisecond
(``benchmarks/dashboard_load.py`` measures the kernels of a live server). On a shared
server, where memory per kernel is what limits how many visitors fit, that is about
one kernel in seven.

:func:`install` runs :func:`release_unused_memory` after every cell and every widget
message the running kernel handles; outside a kernel it does nothing. ``rpmkit.ui``
calls it on import.
"""

from __future__ import annotations

import functools
import inspect

from rpmkit.memory import give_back_memory as release_unused_memory

__all__ = ["install", "release_unused_memory"]


def _after(handler):
    """``handler`` (sync or async, as ipykernel calls shell handlers), then a release."""

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        result = handler(*args, **kwargs)
        if not inspect.isawaitable(result):
            release_unused_memory()
            return result

        async def finish():
            try:
                return await result
            finally:
                release_unused_memory()

        return finish()

    wrapped._rpmkit_releases_memory = True
    return wrapped


def install() -> bool:
    """Release memory after each cell and widget message of the running IPython kernel.

    Returns whether it is installed (False outside a kernel). Idempotent.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    handlers = getattr(kernel, "shell_handlers", None)
    if not isinstance(handlers, dict):
        return False
    for msg_type in ("comm_msg", "comm_open", "comm_close"):
        handler = handlers.get(msg_type)
        if handler is not None and not getattr(handler, "_rpmkit_releases_memory", False):
            handlers[msg_type] = _after(handler)
    if not getattr(shell, "_rpmkit_releases_memory", False):
        shell.events.register("post_run_cell", lambda result: release_unused_memory())
        shell._rpmkit_releases_memory = True
    return True
