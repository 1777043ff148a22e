"""Accepting an uploaded file as a collection run.

Order matters for a 1 GB upload: what would refuse the run (archived campaign, a run in
progress, the plan's allowance) is asked before the body is read; the body is then
spooled to disk by the multipart parser, read once into the run's index (the validation:
the first bad record is a 422 naming its line, and nothing is imported), and only then is
the run created, under the id the index is named after, and queued like any collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from bcrao.auth.models import User
from bcrao.campaigns.models import Campaign
from bcrao.collection import lifecycle, service
from bcrao.collection.models import CollectionRun
from bcrao.collection.schemas import CollectRequest
from bcrao.db import new_id
from bcrao.errors import AppError, ValidationFailed
from bcrao.imports.index import ImportSummary, build_index
from bcrao.imports.records import BadRecord
from bcrao.imports.source import IMPORT_SOURCE, index_path

log = logging.getLogger("bcrao.imports")

FIELD = "file"


class ImportRejected(AppError):
    """A 422 in the contract's validation shape that also names the file's line."""

    status_code = 422
    code = "VALIDATION_ERROR"

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message, details={"fields": [{"field": FIELD, "message": message}], "line": line})


async def start_import(
    session: AsyncSession, runtime: Any, *, user: User, campaign: Campaign, request: Request
) -> tuple[CollectionRun, ImportSummary]:
    settings = runtime.settings
    await service.check_can_start(session, user=user, campaign=campaign, settings=settings)
    # Nothing of the session is needed while the file is read: end its read transaction.
    await session.commit()
    run_id = new_id()
    final = index_path(settings.data_dir, run_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_suffix(".part")
    summary, comments_per_post = await _read_upload(request, part, list(campaign.target_subreddits))
    if comments_per_post is None:
        comments_per_post = settings.comments_per_post
    part.rename(final)
    options = CollectRequest(
        mode="historical", max_posts_per_subreddit=1000, comments_per_post=comments_per_post
    )
    try:
        run = await lifecycle.start(
            session,
            runtime,
            user=user,
            campaign=campaign,
            options=options,
            source=IMPORT_SOURCE,
            run_id=run_id,
        )
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    log.info(
        "import queued as run %s: %s posts, %s comments (%s)",
        run.id,
        summary.posts,
        summary.comments,
        summary.format,
    )
    return run, summary


async def _read_upload(
    request: Request, part: Path, subreddits: list[str]
) -> tuple[ImportSummary, int | None]:
    try:
        form = await request.form(max_files=1, max_fields=4)
    except HTTPException as exc:  # a malformed multipart body
        message = f"The upload is not a multipart form with a file ({exc.detail})"
        raise ValidationFailed(FIELD, message) from None
    try:
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            raise ValidationFailed(FIELD, "Send the file as the multipart field 'file'")
        comments_per_post = _comments_per_post(form.get("comments_per_post"))
        try:
            summary = await asyncio.to_thread(build_index, upload.file, part, subreddits)
        except BadRecord as exc:
            raise ImportRejected(exc.line, f"Line {exc.line}: {exc.message}; nothing was imported") from None
        if summary.records == 0:
            raise ImportRejected(1, "The file holds no records; nothing was imported")
        if summary.posts == 0:
            names = ", ".join(f"r/{n}" for n in subreddits)
            found = ", ".join(f"r/{n}" for n, _ in summary.other_names.most_common(5))
            raise ImportRejected(
                None,
                f"No post of the campaign's subreddits ({names}) is in the file"
                + (f"; it has posts of {found}" if found else "")
                + "; nothing was imported",
            )
        return summary, comments_per_post
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)  # noqa: ASYNC240 - one unlink, no waiting
        raise
    finally:
        await form.close()  # deletes the spooled upload


def _comments_per_post(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit() and 0 <= int(value) <= 500:
        return int(value)
    raise ValidationFailed("comments_per_post", "comments_per_post must be a whole number from 0 to 500")
