"""A demo account with a campaign ready to collect, so a newcomer sees the product at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bcrao.auth import service as auth
from bcrao.auth.models import User
from bcrao.campaigns import service as campaigns
from bcrao.campaigns.models import Campaign
from bcrao.campaigns.schemas import CampaignCreate
from bcrao.config import Settings
from bcrao.db import make_engine, make_sessionmaker, session_scope

DEMO_EMAIL = "demo@bcrao.dev"
DEMO_PASSWORD = "demo-password"
# Real posts (bundled from the shared corpus, see bcrao.sources.sample): the first look is
# at what the product really makes of real communities, not at templated text.
DEMO_CAMPAIGN = CampaignCreate(
    name="Freelancer invoicing & bookkeeping research",
    product_context=(
        "An invoicing and bookkeeping tool for freelancers: send invoices, chase late payments,"
        " track expenses and set money aside for taxes."
    ),
    product_url="https://example.com",
    keywords=["invoice", "clients", "taxes", "bookkeeping", "budget", "freelance"],
    target_subreddits=["Accounting", "forhire", "personalfinance", "Frugal", "jobs"],
)


async def ensure_demo_user(session: AsyncSession) -> User:
    """The demo account (growth plan), created on first use: whoever runs `bcrao collect`
    without `--email` can log in to the dashboard and see what was collected."""
    user = await session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = await auth.create_user(session, email=DEMO_EMAIL, password=DEMO_PASSWORD, plan="growth")
    return user


async def ensure_demo(settings: Settings) -> tuple[str, str, str]:
    """Create (once) the demo user on the growth plan and its campaign; return login details."""
    engine = make_engine(settings.effective_database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            user = await ensure_demo_user(session)
            campaign = await session.scalar(select(Campaign).where(Campaign.user_id == user.id).limit(1))
            if campaign is None:
                campaign = await campaigns.create_campaign(session, user_id=user.id, data=DEMO_CAMPAIGN)
            return DEMO_EMAIL, DEMO_PASSWORD, campaign.name
    finally:
        await engine.dispose()
