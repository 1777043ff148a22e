"""Real receivers on loopback for alert deliveries: a webhook endpoint that checks the
signature and can fail or stall on purpose, and an SMTP server (aiosmtpd) that keeps mail."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller

from tests.fakes.server import LoopbackServer


@dataclass
class Hit:
    delivery_id: str
    signature_ok: bool
    body: dict[str, Any]
    status: int


@dataclass
class WebhookReceiver:
    """POST /hook. ``secret`` checks ``X-BCRAO-Signature``; ``fail_next`` answers 503 that many
    times; ``stall_seconds`` holds each answer (a worker can be killed meanwhile)."""

    secret: str = ""
    fail_next: int = 0
    stall_seconds: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._server = LoopbackServer(app).start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url + "/hook"

    @property
    def delivered(self) -> dict[str, Hit]:
        """Accepted deliveries by id: what a receiver deduplicating on the header keeps."""
        return {h.delivery_id: h for h in self.hits if h.status == 200}

    async def _hook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, request.headers.get("X-BCRAO-Signature", ""))
        with self._lock:
            failing = self.fail_next > 0
            if failing:
                self.fail_next -= 1
        status = 503 if failing else (200 if ok else 401)
        self.hits.append(Hit(request.headers.get("X-BCRAO-Delivery", ""), ok, json.loads(raw), status))
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        return web.json_response({"ok": status == 200}, status=status)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = _Inbox()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
