"""The words and shapes a post is judged by, shared by training and by the running product.

One function turns a post into a set of named features, and both ``scripts/train_model.py``
and ``bcrao.collection.model`` call it, so what the model learned from is exactly what it
sees at run time. Names are readable on purpose: the strongest features of a decision are
shown to the user as its reasons ("“how do i” in the title").

Features are present/absent (a long post does not shout louder by repeating a word):

- title words and word pairs (``t:``), the title's first word and first two words (``t0:``,
  ``t01:``): a title states what the author wants from readers;
- body words and word pairs (``b:``) of the first ``BODY_TOKENS`` tokens: the intent is
  stated early, and the cap bounds the cost of a 10,000-word post;
- the post's shape (``s:``): link, self or title-only, the link's kind of host (image,
  video, article), a question mark in the title or body, first-person voice, length;
- the hand-written cues of the ``rules`` classifier that fire (``cue:``), so their prior
  knowledge carries over to communities the training data never saw.
"""

from __future__ import annotations

from itertools import pairwise
from urllib.parse import urlsplit

from bcrao.collection.classify import cue_phrases, title_about_author
from bcrao.collection.text import FIRST_PERSON, QUESTION_STARTERS, tokenize

BODY_TOKENS = 250

IMAGE_HOSTS = frozenset(
    {
        "imgur.com",
        "i.imgur.com",
        "m.imgur.com",
        "i.redd.it",
        "flickr.com",
        "instagram.com",
        "500px.com",
        "deviantart.com",
        "gfycat.com",
        "tinypic.com",
        "photobucket.com",
        "minus.com",
        "i.minus.com",
        "dribbble.com",
        "behance.net",
        "pinterest.com",
        "media.tumblr.com",
        "preview.redd.it",
    }
)
VIDEO_HOSTS = frozenset(
    {"youtube.com", "youtu.be", "m.youtube.com", "vimeo.com", "v.redd.it", "twitch.tv", "liveleak.com"}
)
CODE_HOSTS = frozenset(
    {
        "github.com",
        "gist.github.com",
        "bitbucket.org",
        "gitlab.com",
        "jsfiddle.net",
        "codepen.io",
        "stackoverflow.com",
    }
)
_CUES = cue_phrases()
_STOP_PAIR = frozenset({"the", "a", "an", "of", "to", "and", "in", "is", "it", "for", "on"})


def link_host(url: str) -> str:
    """``https://www.youtube.com/watch?v=x`` → ``youtube.com`` ("" when it is not a URL)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def link_kind(host: str) -> str:
    if host in IMAGE_HOSTS or host.endswith((".imgur.com", ".tumblr.com")):
        return "image"
    if host in VIDEO_HOSTS:
        return "video"
    if host in CODE_HOSTS:
        return "code"
    if host.endswith(("reddit.com", "redd.it")):
        return "reddit"
    return "article" if host else "none"


def _length_bucket(n: int) -> str:
    if n == 0:
        return "0"
    if n < 15:
        return "1-14"
    if n < 60:
        return "15-59"
    if n < 250:
        return "60-249"
    return "250+"


def _add_words(features: set[str], prefix: str, tokens: list[str]) -> None:
    """Words and word pairs (pairs of two function words say nothing and are skipped)."""
    features.update(prefix + tok for tok in tokens)
    for a, b in pairwise(tokens):
        if not (a in _STOP_PAIR and b in _STOP_PAIR):
            features.add(f"{prefix}{a} {b}")


def post_features(
    title: str,
    text: str,
    *,
    is_self: bool,
    url: str = "",
) -> set[str]:
    """The named features of one post (see the module docstring)."""
    title_tokens = tokenize(title)
    body_tokens = tokenize(text)[:BODY_TOKENS] if text else []
    features: set[str] = set()
    _add_words(features, "t:", title_tokens)
    if title_tokens:
        features.add("t0:" + title_tokens[0])
        if len(title_tokens) > 1:
            features.add(f"t01:{title_tokens[0]} {title_tokens[1]}")
    _add_words(features, "b:", body_tokens)
    _add_shape(features, title_tokens, body_tokens, is_self=is_self, url=url)
    _add_questions(features, title, text, title_tokens)
    features.update("cue:" + label + " (title)" for label in _CUES.find(title_tokens))
    if body_tokens:
        features.update("cue:" + label for label in _CUES.find(body_tokens))
    return features


def _add_shape(
    features: set[str], title_tokens: list[str], body_tokens: list[str], *, is_self: bool, url: str
) -> None:
    """Link, self or title-only post, first-person voice, lengths."""
    add = features.add
    if is_self:
        add("s:self post" if body_tokens else "s:title only")
    else:
        add("s:link to " + link_kind(link_host(url)))
    if title_about_author(title_tokens):
        add("s:title is about the author")
    if FIRST_PERSON.intersection(title_tokens):
        add("s:first person in title")
    if body_tokens and len(FIRST_PERSON.intersection(body_tokens)) >= 2:
        add("s:first person in body")
    add("s:title words " + _length_bucket(len(title_tokens)))
    add("s:body words " + _length_bucket(len(body_tokens)))


def _add_questions(features: set[str], title: str, text: str, title_tokens: list[str]) -> None:
    if "?" in title:
        features.add("s:question in title")
    elif title_tokens and title_tokens[0] in QUESTION_STARTERS:
        features.add("s:title opens like a question")
    if "?" in text:
        features.add("s:question in body")


def describe(feature: str) -> str:
    """A feature name as a reason a founder can read."""
    kind, _, value = feature.partition(":")
    if kind == "t":
        return f"“{value}” in the title"
    if kind in ("t0", "t01"):
        return f"title starts with “{value}”"
    if kind == "b":
        return f"“{value}” in the text"
    if kind == "cue":
        return value.replace(" (title)", " in the title")
    return value  # shape features read as they are named
