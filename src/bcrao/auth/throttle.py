"""Login throttling that slows attackers without handing them a way to lock the owner out.

Three counts, all over ``login_window_seconds``:

- per account and address: ``login_max_attempts`` tries (guessing one password from one place);
- per address, every account: ``login_max_attempts_per_address`` tries (spraying one password
  over many emails);
- per account, every address: ``login_max_failures_per_account`` *failed* tries (guessing
  from many addresses). This one never blocks an address that has logged in to the account
  before (remembered ``KNOWN_ADDRESS_SECONDS``), so a distributed attack slows strangers
  down but cannot deny the owner at their usual address.

The address is the TCP peer, or the ``X-Forwarded-For`` client only when the peer is one of
``trusted_proxies`` (uvicorn's proxy-header handling, configured in ``bcrao serve``).
"""

from __future__ import annotations

from bcrao.auth.ratelimit import AttemptCounter
from bcrao.config import Settings
from bcrao.errors import RateLimited

KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600


class LoginThrottle:
    def __init__(self, counter: AttemptCounter, settings: Settings) -> None:
        self.counter = counter
        self.window = settings.login_window_seconds
        self.per_pair = settings.login_max_attempts
        self.per_address = settings.login_max_attempts_per_address
        self.per_account = settings.login_max_failures_per_account

    async def before_attempt(self, email: str, address: str) -> None:
        """Count the attempt; raise ``RateLimited`` (429 with Retry-After) when over a limit."""
        pair, retry_pair = await self.counter.hit(f"login:{email}:{address}", self.window)
        if pair > self.per_pair:
            raise RateLimited(retry_pair)
        spread, retry_address = await self.counter.hit(f"login-address:{address}", self.window)
        if spread > self.per_address:
            raise RateLimited(retry_address)
        failures, retry_account = await self.counter.peek(f"login-account:{email}")
        if failures >= self.per_account:
            known, _ = await self.counter.peek(f"login-known:{email}:{address}")
            if not known:
                raise RateLimited(retry_account)

    async def failed(self, email: str) -> None:
        await self.counter.hit(f"login-account:{email}", self.window)

    async def succeeded(self, email: str, address: str) -> None:
        await self.counter.reset(f"login:{email}:{address}")
        await self.counter.hit(f"login-known:{email}:{address}", KNOWN_ADDRESS_SECONDS)
