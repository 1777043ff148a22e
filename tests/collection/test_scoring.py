from __future__ import annotations

import pytest

from bcrao.collection.scoring import SubredditScorer

COMPONENTS = {
    "upvotes_percentile",
    "comments_percentile",
    "discussion_depth",
    "upvote_ratio",
    "personal_voice",
    "jargon_penalty",
    "link_penalty",
    "total",
}


def _reference(make_post, upvotes):
    return [make_post(upvotes=u, comment_count=u // 2) for u in upvotes]


def test_engagement_is_scored_as_a_percentile_within_the_subreddit(make_post):
    scorer = SubredditScorer(_reference(make_post, [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]))
    top = scorer.score(make_post(upvotes=89, comment_count=44))[1]
    bottom = scorer.score(make_post(upvotes=1, comment_count=0))[1]
    assert top["upvotes_percentile"] == pytest.approx(3.0 * 0.95, abs=1e-3)
    assert bottom["upvotes_percentile"] == pytest.approx(3.0 * 0.05, abs=1e-3)
    assert top["comments_percentile"] > bottom["comments_percentile"]


def test_the_same_counts_score_differently_in_a_small_and_a_large_subreddit(make_post):
    post = make_post(upvotes=50, comment_count=20)
    small = SubredditScorer(_reference(make_post, [1, 2, 3, 4, 5, 6, 8, 10]))
    large = SubredditScorer(_reference(make_post, [200, 400, 800, 1600, 3000]))
    assert small.score(post)[0] > large.score(post)[0]


def test_ties_share_a_mid_rank_percentile(make_post):
    scorer = SubredditScorer(_reference(make_post, [0, 0, 0, 0]))
    assert scorer.score(make_post(upvotes=0, comment_count=0))[1]["upvotes_percentile"] == 1.5


def test_an_empty_reference_is_neutral_not_an_error(make_post):
    total, breakdown = SubredditScorer([]).score(make_post())
    assert breakdown["upvotes_percentile"] == 1.5
    assert 0 <= total <= 10


def test_missing_upvote_ratio_counts_as_neutral(make_post):
    scorer = SubredditScorer([])
    assert scorer.score(make_post(upvote_ratio=None))[1]["upvote_ratio"] == 0.75
    assert scorer.score(make_post(upvote_ratio=1.0))[1]["upvote_ratio"] == 1.5
    assert scorer.score(make_post(upvote_ratio=0.4))[1]["upvote_ratio"] == 0.0


def test_marketing_jargon_is_penalised(make_post):
    plain = make_post(
        text="We built a simple tool that helps agencies send reports to their clients every week."
    )
    hype = make_post(
        text="We built a revolutionary, cutting-edge game-changer to leverage synergy and 10x your reports."
    )
    scorer = SubredditScorer([])
    plain_total, plain_parts = scorer.score(plain)
    hype_total, hype_parts = scorer.score(hype)
    assert plain_parts["jargon_penalty"] == 0
    assert hype_parts["jargon_penalty"] == -2.0
    assert hype_total < plain_total


def test_link_density_is_penalised(make_post):
    links = make_post(text="See https://a.io and https://b.io and www.c.com for details, thanks.")
    _, parts = SubredditScorer([]).score(links)
    assert parts["link_penalty"] == -2.0
    assert SubredditScorer([]).score(make_post())[1]["link_penalty"] == 0


def test_breakdown_holds_every_component_and_a_clamped_rounded_total(make_post):
    scorer = SubredditScorer(_reference(make_post, [1, 5, 9]))
    total, breakdown = scorer.score(make_post(upvotes=9, comment_count=30, upvote_ratio=0.99))
    assert set(breakdown) == COMPONENTS
    assert breakdown["total"] == total == round(total, 2)
    parts = sum(v for k, v in breakdown.items() if k != "total")
    assert total == pytest.approx(min(10.0, max(0.0, parts)), abs=0.01)
    worst = scorer.score(
        make_post(
            upvotes=0,
            comment_count=0,
            upvote_ratio=0.1,
            text="synergy leverage 10x revolutionary https://a.io https://b.io",
        )
    )[0]
    assert worst == 0.0


def test_personal_voice_raises_the_score(make_post):
    scorer = SubredditScorer([])
    personal = make_post(
        title="Invoices", text="I built this because my team and I kept losing invoices. We now ship weekly."
    )
    impersonal = make_post(
        title="Invoices", text="The product helps teams track invoices. It ships weekly and supports exports."
    )
    assert scorer.score(personal)[1]["personal_voice"] > scorer.score(impersonal)[1]["personal_voice"] == 0
