"""Shared fixtures: a real Voila server on a free loopback port, and a headless Chromium.

The server is the one ``make dashboards`` runs (the repo's ``voila.json``), started
as a subprocess for the test session and stopped by its process id at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rpmkit.config import voila_environment

ROOT = Path(__file__).resolve().parents[1]
TEST_OUTPUT = ROOT / "test-output"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _voila_executable() -> str:
    beside = Path(sys.executable).with_name("voila")
    if beside.exists():
        return str(beside)
    found = shutil.which("voila")
    if not found:
        pytest.skip("voila is not installed")
    return found


@dataclass
class VoilaServer:
    """A running Voila server: its base URL, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path
    data_root: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> dict[int, bytes]:
    """Child process ids of ``pid`` with their command lines (Linux ``/proc``)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            found[child] = _cmdline(child)
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_for_preheat(pid: int, kernels: int, timeout: float) -> None:
    """Wait until ``kernels`` kernels run and none used CPU for a second.

    Voila logs a pool as "filled" when its kernel starts, not when the notebook
    has run; a page opened before that waits for the run. Quiet kernels mean the
    apps are built and waiting, which is what "preheated" promises. Without
    ``/proc`` this returns at once.
    """
    if not Path("/proc").is_dir():
        return
    deadline = time.monotonic() + timeout
    before: dict[int, int] = {}
    while time.monotonic() < deadline:
        now = {child: _cpu_ticks(child) for child in _children(pid)}
        quiet = len(now) >= kernels and all(
            before.get(child) is not None and abs(ticks - before[child]) <= 2
            for child, ticks in now.items()
        )
        if quiet:
            return
        before = now
        time.sleep(1.0)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server by its process id, then any kernel it left behind by theirs.

    Voila shuts its kernels down on SIGTERM; kernels run in sessions of their own,
    so the ones still alive after that are ended one by one.
    """
    kernels = _children(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    for pid, cmdline in kernels.items():
        # Only the very process recorded, never one that reused its id.
        if cmdline and _cmdline(pid) == cmdline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("RPMKIT_CHROMIUM", "/usr/bin/chromium")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"no Chromium executable at {path} (set RPMKIT_CHROMIUM)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def voila_server(tmp_path_factory) -> Iterator[VoilaServer]:
    """``voila notebooks/`` with the repo's config, as ``make dashboards`` runs it.

    ``RPMKIT_DATA_ROOTS`` adds a scratch folder the apps may read typed sources
    from, next to the sample data's folder.
    """
    TEST_OUTPUT.mkdir(exist_ok=True)
    (TEST_OUTPUT / "browser-timings.json").unlink(missing_ok=True)  # this run's figures only
    data_root = tmp_path_factory.mktemp("voila-data")
    env = voila_environment()
    sample_parent = str(Path(env.get("RPMKIT_SAMPLE_DIR", ROOT / "data" / "samples")).parent)
    env["RPMKIT_DATA_ROOTS"] = os.pathsep.join([str(data_root), sample_parent])
    notebooks = len(list((ROOT / "notebooks").glob("*.ipynb")))
    with running_voila(
        ROOT / "notebooks", TEST_OUTPUT / "voila.log", env, data_root, kernels=notebooks
    ) as server:
        yield server


@contextlib.contextmanager
def running_voila(
    folder: Path,
    log: Path,
    env: dict[str, str],
    data_root: Path,
    *,
    kernels: int,
    args: tuple[str, ...] = (),
) -> Iterator[VoilaServer]:
    """``voila FOLDER`` with the repo's config (and ``args`` on top) on a free loopback
    port; yields once the server answers and its ``kernels`` preheated kernels are quiet,
    and stops it (and any kernel it left) by process id at the end."""
    port = _free_port()
    cmd = [
        _voila_executable(),
        str(folder),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        f"--Voila.config_file_paths={ROOT}",
        *args,
    ]
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    server = VoilaServer(url, process, log, data_root)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"voila exited with code {process.returncode}:\n{server.log_text()}")
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"voila did not answer within {SERVER_START_TIMEOUT} s")
            time.sleep(0.3)
        _wait_for_preheat(process.pid, kernels, SERVER_START_TIMEOUT)
        yield server
    finally:
        _stop(process)


@pytest.fixture
def page(browser, voila_server):
    """A fresh 1366×768 Chromium page that records console errors and off-host requests."""
    from browser_support import PAGE_TIMEOUT_MS, Watch

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.watch = Watch(page, voila_server.url)
    try:
        yield page
    finally:
        context.close()
