"""Start real Celery worker processes (``bcrao worker``) for the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bcrao.config import Settings

BCRAO = str(Path(sys.executable).with_name("bcrao"))


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a worker process the same settings as the test app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCRAO_")}
    for name, value in settings.model_dump(exclude_none=True).items():
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, list):
            import json

            value = json.dumps(value)
        env[f"BCRAO_{name.upper()}"] = str(value.value if hasattr(value, "value") else value)
    return env


class Worker:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line or "ready." in line.strip():
                self.ready.set()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no ack: what a crashed machine looks like to the broker."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running_worker(
    settings: Settings,
    *,
    name: str = "w1",
    pool: str = "threads",
    concurrency: int = 2,
    queues: str = "scraping,analysis,generation,monitoring",
) -> Iterator[Worker]:
    process = subprocess.Popen(
        [
            BCRAO,
            "worker",
            "--queues",
            queues,
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",
            "--loglevel",
            "INFO",
        ],
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = Worker(process)
    try:
        deadline = time.monotonic() + 60
        while not worker.ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + "".join(worker.lines[-40:]))
        yield worker
    finally:
        worker.stop()
