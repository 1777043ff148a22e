"""The published OpenAPI document explains itself: every operation has a summary and a
description a founder can act on, and the fields whose meaning is not obvious from their
name (archetype, the scores, the collect body's mode and limits, the post list's query
parameters) say what they mean. Checked on the document the app serves at /openapi.json."""

from __future__ import annotations

import re
from typing import Any

import pytest

POSTS_PATH = "/v1/campaigns/{campaign_id}/posts"
COLLECT_PATH = "/v1/campaigns/{campaign_id}/collect"
METHODS = {"get", "post", "put", "patch", "delete"}
MIN_DESCRIPTION_WORDS = 10
# Error statuses an operation declares on top of the ones every operation shares
# (401, 404, 413, 422, 500, 503): its description must say when they happen.
SPECIFIC_ERRORS = {"409", "429"}


@pytest.fixture
async def doc(client) -> dict[str, Any]:
    resp = await client.get("/openapi.json")
    assert resp.status_code == 200
    return resp.json()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9_]+", text)


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][name]


def field_description(doc: dict[str, Any], model: str, field: str) -> str:
    prop = schema(doc, model)["properties"][field]
    description = prop.get("description", "")
    assert len(words(description)) >= 5, f"{model}.{field} has no real description: {description!r}"
    return description


def enum_values(prop: dict[str, Any]) -> list[str]:
    """The enum of a property, also when it is nullable (anyOf [enum, null])."""
    for option in [prop, *prop.get("anyOf", [])]:
        if "enum" in option:
            return option["enum"]
    raise AssertionError(f"no enum in {prop}")


def query_parameters(doc: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in doc["paths"][path]["get"]["parameters"] if p["in"] == "query"}


async def test_every_operation_has_a_summary_and_a_description(doc):
    ops = operations(doc)
    assert len(ops) >= 48
    missing = []
    for method, path, op in ops:
        summary = op.get("summary", "").strip()
        description = op.get("description", "").strip()
        if not summary or len(summary) > 60:
            missing.append(f"{method} {path}: summary {summary!r}")
        if len(words(description)) < MIN_DESCRIPTION_WORDS or description == summary:
            missing.append(f"{method} {path}: description {description!r}")
    assert not missing, "\n".join(missing)


async def test_operation_texts_are_written_for_each_operation(doc):
    summaries = [op["summary"] for _, _, op in operations(doc)]
    descriptions = [op["description"] for _, _, op in operations(doc)]
    assert len(set(summaries)) == len(summaries), "two operations share a summary"
    assert len(set(descriptions)) == len(descriptions), "two operations share a description"


async def test_descriptions_say_when_the_specific_errors_happen(doc):
    unexplained = []
    for method, path, op in operations(doc):
        for status in SPECIFIC_ERRORS & set(op["responses"]):
            # The response's description starts with the error code, e.g. "PLAN_LIMIT_REACHED (...)".
            match = re.match(r"[A-Z_]{4,}", op["responses"][status]["description"])
            assert match, f"{method} {path} {status}: the response names no error code"
            if match.group() not in op["description"]:
                unexplained.append(f"{method} {path}: {status} {match.group()}")
    assert not unexplained, "\n".join(unexplained)


async def test_the_collect_operation_explains_its_refusals(doc):
    description = doc["paths"][COLLECT_PATH]["post"]["description"]
    for fragment in ("COLLECTION_IN_PROGRESS", "archived", "PLAN_LIMIT_REACHED", "7 days", "task_id"):
        assert fragment in description


async def test_the_archetype_is_explained_value_by_value(doc):
    for model in ("PostOut", "PostDetail"):
        prop = schema(doc, model)["properties"]["archetype"]
        values = enum_values(prop)
        assert set(values) == {"Journey", "ProblemSolution", "Feedback", "Unclassified"}
        description = field_description(doc, model, "archetype")
        for value in values:  # each value is a bullet of its own with what it means
            line = next(ln for ln in description.splitlines() if f"`{value}`" in ln)
            assert len(words(line)) >= 8, line
        assert "story" in description and "solution" in description and "opinions" in description


async def test_the_scores_say_their_range_and_what_they_measure(doc):
    success = field_description(doc, "PostOut", "success_score")
    assert "0-10" in success
    assert "subreddit" in success and "upvotes" in success and "comments" in success
    assert "score_breakdown" in success

    relevance = field_description(doc, "PostOut", "relevance_score")
    assert "0-10" in relevance
    assert "keywords" in relevance and "pre-filter" in relevance
    assert "-relevance_score" in relevance  # how to use it


async def test_the_label_fields_are_described(doc):
    confidence = field_description(doc, "PostOut", "archetype_confidence")
    assert "0-1" in confidence and "0.6" in confidence and "min_confidence" in confidence

    source_prop = schema(doc, "PostOut")["properties"]["archetype_source"]
    source = field_description(doc, "PostOut", "archetype_source")
    for value in enum_values(source_prop):
        assert f"`{value}`" in source, value

    keywords = field_description(doc, "PostOut", "matched_keywords")
    assert "keywords" in keywords and "mentions_keywords" in keywords

    breakdown = field_description(doc, "PostDetail", "score_breakdown")
    assert "success_score" in breakdown and "upvotes_percentile" in breakdown


async def test_the_collect_body_explains_each_mode(doc):
    body = schema(doc, "CollectRequest")["properties"]
    modes = enum_values(body["mode"])
    assert set(modes) == {"hybrid", "fresh", "historical"}
    description = field_description(doc, "CollectRequest", "mode")
    bullets = {m: next(ln for ln in description.splitlines() if ln.startswith(f"- `{m}`")) for m in modes}
    assert "newest" in bullets["fresh"] and "Incremental" in bullets["fresh"]
    assert "top" in bullets["historical"] and "Not incremental" in bullets["historical"]
    assert "duplicates" in bullets["historical"]
    assert "(default)" in bullets["hybrid"] and "half" in bullets["hybrid"]
    assert "top" in bullets["hybrid"] and "newest" in bullets["hybrid"]

    limit = field_description(doc, "CollectRequest", "max_posts_per_subreddit")
    assert "1-1000" in limit and "100" in limit and "pre-filter" in limit
    comments = field_description(doc, "CollectRequest", "comments_per_post")
    assert "0-500" in comments and "0 = no comments" in comments


async def test_the_run_object_says_what_its_counters_count(doc):
    for field in ("mode", "scraped", "filtered", "classified", "stored", "duplicates"):
        field_description(doc, "RunOut", field)


async def test_every_post_list_query_parameter_is_described(doc):
    params = query_parameters(doc, POSTS_PATH)
    filters = {"archetype", "subreddit", "min_score", "max_score", "q", "search_in", "archetype_source"}
    assert filters | {"min_confidence", "mentions_keywords", "sort", "page", "per_page"} <= set(params)
    for name, param in params.items():
        description = param.get("description", "")
        assert len(words(description)) >= 3, f"query parameter {name}: {description!r}"

    # Enumerated parameters name every value they accept.
    for name in ("sort", "search_in"):
        description = params[name]["description"]
        for value in enum_values(params[name]["schema"]):
            assert f"`{value}`" in description, (name, value)
    assert "success_score" in params["min_score"]["description"]
    assert "10 words" in params["q"]["description"]
