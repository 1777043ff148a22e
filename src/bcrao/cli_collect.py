"""``bcrao collect``: a collection in the terminal with a live Rich display.

It runs the very same pipeline and run bookkeeping as the API (the run shows up in the
dashboard afterwards), in this process, whatever executor the server uses.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select

from bcrao.auth import service as auth
from bcrao.auth.models import User
from bcrao.campaigns import service as campaigns
from bcrao.campaigns.models import Campaign
from bcrao.campaigns.schemas import CampaignCreate
from bcrao.collection import service as runs
from bcrao.collection.models import CollectionRun, RawPost
from bcrao.collection.runner import execute_run
from bcrao.collection.schemas import CollectRequest
from bcrao.config import Settings
from bcrao.db import make_engine, make_sessionmaker, session_scope
from bcrao.progress.bus import MemoryBus
from bcrao.sources.factory import make_source

CLI_EMAIL = "cli@bcrao.local"

STAGES = {
    "queued": "Queued",
    "fetching": "Fetching posts",
    "rate_limited": "Waiting for the rate limit",
    "filtering": "Filtering noise",
    "classifying": "Classifying",
    "scoring": "Scoring",
    "storing": "Storing",
}


class CollectError(Exception):
    """Shown to the operator as one line."""


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
        done_steps = max(0, int(event.get("step") or 0) - 1) + (1 if event.get("stage") == "storing" else 0.5)
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
            ("  →  passed filter ", "dim"),
            (f"{e.get('filtered', 0):,}", "bold"),
            ("  →  classified ", "dim"),
            (f"{e.get('classified', 0):,}", "bold"),
            ("  →  stored ", "dim"),
            (f"{e.get('stored', 0):,}", "bold green"),
            (f"  ({e.get('duplicates', 0):,} already had)", "dim"),
        )
        return Group(self.progress, funnel)


async def resolve_campaign(
    session, *, campaign_id: str | None, subreddits: list[str], keywords: list[str], email: str | None
) -> tuple[User, Campaign]:
    if campaign_id:
        try:
            cid = uuid.UUID(campaign_id)
        except ValueError:
            raise CollectError(f"not a campaign id: {campaign_id!r}") from None
        campaign = await session.get(Campaign, cid)
        if campaign is None:
            raise CollectError(f"campaign {campaign_id} not found")
        return await session.get(User, campaign.user_id), campaign
    if not subreddits:
        raise CollectError("give --campaign ID, or at least one --subreddit")
    owner_email = (email or CLI_EMAIL).lower()
    user = await session.scalar(select(User).where(User.email == owner_email))
    if user is None:
        if email:
            raise CollectError(f"no user {email}; create it with `bcrao user create {email}`")
        user = await auth.create_user(session, email=CLI_EMAIL, password=uuid.uuid4().hex, plan="growth")
    try:
        data = CampaignCreate(
            name=f"CLI: {', '.join(subreddits)[:90]}",
            keywords=keywords or ["feedback"],
            target_subreddits=subreddits,
        )
    except ValueError as exc:
        first = exc.errors()[0]  # type: ignore[attr-defined]
        raise CollectError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    return user, await campaigns.create_campaign(session, user_id=user.id, data=data)


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
) -> CollectionRun:
    engine = make_engine(settings.effective_database_url)
    maker = make_sessionmaker(engine)
    source = make_source(settings)
    bus = MemoryBus()
    display = Display(console)
    try:
        async with session_scope(maker) as session:
            user, campaign = await resolve_campaign(
                session, campaign_id=campaign_id, subreddits=subreddits, keywords=keywords, email=email
            )
            try:
                options = CollectRequest(mode=mode, max_posts_per_subreddit=max_posts)  # type: ignore[arg-type]
            except ValueError as exc:
                raise CollectError(str(exc.errors()[0]["msg"])) from None  # type: ignore[attr-defined]
            run = await runs.create_run(
                session, user=user, campaign=campaign, options=options, settings=settings, enforce_plan=False
            )
        console.print(
            f"Collecting [bold]{campaign.name}[/] — {len(campaign.target_subreddits)} subreddit(s), "
            f"source [bold]{settings.source.value}[/], classifier [bold]{settings.classifier.value}[/]"
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
            archetypes = Counter(
                dict(
                    (
                        await session.execute(
                            select(RawPost.archetype, func.count())
                            .where(RawPost.run_id == run.id)
                            .group_by(RawPost.archetype)
                        )
                    )
                    .tuples()
                    .all()
                )
            )
        print_summary(console, final, archetypes, campaign)
        return final
    finally:
        await source.aclose()
        await engine.dispose()


def print_summary(console: Console, run: CollectionRun, archetypes: Counter[str], campaign: Campaign) -> None:
    rejected_pct = (1 - run.filtered / run.scraped) * 100 if run.scraped else 0.0
    colour = {"complete": "green", "partial": "yellow"}.get(run.status, "red")
    console.print(f"\n[bold {colour}]{run.status.upper()}[/]  run {run.id}  campaign {campaign.id}")
    console.print(
        f"Scraped {run.scraped:,} → {run.filtered:,} passed filter ({rejected_pct:.0f}% filtered) → "
        f"{run.classified:,} classified → {run.stored:,} stored ({run.duplicates:,} duplicates)"
    )
    table = Table(title="Archetypes of stored posts", show_edge=False)
    table.add_column("Archetype")
    table.add_column("Posts", justify="right")
    for name in ("Journey", "ProblemSolution", "Feedback", "Unclassified"):
        table.add_row(name, f"{archetypes.get(name, 0):,}")
    console.print(table)
    if run.filter_reasons:
        reasons = ", ".join(
            f"{k} {v:,}" for k, v in sorted(run.filter_reasons.items(), key=lambda kv: -kv[1])
        )
        console.print(f"[dim]Filtered out: {reasons}[/]")
    for err in run.errors:
        console.print(f"[yellow]r/{err['subreddit']}: {err['code']} — {err['message']}[/]")
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
