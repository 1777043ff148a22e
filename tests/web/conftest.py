"""Fixtures for the dashboard's browser tests: a real ``bcrao serve`` subprocess and headless Chromium.

The server runs as its own process (the way a founder runs it) with a throwaway data dir, so
the browser talks to exactly what ships: the static dashboard, the JSON API and the SSE stream.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BCRAO = Path(sys.executable).with_name("bcrao")
CHROMIUM = os.environ.get("BCRAO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Server:
    url: str
    log: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def run_server(data_dir: Path, **settings: str) -> Iterator[Server]:
    port = _free_port()
    # Only our settings: a developer's BCRAO_* (database, Redis, ...) must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCRAO_")}
    env.update(
        BCRAO_DATA_DIR=str(data_dir),
        BCRAO_SECRET_KEY="web-test-secret-key-that-is-long-enough-0123456789",
        BCRAO_LOG_JSON="false",
        BCRAO_LOG_LEVEL="WARNING",
        **{f"BCRAO_{k.upper()}": str(v) for k, v in settings.items()},
    )
    log = data_dir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BCRAO), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"bcrao serve exited early:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"bcrao serve did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield Server(url=url, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose sample source is slow enough to watch progress in a browser."""
    with run_server(tmp_path_factory.mktemp("web"), sample_latency_seconds="1.0") as srv:
        yield srv


@pytest.fixture(scope="module")
def recycling_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Closes every progress stream after ~2 s, so clients must resume mid-run; 2 runs a week."""
    with run_server(
        tmp_path_factory.mktemp("web-recycle"),
        sample_latency_seconds="0.8",
        sse_max_connection_seconds="2",
        plan_trial_runs_per_week="2",
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def short_token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Stream tokens live 10 s (the minimum) and runs take ~18 s, so a reconnect gets 401."""
    with run_server(
        tmp_path_factory.mktemp("web-token"),
        sample_latency_seconds="2.0",
        sse_max_connection_seconds="2",
        stream_token_ttl_seconds="10",
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # CSP violations show up as console errors: the dashboard must not cause any.
    # (HTTP error statuses the UI handles, like the 422 it shows inline, are not page errors.)
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.js_errors = errors
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
