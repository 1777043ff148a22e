"""Hand-built campaigns for the themes tests: topics with disjoint words, so the themes they
make are known in advance, and sentences that are complaints or not by construction.

``topic_docs`` makes ``ThemeDoc`` values for the engine; ``store_docs`` stores the same
posts (and their comments) in a campaign, for the API and the worker."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bcrao.collection import store
from bcrao.collection.models import RawPost
from bcrao.comments.store import comment_rows, insert_comments
from bcrao.sources.base import NormalizedComment
from bcrao.themes.engine import ThemeComment, ThemeDoc

TOPICS = {
    "billing": ["invoice", "billing", "stripe", "refund", "subscription", "checkout", "receipt", "vat"],
    "onboarding": [
        "onboarding",
        "signup",
        "tutorial",
        "walkthrough",
        "activation",
        "welcome",
        "trial",
        "setup",
    ],
    "garden": ["tomato", "garden", "compost", "seedling", "watering", "soil", "harvest", "mulch"],
    "shipping": ["shipping", "parcel", "courier", "warehouse", "tracking", "delivery", "pallet", "customs"],
}
# No word of the engine's negative list in these.
NEUTRAL = (
    "We moved the {a} and the {b} next to the {c} page this week.",
    "Our {a} now sits beside the {b} and the {c} in the main menu.",
    "Yesterday the {a} team shared notes about {b} and {c} with everyone.",
)
NEGATIVE = (
    "The {a} export is broken and the {b} totals are a nightmare with {c}.",
    "I hate how the {a} and {b} screens keep failing on {c} every morning.",
)
_ORDERS = {topic: list(itertools.permutations(words, 3)) for topic, words in TOPICS.items()}
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def sentence(topic: str, n: int, templates: tuple[str, ...]) -> str:
    """The ``n``-th sentence of a topic: each one different (another order of its words)."""
    a, b, c = _ORDERS[topic][(n * 37) % len(_ORDERS[topic])]  # 37: prime to 336 orders
    return templates[n % len(templates)].format(a=a, b=b, c=c)


def topic_docs(
    topic: str,
    count: int,
    *,
    archetype: str = "Journey",
    negative_posts: bool = False,
    negative_comments: bool = False,
    comments: int = 0,
    upvotes: int = 10,
    comment_count: int = 2,
    title: str | None = None,
    text: bool = True,
    start: int = 0,
) -> list[ThemeDoc]:
    """``count`` posts about ``topic``; ``negative_posts``: each post's text holds one
    complaint after a neutral sentence; ``negative_comments``: its comments complain."""
    docs, words = [], TOPICS[topic]
    for i in range(start, start + count):
        body = ""
        if text:
            body = sentence(topic, 3 * i, NEUTRAL)
            if negative_posts:
                body += " " + sentence(topic, 3 * i + 1, NEGATIVE)
        post_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{topic}-{i}")
        url = f"https://www.reddit.com/r/test/comments/{topic[:3]}{i}/"
        doc = ThemeDoc(
            post_id=post_id,
            title=title
            if title is not None
            else f"{words[i % 8].title()} and {words[(i + 3) % 8]} notes from this week",
            text=body,
            archetype=archetype,
            success_score=5.0,
            upvotes=upvotes,
            comment_count=comment_count,
            created=NOW - timedelta(hours=i),
            reddit_url=url,
        )
        for j in range(comments):
            said = sentence(topic, 3 * i + 2 + 100 * (j + 1), NEGATIVE if negative_comments else NEUTRAL)
            cid = f"c{topic[:3]}{i}x{j}"
            doc.comments.append(
                ThemeComment(uuid.uuid5(uuid.NAMESPACE_URL, cid), said, 3 + j, f"{url}{cid}/")
            )
        docs.append(doc)
    return docs


async def store_docs(sessionmaker, *, campaign_id: str, user_id: str, docs: list[ThemeDoc]) -> None:
    """Store the posts and their comments in a campaign, as a collection would."""
    cid, uid = uuid.UUID(campaign_id), uuid.UUID(user_id)
    rows = [
        {
            "campaign_id": cid,
            "user_id": uid,
            "run_id": None,
            "subreddit": "test",
            "subreddit_key": "test",
            "reddit_post_id": d.reddit_url.rstrip("/").rsplit("/", 1)[1],
            "reddit_url": d.reddit_url,
            "author": "a",
            "title": d.title,
            "raw_text": d.text,
            "upvotes": d.upvotes,
            "comment_count": d.comment_count,
            "upvote_ratio": 1.0,
            "reddit_created_at": d.created,
            "archetype": d.archetype,
            "relevance_score": 1.0,
            "success_score": d.success_score,
            "score_breakdown": {},
            "is_ai_processed": False,
            "classifier": "model",
        }
        for d in docs
    ]
    async with sessionmaker() as session:
        await store.insert_posts(session, campaign_id=cid, run_id=uuid.uuid4(), rows=rows)
        ids = dict(
            (
                await session.execute(
                    select(RawPost.reddit_post_id, RawPost.id).where(RawPost.campaign_id == cid)
                )
            ).all()
        )
        for doc, row in zip(docs, rows, strict=True):
            reddit_id = row["reddit_post_id"]
            comments = [
                NormalizedComment(
                    id=c.reddit_url.rstrip("/").rsplit("/", 1)[1],
                    post_id=reddit_id,
                    parent_id=f"t3_{reddit_id}",
                    depth=0,
                    author="b",
                    body=c.body,
                    upvotes=c.upvotes,
                    created_utc=doc.created + timedelta(minutes=5),
                )
                for c in doc.comments
            ]
            await insert_comments(
                session,
                campaign_id=cid,
                post_id=ids[reddit_id],
                run_id=None,
                rows=comment_rows(
                    comments, campaign_id=cid, user_id=uid, post_id=ids[reddit_id], run_id=None
                ),
            )
        await session.commit()
