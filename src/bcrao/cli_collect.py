"""``bcrao collect``: a collection in the terminal with a live Rich display.

It runs the very same pipeline and run bookkeeping as the API (the run shows up in the
dashboard afterwards), in this process, whatever executor the server uses.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao import demo
from bcrao.auth.models import User
from bcrao.campaigns import service as campaigns
from bcrao.campaigns.models import Campaign
from bcrao.campaigns.schemas import CampaignCreate
from bcrao.cli_format import ARCHETYPE_LABEL, FILTER_REASON_LABEL, campaign_url, humanize
from bcrao.collection import service as runs
from bcrao.collection.models import CollectionRun, RawPost
from bcrao.collection.runner import execute_run
from bcrao.collection.schemas import CollectRequest
from bcrao.config import Settings
from bcrao.db import make_engine, make_sessionmaker, session_scope
from bcrao.errors import AppError
from bcrao.posts import export
from bcrao.posts import service as posts
from bcrao.posts.schemas import PostFilters
from bcrao.progress.bus import MemoryBus
from bcrao.sources.factory import make_source

DEFAULT_KEYWORD = "feedback"  # a campaign needs one; relevance is scored against it

STAGES = {
    "queued": "Queued",
    "fetching": "Fetching posts",
    "rate_limited": "Waiting for the rate limit",
    "filtering": "Filtering noise",
    "classifying": "Classifying",
    "scoring": "Scoring",
    "storing": "Storing",
    "comments": "Collecting comments",
}


class CollectError(Exception):
    """Shown to the operator as one line; ``option`` names the option at fault, if one is."""

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


class Display:
    """Live progress: a bar over subreddits plus the funnel counting up."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task("Starting", total=1)
        self.last: dict[str, Any] = {}

    def update(self, event: dict[str, Any]) -> None:
        self.last = event
        total = max(1, int(event.get("total_steps") or 1))
        done_steps = max(0, int(event.get("step") or 0) - 1) + (
            1 if event.get("stage") in ("storing", "comments") else 0.5
        )
        stage = STAGES.get(event.get("stage", ""), event.get("stage", ""))
        where = f" r/{event['subreddit']} ({event['step']} of {total})" if event.get("subreddit") else ""
        if event.get("wait_seconds"):
            stage += f" {event['wait_seconds']:.0f}s"
        self.progress.update(
            self.task, description=f"{stage}{where}", total=total, completed=min(done_steps, total)
        )

    def render(self) -> Group:
        e = self.last
        funnel = Text.assemble(
            ("Scraped ", "dim"),
            (f"{e.get('scraped', 0):,}", "bold"),
            ("  →  kept by the filter ", "dim"),
            (f"{e.get('filtered', 0):,}", "bold"),
            ("  →  classified ", "dim"),
            (f"{e.get('classified', 0):,}", "bold"),
            ("  →  stored ", "dim"),
            (f"{e.get('stored', 0):,}", "bold green"),
            (f"  ({e.get('duplicates', 0):,} already had)", "dim"),
        )
        return Group(self.progress, funnel)


def campaign_key(subreddits: list[str], keywords: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The set a campaign collects, whatever the order or case it was typed in."""
    return (
        tuple(sorted({s.casefold() for s in subreddits})),
        tuple(sorted({k.casefold() for k in keywords})),
    )


def campaign_data(subreddits: list[str], keywords: list[str]) -> CampaignCreate:
    """The campaign ``-s``/``-k`` ask for, validated by the API's own rules."""
    keywords = keywords or [DEFAULT_KEYWORD]
    try:
        data = CampaignCreate(name="CLI", keywords=keywords, target_subreddits=subreddits)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        option = {"target_subreddits": "--subreddit", "keywords": "--keyword"}.get(field)
        where = first["loc"][1] if len(first["loc"]) > 1 else None
        given = {"target_subreddits": subreddits, "keywords": keywords}.get(field, [])
        what = f"{given[where]!r} " if isinstance(where, int) and where < len(given) else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CollectError(f"{what}{message}", option=option) from None
    name = f"CLI: {', '.join('r/' + s for s in data.target_subreddits)} ({', '.join(data.keywords)})"
    return data.model_copy(update={"name": name if len(name) <= 100 else name[:99] + "…"})


async def resolve_user(session: AsyncSession, email: str | None) -> User:
    """The account the run belongs to, one that can log in to the dashboard: the demo
    account (created on first use) unless ``--email`` names another."""
    if email is None:
        return await demo.ensure_demo_user(session)
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise CollectError(
            f"no account {email}; create it with `bcrao user create {email}`", option="--email"
        )
    return user


async def resolve_campaign(
    session: AsyncSession,
    *,
    campaign_id: str | None,
    subreddits: list[str],
    keywords: list[str],
    email: str | None,
) -> tuple[User, Campaign, bool]:
    """(owner, campaign, reused): the campaign given, else the owner's campaign for exactly
    these subreddits and keywords (case and order aside), else a new one."""
    if campaign_id:
        if subreddits or keywords:
            raise CollectError("give --campaign or --subreddit/--keyword, not both", option="--campaign")
        try:
            cid = uuid.UUID(campaign_id)
        except ValueError:
            raise CollectError(f"not a campaign id: {campaign_id!r}", option="--campaign") from None
        campaign = await session.get(Campaign, cid)
        if campaign is None:
            raise CollectError(f"campaign {campaign_id} not found", option="--campaign")
        owner = await session.get(User, campaign.user_id)
        assert owner is not None
        if email is not None and owner.email != email.strip().lower():
            raise CollectError(f"campaign {campaign_id} belongs to another account", option="--email")
        return owner, campaign, True
    if not subreddits:
        raise CollectError("give --campaign ID, or at least one --subreddit", option="--subreddit")
    data = campaign_data(subreddits, keywords)
    user = await resolve_user(session, email)
    wanted = campaign_key(data.target_subreddits, data.keywords)
    candidates = await session.scalars(
        select(Campaign)
        .where(Campaign.user_id == user.id, Campaign.status != "archived")
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )
    for campaign in candidates:
        if campaign_key(list(campaign.target_subreddits), list(campaign.keywords)) == wanted:
            return user, campaign, True
    return user, await campaigns.create_campaign(session, user_id=user.id, data=data), False


async def collect(
    settings: Settings,
    console: Console,
    *,
    campaign_id: str | None,
    subreddits: list[str],
    keywords: list[str],
    email: str | None,
    mode: str,
    max_posts: int,
    export_to: Path | None = None,
) -> CollectionRun:
    engine = make_engine(settings.effective_database_url)
    maker = make_sessionmaker(engine)
    source = make_source(settings)
    bus = MemoryBus()
    display = Display(console)
    try:
        options = CollectRequest(mode=mode, max_posts_per_subreddit=max_posts)
        try:
            async with session_scope(maker) as session:
                user, campaign, reused = await resolve_campaign(
                    session, campaign_id=campaign_id, subreddits=subreddits, keywords=keywords, email=email
                )
                run = await runs.create_run(
                    session,
                    user=user,
                    campaign=campaign,
                    options=options,
                    settings=settings,
                    enforce_plan=False,
                )
        except AppError as exc:  # archived, or a run of this campaign already going
            raise CollectError(exc.message, option="--campaign" if campaign_id else None) from None
        console.print(
            f"{'Collecting' if reused else 'New campaign'} [bold]{escape(campaign.name)}[/] — "
            f"{len(campaign.target_subreddits)} subreddit(s), "
            f"source [bold]{settings.source.value}[/], classifier [bold]{settings.classifier.value}[/]",
            highlight=False,
        )
        with Live(display.render(), console=console, refresh_per_second=8, transient=False) as live:

            async def hook(event: dict[str, Any]) -> None:
                display.update(event)
                live.update(display.render())

            await execute_run(
                run_id=run.id, settings=settings, sessionmaker=maker, bus=bus, source=source, hook=hook
            )
        async with maker() as session:
            final = await session.get(CollectionRun, run.id)
            assert final is not None
            rows = await session.execute(
                select(RawPost.archetype, func.count())
                .where(RawPost.run_id == run.id)
                .group_by(RawPost.archetype)
            )
            archetypes = Counter({archetype: count for archetype, count in rows})
        print_summary(console, final, archetypes, campaign)
        if export_to is not None:
            written = await export_campaign(maker, campaign, export_to)
            console.print(f"Exported {written:,} posts to [bold]{escape(str(export_to))}[/]", highlight=False)
        print_where_to_look(console, settings, campaign, user)
        return final
    finally:
        await source.aclose()
        await engine.dispose()


def print_where_to_look(console: Console, settings: Settings, campaign: Campaign, user: User) -> None:
    console.print(f"\nSee the posts: [bold cyan]{campaign_url(settings, campaign.id)}[/]", highlight=False)
    login = f"{user.email} / {demo.DEMO_PASSWORD}" if user.email == demo.DEMO_EMAIL else user.email
    console.print(
        f"[dim](log in as {escape(login)}; start the dashboard with `bcrao serve` if it is not running;"
        f" top posts here: `bcrao posts --campaign {campaign.id}`)[/]",
        highlight=False,
    )


def print_summary(console: Console, run: CollectionRun, archetypes: Counter[str], campaign: Campaign) -> None:
    rejected = run.scraped - run.filtered  # the API's `filtered`: the posts the filter kept
    colour = {"complete": "green", "partial": "yellow"}.get(run.status, "red")
    console.print(
        f"\n[bold {colour}]{run.status.upper()}[/]  run {run.id}  campaign {campaign.id}", highlight=False
    )
    console.print(
        f"Scraped {run.scraped:,} → {run.filtered:,} kept by the filter, {rejected:,} rejected → "
        f"{run.classified:,} classified → {run.stored:,} stored ({run.duplicates:,} already had)",
        highlight=False,
    )
    table = Table(title="Archetypes of stored posts", show_edge=False)
    table.add_column("Archetype")
    table.add_column("Posts", justify="right")
    for name, label in ARCHETYPE_LABEL.items():
        table.add_row(label, f"{archetypes.get(name, 0):,}")
    console.print(table)
    if run.filter_reasons:
        reasons = ", ".join(
            f"{FILTER_REASON_LABEL.get(k, humanize(k))} {v:,}"
            for k, v in sorted(run.filter_reasons.items(), key=lambda kv: -kv[1])
        )
        console.print(f"[dim]Rejected by the filter: {escape(reasons)}[/]", highlight=False)
    for err in run.errors:
        where = f"r/{err['subreddit']}: {humanize(err['code'])}"
        console.print(f"[yellow]{escape(where)} — {escape(err['message'])}[/]", highlight=False)
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)


async def export_campaign(maker: async_sessionmaker[AsyncSession], campaign: Campaign, path: Path) -> int:
    """Every post of the campaign, as the API's export writes it (format from the suffix)."""
    fmt = export_format(path)
    filters = PostFilters().for_campaign(campaign.noise_posts)
    async with maker() as session:
        total = (
            await posts.list_posts(session, campaign_id=campaign.id, filters=filters, page=1, per_page=1)
        ).total
    with path.open("wb") as out:
        async for chunk in export.export_posts(maker, campaign_id=campaign.id, filters=filters, fmt=fmt):
            out.write(chunk)
    return total


def export_format(path: Path) -> str:
    fmt = path.suffix.lower().removeprefix(".")
    if fmt not in export.MEDIA_TYPES:
        raise CollectError(f"{str(path)!r} must end in .csv or .jsonl", option="--export")
    return fmt
