"""Every table, imported in one place for Alembic and for tests."""

from bcrao.auth.models import User
from bcrao.campaigns.models import Campaign
from bcrao.collection.models import (
    CollectionRun,
    Correction,
    PostCount,
    RawPost,
    RejectedSample,
    RunLedger,
    SourceCursor,
)
from bcrao.comments.models import CommentTotal, RawComment
from bcrao.compliance.models import ComplianceTotal, PurgedItem
from bcrao.db import Base
from bcrao.monitoring.models import Alert, AlertDelivery, AlertPost, ScheduledSlot
from bcrao.themes.models import ThemePost, ThemeSet

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertPost",
    "Base",
    "Campaign",
    "CollectionRun",
    "CommentTotal",
    "ComplianceTotal",
    "Correction",
    "PostCount",
    "PurgedItem",
    "RawComment",
    "RawPost",
    "RejectedSample",
    "RunLedger",
    "ScheduledSlot",
    "SourceCursor",
    "ThemePost",
    "ThemeSet",
    "User",
]
