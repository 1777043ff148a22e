"""A rejected sample the user keeps is stored as the post it was, not as its preview."""

from __future__ import annotations

from sqlalchemy import select

from bcrao.collection.models import CollectionRun, RejectedSample
from bcrao.collection.runner import execute_run
from bcrao.db import session_scope
from bcrao.posts.keep import keep_sample
from bcrao.progress.bus import MemoryBus
from bcrao.sources.base import FetchRequest
from bcrao.sources.sample import SampleSource
from tests.collection.test_pipeline import new_run


async def test_a_kept_sample_has_its_whole_text_author_engagement_and_date(maker, make_settings):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS", "startups"))
    settings = make_settings()
    assert (
        await execute_run(
            run_id=run_id, settings=settings, sessionmaker=maker, bus=MemoryBus(), source=SampleSource()
        )
        == "complete"
    )
    source_posts = {}
    for sub in ("SaaS", "startups"):
        request = FetchRequest(subreddit=sub, keywords=[], mode="historical", limit=1000)
        for post in (await SampleSource().fetch(request)).posts:
            source_posts[post.id] = post
    async with maker() as s:
        samples = (await s.scalars(select(RejectedSample).where(RejectedSample.run_id == run_id))).all()
    long = [x for x in samples if len(source_posts[x.reddit_post_id].text) > 300]
    assert long, "the sample corpus rejects some long posts (e.g. promotional)"
    sample = long[0]
    original = source_posts[sample.reddit_post_id]
    async with session_scope(maker) as s:
        run = await s.get(CollectionRun, run_id)
        kept = await keep_sample(
            s, user_id=snapshot.user_id, run=run, reddit_post_id=sample.reddit_post_id, settings=settings
        )
    assert len(sample.text_preview) == 300  # what the review list shows ...
    assert kept.raw_text == original.text  # ... and what is stored: the whole post
    assert (kept.author, kept.upvotes, kept.comment_count) == (
        original.author,
        original.upvotes,
        original.comment_count,
    )
    assert kept.reddit_created_at == original.created_utc
