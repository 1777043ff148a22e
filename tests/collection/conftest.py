"""Factories for the content-quality tests (pre-filter, classifier, scorer)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bcrao.db import make_engine, make_sessionmaker
from bcrao.sources.base import NormalizedPost

_ids = itertools.count(1)


def build_post(**overrides: Any) -> NormalizedPost:
    """A plausible self post; override any field."""
    post_id = overrides.pop("id", f"t{next(_ids)}")
    fields: dict[str, Any] = {
        "id": post_id,
        "subreddit": "SaaS",
        "title": "Looking for a sanity check on our onboarding emails",
        "text": (
            "We run a small analytics tool for agencies and have been rewriting our onboarding emails. "
            "Open rates are fine but very few people come back after the second day. I would like to hear "
            "how other founders structure the first week of emails for a new account."
        ),
        "author": "some_founder",
        "url": f"https://www.reddit.com/r/SaaS/comments/{post_id}/x/",
        "permalink": f"https://www.reddit.com/r/SaaS/comments/{post_id}/x/",
        "upvotes": 10,
        "comment_count": 4,
        "upvote_ratio": 0.9,
        "created_utc": datetime(2026, 10, 1, tzinfo=UTC),
    }
    fields.update(overrides)
    return NormalizedPost(**fields)


@pytest.fixture
def make_post() -> Callable[..., NormalizedPost]:
    return build_post


@pytest.fixture
async def maker(db):
    """A sessionmaker on the suite's empty, migrated database."""
    engine = make_engine(db)
    yield make_sessionmaker(engine)
    await engine.dispose()
