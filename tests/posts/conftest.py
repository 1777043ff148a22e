"""A campaign with a known set of stored posts, runs and rejected samples.

Rows go straight into the database through the app's sessionmaker (no pipeline), so every
expectation in these tests is computed from ``SEED_POSTS`` in plain Python, independently
of the service under test.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bcrao.collection import store
from bcrao.collection.models import CollectionRun, RejectedSample, RunLedger
from tests.conftest import make_campaign

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LONG_TEXT = "I run a tiny SaaS and churn was brutal. " * 30  # 1,200 chars: longer than the snippet
TARGETS = ["SaaS", "startups", "Entrepreneur"]  # Entrepreneur never gets a post

# (subreddit as stored, archetype, success_score, upvotes, comments, hours after BASE_TIME,
#  title, text, author)
SEED_POSTS: list[tuple[Any, ...]] = [
    ("SaaS", "Journey", 9.5, 120, 40, 1, "Churn is killing our MRR", "We lost 8% last month.", "founder1"),
    ("saas", "ProblemSolution", 7.25, 80, 12, 2, "How we cut CHURN by half", LONG_TEXT, "founder2"),
    ("SaaS", "Feedback", 5.0, 30, 30, 3, "Pricing page feedback, please", "Be brutal about pricing.", None),
    ("startups", "Journey", 5.0, 30, 5, 4, "From 0 to 1k MRR", "Our churn story and pricing.", "maker"),
    ("startups", "Unclassified", 0.0, 0, 0, 5, "Hello", "First post here.", "newbie"),
    ("SaaS", "ProblemSolution", 10.0, 500, 200, 6, "100% growth in a year", "Pricing changes did it.", "x"),
    ("startups", "Feedback", 1.0, 2, 1, 7, "snake_case naming for APIs?", "Asking for feedback.", "dev"),
    ("SaaS", "Unclassified", 0.99, 3, 0, 8, "one two three", "Plain words only in 2024 plans.", "plain"),
    ("startups", "Journey", 9.0, 45, 45, 9, "Line one\nline two, with comma", 'He said "hi"; ok', "poet"),
    ("SaaS", "Feedback", 3.5, 10, 2, 10, "=SUM(A1:A9)", "+cmd injection in text", "-dash-author"),
    ("SaaS", "ProblemSolution", 4.2, 10, 7, 11, "+1 for this tool", "-starts with minus", "@at"),
    ("startups", "Feedback", 6.6, 12, 12, 12, "-negative title", "@mention in text", "tabber"),
    ("startups", "ProblemSolution", 8.0, 60, 9, 13, "@handle asks about churn", "type_tag in text", "p"),
    ("SaaS", "Journey", 2.0, 7, 3, 14, "Ünïcödé title café", "Texte en français: très bien.", "fr"),
    (
        "smallbusiness",
        "Journey",
        5.0,
        30,
        30,
        15,
        "Stray subreddit post",
        "Stored before targets changed.",
        "s",
    ),
    ("startups", "Unclassified", 9.99, 30, 30, 15, "Same time as the stray", "tie on created_at", "t"),
    ("SaaS", "Feedback", 7.25, 80, 12, 16, "Tied score with post 2", "churn chat", "tie"),
]

RUNS = [
    # (status, scraped, filtered, classified, stored, filter_reasons, hours after BASE_TIME)
    ("complete", 40, 10, 2, 9, {"too_short": 20, "link_only": 10}, 0),
    ("partial", 30, 9, 1, 8, {"too_short": 15, "nsfw": 6}, 20),
]

REJECTED = [("too_short", 5), ("link_only", 3), ("nsfw", 2)]  # samples of the first run


@dataclass
class Seed:
    campaign: dict[str, Any]
    headers: dict[str, str]
    posts: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def campaign_id(self) -> str:
        return self.campaign["id"]

    def url(self, suffix: str = "/posts") -> str:
        return f"/v1/campaigns/{self.campaign_id}{suffix}"


def post_rows(campaign_id: uuid.UUID, user_id: uuid.UUID, run_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = []
    for i, (sub, arch, score, ups, comments, hours, title, text, author) in enumerate(SEED_POSTS):
        rows.append(
            {
                "id": uuid.uuid4(),
                "campaign_id": campaign_id,
                "user_id": user_id,
                "run_id": run_ids[i % len(run_ids)],
                "subreddit": sub,
                "subreddit_key": sub.lower(),
                "reddit_post_id": f"t3_{i:04d}",
                "reddit_url": f"https://www.reddit.com/r/{sub}/comments/{i:04d}/",
                "author": author,
                "title": title,
                "raw_text": text,
                "upvotes": ups,
                "comment_count": comments,
                "upvote_ratio": None if i == 4 else 0.9,
                "reddit_created_at": BASE_TIME + timedelta(hours=hours),
                "archetype": arch,
                "relevance_score": round(score / 2, 2),
                "success_score": score,
                "score_breakdown": {"total": score, "upvotes_percentile": 1.5},
                "is_ai_processed": arch != "Unclassified" and i % 2 == 0,
                "classifier": None if arch == "Unclassified" else ("llm" if i % 2 == 0 else "rules"),
                "collected_at": BASE_TIME + timedelta(days=1),
                "archetype_confidence": None if arch == "Unclassified" else round(0.35 + (i % 7) / 10, 2),
                "archetype_source": None if arch == "Unclassified" else ("llm" if i % 2 == 0 else "model"),
                "archetype_reasons": [] if arch == "Unclassified" else ["churn", f"reason {i}"],
                "matched_keywords": [k for k in ("churn", "pricing") if k in f"{title} {text}".lower()],
            }
        )
    return rows


async def seed(app, client, owner: dict, **campaign_overrides: Any) -> Seed:
    campaign = await make_campaign(
        client, owner["headers"], **{"target_subreddits": TARGETS, **campaign_overrides}
    )
    cid, uid = uuid.UUID(campaign["id"]), uuid.UUID(owner["user"]["id"])
    result = Seed(campaign=campaign, headers=owner["headers"])
    async with app.state.runtime.sessionmaker() as session:
        runs = []
        for status, scraped, filtered, classified, stored, reasons, hours in RUNS:
            created = datetime.now(UTC) - timedelta(days=2) + timedelta(hours=hours)
            run = CollectionRun(
                campaign_id=cid,
                user_id=uid,
                status=status,
                source="sample",
                classifier="rules",
                scraped=scraped,
                filtered=filtered,
                classified=classified,
                stored=stored,
                filter_reasons=reasons,
                created_at=created,
                started_at=created,
                finished_at=created + timedelta(minutes=3),
            )
            session.add(run)
            await session.flush()
            session.add(RunLedger(user_id=uid, run_id=run.id, created_at=created))
            runs.append(run)
        for reason, count in REJECTED:
            for n in range(count):
                session.add(
                    RejectedSample(
                        run_id=runs[0].id,
                        reason=reason,
                        reddit_post_id=f"r_{reason[:4]}{n}",
                        subreddit="SaaS",
                        title=f"{reason} sample {n}",
                        text_preview=f"{reason} sample {n} text",
                        reddit_url=f"https://www.reddit.com/r/SaaS/comments/r_{reason[:4]}{n}/",
                    )
                )
        rows = post_rows(cid, uid, [r.id for r in runs])
        # Stored the way the pipeline stores them, so per-campaign counts are kept too.
        outcome = await store.insert_posts(session, campaign_id=cid, run_id=runs[0].id, rows=rows)
        assert outcome.stored == len(rows)
        await session.commit()
    result.runs = [
        {"id": str(r.id), "status": r.status, "created_at": r.created_at, "finished_at": r.finished_at}
        for r in runs
    ]
    result.posts = rows
    return result


@pytest.fixture
async def seeded(app, client, alice) -> Seed:
    return await seed(app, client, alice)


# ---- expectations, computed from the seed in plain Python -----------------------------------

SORT_COLUMNS = {
    "-success_score": ("success_score", True),
    "success_score": ("success_score", False),
    "-reddit_created_at": ("reddit_created_at", True),
    "-upvotes": ("upvotes", True),
    "-comment_count": ("comment_count", True),
    "-relevance_score": ("relevance_score", True),
}


def matches_words(post: dict[str, Any], q: str) -> bool:
    """The search oracle: every letter/digit run of the query begins a word of the post."""
    post_words = re.split(r"[\W_]+", f"{post['title']} {post['raw_text']}".lower())
    wanted = [w for w in re.split(r"[\W_]+", q.lower()) if w]
    return all(any(word.startswith(w) for word in post_words) for w in wanted)


def expected_ids(posts: list[dict[str, Any]], sort: str = "-success_score", **filters: Any) -> list[str]:
    """The ids the list should return, in order, for the given filters."""
    selected = []
    for p in posts:
        if "archetype" in filters and p["archetype"] != filters["archetype"]:
            continue
        if "subreddit" in filters and p["subreddit_key"] != filters["subreddit"].lower():
            continue
        if "min_score" in filters and p["success_score"] < filters["min_score"]:
            continue
        if "max_score" in filters and p["success_score"] > filters["max_score"]:
            continue
        if "q" in filters and not matches_words(p, filters["q"]):
            continue
        if "min_confidence" in filters and (p["archetype_confidence"] or 0) < filters["min_confidence"]:
            continue
        if "min_confidence" in filters and p["archetype_confidence"] is None:
            continue
        if "archetype_source" in filters and p["archetype_source"] != filters["archetype_source"]:
            continue
        if "mentions_keywords" in filters and bool(p["matched_keywords"]) != filters["mentions_keywords"]:
            continue
        selected.append(p)
    column, descending = SORT_COLUMNS[sort]
    selected.sort(key=lambda p: (p[column], p["id"]), reverse=descending)
    return [str(p["id"]) for p in selected]
