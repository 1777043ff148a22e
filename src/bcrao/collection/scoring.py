"""Success score (0-10) of a post relative to its own subreddit, with a stored breakdown.

Why relative: 50 upvotes is a hit in r/smallbusiness and noise in a large subreddit, so
engagement is measured as percentiles among the posts fetched from the same subreddit in
the same run (mid-rank via ``bisect`` on sorted lists, so ties share a percentile).

Components and their maximum contribution (the positive parts add up to 10):

============================  =====  =================================================
upvotes_percentile            3.0    upvotes vs. the subreddit's posts in this run
comments_percentile           2.5    comment count vs. the same reference
discussion_depth              1.5    comments per upvote, full marks at ``DEPTH_FULL``
upvote_ratio                  1.5    0.5 → 0, 1.0 → full; missing → half (neutral)
personal_voice                1.5    first-person pronoun share, full at ``VOICE_FULL``
jargon_penalty               -2.0    -0.5 per marketing-jargon word ("synergy", "10x")
link_penalty                 -2.0    -0.5 per URL per 100 words
============================  =====  =================================================

The total is clamped to 0-10 and rounded to 2 decimals; the breakdown stores every
component's contribution and ``total`` so a user can see why a post scored what it did.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from bcrao.collection.text import count_urls, tokenize, vocab_counts
from bcrao.sources.base import NormalizedPost

UPVOTES_WEIGHT = 3.0
COMMENTS_WEIGHT = 2.5
DEPTH_WEIGHT = 1.5
RATIO_WEIGHT = 1.5
VOICE_WEIGHT = 1.5
DEPTH_FULL = 0.8  # comments per upvote at which a thread counts as a full discussion
VOICE_FULL = 0.06
JARGON_PER_WORD = 0.5
JARGON_MAX = 2.0
LINK_PER_DENSITY = 0.5
LINK_MAX = 2.0


def _percentile(sorted_values: list[int], value: int) -> float:
    """Mid-rank percentile in [0, 1]: share below plus half the share equal."""
    n = len(sorted_values)
    if n == 0:
        return 0.5
    below = bisect_left(sorted_values, value)
    equal = bisect_right(sorted_values, value) - below
    return (below + equal / 2) / n


class SubredditScorer:
    def __init__(self, reference: Sequence[NormalizedPost]) -> None:
        self._upvotes = sorted(max(0, p.upvotes) for p in reference)
        self._comments = sorted(max(0, p.comment_count) for p in reference)

    def score(self, post: NormalizedPost) -> tuple[float, dict[str, float]]:
        upvotes, comments = max(0, post.upvotes), max(0, post.comment_count)
        combined = f"{post.title}\n{post.text}"
        tokens = tokenize(combined)
        n_words = max(1, len(tokens))
        vocab = vocab_counts(tokens)
        ratio = post.upvote_ratio
        ratio_part = 0.5 if ratio is None else min(1.0, max(0.0, (ratio - 0.5) / 0.5))
        jargon = vocab["jargon"]
        urls = count_urls(combined)
        link_density = urls * 100 / n_words

        breakdown = {
            "upvotes_percentile": UPVOTES_WEIGHT * _percentile(self._upvotes, upvotes),
            "comments_percentile": COMMENTS_WEIGHT * _percentile(self._comments, comments),
            "discussion_depth": DEPTH_WEIGHT * min(1.0, comments / (upvotes + 1) / DEPTH_FULL),
            "upvote_ratio": RATIO_WEIGHT * ratio_part,
            "personal_voice": VOICE_WEIGHT * min(1.0, vocab["first_person"] / n_words / VOICE_FULL),
            "jargon_penalty": -min(JARGON_MAX, JARGON_PER_WORD * jargon),
            "link_penalty": -min(LINK_MAX, LINK_PER_DENSITY * link_density),
        }
        breakdown = {name: round(value, 3) for name, value in breakdown.items()}
        total = round(min(10.0, max(0.0, sum(breakdown.values()))), 2)
        breakdown["total"] = total
        return total, breakdown
