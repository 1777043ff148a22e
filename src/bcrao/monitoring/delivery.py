"""Send one alert delivery: a signed webhook POST or an email, retried with backoff.

A delivery row is created (with its posts) before anything is sent, in the transaction that
marks those posts as sent for the alert, so a post is never picked twice. Sending is then
idempotent per delivery: a delivery already ``sent`` is not sent again (a redelivered task),
and every attempt carries the same ``X-BCRAO-Delivery`` id so a receiver can drop a
duplicate the worker could not know it had delivered (killed between send and commit).

A sender beats the delivery's ``heartbeat_at`` before and after each attempt. One that
stopped (its process crashed mid-delivery, or it never got the delivery: a dispatch lost
with its process) leaves the delivery ``retrying`` and quiet; the monitoring pass
(``resend_stalled``) claims such deliveries, one process each, and sends them again under
the same id, so a receiver that deduplicates keeps each post once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import smtplib
import ssl
import uuid
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bcrao.background import BackgroundTasks
from bcrao.campaigns.models import Campaign
from bcrao.cli_format import ARCHETYPE_LABEL
from bcrao.collection.models import RawPost
from bcrao.config import Executor, Settings
from bcrao.db import session_scope, utcnow
from bcrao.monitoring.models import Alert, AlertDelivery
from bcrao.posts.export import post_dict
from bcrao.posts.service import post_select
from bcrao.themes.models import ThemeSet

log = logging.getLogger("bcrao.alerts")

DELIVER_TASK = "bcrao.tasks.monitoring.deliver_alert"
RESEND_BATCH = 100  # stalled deliveries claimed per monitoring pass
# An attempt is at most this many network steps, each bounded by the timeout (an SMTP
# exchange: connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA).
STEPS_PER_ATTEMPT = 8
LOCAL = BackgroundTasks()  # deliveries sent by this process (local mode)


class DeliveryFailed(Exception):
    """An attempt failed; ``response`` says how, in words."""

    def __init__(self, response: str, *, permanent: bool = False) -> None:
        super().__init__(response)
        self.response = response
        self.permanent = permanent


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def _posts(session: AsyncSession, post_ids: list[str]) -> list[dict[str, Any]]:
    if not post_ids:
        return []
    ids = [uuid.UUID(p) for p in post_ids]
    rows = await session.execute(
        post_select(snippet=False)
        .where(RawPost.id.in_(ids))
        .order_by(RawPost.success_score.desc(), RawPost.id)
    )
    return [post_dict(row, breakdown=False) for row in rows]


def _text(campaign: Campaign, kind: str, posts: list[dict[str, Any]], total: int, url: str) -> str:
    if kind == "test":
        lead = f"Test alert for “{campaign.name}”: this is what a real one looks like."
    else:
        lead = f"{total} new post{'s' if total != 1 else ''} for “{campaign.name}”"
    lines = [lead]
    for p in posts[:10]:
        lines.append(
            f"• [{ARCHETYPE_LABEL.get(p['archetype'], p['archetype'])} · {p['success_score']:.1f}] "
            f"{p['title']} — r/{p['subreddit']} {p['reddit_url']}"
        )
    if total > len(posts[:10]):
        lines.append(f"…and {total - len(posts[:10])} more: {url}")
    else:
        lines.append(f"All of them: {url}")
    return "\n".join(lines)


async def _themes_note(session: AsyncSession, campaign_id: uuid.UUID) -> list[str]:
    """For digests: the campaign's rising themes, when themes exist."""
    row = await session.get(ThemeSet, campaign_id)
    if row is None or not row.themes:
        return []
    rising = [t for t in row.themes if t.get("direction") == "rising"][:3]
    return [f"{t['label']} ({t['size']} posts, rising)" for t in rising]


def _email(
    settings: Settings, alert: Alert, subject: str, text: str, themes: list[str], posts: list[dict]
) -> EmailMessage:
    unsubscribe = f"{settings.public_url.rstrip('/')}/v1/unsubscribe?token={alert.unsubscribe_token}"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_sender
    message["To"] = alert.target
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    plain = text + ("\n\nThemes on the rise:\n" + "\n".join(f"- {t}" for t in themes) if themes else "")
    # Quoted-printable keeps every line under SMTP's 998-character limit.
    message.set_content(f"{plain}\n\nStop these emails: {unsubscribe}\n", cte="quoted-printable")
    items = "".join(
        f'<li><a href="{html.escape(p["reddit_url"])}">{html.escape(p["title"])}</a> '
        f"<small>r/{html.escape(p['subreddit'])} · {html.escape(ARCHETYPE_LABEL.get(p['archetype'], ''))}"
        f" · score {p['success_score']:.1f}</small></li>"
        for p in posts[:20]
    )
    theme_html = (
        "<h3>Themes on the rise</h3><ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in themes) + "</ul>"
        if themes
        else ""
    )
    body = html.escape(text.splitlines()[0])
    message.add_alternative(
        f"<html><body><p>{body}</p><ul>{items}</ul>{theme_html}"
        f'<p><small><a href="{html.escape(unsubscribe)}">Stop these emails</a></small></p></body></html>',
        subtype="html",
        cte="quoted-printable",
    )
    return message


def _smtp_send(settings: Settings, message: EmailMessage) -> str:
    """Blocking: run in a thread. The server's reply to the message, as text."""
    if not settings.smtp_host:
        raise DeliveryFailed(
            "Email is not configured on this server (BCRAO_SMTP_HOST is unset)", permanent=True
        )
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    kwargs: dict[str, Any] = {"timeout": settings.alert_timeout_seconds}
    if settings.smtp_ssl:
        kwargs["context"] = context
    try:
        with smtp_class(settings.smtp_host, settings.smtp_port, **kwargs) as smtp:
            smtp.ehlo_or_helo_if_needed()
            if settings.smtp_starttls and not settings.smtp_ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            sender = parseaddr(settings.smtp_sender)[1] or settings.smtp_sender
            code, reply = smtp.mail(sender)
            if code != 250:
                raise DeliveryFailed(f"SMTP {code} {reply.decode(errors='replace')}")
            code, reply = smtp.rcpt(str(message["To"]))
            if code not in (250, 251):
                raise DeliveryFailed(f"SMTP {code} {reply.decode(errors='replace')}", permanent=code >= 500)
            # CRLF line ends: smtplib sends bytes as they are.
            code, reply = smtp.data(message.as_bytes(policy=policy.SMTP))
            if code != 250:
                raise DeliveryFailed(f"SMTP {code} {reply.decode(errors='replace')}")
            return f"SMTP {code} {reply.decode(errors='replace')}"[:500]
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(
            f"The mail server could not be reached or refused ({type(exc).__name__}: {exc})"[:500]
        ) from None


async def _post_webhook(
    settings: Settings, alert: Alert, delivery_id: uuid.UUID, payload: dict[str, Any]
) -> str:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "BC-RAO-Collector-Alerts/1",
        "X-BCRAO-Signature": signature(alert.secret or "", body),
        "X-BCRAO-Delivery": str(delivery_id),
    }
    try:
        async with httpx.AsyncClient(
            timeout=settings.alert_timeout_seconds, follow_redirects=False
        ) as client:
            response = await client.post(alert.target, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"The webhook could not be reached ({type(exc).__name__})") from None
    answer = f"HTTP {response.status_code} {response.text[:200]}".strip()
    if response.status_code >= 400 or response.status_code < 200:
        raise DeliveryFailed(answer, permanent=response.status_code in (401, 403, 404, 410))
    return answer


async def deliver(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID
) -> str:
    """Send the delivery until it succeeds or its attempts run out; its final status."""
    async with sessionmaker() as session:
        delivery = await session.get(AlertDelivery, delivery_id)
        if delivery is None:
            return "gone"
        if delivery.status in ("sent", "failed"):
            return delivery.status  # a redelivered task: done already
        alert = await session.get(Alert, delivery.alert_id)
        campaign = await session.get(Campaign, alert.campaign_id) if alert else None
        if alert is None or campaign is None:
            return "gone"
        posts = await _posts(session, list(delivery.post_ids))
        themes = await _themes_note(session, campaign.id) if delivery.kind == "digest" else []
        kind, attempts, total = delivery.kind, delivery.attempts, delivery.post_total
    url = f"{settings.public_url.rstrip('/')}/#/campaigns/{campaign.id}"
    text = _text(campaign, kind, posts, total, url)
    delay = settings.alert_retry_base_seconds
    status, response = "failed", ""
    while attempts < settings.alert_max_attempts:
        if not await _beat(sessionmaker, delivery_id):
            return await _status(sessionmaker, delivery_id)  # another sender finished it meanwhile
        attempts += 1
        try:
            if alert.channel == "webhook":
                payload = {
                    "text": text,
                    "campaign_id": str(campaign.id),
                    "alert_id": str(alert.id),
                    "delivery_id": str(delivery_id),
                    "posts": posts,
                    "post_total": total,
                }
                response = await _post_webhook(settings, alert, delivery_id, payload)
            else:
                subject = (
                    text.splitlines()[0]
                    if kind != "digest"
                    else f"Your {alert.digest} digest: {text.splitlines()[0]}"
                )
                message = _email(settings, alert, subject, text, themes, posts)
                response = await asyncio.to_thread(_smtp_send, settings, message)
            status = "sent"
        except DeliveryFailed as exc:
            response = exc.response
            status = "failed" if exc.permanent or attempts >= settings.alert_max_attempts else "retrying"
        await _record(sessionmaker, delivery_id, status=status, attempts=attempts, response=response)
        if status != "retrying":
            break
        log.info("delivery %s attempt %d failed (%s); retry in %.1fs", delivery_id, attempts, response, delay)
        await asyncio.sleep(delay)
        delay *= 2
    return status


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    delivery_id: uuid.UUID,
    *,
    status: str,
    attempts: int,
    response: str,
) -> None:
    async with session_scope(sessionmaker) as session:
        now = utcnow()
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "response": response[:1000],
            "heartbeat_at": now,
        }
        if status == "sent":
            values["sent_at"] = now
        # Only over ``retrying``: a sender that outlived its turn does not undo a final status.
        await session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, AlertDelivery.status == "retrying")
            .values(**values)
        )


async def _beat(sessionmaker: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID) -> bool:
    """Before an attempt: whether the delivery is still to be sent; its heartbeat moves on."""
    async with session_scope(sessionmaker) as session:
        beaten = await session.scalar(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, AlertDelivery.status == "retrying")
            .values(heartbeat_at=utcnow())
            .returning(AlertDelivery.id)
        )
    return beaten is not None


async def _status(sessionmaker: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID) -> str:
    async with sessionmaker() as session:
        status = await session.scalar(select(AlertDelivery.status).where(AlertDelivery.id == delivery_id))
    return status or "gone"


def quiet_limit(settings: Settings) -> float:
    """Seconds after which a ``retrying`` delivery's sender is taken to be gone: the setting,
    but never less than a live sender's longest silence (an attempt's network steps, then
    the longest wait before the next attempt)."""
    longest_wait = settings.alert_retry_base_seconds * 2.0 ** max(0, settings.alert_max_attempts - 2)
    live = STEPS_PER_ATTEMPT * settings.alert_timeout_seconds + longest_wait
    return float(max(settings.alert_resend_after_seconds, live))


async def resend_stalled(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> list[uuid.UUID]:
    """The monitoring pass: send again, under the same id, deliveries left ``retrying`` by a
    sender that stopped. Claimed by moving their heartbeat in one ``UPDATE ... RETURNING``,
    so of several processes looking at once one takes each; the ids it sent again."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=quiet_limit(settings))
    quiet = or_(
        AlertDelivery.heartbeat_at < cutoff,
        and_(AlertDelivery.heartbeat_at.is_(None), AlertDelivery.created_at < cutoff),
    )
    picked = (
        select(AlertDelivery.id)
        .where(AlertDelivery.status == "retrying", quiet)
        .order_by(AlertDelivery.heartbeat_at)
        .limit(RESEND_BATCH)
        .with_for_update(skip_locked=True)
    )
    async with session_scope(sessionmaker) as session:
        claimed = list(
            await session.scalars(
                update(AlertDelivery)
                .where(
                    AlertDelivery.id.in_(picked.scalar_subquery()), AlertDelivery.status == "retrying", quiet
                )
                .values(heartbeat_at=now)
                .returning(AlertDelivery.id)
                .execution_options(synchronize_session=False)
            )
        )
    if claimed:
        log.warning("%d alert deliveries left unsent by a stopped sender are sent again", len(claimed))
        await dispatch(settings, sessionmaker, claimed)
    return claimed


async def dispatch(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], delivery_ids: list[uuid.UUID]
) -> None:
    """Send committed deliveries where they belong: the ``monitoring`` queue, or this process."""
    if not delivery_ids:
        return
    if settings.effective_executor is Executor.celery:
        from bcrao.tasks.celery_app import send_tasks

        await asyncio.to_thread(send_tasks, settings, DELIVER_TASK, delivery_ids)
        return
    for delivery_id in delivery_ids:
        LOCAL.start(deliver(settings, sessionmaker, delivery_id), name=f"delivery-{delivery_id}")


async def wait_for_local() -> None:
    await LOCAL.wait()
