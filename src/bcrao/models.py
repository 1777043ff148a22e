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
from bcrao.db import Base
from bcrao.themes.models import ThemePost, ThemeSet

__all__ = [
    "Base",
    "Campaign",
    "CollectionRun",
    "CommentTotal",
    "Correction",
    "PostCount",
    "RawComment",
    "RawPost",
    "RejectedSample",
    "RunLedger",
    "SourceCursor",
    "ThemePost",
    "ThemeSet",
    "User",
]
