"""Local pre-filter: reject noise with a named reason, rank survivors by relevance.

Most of a subreddit's ``new`` listing is not worth a classifier's time (removed posts,
links, one-liners, promotion); rejecting it locally keeps LLM cost and reading time down,
and the named reason lets the user audit what was thrown away.

Rules run cheapest and most certain first; the first that matches wins:

1. ``removed_or_deleted`` — removed by mods/Reddit or deleted by the author.
2. ``stickied`` — pinned, moderator- or admin-distinguished posts (weekly threads, rules).
3. ``nsfw`` — marked over 18.
4. ``meta_thread`` — recurring and meta threads anyone may start ("Share your startup -
   August edition", "Weekly feedback thread", "[Meta] ...", "New subreddit: ...", "traffic
   results for June"): about the community, not from it.
5. ``link_only`` / ``too_short`` — link posts (and crossposts) without a real body, and
   title-only posts and one-liners, *unless their title carries a question, a story or an
   opinion*. That judgement is the trained ``useful`` model's (``bcrao.collection.model``):
   a title such as "I quit my job to sell candles, AMA" is worth reading on its own, "My
   latest table" over an image is not, and no list of words tells them apart as well.
6. ``promotional`` — two promotion cues (discount codes, "check out my", affiliate or
   tracking links, ...), or one cue plus a tracking link. Words that are simply a
   community's topic (a crowdfunding site, a discount, a commission) are not cues.
7. ``non_english`` — few English function words, or mostly non-ASCII letters.
8. ``duplicate_text`` — same normalized title+text already passed in this run.

Relevance (0-10) of survivors is a sum of capped components, weights in ``WEIGHTS``. Seven
of the ten points say how much the post is about *this campaign*
(``bcrao.collection.relevance``): its keywords in the title (most), its keywords in the
text, and the weighted share of its product context's terms the post uses. The other three
say whether it is worth reading at all, whatever the campaign: personal voice, questions,
emotion words, specifics (money, %, MRR, durations), storytelling markers, length and
engagement, the last two log-scaled so a long or viral post cannot dominate on that alone.
So a post about the campaign's subject outranks a well-told one about something else, and
among posts equally on topic the more readable comes first.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bcrao.collection import model
from bcrao.collection.relevance import CampaignMatch, CampaignMatcher
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
    "meta_thread",
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
    # about the campaign: 7 points
    "keywords_title": 3.0,
    "keywords_text": 2.25,
    "context": 1.75,
    # worth reading: 3 points
    "personal_voice": 0.6,
    "question": 0.4,
    "emotion": 0.35,
    "specifics": 0.6,
    "story": 0.35,
    "length": 0.35,
    "engagement": 0.35,
}
# One keyword in the title earns 70% of its component, two 91%; one mention in the text
# 60% (repeats of a keyword count half a new one, at most four); a context coverage of 0.3
# (a title using a third of the context's weight, or a text using 30% of it) earns 63%.
_TITLE_KEYWORD_DECAY = 0.3
_TEXT_KEYWORD_DECAY = 0.4
_CONTEXT_SCALE = 0.3

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


_RECURRING = (
    "weekly|monthly|daily|biweekly|quarterly|annual|yearly"
    "|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_META = PhraseSet(
    {
        "meta": variants(_RECURRING, "|#", "thread|threads|megathread|discussion|roundup|digest|check-in")
        + variants(_RECURRING, "*", "thread|threads|discussion")
        + variants(_RECURRING, "*", "*", "thread|threads")
        + variants(_MONTHS, "|#", "edition|thread|megathread|roundup")
        + variants(_MONTHS, "|#", "traffic|stats|statistics")
        + variants("traffic|subreddit|sub", "stats|statistics|results|report")
        + variants("share your", "startup|startups|project|projects|product|products|app|apps|side project")
        + variants("new|official|our", "subreddit|sub|megathread")
        + variants("state of the", "subreddit|sub|community")
        + variants("mod|mods|moderator|moderators", "post|announcement|psa|note|update|applications|wanted")
        + variants("looking for|need|needs|new", "mods|moderators")
        + ["megathread", "mega thread", "read before posting", "subreddit rules", "rules update", "new rule"],
    }
)
_META_FLAIRS = frozenset({"meta", "mod post", "modpost", "announcement", "announcements", "mod", "official"})


def is_meta_thread(post: NormalizedPost, title_tokens: list[str]) -> bool:
    """A recurring or meta thread: about the community rather than from one of its members."""
    title = post.title.lstrip()
    if title[:6].lower() in ("[meta]", "(meta)") or title[:5].lower() == "meta:":
        return True
    flair = (post.link_flair_text or "").strip().strip("[]").lower()
    return flair in _META_FLAIRS or bool(_META.find(title_tokens))


@dataclass(slots=True)
class FilterDecision:
    reason: str | None
    relevance_score: float
    signals: dict[str, float] = field(default_factory=dict)
    matched_keywords: tuple[str, ...] = ()  # the campaign's keywords in the title or text


def short_reason(post: NormalizedPost, title_words: int, body_words: int) -> str | None:
    """``link_only`` / ``too_short`` when the post's worth rests on its title alone."""
    if (not post.is_self or post.is_crosspost) and body_words < LINK_BODY_WORDS:
        return "link_only"
    if title_words + body_words < MIN_WORDS or body_words < MIN_BODY_WORDS:
        return "too_short"
    return None


TitleJudge = Callable[[NormalizedPost], bool]


class PreFilter:
    """Evaluates one run's posts; remembers passed texts to catch reposts within the run.

    ``keywords`` and ``context`` are the campaign's keywords and product context, which
    relevance is measured against. ``title_judge`` decides whether a link or very short post
    is worth keeping for its title (default: the shipped model); ``None`` rejects them all,
    as the first rules did.
    """

    def __init__(
        self,
        keywords: Sequence[str],
        *,
        context: str = "",
        title_judge: TitleJudge | None = model.keeps,
    ) -> None:
        self._campaign = CampaignMatcher(keywords, context)
        self._seen: set[bytes] = set()
        self._judge = title_judge

    def evaluate(self, post: NormalizedPost) -> FilterDecision:
        title, body = post.title or "", (post.text or "").strip()
        if post.removed or body in _REMOVED_BODIES or title.strip().lower() in _REMOVED_TITLES:
            return FilterDecision("removed_or_deleted", 0.0)
        if post.stickied or post.distinguished in ("moderator", "admin"):
            return FilterDecision("stickied", 0.0)
        if post.over_18:
            return FilterDecision("nsfw", 0.0)

        title_tokens = tokenize(title)
        if is_meta_thread(post, title_tokens):
            return FilterDecision("meta_thread", 0.0)
        body_tokens = tokenize(body) if body else []
        n_words = len(title_tokens) + len(body_tokens)
        short = short_reason(post, len(title_tokens), len(body_tokens))
        # A post without a single word ("!!!", "???") has nothing for the judge to read.
        if short is not None and (not n_words or self._judge is None or not self._judge(post)):
            return FilterDecision(short, 0.0)

        tokens = title_tokens + body_tokens
        lowered = f"{title}\n{body}".lower()
        urls = count_urls(lowered)
        promo = _PROMO.find(tokens).total()
        tracking = sum(marker in lowered for marker in _PROMO_LINK_MARKERS) if urls else 0
        if promo + tracking >= 2:
            return FilterDecision("promotional", 0.0)

        vocab = vocab_counts(tokens)
        # Function words are too few to count in a title-only post; its letters still tell.
        if (n_words >= MIN_WORDS and vocab["stopwords"] / n_words < MIN_ENGLISH_RATIO) or (
            not lowered.isascii()
            and len(NON_ASCII_LETTER_RE.findall(lowered)) / len(lowered) > MAX_NON_ASCII_RATIO
        ):
            return FilterDecision("non_english", 0.0)

        # A digest, not the text: a long import must not keep every kept post's words.
        key = hashlib.blake2b(" ".join(tokens).encode(), digest_size=16).digest()
        if key in self._seen:
            return FilterDecision("duplicate_text", 0.0)
        self._seen.add(key)
        return self._survivor(post, body, title_tokens, body_tokens, tokens, vocab)

    def kept_anyway(self, post: NormalizedPost) -> FilterDecision:
        """Relevance and keyword matches of a post kept whatever the rules say (a rejected
        sample the user wants kept): the survivor's half of ``evaluate``."""
        title, body = post.title or "", (post.text or "").strip()
        title_tokens = tokenize(title)
        body_tokens = tokenize(body) if body else []
        tokens = title_tokens + body_tokens
        if not tokens:
            return FilterDecision(None, 0.0)
        return self._survivor(post, body, title_tokens, body_tokens, tokens, vocab_counts(tokens))

    def _survivor(
        self,
        post: NormalizedPost,
        body: str,
        title_tokens: list[str],
        body_tokens: list[str],
        tokens: list[str],
        vocab: dict[str, int],
    ) -> FilterDecision:
        found = self._campaign.match(title_tokens, body_tokens, tokens)
        signals = self._relevance(post, body, title_tokens, tokens, vocab, found)
        return FilterDecision(None, round(min(10.0, sum(signals.values())), 2), signals, found.matched)

    def _relevance(
        self,
        post: NormalizedPost,
        body: str,
        title_tokens: list[str],
        tokens: list[str],
        vocab: dict[str, int],
        found: CampaignMatch,
    ) -> dict[str, float]:
        n_words = len(tokens)
        if "?" in (post.title or "") or (title_tokens and title_tokens[0] in QUESTION_STARTERS):
            question = 1.0
        elif "?" in body:
            question = 0.6
        else:
            question = 0.0
        specifics = count_numbers(tokens) + vocab["metric"]
        engagement = max(0, post.upvotes) + 2 * max(0, post.comment_count)
        text_weight = found.text_keywords + 0.5 * min(4, found.text_mentions - found.text_keywords)
        scaled = {
            "keywords_title": 1.0 - _TITLE_KEYWORD_DECAY**found.title_keywords,
            "keywords_text": 1.0 - _TEXT_KEYWORD_DECAY**text_weight,
            "context": 1.0 - math.exp(-found.context_coverage / _CONTEXT_SCALE),
            "personal_voice": min(1.0, vocab["first_person"] / n_words / 0.06),
            "question": question,
            "emotion": min(1.0, vocab["emotion"] / 3.0),
            "specifics": min(1.0, specifics / 5.0),
            "story": min(1.0, vocab["story"] / 3.0),
            "length": min(1.0, math.log1p(n_words) / _LOG_FULL_LENGTH),
            "engagement": min(1.0, math.log1p(engagement) / _LOG_FULL_ENGAGEMENT),
        }
        return {name: round(WEIGHTS[name] * value, 3) for name, value in scaled.items()}
