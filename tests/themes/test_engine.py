"""The themes engine on hand-built posts: quotes, pain, trend, sentences, boilerplate."""

from __future__ import annotations

import math
import uuid
from collections import Counter

from bcrao.themes import engine
from bcrao.themes.engine import ThemeComment, ThemeDoc, build_themes, quotes_of, sentences
from tests.themes.handmade import NOW, topic_docs

BILLING = {"invoice": 1.0, "refund": 0.8, "stripe": 0.6, "billing": 0.5, "checkout": 0.4}


def post(text: str = "", *, title: str = "Billing?", comments: tuple[str, ...] = (), n: int = 0) -> ThemeDoc:
    url = f"https://www.reddit.com/r/test/comments/p{n}/"
    doc = ThemeDoc(uuid.UUID(int=n + 1), title, text, "Journey", 5.0, 7, len(comments), NOW, url)
    for j, body in enumerate(comments):
        doc.comments.append(ThemeComment(uuid.UUID(int=1000 * (n + 1) + j), body, 2 + j, f"{url}c{n}x{j}/"))
    return doc


def source_of(quote: dict, docs: list[ThemeDoc]) -> str:
    """The text a quote says it was cut from (the post's title and text, or the comment)."""
    doc = next(d for d in docs if str(d.post_id) == quote["post_id"])
    if quote["comment_id"] is None:
        assert quote["reddit_url"] == doc.reddit_url
        return f"{doc.title}\n{doc.text}"
    comment = next(c for c in doc.comments if str(c.id) == quote["comment_id"])
    assert quote["reddit_url"] == comment.reddit_url
    return comment.body


def quotable(docs: list[ThemeDoc], boilerplate: frozenset[str] = frozenset()) -> int:
    """Distinct quotable sentences of the posts and their comments."""
    texts = [t for d in docs for t in (d.title, d.text, *(c.body for c in d.comments))]
    return len({engine._norm(s) for t in texts for s in sentences(t)} - boilerplate)


# Quotes


def test_two_posts_give_three_quotes_a_second_sentence_each():
    docs = [
        post(
            "The invoice was wrong twice. Stripe sent the refund to the old card. We changed checkout.", n=0
        ),
        post("Our billing page shows each invoice. The refund button hides under the stripe tab.", n=1),
    ]
    quotes = quotes_of(docs, BILLING)
    assert 3 <= len(quotes) <= 5
    assert max(Counter(q["post_id"] for q in quotes).values()) == 2  # a second sentence, not a third
    assert all(q["text"] in source_of(q, docs) for q in quotes)
    assert [q["upvotes"] for q in quotes] == [7] * len(quotes) and all(
        q["comment_id"] is None for q in quotes
    )


def test_a_single_post_gives_every_sentence_it_has_up_to_three():
    two = [post("The invoice was wrong twice this month. Stripe sent the refund to the old card.")]
    assert [q["text"] for q in quotes_of(two, BILLING)] == [
        "Stripe sent the refund to the old card.",  # refund + stripe weigh more than invoice
        "The invoice was wrong twice this month.",
    ]
    # Sentences without the theme's words fill up to three, after the ones that carry it.
    off_theme = [
        post(
            "The invoice was wrong twice this month. We had lunch at noon today."
            " The office moved to another floor again."
        )
    ]
    texts = [q["text"] for q in quotes_of(off_theme, BILLING)]
    assert texts[0] == "The invoice was wrong twice this month." and len(texts) == 3


def test_a_quote_can_come_from_a_comment_and_points_to_it():
    docs = [
        post(
            title="Refunds?", comments=("Stripe holds every refund for a week before payout.", "Thanks!"), n=0
        ),
        post(title="Invoices?", comments=("Each invoice needs the customer's VAT number on it.",), n=1),
    ]
    quotes = quotes_of(docs, BILLING)
    assert len(quotes) == 2 == quotable(docs)  # "Thanks!" and the titles are too short to quote
    for q in quotes:
        doc = next(d for d in docs if str(d.post_id) == q["post_id"])
        comment = next(c for c in doc.comments if str(c.id) == q["comment_id"])
        assert q["text"] in comment.body and q["reddit_url"] == comment.reddit_url != doc.reddit_url
        assert q["upvotes"] == comment.upvotes


def test_quotes_are_distinct_sentences_one_per_post_first():
    names = ["Ann", "Bob", "Cid", "Dan", "Eve", "Fay", "Gus", "Hal"]
    docs = [
        post(f"The invoice and the refund came late again, said {name}.", n=n) for n, name in enumerate(names)
    ]
    docs += [post("The invoice and the refund came LATE again, said Ann!", n=9)]  # the same words
    quotes = quotes_of(docs, BILLING)
    assert len(quotes) == 5 and len({engine._norm(q["text"]) for q in quotes}) == 5
    assert len({q["post_id"] for q in quotes}) == 5


def test_every_theme_of_a_campaign_has_three_to_five_quotes_when_its_posts_can_give_them():
    docs = (
        topic_docs("billing", 12, comments=1)
        + topic_docs("garden", 10, text=False)  # titles and nothing else
        + topic_docs("shipping", 6, start=50, comments=2)
    )
    result = build_themes(docs, max_themes=3)
    assert len(result.themes) == 3
    boilerplate = engine._boilerplate(docs)
    by_id = {d.post_id: d for d in docs}
    for theme in result.themes:
        members = [by_id[p] for p, t in result.assignment.items() if t == theme["id"]]
        assert min(3, quotable(members, boilerplate)) <= len(theme["quotes"]) <= 5
        assert len(theme["quotes"]) >= 3
        for q in theme["quotes"]:
            assert uuid.UUID(q["post_id"]) in {d.post_id for d in members}
            assert q["text"] in source_of(q, members)


# Pain


def topic_of(theme: dict, result, docs: list[ThemeDoc]) -> str:
    """The hand-built topic all of a theme's posts come from."""
    members = {p for p, t in result.assignment.items() if t == theme["id"]}
    topics = {d.reddit_url.rsplit("/", 2)[1][:3] for d in docs if d.post_id in members}
    assert len(topics) == 1, topics  # the topics do not mix
    return topics.pop()


def painful_campaign() -> list[ThemeDoc]:
    loud = {"upvotes": 300, "comment_count": 40}
    return [
        # Problem posts that complain, and people engage: the most painful.
        *topic_docs("billing", 16, archetype="ProblemSolution", negative_posts=True, **loud),
        # The same complaints that nobody upvotes or answers.
        *topic_docs(
            "shipping", 16, archetype="ProblemSolution", negative_posts=True, upvotes=1, comment_count=0
        ),
        # Calm posts whose comments complain (one complaint a post, half of billing's count).
        *topic_docs("onboarding", 16, comments=1, negative_comments=True, **loud),
        # Nothing wrong here.
        *topic_docs("garden", 16, comments=1, **loud),
    ]


def test_pain_ranks_problem_posts_and_negative_sentences_times_engagement():
    docs = painful_campaign()
    result = build_themes(docs)
    assert len(result.themes) == 4 and result.unassigned == 0
    pain = {topic_of(t, result, docs): t["pain_score"] for t in result.themes}
    # billing (16 problem posts + 16 complaints) x (1 + ln 341) = 218.6 -> 10
    # onboarding (0 + 16 complaints in comments) x (1 + ln 341) = 109.3 -> 5
    # shipping (16 + 16) x (1 + ln 2) = 54.2 -> 2.48
    # garden 0
    assert sorted(pain, key=lambda t: -pain[t]) == ["bil", "onb", "shi", "gar"]
    assert pain == {"bil": 10.0, "onb": 5.0, "shi": 2.48, "gar": 0.0}


def test_pain_is_the_same_whatever_the_order_of_the_posts():
    docs = painful_campaign()
    first = build_themes(docs).themes
    again = build_themes(list(reversed(docs[::2])) + docs[1::2]).themes
    assert [(t["label"], t["pain_score"], t["quotes"]) for t in again] == [
        (t["label"], t["pain_score"], t["quotes"]) for t in first
    ]


def test_negative_sentences_of_a_post_and_its_comments():
    doc = post(
        "Stripe is fine. The refund flow is broken. I hate the invoice editor!",
        title="Billing is a nightmare",
        comments=(
            "Same, it keeps failing for us too. Otherwise it works.",
            "We switched last year and it has been great.",
            "This sucks so much for everyone here.",  # said under 3 posts: boilerplate
        ),
    )
    boilerplate = frozenset({engine._norm("This sucks so much for everyone here.")})
    # title 1 + text 2 + first comment 1 (the boilerplate sentence does not count)
    assert engine.negative_sentences(doc, boilerplate) == 4
    assert engine.negative_sentences(doc) == 5
    assert engine.engagement([doc]) == 1 + math.log1p(7 + 3)
    assert engine.pain([doc], boilerplate) == 4 * engine.engagement([doc])
    doc.archetype = "ProblemSolution"
    assert engine.pain([doc], boilerplate) == 5 * engine.engagement([doc])
