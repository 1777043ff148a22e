from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

CommentOrder = Literal["tree", "top", "new"]

COMMENT_FIELDS = (
    "id",
    "post_id",
    "reddit_comment_id",
    "parent_id",
    "depth",
    "author",
    "body",
    "upvotes",
    "reddit_created_at",
    "is_deleted",
    "collected_at",
)


class CommentOut(BaseModel):
    id: uuid.UUID
    post_id: uuid.UUID
    reddit_comment_id: str
    parent_id: str  # t3_<post> for a top-level comment, t1_<comment> for a reply
    depth: int
    author: str | None  # null when deleted or removed on Reddit
    body: str | None
    upvotes: int
    reddit_created_at: datetime
    is_deleted: bool
    collected_at: datetime
    reddit_url: str  # the comment on Reddit


class CommentList(BaseModel):
    comments: list[CommentOut]
    total: int
    page: int
    per_page: int
