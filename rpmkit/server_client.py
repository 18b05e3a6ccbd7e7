"""A headless visitor of a served dashboard: its page, its kernel, its widgets.

What Voilà's front end does when someone opens an app, without a browser: fetch the
page, connect to the page's kernel over the websocket with the ``v1`` kernel protocol
(the one Voilà's front end speaks, and the only one :func:`rpmkit.server.harden_voila`
lets through), ask the kernel for every widget's state, and change a control as a
visitor would, timing the kernel's answer. The load benchmark runs ten of these at
once on the machine that serves them, where ten browsers would take the cores the
server needs; the server tests use it to talk to kernels the way an attacker could.

Messages are the Jupyter messaging protocol's (``comm_open``, ``comm_msg``,
``kernel_info_request``...); each is framed as the ``v1.kernel.websocket.jupyter.org``
protocol frames them. Nothing here renders anything: a round trip ends when the kernel
has answered the change (its ``idle`` status for the change), before any browser
would draw the new chart.

This module imports no widgets; tornado is the server's own HTTP and websocket client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
import uuid
from dataclasses import dataclass, field

__all__ = [
    "KERNEL_WS_V1",
    "DashboardVisitor",
    "Reply",
    "date_state",
    "find_model",
    "frame_v1",
    "unframe_v1",
]

KERNEL_WS_V1 = "v1.kernel.websocket.jupyter.org"
WIDGET_CONTROL_VERSION = "1.0.0"  # ipywidgets' control comm protocol
_KERNEL_ID = re.compile(rb'"kernelId":\s*"([0-9a-f-]{36})"')


def frame_v1(channel: str, parts: list[bytes]) -> bytes:
    """Frame message parts (header, parent header, metadata, content, buffers...) as the
    v1 kernel websocket protocol does: a count, little-endian 64-bit offsets, the channel
    name, then the parts.

    >>> unframe_v1(frame_v1("shell", [b"{}", b"{}", b"{}", b'{"a": 1}']))
    ('shell', [b'{}', b'{}', b'{}', b'{"a": 1}'])
    """
    name = channel.encode()
    offsets = [8 * (len(parts) + 3)]
    offsets.append(offsets[-1] + len(name))
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    head = b"".join(n.to_bytes(8, "little") for n in [len(offsets), *offsets])
    return b"".join([head, name, *parts])


def unframe_v1(frame: bytes) -> tuple[str, list[bytes]]:
    """The channel and parts of a v1 frame; ``ValueError`` on a frame that is not one."""
    if len(frame) < 8:
        raise ValueError("frame shorter than its count")
    count = int.from_bytes(frame[:8], "little")
    if not 2 <= count <= len(frame) // 8:
        raise ValueError(f"frame claims {count} offsets in {len(frame)} bytes")
    offsets = [int.from_bytes(frame[8 * i : 8 * i + 8], "little") for i in range(1, count + 1)]
    if offsets != sorted(offsets) or offsets[-1] > len(frame):
        raise ValueError("frame offsets out of order or past its end")
    channel = frame[offsets[0] : offsets[1]].decode()
    return channel, [frame[a:b] for a, b in zip(offsets[1:-1], offsets[2:], strict=True)]


@dataclass
class Reply:
    """What the kernel sent back for one request, up to its ``idle`` status."""

    seconds: float  # from sending the request to the kernel's idle status for it
    messages: list[dict] = field(default_factory=list)  # header, content, buffers

    def updated(self) -> set[str]:
        """Comm (widget model) ids the kernel sent an update or state to."""
        return {m["content"].get("comm_id") for m in self.messages if m["type"] == "comm_msg"}

    def carries(self, text: str, models: set[str] | None = None) -> bool:
        """Whether a message of the reply (to one of ``models``, if given) contains
        ``text`` in its content or buffers."""
        needle = text.encode()
        return any(
            needle in m["raw"]
            for m in self.messages
            if models is None or m["content"].get("comm_id") in models
        )


class DashboardVisitor:
    """One visitor of one app: ``await open()``, ``await connect()``, ``await
    widget_states()``, then ``await change(model_id, {"value": ...})`` as often as
    wanted, and ``await close()``.

    ``page_seconds`` is the time to the page's last byte (Voilà streams a page whose
    kernel is still running the notebook); ``status`` is its HTTP status.
    """

    def __init__(self, base_url: str, path: str, *, timeout: float = 180.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.path = path.lstrip("/")
        self.timeout = timeout
        self.session = uuid.uuid4().hex
        self.status: int | None = None
        self.page_seconds: float | None = None
        self.kernel_id: str | None = None
        self._ws = None
        self._control: str | None = None
        self.unanswered: list[dict] = []  # messages that answered none of our requests
        self._cookies: dict[str, str] = {}

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self._cookies.items())}

    async def open(self) -> bytes:
        from tornado.httpclient import AsyncHTTPClient, HTTPClientError

        start = time.monotonic()
        url = f"{self.base_url}/voila/render/{self.path}"
        try:
            response = await AsyncHTTPClient().fetch(url, request_timeout=self.timeout)
        except HTTPClientError as error:  # a 503 "server busy" page is an answer too
            self.status, self.page_seconds = error.code, time.monotonic() - start
            return error.response.body if error.response is not None else b""
        self.status, self.page_seconds = response.code, time.monotonic() - start
        for cookie in response.headers.get_list("Set-Cookie"):
            name, _, rest = cookie.partition("=")
            self._cookies[name.strip()] = rest.split(";", 1)[0]
        found = _KERNEL_ID.search(response.body)
        self.kernel_id = found.group(1).decode() if found else None
        return response.body

    async def connect(self, *, subprotocols: list[str] | None = None) -> None:
        """Ask for the page's kernel and open its websocket (the v1 protocol unless told
        otherwise), as Voila's front end does."""
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        from tornado.websocket import websocket_connect

        if self.kernel_id is None:
            raise RuntimeError("the page named no kernel: open() it first")
        await AsyncHTTPClient().fetch(
            f"{self.base_url}/api/kernels/{self.kernel_id}",
            headers=self._headers(),
            request_timeout=self.timeout,
        )
        ws_base = self.base_url.replace("http", "ws", 1)
        url = f"{ws_base}/api/kernels/{self.kernel_id}/channels?session_id={self.session}"
        request = HTTPRequest(url, headers=self._headers(), request_timeout=self.timeout)
        self._ws = await asyncio.wait_for(
            websocket_connect(
                request,
                subprotocols=[KERNEL_WS_V1] if subprotocols is None else subprotocols,
                max_message_size=256 * 2**20,
            ),
            self.timeout,
        )

    def _message(self, msg_type: str, content: dict, metadata: dict | None = None) -> tuple:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "username": "visitor",
            "session": self.session,
            "msg_type": msg_type,
            "version": "5.4",
            "date": dt.datetime.now(dt.UTC).isoformat(),
        }
        parts = [json.dumps(x).encode() for x in (header, {}, metadata or {}, content)]
        return msg_id, frame_v1("shell", parts)

    async def send(self, msg_type: str, content: dict, metadata: dict | None = None) -> str:
        """Send one shell message without waiting for an answer; its message id."""
        msg_id, frame = self._message(msg_type, content, metadata)
        await self._ws.write_message(frame, binary=True)
        return msg_id

    async def request(self, msg_type: str, content: dict, metadata: dict | None = None) -> Reply:
        """Send one shell message and collect what comes back until the kernel is idle
        and, for a ``*_request``, its ``*_reply`` has come (the server forwards the
        kernel's shell and iopub channels as they arrive, so either may come first).

        Messages in answer to anything else meanwhile go to :attr:`unanswered`.
        """
        start = time.monotonic()
        msg_id = await self.send(msg_type, content, metadata)
        reply = Reply(seconds=float("nan"))
        deadline = start + self.timeout
        answer = msg_type[: -len("_request")] + "_reply" if msg_type.endswith("_request") else None
        idle = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no idle status for {msg_type} within {self.timeout:.0f} s")
            raw = await asyncio.wait_for(self._ws.read_message(), left)
            if raw is None:
                raise ConnectionError("the server closed the kernel websocket")
            if isinstance(raw, str):
                raise ValueError("a text frame: the server does not speak the v1 protocol")
            _, parts = unframe_v1(raw)
            header, parent = json.loads(parts[0]), json.loads(parts[1])
            content = json.loads(parts[3])
            if parent.get("msg_id") != msg_id:
                self.unanswered.append({"type": header["msg_type"], "content": content})
                continue
            if header["msg_type"] == "status" and content.get("execution_state") == "idle":
                idle = True
            else:
                reply.messages.append(
                    {
                        "type": header["msg_type"],
                        "content": content,
                        "raw": raw,
                        "buffers": parts[4:],
                    }
                )
                if header["msg_type"] == answer:
                    answer = None
            if idle and answer is None:
                reply.seconds = time.monotonic() - start
                return reply

    async def widget_states(self) -> dict[str, dict]:
        """Every widget model's name and state, as Voilà's front end asks for them."""
        if self._control is None:
            self._control = uuid.uuid4().hex
            await self.request(
                "comm_open",
                {"comm_id": self._control, "target_name": "jupyter.widget.control", "data": {}},
                {"version": WIDGET_CONTROL_VERSION},
            )
        reply = await self.request(
            "comm_msg", {"comm_id": self._control, "data": {"method": "request_states"}}
        )
        for message in reply.messages:
            data = message["content"].get("data", {})
            if message["type"] == "comm_msg" and data.get("method") == "update_states":
                return data["states"]
        raise RuntimeError("the kernel sent no widget states")

    async def change(self, model_id: str, state: dict) -> Reply:
        """Set widget attributes as a visitor's control change does; the kernel's reply."""
        content = {
            "comm_id": model_id,
            "data": {"method": "update", "state": state, "buffer_paths": []},
        }
        return await self.request("comm_msg", content)

    async def close(self, *, leave: bool = True) -> None:
        """Close the websocket and, with ``leave``, ask the server to shut the kernel down
        as Voila's front end does when its page unloads (a vanished client skips this)."""
        from tornado.httpclient import AsyncHTTPClient

        if self._ws is not None:
            self._ws.close()
            self._ws = None
        if leave and self.kernel_id is not None:
            body = f"_xsrf={self._cookies.get('_xsrf', '')}"
            await AsyncHTTPClient().fetch(
                f"{self.base_url}/voila/api/shutdown/{self.kernel_id}",
                method="POST",
                body=body,
                headers={**self._headers(), "Content-Type": "application/x-www-form-urlencoded"},
                request_timeout=self.timeout,
            )
            self.kernel_id = None


def find_model(states: dict[str, dict], model_name: str, **attributes) -> str:
    """The id of the one widget model of that name whose state has those attributes."""
    found = [
        model_id
        for model_id, model in states.items()
        if model["model_name"] == model_name
        and all(model["state"].get(k) == v for k, v in attributes.items())
    ]
    if len(found) != 1:
        raise LookupError(f"{len(found)} {model_name} models with {attributes}")
    return found[0]


def date_state(day: dt.date) -> dict:
    """A ``DatePicker`` value as the widget protocol carries it (months from 0).

    >>> date_state(dt.date(2024, 6, 30))
    {'year': 2024, 'month': 5, 'date': 30}
    """
    return {"year": day.year, "month": day.month - 1, "date": day.day}
