"""Word lists and precompiled patterns shared by the pre-filter, classifier and scorer.

Everything here is compiled once at import: the pipeline evaluates tens of thousands of
posts per second, so no function below builds a regex or a set per call. Token counts go
through ``collections.Counter`` (C-implemented counting) and set intersection with its keys,
which is much faster than a Python loop over words or a regex alternation of hundreds of
words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# Lower-cased words, keeping contractions ("i'm", "we’ve") whole so pronoun lists match them.
WORD_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
URL_RE = re.compile(r"\bhttps?://[^\s)\]>]+|\bwww\.[a-z0-9-]+\.[a-z]{2,}[^\s)\]>]*", re.IGNORECASE)
# Letters outside ASCII that are not typographic punctuation: a cheap non-English signal.
NON_ASCII_LETTER_RE = re.compile(r"[^\x00-\x7f\u2018-\u201f\u2013\u2014\u2026\u00a0\u20ac\u00a3]")

FIRST_PERSON = frozenset(
    "i i'm i've i'd i'll im ive me my mine myself we we're we've we'd we'll us our ours ourselves".split()
    + ["i’m", "i’ve", "i’d", "i’ll", "we’re", "we’ve", "we’d", "we’ll"]
)

EMOTION = frozenset(
    """
    afraid angry annoyed anxious ashamed burned burnout burnt crushed depressed desperate devastated
    disappointed exhausted excited embarrassed frustrated frustrating grateful gutted happy hate hated
    heartbroken hopeful humbling hurt lonely love loved miserable nervous overwhelmed painful panic
    proud regret regrets relieved relief sad scared scary shocked stressed stressful stuck terrified
    thrilled tired unreal upset worried worry hardest brutal insane surreal emotional cried crying
    """.split()
)

# High-frequency function words. A long text in which almost none of these occur is very
# unlikely to be English; the list avoids words that are also common in Spanish, French,
# German or Portuguese ("a", "de", "in", "an", "so", "on", "die", "que").
ENGLISH_STOPWORDS = frozenset(
    """
    the and is are was were be been being to of for with that this it it's its you your they their
    them he she his her have has had not but what how why when where which who will would should
    could can do does did just about from at by or if than then there these those my we our me i'm
    i've don't can't any some all more most very really also only into out up over after before
    because while got get getting been much many every other such here
    """.split()
)

MARKETING_JARGON = frozenset(
    """
    synergy synergies synergize game-changer gamechanger game-changing revolutionary revolutionize
    disrupt disruptive disruption 10x leverage leveraging cutting-edge bleeding-edge best-in-class
    world-class next-gen next-level paradigm seamless seamlessly unlock empower empowering holistic
    turnkey scalable robust innovative groundbreaking supercharge skyrocket hypergrowth
    """.split()
)

# Numbers that carry information: money, percentages, revenue metrics, durations, counts.
SPECIFICS_RE = re.compile(
    r"[$€£]\s?\d[\d,.]*\s?[km]?\b"
    r"|\b\d[\d,.]*\s?%"
    r"|\b\d[\d,.]*\s?k?\s?(?:mrr|arr|users|customers|subscribers|signups|clients|employees|visitors|sales)\b"
    r"|\b(?:mrr|arr|churn|ltv|cac|roi|runway|revenue|margin)\b"
    r"|\b\d+\s?(?:hours?|days?|weeks?|months?|years?|hrs?)\b",
    re.IGNORECASE,
)

# Narrative markers: a sequence of events told after the fact.
STORY_RE = re.compile(
    r"\b(?:i|we)\s+(?:just\s+|finally\s+)?(?:quit|left|started|launched|built|founded|sold|raised|opened"
    r"|closed|pivoted|hired|bootstrapped|shipped|decided|spent|grew|lost)\b"
    r"|\b(?:years?|months?|weeks?)\s+(?:ago|later|in)\b"
    r"|\b(?:back in|looking back|in hindsight|fast forward|since then|at first|eventually|turned out)\b"
    r"|\blast (?:year|month|week|spring|summer|fall|autumn|winter)\b"
    r"|\b(?:journey|story|lessons?|learned|milestone|recap|post-mortem|postmortem)\b",
    re.IGNORECASE,
)

QUESTION_START_RE = re.compile(
    r"^\s*(?:how|what|which|why|where|when|who|is|are|should|would|could|can|do|does|did|any|has|have)\b",
    re.IGNORECASE,
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``."""
    return WORD_RE.findall(text.lower())


def count_vocab(counts: Counter[str], vocab: frozenset[str]) -> int:
    """How many tokens in ``counts`` belong to ``vocab`` (intersection runs in C)."""
    return sum(counts[w] for w in vocab.intersection(counts))


def count_urls(*texts: str) -> int:
    return sum(len(URL_RE.findall(t)) for t in texts if t)


def first_person_ratio(tokens: Iterable[str], counts: Counter[str] | None = None) -> float:
    """Share of tokens that are first-person pronouns; ~0.05+ reads as someone's own voice."""
    counts = counts if counts is not None else Counter(tokens)
    total = counts.total()
    return count_vocab(counts, FIRST_PERSON) / total if total else 0.0


def normalize_for_dedup(title: str, text: str) -> str:
    """A key under which reposts with different spacing or case compare equal."""
    return " ".join(WORD_RE.findall(f"{title}\n{text}".lower()))
