"""Keep a rejected sample: the founder says the pre-filter was wrong to throw this post away.

The post is stored like a kept post of the run that rejected it (``store.insert_posts``, so
``post_counts`` and every total stay exact), labelled by the classifier the user's runs use
(their adapted model, and their own label if they labelled the post elsewhere), and recorded
as a correction of kind ``keep``. Keeping it twice returns the same post.

What is stored is what the sample holds: the post as the source gave it (the whole text,
author, votes, comment count and creation time; ``rejected_samples.post``), its title and
Reddit link. Samples stored before that column existed hold only the first 300 characters
of the text: for them the raw text is the preview, the author is unknown, the engagement is
0 and ``reddit_created_at`` is when the run started (fetching the post again would need the
network inside a request). The engagement parts of the success score are the neutral middle
of an empty reference either way: one post has no subreddit to be ranked against.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.campaigns.models import Campaign
from bcrao.collection import personal, store
from bcrao.collection.models import CollectionRun, RawPost, RejectedSample
from bcrao.collection.prefilter import PreFilter
from bcrao.collection.scoring import SubredditScorer
from bcrao.config import Settings
from bcrao.db import new_id, utcnow
from bcrao.errors import NotFound
from bcrao.posts import corrections
from bcrao.posts.schemas import PostDetail
from bcrao.posts.service import PostNotFound, get_post
from bcrao.sources.base import NormalizedPost


class SampleNotFound(NotFound):
    message = "Rejected sample not found"


async def keep_sample(
    session: AsyncSession, *, user_id: uuid.UUID, run: CollectionRun, reddit_post_id: str, settings: Settings
) -> PostDetail:
    sample = await session.scalar(
        select(RejectedSample)
        .where(RejectedSample.run_id == run.id, RejectedSample.reddit_post_id == reddit_post_id)
        .order_by(RejectedSample.id)
        .limit(1)
    )
    campaign = await session.scalar(select(Campaign).where(Campaign.id == run.campaign_id))
    if sample is None or campaign is None:
        raise SampleNotFound()
    stored = await _stored_id(session, campaign.id, reddit_post_id)
    if stored is None:
        classifier = await personal.classifier_for_user(session, user_id=user_id, settings=settings)
        row = _row(sample, run=run, campaign=campaign, classifier=classifier)
        await store.insert_posts(session, campaign_id=campaign.id, run_id=run.id, rows=[row])
        stored = await _stored_id(session, campaign.id, reddit_post_id)
        if stored is None:  # not stored (e.g. a post purged from the campaign)
            raise PostNotFound()
        if stored == row["id"]:  # ours, not a concurrent keep's: record it once
            post = await session.get_one(RawPost, stored)
            corrections.record(session, user_id, post, kind="keep", archetype=post.archetype, machine={})
            await session.flush()
            await corrections.bump_version(session, campaign.id)
    return await get_post(session, campaign_id=campaign.id, post_id=stored)


async def _stored_id(session: AsyncSession, campaign_id: uuid.UUID, reddit_post_id: str) -> uuid.UUID | None:
    return await session.scalar(
        select(RawPost.id).where(RawPost.campaign_id == campaign_id, RawPost.reddit_post_id == reddit_post_id)
    )


def _row(
    sample: RejectedSample, *, run: CollectionRun, campaign: Campaign, classifier: Any
) -> dict[str, Any]:
    """The post row, as the pipeline's score step builds one (see the module docstring)."""
    url = (
        sample.reddit_url or f"https://www.reddit.com/r/{sample.subreddit}/comments/{sample.reddit_post_id}/"
    )
    # The whole post as it was collected; samples stored before kept only a preview.
    kept = sample.post or {}
    created = kept.get("created_utc")
    post = NormalizedPost(
        id=sample.reddit_post_id,
        subreddit=sample.subreddit,
        title=sample.title,
        text=kept.get("text", sample.text_preview or ""),
        author=kept.get("author"),
        url=kept.get("url") or url,
        permalink=url,
        upvotes=int(kept.get("upvotes") or 0),
        comment_count=int(kept.get("comment_count") or 0),
        upvote_ratio=kept.get("upvote_ratio"),
        created_utc=datetime.fromisoformat(created) if created else (run.started_at or run.created_at),
    )
    decision = PreFilter(campaign.keywords, context=campaign.product_context or "").kept_anyway(post)
    label = classifier.classify(post)
    score, breakdown = SubredditScorer([]).score(post)
    return {
        "id": new_id(),
        "campaign_id": campaign.id,
        "user_id": campaign.user_id,
        "run_id": run.id,
        "subreddit": post.subreddit[:32],
        "subreddit_key": post.subreddit.lower()[:32],
        "reddit_post_id": post.id,
        "reddit_url": url,
        "author": post.author,
        "title": post.title,
        "raw_text": post.text,
        "upvotes": post.upvotes,
        "comment_count": post.comment_count,
        "upvote_ratio": post.upvote_ratio,
        "reddit_created_at": post.created_utc,
        "archetype": label.archetype,
        "relevance_score": decision.relevance_score,
        "success_score": score,
        "score_breakdown": breakdown,
        "is_ai_processed": False,
        "classifier": classifier.name,
        "collected_at": utcnow(),
        "archetype_confidence": round(label.confidence, 3),
        "archetype_source": "model",
        "archetype_reasons": label.reasons[:5],
        "matched_keywords": list(decision.matched_keywords),
        "relevance_breakdown": decision.signals,
    }
