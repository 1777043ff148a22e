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


class _Process:
    """One ``bcrao serve`` subprocess; started at once, waited for only when a test needs it."""

    def __init__(self, data_dir: Path, settings: dict[str, str]) -> None:
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
        self.log = data_dir / "server.log"
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(BCRAO), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
            )
        self.ready = False

    def wait(self) -> Server:
        deadline = time.monotonic() + 60
        while not self.ready:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bcrao serve exited early:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                self.ready = httpx.get(self.url + "/healthz", timeout=1).status_code == 200
            if not self.ready:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"bcrao serve did not come up:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.2)
        return Server(url=self.url, log=self.log)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# Each server's settings make one behaviour observable in a browser within seconds.
SERVER_SETTINGS: dict[str, dict[str, str]] = {
    # Slow enough sample source to watch progress.
    "main": {"sample_latency_seconds": "1.0"},
    # Closes every progress stream after ~2 s, so clients must resume mid-run; 2 runs a week.
    "recycling": {
        "sample_latency_seconds": "0.8",
        "sse_max_connection_seconds": "2",
        "plan_trial_runs_per_week": "2",
    },
    # Stream tokens live 10 s (the minimum) and a 9-subreddit run takes ~18 s: a reconnect gets 401.
    "short_token": {
        "sample_latency_seconds": "2.0",
        "sse_max_connection_seconds": "2",
        "stream_token_ttl_seconds": "10",
    },
}


@pytest.fixture(scope="session")
def _servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, _Process]]:
    """Start every test server together: startup is mostly imports, so they overlap well."""
    procs = {name: _Process(tmp_path_factory.mktemp(f"web-{name}"), s) for name, s in SERVER_SETTINGS.items()}
    try:
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


@pytest.fixture
def server(_servers: dict[str, _Process]) -> Server:
    return _servers["main"].wait()


@pytest.fixture
def recycling_server(_servers: dict[str, _Process]) -> Server:
    return _servers["recycling"].wait()


@pytest.fixture
def short_token_server(_servers: dict[str, _Process]) -> Server:
    return _servers["short_token"].wait()


@pytest.fixture(scope="session")
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
