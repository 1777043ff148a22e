"""Deterministic Reddit t3 ``data`` dicts in the shape the real API returns.

Every subreddit gets the same posts on every run (seeded by its name), with the untidiness
of real listings: older-schema items missing optional keys (``upvote_ratio``,
``author_fullname``, ``link_flair_text``), ``[removed]``/``[deleted]`` posts, link posts whose
``selftext`` is empty, a stickied and an NSFW post, and titles carrying the cues the
classifiers look for (stories, questions, requests for feedback).
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_NEWEST = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

_JOURNEY = [
    (
        "How I grew my {product} from 0 to ${mrr} MRR in {months} months",
        "I started building {product} on nights and weekends. My first {n} customers came from cold "
        "email. Here is what worked, what failed and what I would do differently.",
    ),
    (
        "My journey: quit my job, launched {product}, {n} paying users later",
        "Last year I quit my job to work on {product} full time. I made plenty of mistakes along the "
        "way. I learned that talking to users beats building features.",
    ),
]
_PROBLEM = [
    (
        "How do I get my first {n} users for {product}?",
        "I've been struggling with distribution for weeks. Is there a tool or a playbook that helped "
        "you solve this? Any advice appreciated.",
    ),
    (
        "What tool do you use to handle churn in a {product}?",
        "Our churn is killing us. How do you fix onboarding drop-off? Looking for a solution that "
        "doesn't need a data team.",
    ),
]
_FEEDBACK = [
    (
        "Roast my landing page: {product}",
        "Would love honest feedback on the pricing page and the copy. What do you think of the "
        "onboarding? Be brutal.",
    ),
    (
        "Feedback wanted on my {product} pricing",
        "I'm torn between $9 and $29 a month. Thoughts? Does the value proposition make sense to you?",
    ),
]
_PRODUCTS = [
    "invoicing app",
    "CRM for plumbers",
    "SEO tool",
    "newsletter platform",
    "habit tracker",
    "Chrome extension",
    "AI note taker",
    "scheduling SaaS",
]


def base36(number: int) -> str:
    out = ""
    while True:
        number, digit = divmod(number, 36)
        out = _DIGITS[digit] + out
        if number == 0:
            return out


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.lower().encode()).digest()[:4], "big")


def generate_posts(
    subreddit: str,
    count: int,
    *,
    newest: datetime = DEFAULT_NEWEST,
    spacing: timedelta = timedelta(hours=2),
) -> list[dict[str, Any]]:
    """``count`` posts of ``subreddit``, newest first, ``spacing`` apart on average."""
    rng = random.Random(_seed(subreddit))
    id_base = (_seed(subreddit) % 50_000 + 1) * 1_000_000
    posts = []
    for index in range(count):
        created = newest - spacing * index - timedelta(seconds=rng.randint(0, 600))
        posts.append(_post(subreddit, index, base36(id_base + count - index), created, rng))
    return posts


def _post(subreddit: str, index: int, post_id: str, created: datetime, rng: random.Random) -> dict[str, Any]:
    product = rng.choice(_PRODUCTS)
    family = rng.choice([_JOURNEY, _PROBLEM, _FEEDBACK])
    title_t, body_t = rng.choice(family)
    values = {
        "product": product,
        "mrr": rng.choice([500, 2_000, 10_000]),
        "months": rng.randint(3, 18),
        "n": rng.choice([10, 100, 1_000]),
    }
    title, selftext = title_t.format(**values), body_t.format(**values)
    slug = "_".join(title.lower().split()[:6]).replace("$", "").replace(":", "").replace("?", "")
    permalink = f"/r/{subreddit}/comments/{post_id}/{slug}/"
    score = int(rng.paretovariate(1.2) * 3)
    author = f"founder_{rng.randint(1, 400)}"
    data: dict[str, Any] = {
        "approved_at_utc": None,
        "subreddit": subreddit,
        "selftext": selftext,
        "author_fullname": f"t2_{base36(rng.randint(10**6, 10**8))}",
        "saved": False,
        "title": title,
        "downs": 0,
        "name": f"t3_{post_id}",
        "upvote_ratio": round(rng.uniform(0.5, 1.0), 2),
        "ups": score,
        "score": score,
        "link_flair_text": rng.choice([None, "Discussion", "Question", "Feedback"]),
        "num_comments": rng.randint(0, 120),
        "created": created.timestamp(),
        "created_utc": created.timestamp(),
        "url": f"https://www.reddit.com{permalink}",
        "permalink": permalink,
        "is_self": True,
        "stickied": False,
        "over_18": False,
        "spoiler": False,
        "locked": False,
        "archived": False,
        "edited": False,
        "distinguished": None,
        "subreddit_name_prefixed": f"r/{subreddit}",
        "subreddit_id": f"t5_{base36(_seed(subreddit))}",
        "id": post_id,
        "author": author,
        "domain": f"self.{subreddit}",
        "num_crossposts": 0,
        "is_video": False,
        "removed_by_category": None,
        "thumbnail": "self",
        "selftext_html": f'<!-- SC_OFF --><div class="md"><p>{selftext}</p></div><!-- SC_ON -->',
    }
    if index == 0:
        data["stickied"] = True
        data["distinguished"] = "moderator"
    if index % 11 == 5:  # link post: the body is the link, selftext is empty
        data.update(
            is_self=False,
            selftext="",
            selftext_html=None,
            domain="example.com",
            thumbnail="default",
            url=f"https://example.com/blog/{post_id}",
            post_hint="link",
        )
    elif index % 13 == 7:
        data.update(selftext="[removed]", removed_by_category="moderator", selftext_html=None)
    elif index % 17 == 9:
        data.update(
            author="[deleted]", selftext="[deleted]", removed_by_category="deleted", selftext_html=None
        )
        del data["author_fullname"]
    if index % 19 == 3:
        data["over_18"] = True
    if index % 7 == 4:  # the older schema: optional keys simply absent
        for key in (
            "upvote_ratio",
            "author_fullname",
            "link_flair_text",
            "selftext_html",
            "removed_by_category",
        ):
            data.pop(key, None)
    return data
