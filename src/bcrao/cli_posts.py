"""``bcrao posts``: a campaign's top posts as a table in the terminal, read through the
same query as the dashboard's list (so the order and the noise rules are the same)."""

from __future__ import annotations

import uuid

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bcrao.campaigns.models import Campaign
from bcrao.cli_collect import CollectError
from bcrao.cli_format import ARCHETYPE_LABEL, campaign_url
from bcrao.config import Settings
from bcrao.db import make_engine, make_read_sessionmaker
from bcrao.posts import service as posts
from bcrao.posts.schemas import PostFilters, PostOut

TITLE_CHARS = 80


async def show_top_posts(settings: Settings, console: Console, *, campaign_id: str, limit: int) -> None:
    try:
        cid = uuid.UUID(campaign_id)
    except ValueError:
        raise CollectError(f"not a campaign id: {campaign_id!r}", option="--campaign") from None
    engine = make_engine(settings.effective_database_url)
    try:
        async with make_read_sessionmaker(engine)() as session:
            campaign = await session.get(Campaign, cid)
            if campaign is None:
                raise CollectError(f"campaign {campaign_id} not found", option="--campaign")
            filters = PostFilters(sort="-success_score").for_campaign(campaign.noise_posts)
            page = await posts.list_posts(session, campaign_id=cid, filters=filters, page=1, per_page=limit)
    finally:
        await engine.dispose()
    if not page.posts:
        console.print(
            f"No posts in [bold]{escape(campaign.name)}[/] yet:"
            f" collect with `bcrao collect --campaign {cid}`",
            highlight=False,
        )
        return
    console.print(
        posts_table(page.posts, title=f"Top {len(page.posts)} of {page.total:,} posts — {campaign.name}")
    )
    console.print(f"All of them: [bold cyan]{campaign_url(settings, cid)}[/]", highlight=False)


def posts_table(rows: list[PostOut], *, title: str) -> Table:
    table = Table(title=escape(title), show_lines=False, expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("Score", justify="right")
    table.add_column("Archetype")
    table.add_column("Subreddit")
    table.add_column("Title", overflow="fold", max_width=TITLE_CHARS)
    table.add_column("Upvotes", justify="right")
    table.add_column("Comments", justify="right")
    table.add_column("Link", overflow="fold")
    for rank, post in enumerate(rows, 1):
        title = post.title if len(post.title) <= TITLE_CHARS else post.title[: TITLE_CHARS - 1] + "…"
        table.add_row(
            str(rank),
            "—" if post.success_score is None else f"{post.success_score:.1f}",
            ARCHETYPE_LABEL.get(post.archetype, post.archetype),
            f"r/{escape(post.subreddit)}",
            escape(title),
            f"{post.upvotes:,}",
            f"{post.comment_count:,}",
            escape(post.reddit_url),
        )
    return table
