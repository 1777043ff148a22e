"""Local pre-filter: reject noise with a named reason, rank survivors by relevance.

Most of a subreddit's ``new`` listing is not worth a classifier's time (removed posts,
links, one-liners, promotion); rejecting it locally keeps LLM cost and reading time down,
and the named reason lets the user audit what was thrown away.

Rules run cheapest and most certain first; the first that matches wins:

1. ``removed_or_deleted`` — removed by mods/Reddit or deleted by the author.
2. ``stickied`` — pinned or moderator-distinguished posts (weekly threads, rules).
3. ``nsfw`` — marked over 18.
4. ``link_only`` — link posts and crossposts without a real body to read.
5. ``too_short`` — title-only posts and one-liners (< ``MIN_WORDS`` words in all, or a
   body under ``MIN_BODY_WORDS``).
6. ``promotional`` — two promotion cues (discount codes, "check out my", affiliate or
   tracking links, ...) or one cue plus a URL.
7. ``non_english`` — few English function words, or mostly non-ASCII letters.
8. ``duplicate_text`` — same normalized title+text already passed in this run.

Relevance (0-10) of survivors is a sum of capped components, weights in ``WEIGHTS``:
campaign keywords (title hits count double), personal voice, questions, emotion words,
specifics (money, %, MRR, durations), storytelling markers, length and engagement, the
last two log-scaled so a long or viral post cannot dominate on that alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bcrao.collection.text import (
    NON_ASCII_LETTER_RE,
    QUESTION_STARTERS,
    PhraseSet,
    count_numbers,
    count_urls,
    tokenize,
    variants,
    vocab_counts,
)
from bcrao.sources.base import NormalizedPost

REASONS = (
    "removed_or_deleted",
    "stickied",
    "nsfw",
    "link_only",
    "too_short",
    "promotional",
    "non_english",
    "duplicate_text",
)

MIN_WORDS = 25
MIN_BODY_WORDS = 12
LINK_BODY_WORDS = 40  # a link post needs this much text of its own to be worth reading
MIN_ENGLISH_RATIO = 0.12
MAX_NON_ASCII_RATIO = 0.15

_LOG_FULL_LENGTH = math.log1p(250)  # words at which length earns full marks
_LOG_FULL_ENGAGEMENT = math.log1p(500)  # upvotes + 2 x comments at which engagement is full

WEIGHTS = {
    "keywords": 2.5,
    "personal_voice": 1.5,
    "question": 1.0,
    "emotion": 1.0,
    "specifics": 1.5,
    "story": 1.0,
    "length": 0.75,
    "engagement": 0.75,
}

_REMOVED_BODIES = frozenset({"[removed]", "[deleted]"})
_REMOVED_TITLES = frozenset({"[deleted by user]", "[removed]", "[deleted]"})

# Promotion cues on tokens ("#" = a number token), plus link fragments checked as substrings.
_PROMO = PhraseSet(
    {
        "promo": variants("check", "|it", "out", "my|our")
        + variants("promo|discount|coupon|referral", "code|codes")
        + variants("use|with|enter", "|the", "code")
        + variants("#", "off")
        + variants("lifetime", "deal|access")
        + variants("limited", "time|spots|offer")
        + variants("sign up", "now|today|here")
        + variants("affiliate", "link|program")
        + ["commission"]
        + ["dm me", "link in bio", "link in my bio", "link in profile", "support us with an upvote"]
        + variants("get", "#", "month|months", "free")
        + ["before it's gone", "exclusive discount"],
    }
)
_PROMO_LINK_MARKERS = (
    "?ref=",
    "&ref=",
    "?via=",
    "&via=",
    "?aff",
    "&aff",
    "utm_source=",
    "amzn.to/",
    "bit.ly/",
)


@dataclass(slots=True)
class FilterDecision:
    reason: str | None
    relevance_score: float
    signals: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.reason is None


def _keyword_phrases(keywords: Sequence[str]) -> PhraseSet | None:
    """Campaign keywords as token phrases: case-insensitive and on word boundaries by
    construction, since posts and keywords go through the same tokenizer ("Node.js" in a
    post matches the keyword "node.js", "pricing" does not match "repricing")."""
    phrases = sorted({" ".join(tokenize(k)) for k in keywords if k and tokenize(k)})
    return PhraseSet({"keyword": phrases}) if phrases else None


class PreFilter:
    """Evaluates one run's posts; remembers passed texts to catch reposts within the run."""

    def __init__(self, keywords: Sequence[str]) -> None:
        self._keywords = _keyword_phrases(keywords)
        self._seen: set[str] = set()

    def evaluate(self, post: NormalizedPost) -> FilterDecision:
        title, body = post.title or "", (post.text or "").strip()
        if post.removed or body in _REMOVED_BODIES or title.strip().lower() in _REMOVED_TITLES:
            return FilterDecision("removed_or_deleted", 0.0)
        if post.stickied or post.distinguished == "moderator":
            return FilterDecision("stickied", 0.0)
        if post.over_18:
            return FilterDecision("nsfw", 0.0)

        title_tokens = tokenize(title)
        body_tokens = tokenize(body) if body else []
        if (not post.is_self or post.is_crosspost) and len(body_tokens) < LINK_BODY_WORDS:
            return FilterDecision("link_only", 0.0)
        n_words = len(title_tokens) + len(body_tokens)
        if n_words < MIN_WORDS or len(body_tokens) < MIN_BODY_WORDS:
            return FilterDecision("too_short", 0.0)

        tokens = title_tokens + body_tokens
        lowered = f"{title}\n{body}".lower()
        urls = count_urls(lowered)
        promo = _PROMO.find(tokens).total()
        if urls:
            promo += sum(marker in lowered for marker in _PROMO_LINK_MARKERS)
        if promo >= 2 or (promo and urls):
            return FilterDecision("promotional", 0.0)

        vocab = vocab_counts(tokens)
        if vocab["stopwords"] / n_words < MIN_ENGLISH_RATIO or (
            not lowered.isascii()
            and len(NON_ASCII_LETTER_RE.findall(lowered)) / len(lowered) > MAX_NON_ASCII_RATIO
        ):
            return FilterDecision("non_english", 0.0)

        key = " ".join(tokens)
        if key in self._seen:
            return FilterDecision("duplicate_text", 0.0)
        self._seen.add(key)

        signals = self._relevance(post, title, body, title_tokens, tokens, vocab)
        return FilterDecision(None, round(min(10.0, sum(signals.values())), 2), signals)

    def _relevance(
        self,
        post: NormalizedPost,
        title: str,
        body: str,
        title_tokens: list[str],
        tokens: list[str],
        vocab: dict[str, int],
    ) -> dict[str, float]:
        n_words = len(tokens)
        keyword_weight = 0.0
        if self._keywords is not None:
            title_hits = self._keywords.find(title_tokens).total()
            keyword_weight = 2.0 * title_hits + self._keywords.find(tokens).total() - title_hits
        if "?" in title or (title_tokens and title_tokens[0] in QUESTION_STARTERS):
            question = 1.0
        elif "?" in body:
            question = 0.6
        else:
            question = 0.0
        specifics = count_numbers(tokens) + vocab["metric"]
        engagement = max(0, post.upvotes) + 2 * max(0, post.comment_count)
        scaled = {
            "keywords": 1.0 - math.exp(-keyword_weight / 3.0),
            "personal_voice": min(1.0, vocab["first_person"] / n_words / 0.06),
            "question": question,
            "emotion": min(1.0, vocab["emotion"] / 3.0),
            "specifics": min(1.0, specifics / 5.0),
            "story": min(1.0, vocab["story"] / 3.0),
            "length": min(1.0, math.log1p(n_words) / _LOG_FULL_LENGTH),
            "engagement": min(1.0, math.log1p(engagement) / _LOG_FULL_ENGAGEMENT),
        }
        return {name: round(WEIGHTS[name] * value, 3) for name, value in scaled.items()}
