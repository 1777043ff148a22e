"""Comments collected after each subreddit's posts: counted, screened, never twice."""

from __future__ import annotations

from sqlalchemy import func, select

from bcrao.collection.models import CollectionRun, RawPost
from bcrao.collection.pipeline import CollectionPipeline, RunOptions
from bcrao.comments.models import CommentTotal, RawComment
from bcrao.sources.base import CommentResult, SourceError
from tests.collection.test_pipeline import Events, RecordingSource, another_run, new_run


class FlakyComments(RecordingSource):
    """The sample corpus; one post's thread fails, another's post is gone."""

    def __init__(
        self, failing_post: str | None = None, gone_post: str | None = None, removed_post: str | None = None
    ) -> None:
        super().__init__()
        self.failing_post, self.gone_post, self.removed_post = failing_post, gone_post, removed_post
        self.comment_requests: list[str] = []

    async def fetch_comments(self, request, *, on_wait=None):
        self.comment_requests.append(request.post_id)
        if request.post_id == self.failing_post:
            raise SourceError("reddit_error", "Reddit answered 500")
        if request.post_id == self.gone_post:
            return CommentResult(comments=[], post_gone=True)
        if request.post_id == self.removed_post:
            return CommentResult(comments=[], post_gone=True, gone_as="removed")
        return await self.inner.fetch_comments(request, on_wait=on_wait)


def options(run_id, comments: int = 20) -> RunOptions:
    return RunOptions(run_id=run_id, mode="hybrid", max_posts_per_subreddit=60, comments_per_post=comments)


async def test_comments_of_kept_posts_are_stored_and_counted_everywhere(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS", "startups"))
    events = Events()
    tally = await CollectionPipeline(sessionmaker=maker, source=RecordingSource()).run(
        snapshot, options(run_id), events
    )
    assert tally.comments_stored > 100
    assert tally.comments_fetched >= tally.comments_stored
    async with maker() as s:
        stored = await s.scalar(select(func.count()).select_from(RawComment))
        run = await s.get(CollectionRun, run_id)
        per_post = dict((await s.execute(select(RawPost.id, RawPost.comments_collected))).all())
        counted = dict(
            (await s.execute(select(RawComment.post_id, func.count()).group_by(RawComment.post_id))).all()
        )
        totals = await s.get(CommentTotal, snapshot.id)
        deepest = await s.scalar(select(func.max(RawComment.depth)))
        deleted = list(await s.scalars(select(RawComment).where(RawComment.is_deleted.is_(True))))
    assert stored == tally.comments_stored == run.comments_stored
    assert run.comments_fetched == tally.comments_fetched
    # The post's own count and the campaign totals were kept with the comments.
    assert {k: v for k, v in per_post.items() if v} == counted
    assert max(counted.values()) <= 20
    assert (totals.comments, totals.posts_with_comments) == (stored, len(counted))
    assert deepest >= 1
    assert deleted and all(c.author is None and c.body is None for c in deleted)
    stages = [e["stage"] for e in events]
    assert "comments" in stages
    assert stages.index("comments") > stages.index("storing")
    last = [e for e in events if e["stage"] == "comments"][-1]
    assert last["comments_stored"] <= tally.comments_stored and "comments_fetched" in last


async def test_re_collecting_stores_only_new_comments(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS",))
    first = await CollectionPipeline(sessionmaker=maker, source=RecordingSource()).run(
        snapshot, options(run_id, comments=10), Events()
    )
    second_id = await another_run(maker, snapshot)
    second = await CollectionPipeline(sessionmaker=maker, source=RecordingSource()).run(
        snapshot, options(second_id, comments=25), Events()
    )
    async with maker() as s:
        stored = await s.scalar(select(func.count()).select_from(RawComment))
        by_second = await s.scalar(
            select(func.count()).select_from(RawComment).where(RawComment.run_id == second_id)
        )
        totals = await s.get(CommentTotal, snapshot.id)
        collected = await s.scalar(select(func.sum(RawPost.comments_collected)))
    assert first.comments_stored > 0 and second.comments_stored > 0  # the deeper half of the threads
    assert stored == first.comments_stored + second.comments_stored == totals.comments == collected
    assert by_second == second.comments_stored


async def test_a_failing_thread_or_a_deleted_post_is_a_warning_and_the_run_goes_on(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS",))
    probe = FlakyComments()
    await CollectionPipeline(sessionmaker=maker, source=probe).run(snapshot, options(run_id), Events())
    failing, gone, removed = probe.comment_requests[:3]

    snapshot, run_id = await new_run(maker, subreddits=("SaaS",))
    source = FlakyComments(failing_post=failing, gone_post=gone, removed_post=removed)
    tally = await CollectionPipeline(sessionmaker=maker, source=source).run(
        snapshot, options(run_id), Events()
    )
    assert tally.outcome(1) == "complete" and tally.comments_stored > 0
    joined = " | ".join(tally.warnings)
    assert f"{failing}) could not be read (Reddit answered 500)" in joined
    assert f"{gone}) were not collected: the post was deleted on Reddit" in joined
    assert f"{removed}) were not collected: the post was removed on Reddit by its moderators" in joined
    async with maker() as s:
        run = await s.get(CollectionRun, run_id)
        kept = await s.scalar(
            select(func.count()).select_from(RawComment).where(RawComment.campaign_id == snapshot.id)
        )
    assert run.warnings == tally.warnings and kept == tally.comments_stored


async def test_zero_comments_per_post_fetches_no_thread(maker):
    snapshot, run_id = await new_run(maker, subreddits=("SaaS",))
    source = FlakyComments()
    tally = await CollectionPipeline(sessionmaker=maker, source=source).run(
        snapshot, options(run_id, comments=0), Events()
    )
    assert tally.stored > 0 and source.comment_requests == [] and tally.comments_stored == 0
