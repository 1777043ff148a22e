"""Themes of a campaign's posts, offline: TF-IDF over each post (and its comments), NMF.

Why NMF and not clustering or a neural topic model: it needs no downloaded weights, runs on
one core in seconds for a hundred thousand posts, is deterministic (``nndsvda``
initialisation), and every post gets the theme it weighs most in, so there is no "outliers"
bucket: only a post with none of the vocabulary's words (a title like "Help?") is left
unassigned. Each theme is then described with evidence a founder can check: its most
distinctive terms, the archetype mix, the weekly trend, and 3-5 quotes, which are sentences
cut out of the posts and comments (exact substrings, so each one can be found behind its
link; fewer than 3 only when the theme's posts and comments do not hold 3 sentences).

Everything here is pure computation over ``ThemeDoc`` values; ``bcrao.themes.compute``
reads them from the database and stores the result.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import uuid
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from bcrao.collection.models import ARCHETYPES

MIN_POSTS = 8  # fewer posts than this make no themes worth reading
MAX_THEMES = 12
TREND_WEEKS = 8
QUOTES = 5  # at most, per theme
QUOTE_FLOOR = 3  # at least, when the theme's posts and comments have that many sentences
QUOTE_POSTS = 60  # a theme's most typical posts, where its quotes are looked for first
QUOTE_MIN, QUOTE_MAX = 25, 280
DOC_CHARS = 6000  # of a post with its comments: enough to know what it is about
COMMENT_CHARS = 2000
BOILERPLATE_POSTS = 3  # a comment sentence found under this many posts says nothing about any
# Words every Reddit thread has, whatever it is about: they would name every theme.
FILLER = {
    "just",
    "like",
    "im",
    "dont",
    "really",
    "know",
    "think",
    "want",
    "get",
    "got",
    "would",
    "one",
    "also",
    "make",
    "thanks",
    "thank",
    "anyone",
    "help",
    "people",
    "time",
    "need",
    "going",
    "use",
    "using",
    "way",
    "thing",
    "things",
    "lot",
    "good",
    "new",
    "year",
    "years",
    "work",
    "even",
    "much",
    "could",
    "day",
    "see",
    "still",
    "first",
    "ve",
    "ll",
    "re",
    "don",
    "doesn",
    "didn",
    "isn",
    "can",
    "actually",
    "post",
    "reddit",
    "question",
    "does",
    "did",
    "let",
    "say",
    "said",
    "yes",
    "yeah",
    "sure",
    "right",
    "ok",
    "okay",
    "pretty",
    "maybe",
    "since",
    "well",
    "look",
    "looking",
    "try",
    "trying",
    "tried",
    "back",
    "around",
    "something",
    "anything",
    "everything",
    "someone",
    "lol",
    "edit",
    "http",
    "https",
    "www",
    "com",
    "amp",
    "x200b",
    "deleted",
    "removed",
    "hi",
    "hey",
    "guys",
}
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | FILLER)
# Matched against lower-cased text: three times faster than IGNORECASE on 100,000 posts.
_NEGATIVE = re.compile(
    r"\b(hate|hated|frustrat\w*|struggl\w*|expensive|overpriced|problem\w*|issue\w*|pains?|painful\w*|annoy\w*|"
    r"broken|bug\w*|can'?t|cannot|difficult|hard|slow|waste\w*|confus\w*|nightmare|terrible|awful|"
    r"fail\w*|lost|losing|churn\w*|stuck|worst|sucks?|impossible|complain\w*|nobody|never)\b",
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_BOUNDARY = re.compile(r"[.!?\n]+")  # what separates two of _SENTENCE's matches
_GRAM = re.compile(r"[a-z][a-z0-9]+")


@dataclass(slots=True)
class ThemeComment:
    id: uuid.UUID
    body: str
    upvotes: int
    reddit_url: str


@dataclass(slots=True)
class ThemeDoc:
    post_id: uuid.UUID
    title: str
    text: str
    archetype: str
    success_score: float
    upvotes: int
    comment_count: int
    created: datetime
    reddit_url: str
    comments: list[ThemeComment] = field(default_factory=list)

    def document(self, boilerplate: frozenset[str] = frozenset()) -> str:
        """Title (twice: it says what the post is about), text, then the comments' sentences
        that are not boilerplate, capped at ``COMMENT_CHARS`` so a long thread cannot
        outweigh its post."""
        said = " ".join(
            sentence
            for c in self.comments
            for sentence in sentences(c.body)
            if _norm(sentence) not in boilerplate
        )[:COMMENT_CHARS]
        return "\n".join(p for p in (self.title, self.title, self.text, said) if p)[:DOC_CHARS]


@dataclass(slots=True)
class ThemeSet:
    themes: list[dict[str, Any]]
    assignment: dict[uuid.UUID, int]  # post id -> theme id
    total_posts: int
    unassigned: int


def theme_count(posts: int) -> int:
    """About one theme per 30-100 posts, between 2 and ``MAX_THEMES``."""
    return max(2, min(MAX_THEMES, round(math.sqrt(posts / 4))))


def build_themes(docs: Sequence[ThemeDoc], *, max_themes: int = MAX_THEMES) -> ThemeSet:
    """The campaign's themes; deterministic for the same posts (whatever their order)."""
    docs = sorted(docs, key=lambda d: d.post_id)
    if len(docs) < MIN_POSTS:
        return ThemeSet(themes=[], assignment={}, total_posts=len(docs), unassigned=len(docs))
    vectorizer = TfidfVectorizer(
        stop_words=STOP_WORDS,
        ngram_range=(1, 2),
        min_df=2 if len(docs) < 500 else 3 if len(docs) < 5000 else 5,
        max_df=0.35,
        max_features=30_000,
        sublinear_tf=True,
        strip_accents="unicode",
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b",
        dtype=np.float32,
    )
    boilerplate = _boilerplate(docs)
    try:
        matrix = vectorizer.fit_transform([d.document(boilerplate) for d in docs])
    except ValueError:  # nothing but stop words
        return ThemeSet(themes=[], assignment={}, total_posts=len(docs), unassigned=len(docs))
    k = min(theme_count(len(docs)), max_themes, matrix.shape[1])
    model = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=300, tol=1e-4)
    with warnings.catch_warnings():
        # Not converged to 1e-4 in 300 iterations changes the weights in the 4th decimal,
        # not which theme a post weighs most in.
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = model.fit_transform(matrix)
    terms = vectorizer.get_feature_names_out()
    best = weights.argmax(axis=1)
    strength = weights.max(axis=1)
    members: dict[int, list[int]] = {}
    for i, (topic, s) in enumerate(zip(best, strength, strict=True)):
        if s > 1e-9:
            members.setdefault(int(topic), []).append(i)
    newest = max(d.created for d in docs)
    drafts = []
    for topic, rows in members.items():
        component = model.components_[topic]
        top = component.argsort()[::-1][:40]
        term_weights = {str(terms[t]): float(component[t]) for t in top if component[t] > 0}
        ranked = sorted(rows, key=lambda i: -weights[i, topic])
        drafts.append(
            _describe([docs[i] for i in rows], [docs[i] for i in ranked], term_weights, newest, boilerplate)
        )
    drafts.sort(key=lambda t: (-t["size"], t["label"]))
    _rank_pain(drafts)
    assignment: dict[uuid.UUID, int] = {}
    for number, theme in enumerate(drafts, start=1):
        theme["id"] = number
        theme["share"] = round(theme["size"] / len(docs), 4)
        for post_id in theme.pop("_post_ids"):
            assignment[post_id] = number
    return ThemeSet(
        themes=drafts, assignment=assignment, total_posts=len(docs), unassigned=len(docs) - len(assignment)
    )


def _label_terms(term_weights: dict[str, float]) -> list[str]:
    """The theme's most distinctive terms, phrases first: a word inside a chosen phrase is
    not repeated ("cold email" makes "cold" and "email" redundant)."""
    chosen: list[str] = []
    for term in sorted(term_weights, key=lambda t: (-term_weights[t], t)):
        words = set(term.split())
        if any(words <= set(c.split()) or set(c.split()) <= words for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == 8:
            break
    return chosen


def _describe(
    docs: list[ThemeDoc],
    ranked: list[ThemeDoc],
    term_weights: dict[str, float],
    newest: datetime,
    boilerplate: frozenset[str],
) -> dict[str, Any]:
    key_terms = _label_terms(term_weights)
    archetypes = Counter(d.archetype for d in docs)
    trend = _trend(docs, newest)
    return {
        "label": " · ".join(key_terms[:3]),
        "terms": key_terms,
        "size": len(docs),
        "by_archetype": {a: archetypes.get(a, 0) for a in ARCHETYPES},
        "avg_success_score": round(sum(d.success_score for d in docs) / len(docs), 2),
        "trend": trend,
        "direction": _direction([w["count"] for w in trend]),
        "quotes": quotes_of(ranked, term_weights, boilerplate),
        "_pain": pain(docs, boilerplate),
        "_post_ids": [d.post_id for d in docs],
    }


def negative_sentences(doc: ThemeDoc, boilerplate: frozenset[str] = frozenset()) -> int:
    """Sentences of the post (title, text) and of its comments that complain or name a
    problem; a comment sentence said under several posts (boilerplate) does not count."""
    said = _negative_count(doc.title) + _negative_count(doc.text)
    for comment in doc.comments:
        if boilerplate and _negative_count(comment.body):
            said += sum(
                1
                for s in _pieces(comment.body)
                if _NEGATIVE.search(s.lower()) and _norm(s) not in boilerplate
            )
        else:
            said += _negative_count(comment.body)
    return said


def _negative_count(text: str | None) -> int:
    """How many of ``text``'s sentences (``_pieces``) hold a negative word, in one pass of
    the pattern over the whole text (a pass per sentence costs ten times more on 100,000
    posts): a sentence ends at each run of ``.!?`` and newlines."""
    lowered = (text or "").lower()  # sentence ends and hits in the same coordinates
    hits = [m.start() for m in _NEGATIVE.finditer(lowered)]
    if len(hits) <= 1:
        return len(hits)
    ends = [m.end() for m in _BOUNDARY.finditer(lowered, 0, hits[-1])]
    return len({bisect.bisect_right(ends, h) for h in hits})


def engagement(docs: Sequence[ThemeDoc]) -> float:
    """1 + the mean log of a post's upvotes and comments: 1 when nobody reacted, ~7 for
    posts with a thousand reactions (a log: one viral post does not make a theme)."""
    return 1 + sum(math.log1p(max(0, d.upvotes) + max(0, d.comment_count)) for d in docs) / len(docs)


def pain(docs: Sequence[ThemeDoc], boilerplate: frozenset[str] = frozenset()) -> float:
    """A theme's raw pain: (its ProblemSolution posts + its negative sentences, in posts and
    comments) x its engagement. Summed in the docs' order (by post id): deterministic."""
    problems = sum(1 for d in docs if d.archetype == "ProblemSolution")
    negative = sum(negative_sentences(d, boilerplate) for d in docs)
    return (problems + negative) * engagement(docs)


def _rank_pain(themes: list[dict[str, Any]]) -> None:
    """Pain points: the themes by raw ``pain``, scaled 0-10 with the campaign's most painful
    theme at 10 (0 for every theme when none holds a problem or a complaint)."""
    raw = [t.pop("_pain") for t in themes]
    top = max(raw, default=0.0)
    for theme, value in zip(themes, raw, strict=True):
        theme["pain_score"] = round(10 * value / top, 2) if top > 0 else 0.0


def week_of(moment: datetime | date) -> date:
    day = moment.date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


def _trend(docs: list[ThemeDoc], newest: datetime) -> list[dict[str, Any]]:
    last = week_of(newest)
    weeks = [last - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    counts = Counter(week_of(d.created) for d in docs)
    return [{"week": w.isoformat(), "count": counts.get(w, 0)} for w in weeks]


def _direction(counts: list[int]) -> str:
    """Rising or fading when the last four weeks differ from the four before by a quarter
    and by at least two posts; steady otherwise (small numbers are not a trend)."""
    half = len(counts) // 2
    before, recent = sum(counts[:half]), sum(counts[half:])
    if recent - before >= 2 and recent > 1.25 * before:
        return "rising"
    if before - recent >= 2 and recent < 0.8 * before:
        return "fading"
    return "steady"


_STOP = frozenset(STOP_WORDS)


def _grams(text: str) -> set[str]:
    """Words and two-word phrases as the vectorizer sees them (stop words out first)."""
    words = [w for w in _GRAM.findall(text.lower()) if w not in _STOP]
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def sentences(text: str) -> list[str]:
    """Sentences of ``text`` as exact substrings of it (trimmed, never rewritten)."""
    out = []
    for match in _SENTENCE.finditer(text or ""):
        sentence = match.group().strip()
        if len(sentence) > QUOTE_MAX:  # cut at a word boundary: still a substring
            sentence = sentence[:QUOTE_MAX].rsplit(" ", 1)[0].rstrip(",;: ")
        if len(sentence) >= QUOTE_MIN:
            out.append(sentence)
    return out


def _pieces(text: str | None) -> list[str]:
    """Every sentence of ``text``, whatever its length (``sentences`` keeps quotable ones)."""
    return [p for m in _SENTENCE.finditer(text or "") if (p := m.group().strip())]


def _norm(sentence: str) -> str:
    return " ".join(_GRAM.findall(sentence.lower()))


def _boilerplate(docs: Sequence[ThemeDoc]) -> frozenset[str]:
    """Comment sentences said under several posts ("Same here.", a bot's or a template's
    text): neither a theme's words nor a quote."""
    seen: Counter[str] = Counter()
    for doc in docs:
        seen.update({_norm(s) for c in doc.comments for s in sentences(c.body)})
    return frozenset(s for s, n in seen.items() if n >= BOILERPLATE_POSTS)


def quotes_of(
    ranked: Sequence[ThemeDoc], term_weights: dict[str, float], boilerplate: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """``QUOTE_FLOOR`` to ``QUOTES`` sentences that carry the theme, from its most typical
    posts (``QUOTE_POSTS`` of them; all its posts when those fall short), each an exact
    substring of a post's title or text or of one of its comments, no two alike.

    First the best sentence of each post (one voice per post), the best ``QUOTES`` of those.
    A theme whose posts give fewer than ``QUOTE_FLOOR`` that way takes a second sentence of
    a post, then any sentence carrying the theme's terms, then any sentence at all of its
    posts and comments: it has at least ``min(QUOTE_FLOOR, distinct sentences)`` quotes."""
    picked = _pick_quotes(_candidates(ranked[:QUOTE_POSTS], term_weights, boilerplate))
    if len(picked) < QUOTE_FLOOR and len(ranked) > QUOTE_POSTS:
        picked = _pick_quotes(_candidates(ranked, term_weights, boilerplate))
    return [
        {
            "post_id": str(q.post_id),
            "comment_id": str(q.comment_id) if q.comment_id else None,
            "reddit_url": q.url,
            "text": q.text,
            "upvotes": q.upvotes,
        }
        for q in picked
    ]


@dataclass(slots=True, frozen=True)
class _Candidate:
    score: float
    upvotes: int
    post_id: uuid.UUID
    comment_id: uuid.UUID | None
    url: str
    text: str

    def key(self) -> tuple[Any, ...]:
        return (-self.score, -self.upvotes, str(self.post_id), str(self.comment_id or ""), self.text)


def _candidates(
    docs: Sequence[ThemeDoc], term_weights: dict[str, float], boilerplate: frozenset[str]
) -> list[_Candidate]:
    """Every distinct sentence of the posts and their comments, best first: the weight of
    the theme's terms it holds, then its upvotes (ties broken by ids: deterministic)."""
    found = []
    for doc in docs:
        sources: list[tuple[str, uuid.UUID | None, str, int]] = [
            (doc.title, None, doc.reddit_url, doc.upvotes),
            (doc.text, None, doc.reddit_url, doc.upvotes),
            *((c.body, c.id, c.reddit_url, c.upvotes) for c in doc.comments),
        ]
        for text, comment_id, url, upvotes in sources:
            for sentence in sentences(text):
                if _norm(sentence) in boilerplate:
                    continue
                score = sum(term_weights.get(g, 0.0) for g in _grams(sentence))
                found.append(_Candidate(score, upvotes, doc.post_id, comment_id, url, sentence))
    found.sort(key=_Candidate.key)
    distinct, said = [], set()
    for candidate in found:
        norm = _norm(candidate.text)
        if norm not in said:
            said.add(norm)
            distinct.append(candidate)
    return distinct


def _pick_quotes(candidates: list[_Candidate]) -> list[_Candidate]:
    picked: list[_Candidate] = []
    per_post: Counter[uuid.UUID] = Counter()
    # (sentences per post, only sentences holding the theme's terms); the later passes only
    # run while the theme has fewer than QUOTE_FLOOR quotes.
    for per_post_limit, on_theme in ((1, True), (2, True), (None, True), (None, False)):
        if len(picked) >= QUOTE_FLOOR:
            break
        for candidate in candidates:
            if len(picked) == QUOTES:
                break
            if candidate in picked or (on_theme and candidate.score <= 0):
                continue
            if per_post_limit is not None and per_post[candidate.post_id] >= per_post_limit:
                continue
            picked.append(candidate)
            per_post[candidate.post_id] += 1
    picked.sort(key=_Candidate.key)
    return picked


def npmi(top_terms: Sequence[str], documents: Sequence[set[str]]) -> float:
    """Mean normalised pointwise mutual information of a theme's top terms over documents
    (sets of their grams): 1 = always together, 0 = independent, -1 = never together."""
    n = len(documents)
    if n == 0 or len(top_terms) < 2:
        return 0.0
    present = {t: {i for i, d in enumerate(documents) if t in d} for t in top_terms}
    scores = []
    for i, a in enumerate(top_terms):
        for b in top_terms[i + 1 :]:
            pa, pb = len(present[a]) / n, len(present[b]) / n
            pab = len(present[a] & present[b]) / n
            if pa == 0 or pb == 0:
                continue
            if pab == 0:
                scores.append(-1.0)
            elif pab == 1:
                scores.append(1.0)
            else:
                scores.append(math.log(pab / (pa * pb)) / -math.log(pab))
    return sum(scores) / len(scores) if scores else 0.0


def doc_grams(doc: ThemeDoc) -> set[str]:
    return _grams(doc.document())
