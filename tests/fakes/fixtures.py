"""Pytest fixtures for the loopback fakes and a throwaway Redis.

Load them for the whole suite with ``pytest_plugins = ["tests.fakes.fixtures"]`` in the
root conftest. Fakes are per test (a fresh request log and fault programme each time;
starting one costs milliseconds); Redis is one server per session — tests use their own
keys or flush what they touch.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.apify import FakeApify
from tests.fakes.llm import FakeLLM
from tests.fakes.reddit import FakeReddit

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture
def fake_reddit() -> Iterator[FakeReddit]:
    fake = FakeReddit().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_apify() -> Iterator[FakeApify]:
    fake = FakeApify().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM().start()
    try:
        yield fake
    finally:
        fake.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"redis-server did not listen on port {port} within {timeout}s")


@contextmanager
def private_redis(
    workdir: Path, port: int | None = None, *, preexec_fn: Callable[[], None] | None = None
) -> Iterator[str]:
    """A redis-server on a free loopback port (or ``port``: a restart), without persistence;
    yields its URL. ``preexec_fn`` runs in the child before exec (the benches use it to
    have the server die with them)."""
    fixed = port
    for _attempt in range(1 if fixed else 3):  # a free port can be taken before it is bound
        port = fixed or _free_port()
        process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=preexec_fn,
        )  # fmt: skip
        try:
            _wait_for_port(port, process)
        except RuntimeError:
            process.kill()
            process.wait()
            continue
        break
    else:
        raise RuntimeError("could not start redis-server")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One private redis-server for the session; tests use their own keys."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    with private_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url
