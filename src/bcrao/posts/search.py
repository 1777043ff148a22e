"""Word search over a post's title and text (and its comments), the same on both databases.

A post's words are cut out once, in Python, when it is stored (``search_terms``): lower-case
runs of letters and digits. A search word matches a post when it begins one of the post's
words ("churn" finds "churned" and "Churn," but not "unchurned"). Because the tokenizing is
ours and not the database's, PostgreSQL and SQLite agree on every query:

- PostgreSQL keeps the words as a ``tsvector`` (written through the type's input syntax, so
  its text parser and dictionaries never run) in a GIN index led by ``campaign_id``
  (``btree_gin``): a search is one index scan with no recheck of the text, and storing a
  post adds one entry per distinct word (the trigram indexes this replaced added one per
  distinct three-letter run, several hundred per post, and halved insert throughput).
- SQLite keeps them as one space-separated string, where "begins a word" is
  ``LIKE '% word%'``; the embedded default holds laptop-sized campaigns, scanned per campaign.

The words of a post's stored comments are kept the same way in ``comment_terms`` (grown by
the comment store), so ``search_in=comments|all`` is the same kind of query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, bindparam, cast, or_
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

# Letters and digits (any script); punctuation and underscores separate words.
_WORD = re.compile(r"[^\W_]+")
# Longer runs (base64 blobs, hashes) are cut: PostgreSQL caps a lexeme at 2 KiB, and nobody
# searches for the 65th character of a word. Query words are cut the same way.
MAX_TERM_CHARS = 64

SearchTermsType = Text().with_variant(TSVECTOR(), "postgresql")


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text`` in order of appearance, cut to ``MAX_TERM_CHARS``."""
    return [w[:MAX_TERM_CHARS] for w in _WORD.findall(text.lower())]


def search_terms(*texts: str | None) -> str:
    """What is stored for a post: its distinct words, space-separated and space-padded.

    The padding lets SQLite match a word start as ``'% word'``; PostgreSQL reads the same
    string as ``tsvector`` input (words are letters and digits only, so none needs quoting).
    """
    distinct: set[str] = set()
    for text in texts:
        if text:
            distinct.update(_WORD.findall(text.lower()))
    if any(len(w) > MAX_TERM_CHARS for w in distinct):
        distinct = {w[:MAX_TERM_CHARS] for w in distinct}
    return " " + " ".join(sorted(distinct)) + " " if distinct else " "


def default_search_terms(context: Any) -> str:
    """Column default: every insert path (pipeline, ORM, fixtures) gets the terms filled."""
    params = context.get_current_parameters()
    return search_terms(params.get("title"), params.get("raw_text"))


def query_words(words: Iterable[str]) -> list[str]:
    """The words a query asks for, tokenized like the posts ("snake_case" asks for both
    "snake" and "case"); a word of punctuation only asks for nothing."""
    seen: dict[str, None] = {}
    for word in words:
        for w in words_of(word):
            seen.setdefault(w, None)
    return list(seen)


def match_params(words: list[str], dialect: str) -> dict[str, str]:
    """Bound values for ``matches_clause`` and ``matches_either_clause`` over ``words``."""
    if dialect == "postgresql":
        return {
            "q_tsquery": " & ".join(f"'{w}':*" for w in words),
            **{f"q_tsword{i}": f"'{w}':*" for i, w in enumerate(words)},
        }
    return {f"q_word{i}": f"% {w}%" for i, w in enumerate(words)}


def matches_clause(column: Any, word_count: int, dialect: str) -> ColumnElement[bool]:
    """Every word must begin one of the post's words (values from ``match_params``).

    Bound parameters rather than literals, so one statement serves every query of a shape."""
    if dialect == "postgresql":
        matched: ColumnElement[bool] = column.op("@@")(cast(bindparam("q_tsquery", type_=Text()), TSQUERY))
        return matched
    return and_(*(column.like(bindparam(f"q_word{i}", type_=Text())) for i in range(word_count)))


def matches_either_clause(columns: tuple[Any, ...], word_count: int, dialect: str) -> ColumnElement[bool]:
    """Every word must begin a word of one of ``columns`` (each word may be found in another
    one: "churn" in the post, "stripe" in a comment)."""
    if dialect == "postgresql":
        word = [cast(bindparam(f"q_tsword{i}", type_=Text()), TSQUERY) for i in range(word_count)]
        return and_(*(or_(*(c.op("@@")(word[i]) for c in columns)) for i in range(word_count)))
    pattern = [bindparam(f"q_word{i}", type_=Text()) for i in range(word_count)]
    return and_(*(or_(*(c.like(pattern[i]) for c in columns)) for i in range(word_count)))
