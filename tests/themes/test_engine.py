"""The themes engine on hand-built posts: quotes, pain, trend, sentences, boilerplate."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

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


def test_negative_sentences_counted_in_one_pass_match_a_search_per_sentence():
    from bcrao.sources.sample import load_corpus

    texts = [
        "Broken. Broken again!! And still broken?\n\nNever... hard",
        "It is hard, slow and broken in one sentence",
        "Fine.\nFine!\n",
        *(t for posts in load_corpus().values() for p in posts for t in (p.title, p.text)),
    ]
    for text in texts:
        assert engine._negative_count(text) == sum(
            1 for p in engine._pieces(text) if engine._NEGATIVE.search(p.lower())
        )
    assert engine._negative_count(texts[0]) == 5 and engine._negative_count(texts[1]) == 1


# Trend


def test_direction_needs_a_quarter_and_two_posts_of_change():
    assert engine._direction([0, 0, 0, 0, 1, 2, 3, 4]) == "rising"
    assert engine._direction([4, 3, 2, 1, 0, 0, 0, 0]) == "fading"
    assert engine._direction([2, 2, 2, 2, 2, 2, 2, 2]) == "steady"
    assert engine._direction([0, 0, 0, 1, 0, 0, 0, 1]) == "steady"  # one post each side
    assert engine._direction([0, 0, 0, 0, 0, 0, 1, 1]) == "rising"  # two posts from none
    assert engine._direction([1, 0, 0, 0, 0, 0, 0, 0]) == "steady"  # one post less is not a trend
    assert engine._direction([3, 3, 3, 3, 4, 4, 3, 3]) == "steady"  # +2 but under a quarter (14 vs 12)
    assert engine._direction([3, 3, 3, 3, 4, 4, 4, 5]) == "rising"  # +5, over a quarter (17 vs 12)
    assert engine._direction([4, 4, 4, 4, 4, 3, 3, 3]) == "steady"  # -3 but 13 is not under 0.8 x 16
    assert engine._direction([4, 4, 4, 4, 3, 3, 3, 3]) == "fading"  # 12 < 12.8


def test_themes_rise_fade_or_hold_by_their_weekly_counts():
    docs = [*topic_docs("billing", 12), *topic_docs("garden", 12), *topic_docs("shipping", 12)]
    newest = NOW + timedelta(days=6)  # Sunday 6 December: the last day of the week of 30 November
    for n, d in enumerate(docs[:12]):  # billing: all in the last four weeks
        d.created = newest - timedelta(days=2 * n)
    for n, d in enumerate(docs[12:24]):  # garden: all five to eight weeks back
        d.created = newest - timedelta(weeks=4, days=1 + 2 * n)
    for n, d in enumerate(docs[24:]):  # shipping: evenly over the eight weeks
        d.created = newest - timedelta(days=1 + 56 * n // 12)
    result = build_themes(docs, max_themes=3)
    direction = {topic_of(t, result, docs): t["direction"] for t in result.themes}
    assert direction == {"bil": "rising", "gar": "fading", "shi": "steady"}
    for theme in result.themes:
        weeks = [w["week"] for w in theme["trend"]]
        assert weeks[-1] == "2026-11-30" and weeks[0] == "2026-10-12" and len(weeks) == 8
        assert sum(w["count"] for w in theme["trend"]) == theme["size"]  # all within the 8 weeks


def test_the_trend_counts_posts_by_monday_week_and_leaves_out_older_ones():
    docs = topic_docs("billing", 3)
    docs[0].created = datetime(2026, 11, 29, 23, 59, tzinfo=UTC)  # Sunday: the week of Monday 23rd
    docs[1].created = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    docs[2].created = datetime(2026, 9, 1, tzinfo=UTC)  # more than 8 weeks back
    trend = engine._trend(docs, newest=docs[0].created)
    assert trend[-1] == {"week": "2026-11-23", "count": 2} and len(trend) == 8
    assert sum(w["count"] for w in trend) == 2
    assert engine.week_of(date(2026, 11, 29)) == date(2026, 11, 23)


# Sentences


def test_sentences_are_exact_substrings_long_enough_to_quote():
    text = (
        "First sentence is long enough here. Short one! Is this the third sentence, or not?\n"
        "A line without a stop at the end\n\n   Indented sentence with trailing spaces.   "
    )
    found = sentences(text)
    assert found == [
        "First sentence is long enough here.",
        "Is this the third sentence, or not?",
        "A line without a stop at the end",
        "Indented sentence with trailing spaces.",
    ]
    assert all(s in text for s in found)
    assert sentences("") == [] and sentences(None) == [] and sentences("Too short.") == []
    assert sentences("Wait... what happened to the invoices?!") == ["what happened to the invoices?!"]


def test_a_long_sentence_is_cut_at_a_word_and_stays_a_substring():
    text = "We tried " + ", ".join(f"option number {n}" for n in range(40)) + " and nothing helped."
    (cut,) = sentences(text)
    assert len(cut) <= engine.QUOTE_MAX and cut in text and text.startswith(cut)
    assert not cut.endswith((",", " ", ";", ":")) and text[len(cut)] in ", "  # a whole word


# Boilerplate


def test_a_comment_sentence_said_under_three_posts_is_boilerplate():
    bot = "I am a bot, and this action was performed automatically."
    docs = [post("The invoice arrived late again this month.", comments=(bot,), n=n) for n in range(3)]
    docs[0].comments.append(
        ThemeComment(uuid.uuid4(), "Same here: the invoice came late for us too.", 1, "u")
    )
    docs[1].comments.append(
        ThemeComment(uuid.uuid4(), "same here -- the INVOICE came late for us too", 1, "u")
    )
    boilerplate = engine._boilerplate(docs)
    assert boilerplate == {engine._norm(bot)}  # under 3 posts; the other under 2 (any case or punctuation)
    assert bot not in docs[0].document(boilerplate) and bot in docs[0].document()
    assert "Same here" in docs[0].document(boilerplate)
    # Said twice under one post counts once; a post's own text is never boilerplate.
    docs[2].comments.append(
        ThemeComment(uuid.uuid4(), "Same here: the invoice came late for us too.", 1, "u")
    )
    assert engine._boilerplate(docs) == {
        engine._norm(bot),
        engine._norm("same here the invoice came late for us too"),
    }
    assert engine._boilerplate(docs[:2]) == frozenset()


def test_boilerplate_is_never_a_quote_nor_a_theme_term():
    # A bot's reply under four billing posts, with billing words and many upvotes: it would be
    # the theme's best quote, and "megathread" one of its terms, if it were not boilerplate.
    bot = "Stripe refund, invoice, billing, receipt, checkout and subscription talk goes to the megathread."
    docs = [*topic_docs("billing", 12, comments=1), *topic_docs("garden", 12, comments=1)]
    for d in docs[:4]:
        d.comments.append(ThemeComment(uuid.uuid5(d.post_id, "bot"), bot, 100, d.reddit_url + "bot/"))
    result = build_themes(docs)
    assert len(result.themes) == 2
    for theme in result.themes:
        assert "megathread" not in {w for t in theme["terms"] for w in t.split()}
        assert all(q["text"] != bot for q in theme["quotes"]) and len(theme["quotes"]) >= 3
    # Under two posts it is an ordinary comment: quoted first (its terms and upvotes).
    for d in docs[2:4]:
        d.comments.pop()
    billing = next(t for t in build_themes(docs).themes if "invoice" in " ".join(t["terms"]))
    assert billing["quotes"][0]["text"] == bot
