"""Tokens, word lists and a phrase matcher shared by the pre-filter, classifier and scorer.

Speed is the design constraint (filter + classify + score on one core: floor and figures
in ``bench/README.md``). Python's ``re`` is slow for even a three-way alternation behind
``\\b``, and far slower for the phrase lists we need. So a post is tokenized once
with C-level string methods (``lower``/``translate``/``split``), word classes are counted
with ``Counter`` and set intersection, and multi-word cues are matched on the token list by
``PhraseSet`` (a dict from first token to candidate phrases). Regexes are kept only where a
literal prefix lets the engine skip ahead fast (URLs).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

# Punctuation that separates words. Kept inside tokens: ' (contractions), - (game-changer), + (c++),
# $ € £ % # (money, percentages, "#1"), / ("8/10"). Translating UTF-8 bytes is ~4x faster
# than ``str.translate`` and leaves multi-byte characters intact (only ASCII bytes change).
_SEPARATORS = b'!"()*,.:;<=>?@[\\]^_`{|}~\n\t\r\f\v'
_TOKEN_TABLE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))
NUMERIC_START = frozenset("0123456789$€£#")

URL_RE = re.compile(r"https?://[^\s)\]>]+|www\.[a-z0-9-]+\.[a-z]{2,}[^\s)\]>]*", re.IGNORECASE)
# Letters outside ASCII that are not typographic punctuation: a cheap non-English signal.
NON_ASCII_LETTER_RE = re.compile(r"[^\x00-\x7f\u2018-\u201f\u2013\u2014\u2026\u00a0\u20ac\u00a3]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FIRST_PERSON = _words(
    """
    i i'm i've i'd i'll im ive me my mine myself we we're we've we'd we'll us our ours ourselves
    """
)

EMOTION = _words(
    """
    afraid angry annoyed anxious ashamed burned burnout burnt crushed depressed desperate
    devastated disappointed exhausted excited embarrassed frustrated frustrating grateful gutted
    happy hate hated heartbroken hopeful humbling hurt lonely love loved miserable nervous
    overwhelmed painful panic proud regret regrets relieved relief sad scared scary shocked
    stressed stressful stuck terrified thrilled tired unreal upset worried worry hardest brutal
    insane surreal emotional cried crying
    """
)

# High-frequency function words. A long text in which almost none of these occur is very
# unlikely to be English; the list avoids words that are also common in Spanish, French,
# German or Portuguese ("a", "de", "in", "an", "so", "on", "die", "que").
ENGLISH_STOPWORDS = _words(
    """
    the and is are was were be been being to of for with that this it it's its you your they
    their them he she his her have has had not but what how why when where which who will would
    should could can do does did just about from at by or if than then there these those my we
    our me i'm i've don't can't any some all more most very really also only into out up over
    after before because while got get getting been much many every other such here
    """
)

MARKETING_JARGON = _words(
    """
    synergy synergies synergize game-changer gamechanger game-changing revolutionary
    revolutionize disrupt disruptive disruption 10x leverage leveraging cutting-edge
    bleeding-edge best-in-class world-class next-gen next-level paradigm seamless seamlessly
    unlock empower empowering holistic turnkey scalable robust innovative groundbreaking
    supercharge skyrocket hypergrowth
    """
)

# Words that make a number a business specific (the numbers themselves are counted apart).
METRIC_WORDS = _words(
    """
    mrr arr churn ltv cac roi runway revenue margin margins profit conversion retention users
    customers subscribers signups clients employees visitors months weeks years days hours
    """
)


# Single words that mark a story told after the fact (multi-word markers are the
# classifier's job; the pre-filter only needs a cheap count).
STORY_WORDS = _words(
    """
    ago later eventually finally journey story stories lesson lessons learned milestone recap
    hindsight post-mortem postmortem quit launched founded bootstrapped pivoted started shipped
    grew raised
    """
)

VOCABS: dict[str, frozenset[str]] = {
    "stopwords": ENGLISH_STOPWORDS,
    "first_person": FIRST_PERSON,
    "emotion": EMOTION,
    "metric": METRIC_WORDS,
    "story": STORY_WORDS,
    "jargon": MARKETING_JARGON,
}
# word -> the vocabularies it belongs to, so one C-level ``Counter(map(dict.get, tokens))``
# counts every vocabulary at once.
_TOKEN_CLASS: dict[str, tuple[str, ...]] = {}
for _name, _members in VOCABS.items():
    for _word in _members:
        _TOKEN_CLASS[_word] = (*_TOKEN_CLASS.get(_word, ()), _name)

# Digits and the money/number signs become "0" so number tokens can be counted with one
# ``bytes.count`` on the joined tokens.
_NUMBER_TABLE = bytes.maketrans(b"123456789$#", b"0" * 11)

# A title opening with one of these is phrased as a question even without "?".
QUESTION_STARTERS = _words(
    """
    how what what's which why where when who is are should would could can do does did any has
    have
    """
)


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens; see ``_SEPARATORS`` for what splits words."""
    text = text.lower()
    if not text.isascii():
        text = text.replace("\u2019", "'").replace("\u2018", "'")
    return (
        text.encode("utf-8", "surrogatepass").translate(_TOKEN_TABLE).decode("utf-8", "surrogatepass").split()
    )


def count_vocab(counts: Mapping[str, int], vocab: frozenset[str]) -> int:
    """How many tokens in ``counts`` belong to ``vocab`` (the intersection runs in C)."""
    return sum(counts[w] for w in vocab.intersection(counts))


def vocab_counts(tokens: list[str]) -> dict[str, int]:
    """Occurrences of each ``VOCABS`` vocabulary in ``tokens``, in one pass."""
    out = dict.fromkeys(VOCABS, 0)
    for classes, n in Counter(map(_TOKEN_CLASS.get, tokens)).items():
        if classes:
            for name in classes:
                out[name] += n
    return out


def count_numbers(tokens: list[str]) -> int:
    """Tokens that start with a digit, "$" or "#" ("5k", "$40", "40%", "#3")."""
    joined = (" " + " ".join(tokens)).encode("utf-8", "surrogatepass").translate(_NUMBER_TABLE)
    return joined.count(b" 0")


def count_urls(text: str) -> int:
    return len(URL_RE.findall(text)) if ("http" in text or "www." in text) else 0


class PhraseSet:
    """Matches labelled token phrases in a token list.

    A phrase is a space-separated string of elements: a literal token, ``#`` (a number or
    money token), ``*`` (any token) or ``*suffix`` (a token ending with suffix, e.g.
    ``worth *ing``). Phrases starting with a literal live in a trie under that token;
    phrases starting with ``#`` are anchored on their first literal. ``find`` intersects the
    text's tokens with the start tokens (in C), locates each with ``list.index`` (in C) and
    walks the trie only there, so its cost follows the number of candidate matches rather
    than the length of the text or the number of phrases.
    """

    _LABELS = "\0labels"
    _ANY = "*"
    _NUMBER = "#"
    _SUFFIXES = "\0suffixes"

    def __init__(self, phrases: Mapping[str, Iterable[str]]) -> None:
        self._root: dict = {}
        self._anchored: dict[str, list[tuple[int, tuple[str, ...], str]]] = {}
        for label, items in phrases.items():
            for phrase in items:
                elements = tuple(phrase.lower().split())
                if not elements:
                    continue
                if elements[0] == self._NUMBER:
                    offset = next(
                        (k for k, e in enumerate(elements) if e != self._NUMBER and e[0] != "*"), None
                    )
                    if offset is None:
                        raise ValueError(f"a phrase needs a literal word: {phrase!r}")
                    self._anchored.setdefault(elements[offset], []).append((offset, elements, label))
                    continue
                if elements[0].startswith("*"):
                    raise ValueError(f"a phrase cannot start with a wildcard: {phrase!r}")
                node = self._root
                for element in elements:
                    if element.startswith("*") and element != self._ANY:
                        node = node.setdefault(self._SUFFIXES, {}).setdefault(element[1:], {})
                    else:
                        node = node.setdefault(element, {})
                labels = node.setdefault(self._LABELS, [])
                if label not in labels:
                    labels.append(label)
        self._starts = frozenset(self._root) | frozenset(self._anchored)

    def find(self, tokens: list[str], counts: Mapping[str, int] | None = None) -> Counter[str]:
        """Number of matches per label. Pass ``counts`` (a Counter of ``tokens``) if you have one."""
        hits: Counter[str] = Counter()
        present = self._starts.intersection(counts if counts is not None else tokens)
        if not present:
            return hits
        root, anchored = self._root, self._anchored
        for tok in present:
            node = root.get(tok)
            anchors = anchored.get(tok)
            i = tokens.index(tok)
            while True:
                if node is not None:
                    self._walk(node, tokens, i + 1, hits)
                if anchors is not None:
                    for offset, elements, label in anchors:
                        if offset <= i and _matches_at(elements, tokens, i - offset):
                            hits[label] += 1
                try:
                    i = tokens.index(tok, i + 1)
                except ValueError:
                    break
        return hits

    def _walk(self, node: dict, tokens: list[str], j: int, hits: Counter[str]) -> None:
        labels = node.get(self._LABELS)
        if labels:
            hits.update(labels)
        if j >= len(tokens) or len(node) == (1 if labels else 0):
            return
        tok = tokens[j]
        child = node.get(tok)
        if child is not None:
            self._walk(child, tokens, j + 1, hits)
        if tok[0] in NUMERIC_START and (child := node.get(self._NUMBER)) is not None:
            self._walk(child, tokens, j + 1, hits)
        if (child := node.get(self._ANY)) is not None:
            self._walk(child, tokens, j + 1, hits)
        suffixes = node.get(self._SUFFIXES)
        if suffixes:
            for suffix, child in suffixes.items():
                if tok.endswith(suffix):
                    self._walk(child, tokens, j + 1, hits)


def _matches_at(elements: tuple[str, ...], tokens: list[str], start: int) -> bool:
    if start + len(elements) > len(tokens):
        return False
    return all(_element_matches(e, tokens[start + k]) for k, e in enumerate(elements))


def _element_matches(element: str, token: str) -> bool:
    if element == token or element == "*":
        return True
    if element == "#":
        return token[0] in NUMERIC_START
    return element[0] == "*" and token.endswith(element[1:])


def variants(*parts: str) -> list[str]:
    """Cross product of ``|``-separated alternatives: variants("i|we", "quit|left") → 4 phrases.

    An empty alternative makes a part optional: variants("i", "|just", "quit").
    """
    out = [""]
    for part in parts:
        out = [f"{prefix} {alt}".strip() for prefix in out for alt in part.split("|")]
    return [" ".join(p.split()) for p in out if p.strip()]
