"""Relevance to a campaign: keywords (title first, then text) and the product context."""

from __future__ import annotations

from bcrao.collection.prefilter import WEIGHTS, PreFilter
from bcrao.collection.relevance import CampaignMatcher, context_terms, stem
from bcrao.collection.text import tokenize

KEYWORDS = ["invoicing", "late payments"]
CONTEXT = (
    "An invoicing app for freelancers: send invoices in one click, chase late payments with "
    "automatic reminders and see which clients pay on time."
)
# The same neutral body under every title below, so only the campaign evidence differs.
BODY = (
    "I have been freelancing as a designer for three years now and the admin side keeps "
    "growing. Every month I spend a whole weekend on paperwork and I would like to get that "
    "time back. What does your setup look like and what would you change about it?"
)


def _relevance(prefilter: PreFilter, make_post, title: str, text: str = BODY) -> float:
    decision = prefilter.evaluate(make_post(title=title, text=text))
    assert decision.reason is None
    return decision.relevance_score


def test_title_phrase_beats_text_mention_beats_context_overlap_beats_nothing(make_post):
    prefilter = PreFilter(KEYWORDS, context=CONTEXT)
    in_title = _relevance(prefilter, make_post, "How do you handle late payments from clients")
    in_text = _relevance(
        prefilter,
        make_post,
        "How do you handle this side of the job",
        BODY + " Late payments are the worst part.",
    )
    context_only = _relevance(
        prefilter, make_post, "How do you handle this side of the job", BODY + " Clients pay me on time."
    )
    nothing = _relevance(prefilter, make_post, "How do you handle this side of the job")
    assert in_title > in_text > context_only > nothing


def test_a_post_matching_nothing_scores_low(make_post):
    prefilter = PreFilter(KEYWORDS, context=CONTEXT)
    unrelated = make_post(
        title="My first woodworking project: a walnut coffee table",
        text="Finished this table over the holidays. The walnut came from a local mill and the legs "
        "are turned on a lathe I borrowed from a friend. Finish is three coats of oil and wax.",
        upvotes=900,
        comment_count=150,
    )
    decision = prefilter.evaluate(unrelated)
    assert decision.reason is None
    assert decision.matched_keywords == ()
    assert decision.signals["keywords_title"] == decision.signals["keywords_text"] == 0
    assert decision.signals["context"] == 0
    # Only the 3 "worth reading" points are open to it, however popular it is.
    campaign_points = WEIGHTS["keywords_title"] + WEIGHTS["keywords_text"] + WEIGHTS["context"]
    assert decision.relevance_score <= 10 - campaign_points
    on_topic = prefilter.evaluate(
        make_post(title="Invoicing clients who always pay late", text=BODY, upvotes=0, comment_count=0)
    )
    assert on_topic.relevance_score > decision.relevance_score + 2


def test_relevance_is_deterministic(make_post):
    post = make_post(
        title="Invoicing tools that chase late payments?", text=BODY + " Clients, invoices, reminders."
    )
    first = PreFilter(KEYWORDS, context=CONTEXT).evaluate(post)
    again = [PreFilter(list(KEYWORDS), context=str(CONTEXT)).evaluate(post) for _ in range(3)]
    assert all(d == first for d in again)
    assert first.relevance_score == round(sum(first.signals.values()), 2)
    assert context_terms(CONTEXT) == context_terms(CONTEXT)
    assert list(context_terms(CONTEXT)) == list(context_terms(CONTEXT))


def test_context_terms_drop_stopwords_and_weigh_rare_words_more():
    terms = context_terms(CONTEXT)
    assert "an" not in terms and "app" not in terms and "one" not in terms
    assert {"invoic", "freelancer", "reminder", "client"} <= set(terms)
    # "invoices" and "invoicing" are one term; a rare word outweighs a common one.
    assert terms["invoic"] > terms["pay"]


def test_context_matches_other_forms_of_its_words_but_not_look_alikes():
    matcher = CampaignMatcher([], "We help people cope with invoices.")
    title, body = tokenize("Invoicing question"), tokenize("how do you cope, and how do you invoice")
    assert matcher.match(title, body, title + body).context_coverage > 0
    cops = tokenize("the cops came by")
    assert matcher.match([], cops, cops).context_coverage == 0
    assert stem("invoicing") == stem("invoices") == stem("invoice") == stem("invoice's")
    assert stem("debugging") == stem("debug") and stem("business") == stem("businesses")


def test_short_keyword_words_match_whole_words_only(make_post):
    prefilter = PreFilter(["app", "seo"])
    decision = prefilter.evaluate(
        make_post(title="Apple rejected our update", text=BODY + " Seoul office applies too.")
    )
    assert decision.matched_keywords == ()
    decision = prefilter.evaluate(make_post(title="Our apps and SEO", text=BODY))
    assert decision.matched_keywords == ("app", "seo")


def test_no_context_and_no_keywords_leave_only_the_reading_signals(make_post):
    decision = PreFilter([]).evaluate(make_post())
    assert decision.signals["keywords_title"] == decision.signals["keywords_text"] == 0
    assert decision.signals["context"] == 0
    assert 0 < decision.relevance_score <= 3.0
