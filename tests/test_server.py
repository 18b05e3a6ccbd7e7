"""The dashboard server under misuse, live on loopback with the shipped configuration.

A Voila server runs the repo's ``voila.json`` over a scratch folder of small
notebooks, next to canary files placed inside and outside the served folder, and a
copy of the AR dashboard reading a ledger whose customer names are HTML. The tests
ask it for files it must not serve, send code over a kernel's websocket, open pages
whose cells fail or run past the execution timeout, and, on a second server with a
small kernel cap and a short culling window, send a burst of clients that vanish.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import http.client
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, TEST_OUTPUT, _children, running_voila
from hypothesis import given
from hypothesis import strategies as st

from rpmkit.config import voila_environment
from rpmkit.server import CappedKernelManager, harden_voila, is_loopback, refuse_open_bind
from rpmkit.server_client import DashboardVisitor, Reply, find_model, frame_v1, unframe_v1

CANARY = f"CANARY-{uuid.uuid4().hex}"
HOSTILE = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
FRIENDLY = "This part of the page could not be shown"
APP = """import ipywidgets as w
label = w.HTML('<p class="ok">ready</p>')
count = w.IntSlider(description="Count")
count.observe(lambda c: setattr(label, "value", f'<p class="ok">ready {c.new}</p>'), "value")
w.VBox([count, label])"""


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Test app\n\nA page for the server tests.")]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["kernelspec"]["language"] = "python"
    nbformat.write(nb, path)


def _hostile_ledger(folder: Path) -> Path:
    from rpmkit.synth import generate
    from rpmkit.writers import write_ledger

    ledger = generate(customers=40, years=1.0, seed=3).ledger
    customers = ledger.customers.copy()
    customers["name"] = HOSTILE + customers["customer_id"].astype(str)
    out = folder / "hostile-ledger"
    write_ledger(dataclasses.replace(ledger, customers=customers), out, format="parquet")
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The served folder (with canaries, links and notebooks) and its surroundings."""
    base = tmp_path_factory.mktemp("site")
    served = base / "served"
    (served / "img").mkdir(parents=True)
    (served / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\nlogo")
    for name in ("secret.csv", "notes.py", ".hidden.png", "img/.dot.png", "config.json"):
        (served / name).write_text(f"{CANARY} inside {name}")
    (base / "outside.png").write_text(f"{CANARY} outside")
    (base / "outside.csv").write_text(f"{CANARY} outside csv")
    (base / "served-evil").mkdir()  # a sibling sharing the served folder's name as prefix
    (base / "served-evil" / "logo.png").write_text(f"{CANARY} sibling")
    os.symlink(base / "outside.csv", served / "link.png")  # allowed name, file outside
    os.symlink(served / "secret.csv", served / "img" / "inner.png")  # allowed name, denied file
    _notebook(served / "app.ipynb", APP)
    _notebook(served / "fails.ipynb", "raise RuntimeError('cannot read /srv/ledgers/secret.csv')")
    _notebook(served / "slow.ipynb", "import time\ntime.sleep(60)")
    return base


@pytest.fixture(scope="module")
def server(site):
    env = voila_environment()
    env["RPMKIT_DATA_ROOTS"] = str(site)
    with running_voila(
        site / "served",
        TEST_OUTPUT / "voila-hardened.log",
        env,
        site,
        kernels=4,
        args=("--VoilaExecutor.timeout=4",),
    ) as s:
        yield s


def _raw_get(url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalisation or re-encoding)."""
    host = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _payloads(site: Path) -> list[str]:
    outside = str(site / "outside.png")
    rel = os.path.relpath(site / "outside.csv", ROOT / "share")
    plain = [
        "../outside.png",
        "..%2foutside.png",
        "..%2Foutside.png",
        "%2e%2e/outside.png",
        "%2e%2e%2foutside.png",
        "..%252foutside.png",
        "%252e%252e%252foutside.png",
        "....//outside.png",
        "..\\outside.png",
        "..%5coutside.png",
        "img/../../outside.png",
        "img/%2e%2e/%2e%2e/outside.png",
        "../served-evil/logo.png",
        "..%2fserved-evil%2flogo.png",
        outside,
        "/" + outside.lstrip("/"),
        urllib.parse.quote(outside, safe=""),
        "%2F" + urllib.parse.quote(outside.lstrip("/"), safe=""),
        "link.png",
        "img/inner.png",
        "secret.csv",
        "notes.py",
        ".hidden.png",
        "img/.dot.png",
        "config.json",
        "SECRET.CSV",
        "secret.csv%00.png",
        "secret.csv?.png",
        "secret.csv#.png",
        "app.ipynb",
    ]
    paths = [f"/voila/files/{p}" for p in plain]
    # the other routes that read files, including CVE-2024-30265's (template statics)
    paths += [
        f"/voila/templates/lab/static/..%2f..%2f..%2f..%2f{urllib.parse.quote(rel)}",
        f"/voila/templates/rpmkit/static/../../../../../{rel}",
        f"/voila/templates/..%2f..%2f{urllib.parse.quote(rel)}",
        f"/voila/static/..%2f..%2f..%2f{urllib.parse.quote(rel)}",
        f"/voila/static/{urllib.parse.quote(outside, safe='')}",
        "/voila/render/..%2foutside.png",
        f"/voila/render/{urllib.parse.quote(outside, safe='')}",
        f"/voila/tree/..%2f..%2f{urllib.parse.quote(rel)}",
        "/voila/api/themes/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    ]
    return paths


def test_shipped_config_uses_the_hardened_kernel_manager():
    cfg = json.loads((ROOT / "voila.json").read_text())
    assert cfg["VoilaConfiguration"]["multi_kernel_manager_class"] == (
        "rpmkit.server.CappedKernelManager"
    )
    assert cfg["CappedKernelManager"]["max_kernels"] >= 2 * len(
        list((ROOT / "notebooks").glob("*.ipynb"))
    ), "the cap leaves room for every preheated kernel and as many visitors"
    assert "jupyterlab-plotly" in cfg["VoilaConfiguration"]["extension_denylist"]
    assert "log has the details" in cfg["VoilaExecutor"]["cell_error_instruction"]
    assert "log has the details" in cfg["VoilaExecutor"]["cell_timeout_instruction"]
    # nbclient's 4 s default drops a cell's late output when kernels compete for CPU,
    # leaving a visitor a page without its app.
    assert cfg["VoilaExecutor"]["iopub_timeout"] >= 30


def test_open_bind_needs_authentication():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert not is_loopback("dashboards.example")  # a name may resolve anywhere
    assert refuse_open_bind("127.0.0.1", authenticated=False) is None
    assert refuse_open_bind("0.0.0.0", authenticated=True) is None
    why = refuse_open_bind("0.0.0.0", authenticated=False)
    assert "docs/deployment.md" in why and "0.0.0.0" in why


def test_voila_refuses_a_network_address_without_a_token(tmp_path):
    import subprocess

    from conftest import _voila_executable

    (tmp_path / "empty").mkdir()
    args = [
        _voila_executable(),
        str(tmp_path / "empty"),
        "--no-browser",
        "--port=0",
        "--Voila.ip=0.0.0.0",
        f"--Voila.config_file_paths={ROOT}",
    ]
    done = subprocess.run(
        args, env=voila_environment(), capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode != 0
    assert "refusing to serve" in done.stderr and "docs/deployment.md" in done.stderr


def test_rpmkit_serve_refuses_a_network_address_without_a_token(capsys):
    from rpmkit.cli import main

    assert main(["serve", "--ip", "0.0.0.0"]) == 2
    assert "docs/deployment.md" in capsys.readouterr().err


def test_harden_voila_is_idempotent():
    harden_voila()
    harden_voila()
    from voila.static_file_handler import AllowListFileHandler

    assert AllowListFileHandler._rpmkit_hardened


def test_no_payload_returns_a_canary(server, site):
    status, body = _raw_get(server.url, "/voila/files/img/logo.png")
    assert status == 200 and body.startswith(b"\x89PNG"), "the allowed asset must be served"
    payloads = _payloads(site)
    assert len(payloads) >= 25
    leaks = []
    for path in payloads:
        status, body = _raw_get(server.url, path)
        if CANARY.encode() in body:
            leaks.append((path, status))
        assert b"Traceback" not in body, path
        assert status < 500, f"{path}: HTTP {status}"  # refused or redirected, never a crash
    assert not leaks, f"served a canary file: {leaks}"


def _kernel_id(html: str) -> str:
    match = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', html)
    assert match, "no kernel id in the page"
    return match.group(1)


async def _talk_to_kernel(url: str, code: str) -> tuple[list[str], list[str]]:
    """Open ``app.ipynb``, send ``code`` as an ``execute_request`` over its kernel's
    websocket, then a ``kernel_info_request``: the message types answering the latter,
    and those answering anything else (the execute request, had it passed)."""
    visitor = DashboardVisitor(url, "app.ipynb", timeout=30)
    await visitor.open()
    await visitor.connect()
    execute = {"code": code, "silent": False, "store_history": False, "user_expressions": {}}
    execute |= {"allow_stdin": False, "stop_on_error": True}
    await visitor.send("execute_request", execute)
    reply = await visitor.request("kernel_info_request", {})
    await asyncio.sleep(2)  # time for an execute_request, had it passed, to run
    await visitor.close()
    return [m["type"] for m in reply.messages], [m["type"] for m in visitor.unanswered]


class _KernelSocket:
    """The kernel's side of a websocket, in memory: answers each shell request with the
    frames ``answer(header)`` gives, in that order (a real server forwards the kernel's
    iopub and shell channels as they come, so an ``idle`` status may precede the reply)."""

    def __init__(self, answer):
        self.answer, self.out = answer, asyncio.Queue()

    async def write_message(self, frame, binary):
        header = json.loads(unframe_v1(frame)[1][0])
        for channel, msg_type, content in self.answer(header):
            reply = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type}
            parts = [json.dumps(x).encode() for x in (reply, header, {}, content)]
            await self.out.put(frame_v1(channel, parts))

    async def read_message(self):
        return await self.out.get()


@pytest.mark.parametrize("idle_first", [True, False])
def test_a_request_waits_for_its_reply_and_the_idle_status_in_either_order(idle_first):
    def answer(header):
        kind = header["msg_type"]
        idle = ("iopub", "status", {"execution_state": "idle"})
        if kind == "comm_msg":  # no shell reply: done at idle
            return [("iopub", "status", {"execution_state": "busy"}), idle]
        done = ("shell", kind.replace("_request", "_reply"), {"status": "ok"})
        return [idle, done] if idle_first else [done, idle]

    async def talk():
        visitor = DashboardVisitor("http://127.0.0.1:1", "app.ipynb", timeout=5)
        visitor._ws = _KernelSocket(answer)
        info = await visitor.request("kernel_info_request", {})
        comm = await visitor.request("comm_msg", {"comm_id": "x", "data": {}})
        return info, comm

    # in a thread of its own: Playwright's sync API may hold this thread's event loop
    with ThreadPoolExecutor(1) as pool:
        info, comm = pool.submit(asyncio.run, talk()).result()
    assert [m["type"] for m in info.messages] == ["kernel_info_reply"]
    assert [m["type"] for m in comm.messages] == ["status"]  # the busy one


def test_code_sent_over_the_kernel_websocket_does_nothing(server, tmp_path):
    target = tmp_path / "pwned"
    code = f"open({str(target)!r}, 'w').write('x')"
    # in a thread of its own: Playwright's sync API may hold this thread's event loop
    with ThreadPoolExecutor(1) as pool:
        seen, other = pool.submit(asyncio.run, _talk_to_kernel(server.url, code)).result()
    assert "kernel_info_reply" in seen, f"the websocket works for allowed messages: {seen}"
    assert "execute_reply" not in other and "execute_input" not in other, other
    assert not target.exists(), "an execute_request ran code in the kernel"


async def _legacy_then_v1(url: str) -> tuple[int, dict]:
    """Try the kernel websocket without the v1 protocol, then with it and ask for the
    widgets' states (the request that froze an unpatched server)."""
    from tornado.httpclient import HTTPClientError

    visitor = DashboardVisitor(url, "app.ipynb", timeout=30)
    await visitor.open()
    try:
        await visitor.connect(subprotocols=[])
        refused = 101
    except HTTPClientError as error:
        refused = error.code
    await visitor.connect()
    states = await visitor.widget_states()
    await visitor.close()
    return refused, states


def test_kernel_websocket_speaks_only_the_v1_protocol(server):
    """Voila's handler reads every binary message it sends as a v1 frame; a legacy
    client's first widget-state request made it build a list of ~10^18 offsets (event
    loop blocked, memory growing without end). The legacy handshake is refused and the
    v1 one works, and the server still answers at once afterwards."""
    with ThreadPoolExecutor(1) as pool:
        refused, states = pool.submit(asyncio.run, _legacy_then_v1(server.url)).result()
    assert refused == 400
    assert any("ready" in str(m["state"].get("value", "")) for m in states.values()), states
    start = time.monotonic()
    with urllib.request.urlopen(server.url + "/", timeout=10) as response:
        assert response.status == 200
    assert time.monotonic() - start < 2


def test_a_legacy_binary_frame_is_not_read_as_v1():
    """The bytes that froze the server: a legacy-framed message with a buffer, whose first
    eight bytes read as a little-endian count are about 2 * 10^17."""
    from jupyter_server.services.kernels.connection.base import serialize_binary_message
    from voila.tornado import kernel_websocket_handler as module

    harden_voila()
    legacy = serialize_binary_message(
        {"header": {"msg_type": "comm_msg"}, "parent_header": {}, "content": {}, "buffers": [b"x"]}
    )
    assert int.from_bytes(legacy[:8], "little") > 10**15
    # unpatched, the call below would not return (and would take all memory): fail first
    assert module.read_header_from_binary_message.__module__ == "rpmkit.server"
    start = time.monotonic()
    assert module.read_header_from_binary_message(legacy) is None
    assert time.monotonic() - start < 0.1
    v1 = frame_v1("iopub", [b'{"msg_type": "execute_input"}', b"{}", b"{}", b"{}"])
    assert module.read_header_from_binary_message(v1) == {"msg_type": "execute_input"}


@given(st.sampled_from(["shell", "iopub", "control"]), st.lists(st.binary(max_size=50)))
def test_v1_frames_round_trip(channel, parts):
    assert unframe_v1(frame_v1(channel, parts)) == (channel, parts)


@given(st.binary(max_size=300))
def test_unframe_v1_on_any_bytes_raises_only_value_error(data):
    try:
        channel, parts = unframe_v1(data)
    except ValueError:
        return
    assert isinstance(channel, str) and sum(map(len, parts)) <= len(data)


@pytest.mark.parametrize("notebook", ["fails.ipynb", "slow.ipynb"])
def test_a_failing_or_slow_cell_shows_a_message_without_detail(server, notebook):
    start = time.monotonic()
    with urllib.request.urlopen(server.url + f"/voila/render/{notebook}", timeout=60) as r:
        html = r.read().decode()
    elapsed = time.monotonic() - start
    assert elapsed < 10, f"{notebook}: {elapsed:.1f} s before the page said anything"
    assert FRIENDLY in html or "took too long" in html
    for detail in ("Traceback", "RuntimeError", "/srv/ledgers", str(ROOT), "time.sleep"):
        assert detail not in html, f"{notebook} shows {detail!r}"
    log = server.log_text()
    if notebook == "fails.ipynb":
        assert "/srv/ledgers/secret.csv" in log, "the server log keeps the detail"


@pytest.mark.browser
def test_a_customer_named_like_html_renders_as_text(browser, tmp_path):
    # the AR dashboard on a ledger whose customer names are HTML, with the shipped
    # execution timeout (the module's server has a short one)
    served = tmp_path / "served"
    served.mkdir()
    ar = nbformat.read(ROOT / "notebooks" / "02_ar_dashboard.ipynb", as_version=4)
    params = next(c for c in ar.cells if "parameters" in c.metadata.get("tags", []))
    params.source += f"\nSOURCE = {str(_hostile_ledger(tmp_path))!r}\nFAST = True"
    nbformat.write(ar, served / "ar.ipynb")
    log = TEST_OUTPUT / "voila-hostile-names.log"
    with running_voila(served, log, voila_environment(), tmp_path, kernels=1) as server:
        _assert_names_render_as_text(browser, server.url)


def _assert_names_render_as_text(browser, url: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(url + "/voila/render/ar.ipynb", timeout=90_000)
        page.wait_for_selector(".rpm-app table", timeout=90_000)
        page.wait_for_function(
            "() => document.body.innerText.includes('<img src=x onerror')", timeout=30_000
        )
        injected = page.evaluate(
            "() => ({imgs: document.querySelectorAll('img[src=\"x\"]').length,"
            " fired: window.__xss || 0})"
        )
        assert injected == {"imgs": 0, "fired": 0}
    finally:
        context.close()


def _shut_down(server, kernel_id: str, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if f"Kernel shutdown: {kernel_id}" in server.log_text():
            return True
        time.sleep(0.2)
    return False


def test_a_visitor_leaving_the_page_frees_their_kernel_at_once(server, browser):
    """Voila's page asks the server to shut its kernel down when it unloads, sending the
    ``_xsrf`` cookie's value; the page must set that cookie, or the request is refused
    and the kernel holds a capped slot until the culler finds it idle."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(server.url + "/voila/render/app.ipynb", timeout=60_000)
        page.wait_for_selector("p.ok", timeout=60_000)
        kernel = _kernel_id(page.content())
        assert "_xsrf" in {c["name"] for c in context.cookies()}
        page.close(run_before_unload=True)
        assert _shut_down(server, kernel), "the page's kernel outlived the page"
    finally:
        context.close()
    assert f"/voila/api/shutdown/{kernel}" not in server.log_text()  # no 403 logged


async def _visit_and_leave(url: str) -> str:
    visitor = DashboardVisitor(url, "app.ipynb", timeout=30)
    await visitor.open()
    await visitor.connect()
    kernel = visitor.kernel_id
    await visitor.close()
    return kernel


async def _move_the_slider(url: str) -> tuple[Reply, str]:
    visitor = DashboardVisitor(url, "app.ipynb", timeout=30)
    await visitor.open()
    await visitor.connect()
    states = await visitor.widget_states()
    count = find_model(states, "IntSliderModel", description="Count")
    label = find_model(states, "HTMLModel", value='<p class="ok">ready</p>')
    reply = await visitor.change(count, {"value": 7})
    await visitor.close()
    return reply, label


def test_a_headless_visitor_changes_a_control_and_sees_the_answer(server):
    """What the load benchmark times: a control change and the kernel's answer to it."""
    with ThreadPoolExecutor(1) as pool:
        reply, label = pool.submit(asyncio.run, _move_the_slider(server.url)).result()
    assert label in reply.updated()
    assert reply.carries("ready 7", {label}) and not reply.carries("ready 8")
    assert 0 < reply.seconds < 10


def test_a_headless_visitor_leaves_as_the_page_does(server):
    with ThreadPoolExecutor(1) as pool:
        kernel = pool.submit(asyncio.run, _visit_and_leave(server.url)).result()
    assert _shut_down(server, kernel)


def _kernel_count(pid: int) -> int:
    return sum(b"ipykernel" in cmd for cmd in _children(pid).values())


def test_kernel_cap_holds_under_a_burst_and_the_pool_recovers(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    _notebook(served / "app.ipynb", "import ipywidgets as w\nw.HTML('ready')")
    cap, cull = 4, 15
    args = (
        f"--CappedKernelManager.max_kernels={cap}",
        f"--MappingKernelManager.cull_idle_timeout={cull}",
        "--MappingKernelManager.cull_interval=2",
    )
    log = TEST_OUTPUT / "voila-burst.log"
    with running_voila(served, log, voila_environment(), tmp_path, kernels=1, args=args) as s:
        most, stop = 0, threading.Event()

        def watch() -> None:
            nonlocal most
            while not stop.is_set():
                most = max(most, _kernel_count(s.process.pid))
                time.sleep(0.1)

        watcher = threading.Thread(target=watch)
        watcher.start()

        def visit(_: int) -> tuple[int, str]:
            # a client that takes a page and vanishes: no websocket, no goodbye
            try:
                with urllib.request.urlopen(s.url + "/voila/render/app.ipynb", timeout=90) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()

        try:
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(visit, range(8)))
            codes = sorted(code for code, _ in answers)
            assert codes.count(200) >= 1 and codes.count(503) >= 1, codes
            busy = next(body for code, body in answers if code == 503)
            assert "server is busy" in busy and "Traceback" not in busy
            # the vanished clients' kernels are culled; the pool is back to its size
            deadline = time.monotonic() + cull + 45
            while time.monotonic() < deadline and _kernel_count(s.process.pid) != 1:
                time.sleep(1)
            assert _kernel_count(s.process.pid) == 1
        finally:
            stop.set()
            watcher.join()
        assert most <= cap, f"{most} kernels alive with a cap of {cap}"
        assert visit(0)[0] == 200, "a visitor gets a page again after the burst"


# ------------------------------------------------------------------ pool refill pacing
class _Kernel:
    def __init__(self, seconds_ago: float | None) -> None:
        if seconds_ago is not None:
            self.last_activity = datetime.datetime.now(datetime.UTC) - datetime.timedelta(
                seconds=seconds_ago
            )


def _paced(quiet: float = 0.6, max_wait: float = 5.0) -> CappedKernelManager:
    return CappedKernelManager(refill_quiet=quiet, refill_max_wait=max_wait)


def _time_a_refill(manager: CappedKernelManager, *, taken: bool = False) -> float:
    """Seconds a pool refill started now waits (``taken``: a visitor took it meanwhile)."""

    async def refill() -> float:
        me = asyncio.current_task()
        manager._pools = {"app.ipynb": [] if taken else [me]}
        start = time.monotonic()
        await manager._wait_for_quiet()
        return time.monotonic() - start

    # in a thread of its own: a browser test of this module may leave a loop running here
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, refill()).result()


def test_a_refill_waits_until_visitors_are_served():
    manager = _paced()
    assert manager.quiet_for() == float("inf")
    assert _time_a_refill(manager) < 0.1  # nobody about: at once
    manager._last_demand = time.monotonic()  # a visitor just took a pool kernel
    assert 0.5 <= _time_a_refill(manager) < 1.5


def test_a_visitors_busy_kernel_holds_the_refill_but_a_pooled_one_does_not():
    manager = _paced()
    manager._kernels["visitor"] = _Kernel(seconds_ago=0.0)
    assert manager.quiet_for() < 0.1
    assert 0.5 <= _time_a_refill(manager) < 1.5
    manager._kernels["visitor"] = _Kernel(seconds_ago=30.0)
    assert manager.quiet_for() == pytest.approx(30.0, abs=1.0)
    assert _time_a_refill(manager) < 0.1
    # a preheated kernel running its notebook is busy, but that is no visitor's demand
    manager._kernels["pooled"] = _Kernel(seconds_ago=0.0)

    async def with_a_pooled_kernel() -> float:
        done = asyncio.get_running_loop().create_future()
        done.set_result({"kernel_id": "pooled"})
        manager._pools = {"app.ipynb": [done]}
        return manager.quiet_for()

    with ThreadPoolExecutor(1) as pool:
        quiet = pool.submit(asyncio.run, with_a_pooled_kernel()).result()
    assert quiet == pytest.approx(30.0, abs=1.0)
    manager._kernels["starting"] = _Kernel(seconds_ago=None)  # no activity yet: demand
    assert manager.quiet_for() < 0.1


def test_a_refill_a_visitor_took_or_that_waited_long_enough_starts():
    manager = _paced(quiet=30.0, max_wait=0.5)
    manager._last_demand = time.monotonic()
    assert _time_a_refill(manager, taken=True) < 0.1
    assert 0.4 <= _time_a_refill(manager) < 1.5
    unpaced = _paced(quiet=0.0)
    unpaced._last_demand = time.monotonic()
    assert _time_a_refill(unpaced) < 0.1


def test_shipped_config_paces_refills():
    cfg = json.loads((ROOT / "voila.json").read_text())["CappedKernelManager"]
    assert 0 < cfg["refill_quiet"] <= 10 and cfg["refill_max_wait"] >= 10 * cfg["refill_quiet"]
