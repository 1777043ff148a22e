"""How much a post is about one campaign: its keywords and its product context.

Two kinds of evidence, both found on the post's tokens (``text.tokenize``) without regexes:

- **Keywords**, matched as the product's search matches a query (``bcrao.posts.search``): a
  keyword word matches a post word it begins ("churn" finds "churned" and "Churn's", not
  "unchurned"); words shorter than ``PREFIX_MIN_CHARS`` match whole words (and their plural)
  only, so "app" finds "apps" but not "apple". A keyword of several words matches them in a row ("credit card"
  finds "credit cards"). Title and text are counted apart: a keyword in the title is worth
  most, because a title states what the post is about.
- **Product context** (the campaign's description of its product): its content words,
  stopwords and sales words removed, each weighted TF-IDF-like: how often the context uses
  it times how rare it is in ordinary Reddit posts (document frequencies of the corpus's
  train-split communities, ``bcrao/data/word_df.json.gz``, built by
  ``scripts/build_word_df.py``). A post covers the share of that weight whose words it
  uses, title words twice. Words are compared by a light stem ("invoicing", "invoices" and
  "invoice" are one term), expanded once per campaign into the forms a post may use, so a
  post costs one set intersection.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from bcrao.collection.text import tokenize

WORD_DF_FILE = "word_df.json.gz"
DATA_PACKAGE = "bcrao.data"
PREFIX_MIN_CHARS = 4  # shorter keyword words match whole words only ("app" is not "apple")
MAX_CONTEXT_TERMS = 40  # a long description is cut to its heaviest terms

# Function words, the words every product description uses ("an easy tool that helps
# teams ..."), and everyday verbs and spans of time: they say nothing of a post's subject.
_STOPWORDS_TEXT = """
    a about above after again against all almost also although always am an and any are around
    as at be because been before being below between both but by can can't cannot could did do
    does doing don't down during each either else even ever every few for from further get gets
    getting got had has have having he her here hers him his how however i i'm if in into is it
    it's its itself just let lets like many may me more most much must my never no nor not now
    of off often on once one only or other others our ours out over own per quite rather really
    same she should since so some still such than that the their theirs them then there these
    they this those through thus to too under until up upon us very via was we were what when
    where whether which while who whom whose why will with within without would yet you your
    yours

    app apps tool tools platform software service services solution solutions product products
    easy easily simple simply help helps helping make makes way ways place new best better
    fast faster quick quickly automatic automatically smart powerful all-in-one everything
    anyone everyone people who's lets want wants need needs using use uses used

    see sees seeing saw seen know knows find finds keep keeps take takes give gives go goes
    come comes thing things lot lots time times day days week weeks year years
"""
CONTEXT_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

# Suffixes the stem drops, longest first (one per word). Deliberately few: "er", "ly" and
# "ation" would join words that mean different things ("custom"/"customer").
_SUFFIXES = ("ings", "ing", "ies", "es", "ed", "s")
_KEEP_FINAL_S = ("ss", "us", "is")  # business, status, analysis
_DOUBLE_OK = frozenset("lsz")  # install, stress, buzz: a real double letter


def stem(word: str) -> str:
    """A light, deterministic stem: "invoicing", "invoices", "invoice's" → "invoic"."""
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(_KEEP_FINAL_S):
                break
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            if suffix in ("ing", "ings", "ed") and word[-1] == word[-2] and word[-1] not in _DOUBLE_OK:
                word = word[:-1]  # debugging → debug, shipped → ship
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def _forms(stemmed: str, seen: Iterable[str]) -> set[str]:
    """The tokens a post may use for a stem: the forms the context used plus the regular
    inflections ("invoicing" finds "invoice"). A stem met with an "e" after it ("cope") is
    inflected from that form only, so "cope" does not find "cop" or "cops"."""
    if any(w.startswith(stemmed + "e") for w in seen):
        endings: tuple[str, ...] = ("e", "es", "ed", "ing", "ings", "e's")
    else:
        doubled = tuple(stemmed[-1] + ending for ending in ("ed", "ing", "ings"))
        endings = ("", "s", "es", "ed", "ing", "ings", "'s", "e", "e's", *doubled)
    candidates = {*seen, *(stemmed + ending for ending in endings)}
    if stemmed.endswith("y"):
        candidates.update((stemmed[:-1] + "ies", stemmed[:-1] + "ied"))
    return {c for c in candidates if stem(c) == stemmed and c not in CONTEXT_STOPWORDS}


def _is_content_word(token: str) -> bool:
    return (
        len(token) >= 3
        and token not in CONTEXT_STOPWORDS
        and token.replace("-", "").replace("'", "").isalpha()
    )


@lru_cache(maxsize=1)
def document_frequencies() -> tuple[int, int, dict[str, int]]:
    """(documents, the table's floor, stem → documents using it) of ordinary Reddit posts."""
    raw = resources.files(DATA_PACKAGE).joinpath(WORD_DF_FILE).read_bytes()
    table = json.loads(gzip.decompress(raw))
    return table["documents"], table["min_df"], table["df"]


def idf(stemmed: str) -> float:
    """Rarer words weigh more; a word under the table's floor counts as just under it."""
    documents, min_df, df = document_frequencies()
    return math.log((documents + 1) / (df.get(stemmed, min_df - 1) + 1))


def context_terms(context: str) -> dict[str, float]:
    """Stem → weight of the context's content words: (1 + log tf) x idf, the heaviest
    ``MAX_CONTEXT_TERMS``, ties by stem so the same text always gives the same terms."""
    counts = Counter(stem(t) for t in tokenize(context) if _is_content_word(t))
    weights = {s: (1.0 + math.log(n)) * idf(s) for s, n in counts.items()}
    kept = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:MAX_CONTEXT_TERMS]
    return dict(kept)


@dataclass(frozen=True, slots=True)
class CampaignMatch:
    title_keywords: int  # distinct keywords in the title
    text_keywords: int  # distinct keywords in the text
    text_mentions: int  # keyword occurrences in the text
    context_coverage: float  # weighted share of the context's terms used (title terms twice)
    matched: tuple[str, ...]  # the keywords found, as the campaign spells them, in its order


NO_MATCH = CampaignMatch(0, 0, 0, 0.0, ())


class CampaignMatcher:
    """One campaign's keywords and context, compiled once per run."""

    def __init__(self, keywords: Sequence[str], context: str = "") -> None:
        # keyword as spelled → its words; the first spelling of the same words wins.
        phrases: dict[tuple[str, ...], str] = {}
        for keyword in keywords:
            phrase = tuple(tokenize(keyword)) if keyword else ()
            if phrase:
                phrases.setdefault(phrase, keyword)
        self._labels = tuple(phrases.values())
        # keyword word → (label, following words) of the keywords it starts.
        self._starts: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        words: set[str] = set()
        for phrase, label in phrases.items():
            self._starts.setdefault(phrase[0], []).append((label, phrase[1:]))
            words.update(phrase)
        short = sorted(w for w in words if len(w) < PREFIX_MIN_CHARS)
        self._prefixed = tuple(sorted(words.difference(short)))
        # A short word matches itself and its plural or possessive ("etf" finds "ETFs").
        self._exact: dict[str, tuple[str, ...]] = {}
        for w in short:
            for form in (w, w + "s", w + "'s"):
                self._exact[form] = (*self._exact.get(form, ()), w)
        self._exact_forms = frozenset(self._exact)

        self.context_weights = context_terms(context) if context and context.strip() else {}
        forms: dict[str, set[str]] = {}
        for token in tokenize(context or ""):
            if _is_content_word(token) and (s := stem(token)) in self.context_weights:
                forms.setdefault(s, set()).add(token)
        self._context_forms = {f: s for s, seen in forms.items() for f in _forms(s, seen)}
        self._form_set = frozenset(self._context_forms)
        self._context_total = sum(self.context_weights.values())

    @property
    def empty(self) -> bool:
        return not self._starts and not self._context_forms

    def match(self, title_tokens: list[str], body_tokens: list[str], tokens: list[str]) -> CampaignMatch:
        """``tokens``: title then body tokens, as one list."""
        if self.empty:
            return NO_MATCH
        title_found: dict[str, int] = {}
        text_found: dict[str, int] = {}
        hits = self._keyword_words(tokens)
        if hits:
            title_found = self._find(title_tokens, hits, hits.keys() & title_tokens)
            text_found = self._find(body_tokens, hits, hits)
        coverage = 0.0
        if self._context_forms:
            in_post = self._form_set.intersection(tokens)
            if in_post:
                forms, weights = self._context_forms, self.context_weights
                used = sum(weights[s] for s in {forms[f] for f in in_post})
                in_title = in_post.intersection(title_tokens)
                if in_title:
                    used += sum(weights[s] for s in {forms[f] for f in in_title})
                coverage = used / self._context_total
        matched = tuple(k for k in self._labels if k in title_found or k in text_found)
        return CampaignMatch(
            len(title_found), len(text_found), sum(text_found.values()), round(coverage, 4), matched
        )

    def _keyword_words(self, tokens: list[str]) -> dict[str, tuple[str, ...]]:
        """Post token → the keyword words it matches (whole word, or a word it begins).

        Word starts are found with ``str.find`` on the space-joined tokens (in C): the text
        is scanned once per keyword word, not once per token."""
        hits = {f: self._exact[f] for f in self._exact_forms.intersection(tokens)} if self._exact else {}
        if self._prefixed:
            joined = " " + " ".join(tokens) + " "
            for word in self._prefixed:
                needle = " " + word
                i = joined.find(needle)
                while i >= 0:
                    end = joined.index(" ", i + 1)
                    token = joined[i + 1 : end]
                    words = hits.get(token, ())
                    if word not in words:
                        hits[token] = (*words, word)
                    i = joined.find(needle, end)
        return hits

    def _find(
        self, tokens: list[str], hits: dict[str, tuple[str, ...]], candidates: Iterable[str]
    ) -> dict[str, int]:
        """Occurrences of each keyword in ``tokens`` (counted and located in C)."""
        found: dict[str, int] = {}
        starts = self._starts
        for token in candidates:
            for word in hits[token]:
                for label, rest in starts.get(word, ()):
                    if rest:
                        n = _phrase_count(tokens, token, rest, hits)
                    else:
                        n = tokens.count(token)
                    if n:
                        found[label] = found.get(label, 0) + n
        return found


def _phrase_count(
    tokens: list[str], first: str, rest: tuple[str, ...], hits: dict[str, tuple[str, ...]]
) -> int:
    """How often ``first`` is followed by tokens matching the words ``rest``."""
    n, i = 0, -1
    while True:
        try:
            i = tokens.index(first, i + 1)
        except ValueError:
            return n
        if _follows(tokens, i + 1, rest, hits):
            n += 1


def _follows(tokens: list[str], start: int, rest: tuple[str, ...], hits: dict[str, tuple[str, ...]]) -> bool:
    if start + len(rest) > len(tokens):
        return False
    return all(word in hits.get(tokens[start + k], ()) for k, word in enumerate(rest))
