"""``POST /v1/campaigns/{id}/imports``: a file of Reddit posts becomes a collection run."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from bcrao.auth.deps import CurrentUser
from bcrao.campaigns.deps import OwnedCampaign
from bcrao.collection.schemas import CollectAccepted
from bcrao.deps import RuntimeDep, SessionDep
from bcrao.errors import ErrorResponse
from bcrao.imports.service import start_import

router = APIRouter(tags=["collection"])

# The one path allowed a body larger than ``max_body_bytes`` (``import_max_bytes``).
IMPORT_PATH = r"/v1/campaigns/[^/]+/imports"

# The body is read by the service (after the cheap refusals), not by FastAPI, so it is
# described here for the OpenAPI document.
_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": (
                            "JSON lines (listing children or archive NDJSON) or CSV (listing field "
                            "names or Reddit's data export), optionally zstandard- or gzip-compressed"
                        ),
                    },
                    "comments_per_post": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 500,
                        "description": "Comments imported per kept post (default: the server's setting)",
                    },
                },
            }
        }
    },
}


@router.post(
    "/v1/campaigns/{campaign_id}/imports",
    summary="Import posts from a file",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CollectAccepted,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses={
        409: {"model": ErrorResponse, "description": "COLLECTION_IN_PROGRESS (`details.task_id`)"},
        413: {"model": ErrorResponse, "description": "PAYLOAD_TOO_LARGE (over `import_max_bytes`)"},
        422: {
            "model": ErrorResponse,
            "description": "VALIDATION_ERROR: `details.line` names the first bad line; nothing is imported",
        },
        429: {"model": ErrorResponse, "description": "PLAN_LIMIT_REACHED"},
    },
)
async def import_file(
    campaign: OwnedCampaign, user: CurrentUser, session: SessionDep, runtime: RuntimeDep, request: Request
) -> CollectAccepted:
    """Run a collection over an uploaded file instead of Reddit (a run with ``source: "import"``).

    Every post of the campaign's subreddits in the file (no per-subreddit limit) goes through
    the same pre-filter, labels, scores and progress stream as a collection, and the run
    counts against the plan like one. 409 `COLLECTION_IN_PROGRESS` while a run of the
    campaign is active; 413 `PAYLOAD_TOO_LARGE` over the upload limit; 422 `VALIDATION_ERROR`
    naming the first bad line (`details.line`), or when no post of the campaign's subreddits
    is in the file, and nothing is imported; 429 `PLAN_LIMIT_REACHED`."""
    run, _summary = await start_import(session, runtime, user=user, campaign=campaign, request=request)
    return CollectAccepted(
        task_id=run.id,
        progress_url=f"/v1/collection/{run.id}/progress",
        stream_token=runtime.signer.stream_token(user.id, run.id),
        stream_token_expires_in=runtime.settings.stream_token_ttl_seconds,
    )
