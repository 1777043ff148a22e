"""Collection endpoints: trigger, run status, history, cancel, rejected samples, live progress."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from bcrao.auth.deps import CurrentUser, TokenUserId, bearer, owned_by_caller
from bcrao.campaigns.deps import OwnedCampaign
from bcrao.collection import lifecycle, preview, service
from bcrao.collection.models import TERMINAL_STATUSES, CollectionRun
from bcrao.collection.prefilter import REASONS
from bcrao.collection.schemas import (
    CollectAccepted,
    CollectPreview,
    CollectRequest,
    ProgressData,
    RejectedList,
    RunList,
    RunOut,
    StreamToken,
    event_stream_doc,
)
from bcrao.deps import PageDep, RuntimeDep, SessionDep
from bcrao.errors import Conflict, ErrorResponse, OpenAPIResponses, RateLimited, Unauthorized
from bcrao.posts import keep
from bcrao.posts.schemas import PostDetail
from bcrao.progress.sse import ProgressStream, parse_resume_id

log = logging.getLogger("bcrao.collection")

router = APIRouter(tags=["collection"])

FilterReason = Annotated[
    str | None,
    Query(
        pattern="^(" + "|".join(REASONS) + ")$",
        description="Only samples rejected for this reason",
    ),
]


async def owned_run(task_id: uuid.UUID, user_id: TokenUserId, session: SessionDep) -> CollectionRun:
    return await owned_by_caller(
        session, user_id=user_id, model=CollectionRun, resource_id=task_id, not_found=service.RunNotFound
    )


OwnedRun = Annotated[CollectionRun, Depends(owned_run)]


def _sse_event_schema() -> dict[str, Any]:
    """One SSE event as OpenAPI 3.1 tools read a `text/event-stream` schema: an object with
    `id`, `event` and `data`, where `data` is JSON (`contentSchema`) - ProgressData for
    `progress`, the final run object plus `"stage": "done"` for terminal events."""
    progress = ProgressData.model_json_schema(ref_template="#/components/schemas/{model}")
    progress.pop("$defs", None)  # nested models (RunError) are components already, via RunOut
    terminal = {
        "allOf": [
            {"$ref": "#/components/schemas/RunOut"},
            {"type": "object", "required": ["stage"], "properties": {"stage": {"const": "done"}}},
        ]
    }

    def event(names: list[str], data: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["id", "event", "data"],
            "properties": {
                "id": {"type": "string", "pattern": "^[1-9][0-9]*$"},
                "event": {"type": "string", "enum": names},
                "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data},
                "retry": {"type": "integer"},
            },
        }

    return {"oneOf": [event(["progress"], progress), event(sorted(TERMINAL_STATUSES), terminal)]}


def _progress_responses() -> OpenAPIResponses:
    # event_stream_doc() points at a ProgressData component nothing registers; describe the event inline.
    doc = event_stream_doc()
    doc[200]["content"]["text/event-stream"]["schema"] = _sse_event_schema()
    return doc


def _progress_url(run_id: uuid.UUID) -> str:
    return f"/v1/collection/{run_id}/progress"


@router.post(
    "/v1/campaigns/{campaign_id}/collect",
    summary="Start a collection run",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CollectAccepted,
    responses={
        409: {"model": ErrorResponse, "description": "COLLECTION_IN_PROGRESS (`details.task_id`)"},
        429: {
            "model": ErrorResponse,
            "description": "PLAN_LIMIT_REACHED (`details.limit`, `details.resets_at`)",
        },
    },
)
async def trigger_collection(
    campaign: OwnedCampaign,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    body: CollectRequest | None = None,
) -> CollectAccepted:
    """Queue a run that fetches posts from each of the campaign's subreddits, drops noise
    with a named reason, labels every kept post with an archetype, scores it and stores it
    (then collects its comments). The body is optional (`mode`, `max_posts_per_subreddit`,
    `comments_per_post`). Answers at once with the run's `task_id` and a `stream_token` for
    `progress_url`. 409 `COLLECTION_IN_PROGRESS` (`details.task_id`) while a run of the
    campaign is queued or running; 422 `VALIDATION_ERROR` (field `status`) for an archived
    campaign; 429 `PLAN_LIMIT_REACHED` (`details.limit`, `details.resets_at`) once the
    plan's runs for the rolling 7 days are used; 503 when the task queue is down (the run
    fails and is not counted)."""
    run = await lifecycle.start(
        session, runtime, user=user, campaign=campaign, options=body or CollectRequest()
    )
    return CollectAccepted(
        task_id=run.id,
        progress_url=_progress_url(run.id),
        stream_token=runtime.signer.stream_token(user.id, run.id),
        stream_token_expires_in=runtime.settings.stream_token_ttl_seconds,
    )


@router.post(
    "/v1/campaigns/{campaign_id}/collect/preview",
    summary="Estimate a run's cost",
    response_model=CollectPreview,
)
async def preview_collection(
    campaign: OwnedCampaign, session: SessionDep, runtime: RuntimeDep, body: CollectRequest | None = None
) -> CollectPreview:
    """What the collect body would cost: Reddit requests, minutes, LLM and Apify spend.
    Nothing is started and the plan's allowance is not touched."""
    estimate = await preview.preview(
        session,
        campaign=campaign,
        options=body or CollectRequest(),
        settings=runtime.settings,
        redis=runtime.redis,
    )
    return CollectPreview.model_validate(estimate)


@router.get("/v1/collection/{task_id}", summary="Get a run", response_model=RunOut)
async def get_run(run: OwnedRun) -> RunOut:
    """A run's status and counters: `scraped` (fetched), `filtered` (passed the pre-filter),
    `classified`, `stored` (new), `duplicates`, why the rest was dropped (`filter_reasons`),
    per-subreddit `source_status` and `errors`, `warnings`, comments and LLM usage. Final
    before its terminal progress event is sent. 404 when the run is not yours."""
    return service.run_out(run)


@router.get("/v1/campaigns/{campaign_id}/runs", summary="List a campaign's runs", response_model=RunList)
async def list_runs(campaign: OwnedCampaign, session: SessionDep, page: PageDep) -> RunList:
    """The campaign's collection history, newest first, as run objects. Paged."""
    runs, total = await service.list_runs(
        session, campaign_id=campaign.id, offset=page.offset, limit=page.per_page
    )
    return RunList(
        runs=[service.run_out(r) for r in runs], total=total, page=page.page, per_page=page.per_page
    )


@router.get("/v1/collection/{task_id}/rejected", summary="List rejected samples", response_model=RejectedList)
async def list_rejected(
    run: OwnedRun, session: SessionDep, page: PageDep, reason: FilterReason = None
) -> RejectedList:
    """Samples of what the pre-filter threw away in this run (up to 50 per reason), with
    the reason, a text preview and the Reddit link, so you can check its verdicts and keep
    a post it got wrong (`PUT .../rejected/{reddit_post_id}/keep`). Paged; `reason` narrows."""
    return await service.list_rejected(
        session, run_id=run.id, reason=reason, offset=page.offset, limit=page.per_page
    )


@router.put(
    "/v1/collection/{task_id}/rejected/{reddit_post_id}/keep",
    summary="Keep a rejected sample",
    response_model=PostDetail,
    responses={404: {"model": ErrorResponse, "description": "RESOURCE_NOT_FOUND: unknown run or sample"}},
)
async def keep_rejected(
    run: OwnedRun,
    reddit_post_id: Annotated[str, Path(min_length=1, max_length=16, pattern="^[A-Za-z0-9_]+$")],
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
) -> PostDetail:
    """The pre-filter was wrong: store this rejected sample as a kept post (a `keep` correction)."""
    return await keep.keep_sample(
        session, user_id=user.id, run=run, reddit_post_id=reddit_post_id, settings=runtime.settings
    )


@router.post(
    "/v1/collection/{task_id}/stream-token", summary="New progress stream token", response_model=StreamToken
)
async def new_stream_token(run: OwnedRun, user: CurrentUser, runtime: RuntimeDep) -> StreamToken:
    """A fresh short-lived token for `GET .../progress?token=` on a run you own: a reloaded
    page (or an `EventSource`, which cannot send headers) needs one to watch again. It is
    valid for that run only, for `stream_token_expires_in` seconds."""
    return StreamToken(
        stream_token=runtime.signer.stream_token(user.id, run.id),
        stream_token_expires_in=runtime.settings.stream_token_ttl_seconds,
    )


@router.post(
    "/v1/collection/{task_id}/cancel",
    summary="Cancel a run",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunOut,
    responses={409: {"model": ErrorResponse, "description": "CONFLICT: the run already ended"}},
)
async def cancel_run(run: OwnedRun, session: SessionDep, runtime: RuntimeDep) -> RunOut:
    """Stop a queued or running run. A queued run ends `cancelled` at once; a running one
    stops at its next checkpoint (the answer may still say `running`; the progress stream
    ends with `cancelled`). Posts stored so far are kept. 409 `CONFLICT` when it already
    ended."""
    if run.status in TERMINAL_STATUSES:
        raise Conflict(f"The run already ended ({run.status})")
    return service.run_out(await lifecycle.cancel(session, runtime, run))


@router.get(
    "/v1/collection/{task_id}/progress",
    summary="Watch a run's progress (SSE)",
    responses=_progress_responses(),
    response_class=Response,
)
async def stream_progress(
    task_id: uuid.UUID,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[
        str | None, Query(description="Stream token from the trigger (never an access token)")
    ] = None,
    last_event_id: Annotated[int | None, Query(ge=0, description="Resume after this event id")] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    """Live progress as Server-Sent Events: the stage (fetching, filtering, classifying, ...),
    which subreddit ("2 of 5: r/startups") and the running counters, then one terminal
    event (`complete`, `partial`, `failed` or `cancelled`) with the final run, and the
    stream closes. Auth: the bearer header, or `?token=` with a stream token (never an
    access token). Resumes after `Last-Event-ID` (or `last_event_id`); 204 once the terminal
    event was seen; 401 without a valid token; 429 `RATE_LIMITED` with too many streams
    open for the account."""
    runtime = request.app.state.runtime
    if credentials is not None:
        user_id = runtime.signer.user_id_from_access(credentials.credentials)
    elif token:
        user_id = runtime.signer.check_stream_token(token, task_id)
    else:
        raise Unauthorized()
    # A short session, closed before streaming: a stream must not pin a database connection.
    async with runtime.sessionmaker() as session:
        run = await service.get_owned_run(session, user_id=user_id, run_id=task_id)
        finished = service.terminal_data(run) if run.status in TERMINAL_STATUSES else None
        final_event_id = run.last_event_id
    resume = parse_resume_id(last_event_id_header, last_event_id)
    if finished is not None and final_event_id and resume >= final_event_id:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    slots = runtime.stream_slots
    if not slots.acquire(user_id):
        raise RateLimited(5, f"Too many open progress streams for this account (at most {slots.per_user})")
    return ProgressStream(
        runtime.bus,
        str(task_id),
        after=resume,
        finished=finished,
        retry_ms=runtime.settings.sse_retry_ms,
        keepalive=runtime.settings.sse_keepalive_seconds,
        final_event_id=final_event_id,
        max_seconds=runtime.settings.sse_max_connection_seconds,
        observer=getattr(request.app.state, "metrics", None),
        on_close=lambda: slots.release(user_id),
    )
