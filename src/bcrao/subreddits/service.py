"""Does a subreddit exist, and can it be read? Asked of the configured source before a run.

One checker per process (``Runtime.subreddits``): it keeps one source client (Reddit's
OAuth token and rate budget are reused between checks) and remembers definite answers for
a while, so a form that re-checks as someone types costs the Reddit budget once per name.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from bcrao.config import Settings
from bcrao.sources.base import PostSource, SubredditCheck
from bcrao.sources.factory import make_source

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 10.0  # someone is waiting at a form
REMEMBER_SECONDS = 600.0
REMEMBER_NAMES = 2048


class SubredditChecker:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._source: PostSource | None = None
        self._unavailable: str | None = None
        self._known: OrderedDict[str, tuple[float, SubredditCheck]] = OrderedDict()
        self._lock = asyncio.Lock()

    async def check(self, names: list[str]) -> list[SubredditCheck]:
        """One answer per name, in order; the same name (any case) is asked once."""
        distinct = list(dict.fromkeys(n.lower() for n in names))
        spelled = {n.lower(): n for n in reversed(names)}  # the first spelling of each
        by_key: dict[str, SubredditCheck] = {}
        if distinct:
            # The first alone: a fresh client authenticates once instead of once per name.
            by_key[distinct[0]] = await self._check_one(spelled[distinct[0]])
        rest = await asyncio.gather(*(self._check_one(spelled[key]) for key in distinct[1:]))
        by_key.update(zip(distinct[1:], rest, strict=True))
        return [_as_named(by_key[n.lower()], n) for n in names]

    async def _check_one(self, name: str) -> SubredditCheck:
        key = name.lower()
        remembered = self._known.get(key)
        if remembered is not None and remembered[0] > self._clock():
            return remembered[1]
        source = await self._get_source()
        if source is None:
            return SubredditCheck(name, "unknown", f"r/{name} cannot be checked: {self._unavailable}")
        try:
            answer = await asyncio.wait_for(source.check_subreddit(name), CHECK_TIMEOUT_SECONDS)
        except TimeoutError:
            return SubredditCheck(name, "unknown", f"The source did not answer about r/{name} in time")
        except Exception as exc:  # a check is advice: a failing source must not fail the form
            log.warning("checking r/%s failed: %s", name, type(exc).__name__)
            return SubredditCheck(name, "unknown", f"r/{name} could not be checked right now")
        if answer.status != "unknown":
            self._remember(key, answer)
        return answer

    def _remember(self, key: str, answer: SubredditCheck) -> None:
        self._known[key] = (self._clock() + REMEMBER_SECONDS, answer)
        self._known.move_to_end(key)
        while len(self._known) > REMEMBER_NAMES:
            self._known.popitem(last=False)

    async def _get_source(self) -> PostSource | None:
        async with self._lock:
            if self._source is None and self._unavailable is None:
                try:
                    self._source = make_source(self._settings)
                except ValueError as exc:  # e.g. the reddit source without credentials
                    self._unavailable = str(exc)
            return self._source

    async def aclose(self) -> None:
        if self._source is not None:
            await self._source.aclose()
            self._source = None


def _as_named(answer: SubredditCheck, name: str) -> SubredditCheck:
    """A remembered answer, under the spelling this caller used."""
    if answer.name == name:
        return answer
    return SubredditCheck(name, answer.status, answer.message, answer.suggestion)
