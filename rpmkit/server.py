"""The dashboard server's safety: a cap on live kernels, files served by what they are,
kernel websockets that a visitor cannot use to freeze the server, and no
unauthenticated server on a network address.

Voila has none of the four. ``voila.json`` makes Voila use
:class:`CappedKernelManager`, which Voila builds as it starts, before it listens;
its constructor calls :func:`harden_voila`, which refuses a non-loopback address
without authentication, makes Voila's file handler judge a symbolic link by the
file behind it and lets kernel websockets speak only the v1 protocol. See
``docs/deployment.md``.

This module imports no widgets; Voila and tornado are imported where used.

>>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
(True, True, False)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import os
import re
import time

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Float, Integer

__all__ = ["CappedKernelManager", "harden_voila", "is_loopback", "refuse_open_bind"]

DEPLOYMENT_DOC = "docs/deployment.md"


def is_loopback(ip: str) -> bool:
    """True when ``ip`` (an address or ``localhost``) is only reachable from this machine."""
    if ip.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def refuse_open_bind(ip: str, authenticated: bool) -> str | None:
    """Why a server on ``ip`` must not start, or None when it may.

    A dashboard server on a network address without authentication lets anyone who
    can reach it read the ledgers its apps show.

    >>> refuse_open_bind("127.0.0.1", False) is None, refuse_open_bind("0.0.0.0", True) is None
    (True, True)
    >>> print(refuse_open_bind("0.0.0.0", False)[:50])
    refusing to serve the dashboards on 0.0.0.0 withou
    """
    if is_loopback(ip) or authenticated:
        return None
    return (
        f"refusing to serve the dashboards on {ip} without authentication: anyone who can "
        f"reach that address could read the ledgers. Bind to 127.0.0.1 behind an "
        f"authenticating proxy or JupyterHub, or set a token (--Voila.token); see "
        f"{DEPLOYMENT_DOC}."
    )


class CappedKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager with a cap on live kernels (preheated ones included).

    Past the cap a page gets HTTP 503 and the template's friendly "server busy" page
    (``503.html``) instead of another kernel; each kernel takes about 100–150 MB, so
    without a cap a burst of visitors can exhaust the server's memory. When a kernel is
    shut down (a page closed, or culled after its client vanished), preheated pools
    that a refused start left empty are filled again.
    """

    max_kernels = Integer(
        12,
        config=True,
        help="Most kernels alive at once, preheated pools included; 0 means no cap.",
    )

    refill_quiet = Float(
        3.0,
        config=True,
        help="A kernel refilling a preheated pool starts only once no visitor has asked "
        "for a page or used their kernel for this many seconds (0: at once), so the "
        "notebook runs of a refill do not slow the pages and charts of the visitors who "
        "just took the pool's kernels.",
    )
    refill_max_wait = Float(
        60.0,
        config=True,
        help="Longest a pool refill waits for the server to be quiet, in seconds.",
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._starting = 0
        self._last_demand = float("-inf")
        rendered = getattr(self, "get_rendered_notebook", None)  # Voila's preheating subclass
        if rendered is not None:

            async def get_rendered_notebook(*args, **kw):
                self._last_demand = time.monotonic()  # a visitor takes a pool kernel
                return await rendered(*args, **kw)

            self.get_rendered_notebook = get_rendered_notebook
        harden_voila(self.parent)

    def live_kernels(self) -> int:
        """Kernels running or starting now (a kernel in its first moments may count twice,
        which errs on the safe side)."""
        return len(self.list_kernel_ids()) + self._starting

    async def start_kernel(self, *, kernel_id: str | None = None, path=None, **kwargs) -> str:
        new = kernel_id is None or kernel_id not in self
        if new and (kwargs.get("env") or {}).get("VOILA_PREHEAT") == "True":
            await self._wait_for_quiet()
        elif new:
            self._last_demand = time.monotonic()  # a visitor's kernel, started on demand
        if new and self.max_kernels and self.live_kernels() >= self.max_kernels:
            self.log.warning(
                "kernel cap reached (%d live or starting, cap %d); refusing a new kernel",
                self.live_kernels(),
                self.max_kernels,
            )
            raise web.HTTPError(503, "kernel cap reached", reason="Server busy")
        self._starting += new
        try:
            return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        finally:
            self._starting -= new

    async def shutdown_kernel(self, kernel_id: str, now: bool = False, restart: bool = False):
        result = await super().shutdown_kernel(kernel_id, now=now, restart=restart)
        self._refill_pools()
        return result

    def _pooled_ids(self) -> set[str]:
        ids = set()
        for pool in (getattr(self, "_pools", None) or {}).values():
            for task in pool:
                if task.done() and not task.cancelled() and task.exception() is None:
                    result = task.result()
                    if isinstance(result, dict):
                        ids.add(result.get("kernel_id"))
        return ids

    def quiet_for(self) -> float:
        """Seconds since a visitor last took a pool kernel, had one started, or used one."""
        last = self._last_demand
        now_wall, now = dt.datetime.now(dt.UTC), time.monotonic()
        pooled = self._pooled_ids()
        for kernel_id in self.list_kernel_ids():
            if kernel_id in pooled:
                continue
            try:
                activity = self._kernels[kernel_id].last_activity
                seconds = (now_wall - activity).total_seconds()
            except Exception:  # a kernel with no activity yet is starting: that is demand
                seconds = 0.0
            last = max(last, now - seconds)
        return now - last

    def _in_a_pool(self, task) -> bool:
        pools = getattr(self, "_pools", None) or {}
        return any(task is t for pool in pools.values() for t in pool)

    async def _wait_for_quiet(self) -> None:
        """Hold a pool refill until the visitors are served (see :attr:`refill_quiet`).

        A refill that a visitor has already taken from the pool (they are waiting for
        it) goes at once, as does any after :attr:`refill_max_wait` seconds.
        """
        if self.refill_quiet <= 0:
            return
        task = asyncio.current_task()
        deadline = time.monotonic() + self.refill_max_wait
        try:
            while time.monotonic() < deadline:
                if task is not None and not self._in_a_pool(task):
                    return
                if self.quiet_for() >= self.refill_quiet:
                    return
                await asyncio.sleep(0.25)
        except Exception:  # pacing must never cost a visitor their page
            self.log.warning("pool refill pacing failed; starting the kernel", exc_info=True)

    def _refill_pools(self) -> None:
        pools = getattr(self, "_pools", None)  # set by Voila's preheating subclass
        if not pools:
            return
        for name, pool in pools.items():
            failed = [t for t in pool if t.done() and (t.cancelled() or t.exception())]
            for task in failed:
                pool.remove(task)
            if failed or not pool:
                self.fill_if_needed(delay=0, notebook_name=name)


def _inside(root: str, path: str) -> bool:
    root = os.path.realpath(root)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def _authenticated(app) -> bool:
    """Whether a Voila app is configured to authenticate its visitors."""
    if getattr(app, "token", None) or getattr(app, "auto_token", False):
        return True
    provider = getattr(app, "identity_provider_class", None)
    if provider is not None and provider.__name__ != "PasswordIdentityProvider":
        return True  # e.g. JupyterHub's
    password = app.config.get("PasswordIdentityProvider", {}).get("hashed_password")
    return bool(password)


def harden_voila(app=None) -> None:
    """Make the running Voila safer.

    - With ``app`` (the Voila application), stop it when it is about to serve a
      non-loopback address without authentication (:func:`refuse_open_bind`).
    - Make its ``/voila/files/`` handler judge a symbolic link by the file behind it:
      the real file must lie inside the served folder and its own name must pass the
      file allowlist and denylist (Voila checks only the requested name, so a link
      named ``logo.png`` would serve whatever it points to).
    - Let kernel websockets speak only the v1 protocol of Voila's front end: the legacy
      one lets any visitor freeze the server (:func:`_kernel_websocket_v1_only`).
    - Give an app's page the ``_xsrf`` cookie, so that the page's "shut my kernel down"
      request on leaving is accepted (:func:`_page_sets_xsrf_cookie`).

    Raises ``RuntimeError`` when Voila no longer has what it patches, so an upgrade
    cannot silently undo it.
    """
    if app is not None and hasattr(app, "ip"):
        why = refuse_open_bind(app.ip, _authenticated(app))
        if why:
            app.log.critical(why)
            raise SystemExit(1)

    from voila import static_file_handler

    handler = static_file_handler.AllowListFileHandler
    if not hasattr(handler, "validate_absolute_path"):
        raise RuntimeError("this Voila version cannot be hardened by rpmkit.server")
    if getattr(handler, "_rpmkit_hardened", False):
        return

    original_validate = handler.validate_absolute_path

    def validate_absolute_path(self, root: str, absolute_path: str):
        if "\x00" in absolute_path:
            raise web.HTTPError(400, "NUL byte in the path")
        if not _inside(root, absolute_path):
            raise web.HTTPError(403, "File outside the served folder")
        real = os.path.relpath(os.path.realpath(absolute_path), os.path.realpath(root))
        real = real.replace(os.sep, "/")
        if not any(re.fullmatch(p, real, re.IGNORECASE) for p in self.allowlist) or any(
            re.fullmatch(p, real, re.IGNORECASE) for p in self.denylist
        ):
            raise web.HTTPError(403, "File not allowlisted")
        return original_validate(self, root, absolute_path)

    handler.validate_absolute_path = validate_absolute_path
    _refuse_bad_template_paths(static_file_handler.TemplateStaticFileHandler)
    _kernel_websocket_v1_only()
    _page_sets_xsrf_cookie()
    handler._rpmkit_hardened = True


def _refuse_bad_template_paths(handler) -> None:
    """Voila's template static handler asserts on paths that climb out of a template's
    ``static/`` folder, which tornado answers with a 500 and a logged traceback; answer
    404 instead, as for any file that is not there."""
    get_absolute_path = handler.__dict__["get_absolute_path"].__func__
    parse_url_path = handler.parse_url_path

    def checked_get(cls, root, path):
        try:
            return get_absolute_path(cls, root, path)
        except (AssertionError, ValueError):
            raise web.HTTPError(404) from None

    def checked_parse(self, path):
        try:
            return parse_url_path(self, path)
        except (AssertionError, ValueError):
            raise web.HTTPError(404) from None

    handler.get_absolute_path = classmethod(checked_get)
    handler.parse_url_path = checked_parse


def _kernel_websocket_v1_only() -> None:
    """Let a kernel's websocket speak only the v1 protocol, which Voila's front end uses.

    Voila's websocket handler drops the kernel's ``execute_input`` messages by reading
    the header of every binary message it sends as a v1 frame. A client that connects
    with the legacy protocol (no subprotocol) gets binary messages in another framing,
    whose first bytes the handler takes for a count of some 10^18 offsets: asking for
    the widgets' states (anything with a binary buffer) then sets the server building a
    list without end, its event loop blocked and its memory growing by tens of MB a
    second until the machine runs out. So the handshake must offer the v1 protocol or
    it is refused (HTTP 400), and a frame whose count exceeds what its length can hold
    is passed on without reading its header.
    """
    from voila.tornado import kernel_websocket_handler as module

    from rpmkit.server_client import KERNEL_WS_V1, unframe_v1

    handler = getattr(module, "VoilaKernelWebsocketHandler", None)
    if handler is None or not hasattr(module, "read_header_from_binary_message"):
        raise RuntimeError("this Voila version cannot be hardened by rpmkit.server")
    original_get = handler.get

    async def get(self, *args, **kwargs):
        offered = self.request.headers.get("Sec-WebSocket-Protocol", "")
        if KERNEL_WS_V1 not in {p.strip() for p in offered.split(",")}:
            self.log.warning("kernel websocket without the %s protocol refused", KERNEL_WS_V1)
            raise web.HTTPError(400, f"the kernel websocket speaks only {KERNEL_WS_V1}")
        return await original_get(self, *args, **kwargs)

    def read_header_from_binary_message(ws_msg: bytes) -> dict | None:
        try:
            _, parts = unframe_v1(ws_msg)
            return json.loads(parts[0])
        except (ValueError, IndexError, UnicodeDecodeError):
            return None

    handler.get = get
    module.read_header_from_binary_message = read_header_from_binary_message


def _page_sets_xsrf_cookie() -> None:
    """Set the ``_xsrf`` cookie on an app's page.

    When a visitor leaves, Voila's front end posts ``/voila/api/shutdown/<kernel>``
    with the ``_xsrf`` value read from its cookies; but only Voila's file tree sets that
    cookie, so a visitor who opened an app by its link had none, the request was refused
    (403) and their kernel lived on until the culler found it idle, holding one of the
    capped kernels for up to ``cull_idle_timeout`` (30 minutes as shipped). Reading
    ``xsrf_token`` on the page's request sets the cookie, as the tree's page does.
    """
    import inspect

    from voila.handler import VoilaHandler

    original_prepare = VoilaHandler.prepare

    async def prepare(self, *args, **kwargs):
        result = original_prepare(self, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if self.request.method == "GET" and not self._finished:
            self.xsrf_token  # noqa: B018 - the property sets the cookie
        return result

    VoilaHandler.prepare = prepare
