"""Memory handed back after each cell and widget message of an app's kernel."""

from __future__ import annotations

import asyncio
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from rpmkit.ui import kernel_memory


@pytest.fixture
def releases(monkeypatch):
    calls = []
    monkeypatch.setattr(kernel_memory, "release_unused_memory", lambda: calls.append(1))
    return calls


def test_a_sync_handler_is_followed_by_a_release(releases):
    handler = kernel_memory._after(lambda stream, idents, msg: ("handled", msg))
    assert handler(None, [], "m") == ("handled", "m")
    assert releases == [1]


def test_an_async_handler_releases_after_it_finishes_even_when_it_fails(releases):
    async def fails(stream, idents, msg):
        assert releases == []  # not before the handler has run
        raise RuntimeError("bad widget message")

    # in a thread of its own: Playwright's sync API may hold this thread's event loop
    with ThreadPoolExecutor(1) as pool, pytest.raises(RuntimeError, match="bad widget"):
        pool.submit(asyncio.run, kernel_memory._after(fails)(None, [], "m")).result()
    assert releases == [1]


def test_outside_a_kernel_install_does_nothing():
    assert kernel_memory.install() is False
    kernel_memory.release_unused_memory()  # and releasing is harmless anywhere


def test_importing_rpmkit_ui_in_a_real_kernel_installs_it_once():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        code = textwrap.dedent(
            """
            import rpmkit.ui
            from rpmkit.ui import kernel_memory
            kernel = get_ipython().kernel
            wrapped = [getattr(kernel.shell_handlers[t], "_rpmkit_releases_memory", False)
                       for t in ("comm_open", "comm_msg", "comm_close")]
            kernel_memory.install()  # a second install wraps nothing twice
            twice = hasattr(kernel.shell_handlers["comm_msg"].__wrapped__, "__wrapped__")
            hooks = [f for f in get_ipython().events.callbacks["post_run_cell"]
                     if getattr(f, "__name__", "") == "<lambda>"]
            print(wrapped, twice, len(hooks))
            """
        )
        reply = client.execute_interactive(code, timeout=120, output_hook=_collect(out := []))
        assert reply["content"]["status"] == "ok", out
        assert "".join(out).strip() == "[True, True, True] False 1"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _collect(out: list[str]):
    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))

    return hook
