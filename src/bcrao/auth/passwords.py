"""Argon2 password hashing (pwdlib's recommended parameters), off the event loop.

A hash is a long stretch of CPU on four lanes (threads). On the event loop it stalled
every request and progress stream of the process; on the default executor eight concurrent
logins ran 32 hashing threads at the loop's priority, and /healthz slowed down with them
(figures: ``bench/logins.py``, ``bench/README.md``). Here hashing has threads of its own
at a lower priority (nice 10, inherited by Argon2's lane threads): logins take as long as
the CPU allows, the loop answers first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verifying against this keeps a login for an unknown email as slow as a real one,
# so response timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-a-timing-guard")
HASHING_NICE = 10


def _lower_priority() -> None:
    # Linux applies a nice value per thread (the target is the thread id), and threads
    # started by this one (Argon2's lanes) inherit it.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)


_pool = ThreadPoolExecutor(
    max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="argon2", initializer=_lower_priority
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_password, password)


async def verify_password_off_loop(password: str, password_hash: str | None) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_pool, verify_password, password, password_hash)
