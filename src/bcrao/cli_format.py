"""Words for the terminal: the dashboard's labels (web/static/js/format.js) and where to
find a campaign in the dashboard, so the CLI and the browser speak alike."""

from __future__ import annotations

import uuid

from bcrao.config import Settings

ARCHETYPE_LABEL = {
    "Journey": "Journey",
    "ProblemSolution": "Problem / Solution",
    "Feedback": "Feedback",
    "Unclassified": "Unclassified",
}
FILTER_REASON_LABEL = {
    "removed_or_deleted": "removed or deleted",
    "stickied": "stickied / mod posts",
    "nsfw": "NSFW",
    "meta_thread": "recurring / meta thread",
    "link_only": "link, title says little",
    "too_short": "too short, title says little",
    "promotional": "self-promotion",
    "non_english": "not in English",
    "duplicate_text": "duplicate text",
}


def humanize(key: str) -> str:
    """``subreddit_not_found`` -> ``subreddit not found`` for codes without a label."""
    return key.replace("_", " ")


def base_url(settings: Settings, host: str | None = None, port: int | None = None) -> str:
    """What ``bcrao serve`` listens on, as a browser on this machine would open it."""
    host = host or settings.host
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1") else host
    return f"http://{shown}:{port or settings.port}/"


def campaign_url(settings: Settings, campaign_id: uuid.UUID) -> str:
    return f"{base_url(settings)}#/campaigns/{campaign_id}"
