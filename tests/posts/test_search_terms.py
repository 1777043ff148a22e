"""What a post's stored words and a query's words are (the list tests cover the matching)."""

from __future__ import annotations

from bcrao.posts.search import MAX_TERM_CHARS, query_words, search_terms


def test_terms_are_distinct_lower_case_words_padded_with_spaces():
    assert search_terms("Churn, churn & CHURNED!", "snake_case 100% café") == (
        " 100 café case churn churned snake "
    )


def test_a_post_without_words_stores_a_single_space():
    assert search_terms("", None) == " "
    assert search_terms("!!! --- ???", "") == " "


def test_overlong_runs_are_cut_the_same_way_for_posts_and_queries():
    blob = "a" * 500
    assert search_terms(blob) == f" {'a' * MAX_TERM_CHARS} "
    assert query_words([blob]) == ["a" * MAX_TERM_CHARS]


def test_query_words_split_on_punctuation_and_drop_repeats():
    assert query_words(["Snake_Case", "snake", "%", "e-mail"]) == ["snake", "case", "e", "mail"]
    assert query_words(["%%%", "   "]) == []
