"""`bcrao serve` processes freeze their start-up objects out of the garbage collector."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import asyncio, gc, sys, tempfile
from pathlib import Path
from bcrao.config import Settings
from bcrao.main import create_app

async def main(freeze):
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp}/db.sqlite", secret_key="x" * 40,
                        data_dir=tmp, gc_freeze=freeze)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        print(gc.get_freeze_count(), gc.get_threshold()[0])

asyncio.run(main(sys.argv[1] == "on"))
"""


def _run(flag: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", SCRIPT, flag], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    frozen, threshold = out.stdout.split()
    return int(frozen), int(threshold)


def test_a_server_process_freezes_what_it_built_at_start_up():
    frozen, threshold = _run("on")
    assert frozen > 50_000 and threshold == 20_000


def test_other_processes_leave_the_collector_alone():
    assert _run("off") == (0, 700)
