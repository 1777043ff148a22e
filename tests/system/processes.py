"""Real server processes for system tests (and the benches): `bcrao serve` API processes on free ports."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx

from bcrao.config import Settings
from tests.tasks.workers import BCRAO, settings_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True, slots=True)
class RunningApi:
    url: str
    pid: int


@contextmanager
def running_api(settings: Settings, *, preexec_fn: Callable[[], None] | None = None) -> Iterator[RunningApi]:
    """`bcrao serve` in its own process, as a deployment runs it; yields its base URL and
    process id (the benches read its CPU time and memory). ``preexec_fn`` runs in the child
    before exec."""
    port = free_port()
    # A file, not a pipe: nobody reads a pipe while the test runs, and a server whose log
    # pipe fills up blocks on its next access line.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        [BCRAO, "serve", "--port", str(port)],
        env=settings_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=preexec_fn,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError("api process exited:\n" + log.read()[-20000:])
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("api process did not start")
            time.sleep(0.1)
        yield RunningApi(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def api_process(settings: Settings) -> Iterator[str]:
    """`bcrao serve` in its own process, as a deployment runs it; yields its base URL."""
    with running_api(settings) as api:
        yield api.url


@contextmanager
def api_processes(settings: Settings, count: int) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(api_process(settings)) for _ in range(count)]
