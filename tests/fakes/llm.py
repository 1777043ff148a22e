"""A loopback OpenAI-compatible chat completions API (the shape OpenRouter also serves).

Answers ``POST /v1/chat/completions`` (and ``/chat/completions``) with a ``chat.completion``
object and its ``usage``. By default the answer is good JSON whose archetype follows simple
cues in the prompt; ``mode`` (for every request) or ``when(text, mode)`` (for prompts
containing ``text``) switch to garbage text, an unknown archetype, a 500, or a stall longer
than any sensible client timeout. ``max_in_flight`` records the peak concurrency seen.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from tests.fakes.server import LoggedRequest, LoopbackServer

Mode = Literal["good", "garbage", "invalid_archetype", "omit", "500", "stall"]
# Modes about one post of a request (its label is wrong or missing), not the whole request.
POST_MODES = ("invalid_archetype", "omit")


@dataclass(slots=True)
class ChatCall:
    model: str
    messages: list[dict[str, Any]]
    response_format: dict[str, Any] | None
    authorization: str
    extra: dict[str, Any] = field(default_factory=dict)


class FakeLLM:
    def __init__(
        self, *, api_key: str = "sk-test-llm-key", latency: float = 0.05, stall_seconds: float = 5.0
    ):
        self.api_key = api_key
        self.latency = latency  # every answer takes this long, so concurrency is observable
        self.stall_seconds = stall_seconds
        self.mode: Mode = "good"
        self.reject_json_schema = False  # answer json_schema requests with a 400, like providers without it
        # Answer max_completion_tokens with a 400, like older OpenAI-compatible servers.
        self.reject_max_completion_tokens = False
        # Usage is reported with this count; a bench may plug in a real tokenizer.
        self.count_tokens: Callable[[str], int] = lambda text: max(1, len(text) // 4)
        self.requests: list[LoggedRequest] = []
        self.calls: list[ChatCall] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._rules: list[tuple[str, Mode]] = []
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._app())

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def base_url(self) -> str:
        """What ``llm_base_url`` should be, like ``https://openrouter.ai/api/v1``."""
        return f"{self.url}/v1"

    def start(self) -> FakeLLM:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def when(self, text: str, mode: Mode) -> None:
        """Answer prompts that contain ``text`` with ``mode``, whatever the default mode."""
        with self._lock:
            self._rules.append((text, mode))

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_post("/chat/completions", self._complete)
        return app

    async def _complete(self, request: web.Request) -> web.Response:
        entry = LoggedRequest(request.method, request.path, dict(request.query))
        with self._lock:
            self.requests.append(entry)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await self._answer(request)
        finally:
            with self._lock:
                self.in_flight -= 1
        entry.status = response.status
        return response

    async def _answer(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if authorization != f"Bearer {self.api_key}":
            return web.json_response(
                {
                    "error": {
                        "message": "Incorrect API key provided.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_api_key",
                    }
                },
                status=401,
            )
        body = await request.json()
        messages = body.get("messages", [])
        prompt = "\n".join(str(m.get("content", "")) for m in messages)
        with self._lock:
            self.calls.append(
                ChatCall(
                    model=body.get("model", ""),
                    messages=messages,
                    response_format=body.get("response_format"),
                    authorization=authorization,
                    extra={k: v for k, v in body.items() if k not in ("model", "messages")},
                )
            )
        response_format = body.get("response_format") or {}
        if self.reject_max_completion_tokens and "max_completion_tokens" in body:
            return web.json_response(
                {
                    "error": {
                        "message": "Unrecognized request argument supplied: max_completion_tokens",
                        "type": "invalid_request_error",
                        "param": "max_completion_tokens",
                        "code": None,
                    }
                },
                status=400,
            )
        if self.reject_json_schema and response_format.get("type") == "json_schema":
            return web.json_response(
                {
                    "error": {
                        "message": "Invalid parameter: 'response_format' of type 'json_schema'"
                        " is not supported.",
                        "type": "invalid_request_error",
                        "param": "response_format",
                        "code": None,
                    }
                },
                status=400,
            )
        mode = self._mode_for(prompt)
        await asyncio.sleep(self.stall_seconds if mode == "stall" else self.latency)
        if mode == "500":
            return web.json_response(
                {
                    "error": {
                        "message": "The server had an error while processing your request.",
                        "type": "server_error",
                        "code": None,
                    }
                },
                status=500,
            )
        content = self._content(mode, prompt)
        prompt_tokens, completion_tokens = self.count_tokens(prompt), self.count_tokens(content)
        return web.json_response(
            {
                "id": f"chatcmpl-{secrets.token_hex(12)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", ""),
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    def _mode_for(self, prompt: str) -> Mode:
        """The request's mode: the first rule (other than a per-post ``invalid_archetype``)
        whose text the prompt contains, else the default."""
        with self._lock:
            for text, mode in self._rules:
                if mode not in POST_MODES and text in prompt:
                    return mode
            return self.mode

    def _post_mode(self, post_text: str) -> Mode:
        with self._lock:
            for text, mode in self._rules:
                if mode in POST_MODES and text in post_text:
                    return mode
            return self.mode

    def _content(self, mode: Mode, prompt: str) -> str:
        """Whole-answer modes (garbage) spoil the request; ``invalid_archetype`` and ``omit``
        spoil only the labels of the posts their rule names, as a real model errs on one post
        of many."""
        if mode == "garbage":
            return "Sure! This post is clearly a journey, I'd say with high confidence."
        labels = []
        for item in sent_posts(prompt):
            text = f"{item.get('title', '')}\n{item.get('body', '')}"
            post_mode = self._post_mode(text)
            if post_mode == "omit":
                continue
            archetype = "Rant" if post_mode == "invalid_archetype" else archetype_of(text)
            labels.append(
                {
                    "id": item.get("id"),
                    "archetype": archetype,
                    "confidence": 0.87,
                    "reason": "cues in the title and body",
                }
            )
        return json.dumps({"labels": labels})


def sent_posts(prompt: str) -> list[dict[str, Any]]:
    """The posts of a request: the JSON object on the prompt's last line (how the product
    sends them); a prompt in any other shape is one post of plain text."""
    last = prompt.rsplit("\n", 1)[-1]
    try:
        posts = json.loads(last)["posts"]
        if isinstance(posts, list):
            return [p for p in posts if isinstance(p, dict)]
    except (ValueError, KeyError, TypeError):
        pass
    return [{"id": "1", "title": prompt.rsplit("Title:", 1)[-1], "body": ""}]


def archetype_of(text: str) -> str:
    """The fake model's judgement of one post: the same simple cues every run, so tests can
    predict it. Only the post counts, never the instructions around it."""
    text = text.lower()
    if any(cue in text for cue in ("feedback", "roast", "thoughts?", "what do you think")):
        return "Feedback"
    if any(cue in text for cue in ("how do i", "what tool", "any advice", "struggling", "help")):
        return "ProblemSolution"
    return "Journey"
