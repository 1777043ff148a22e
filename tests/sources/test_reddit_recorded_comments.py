"""Comment trees exactly as real Reddit sent them, through the code that reads them.

The recordings live in ``../shared/reddit_api`` beside the repository (real responses from
PRAW's integration cassettes) and are read where they are, never copied into the project;
without them these tests skip. They hold no "continue this thread" stub (id ``_``): that
shape is covered against the fake Reddit in ``test_reddit_comments.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bcrao.sources.base import CommentRequest
from bcrao.sources.comments import ThreadReader, morechildren_things, taken_down, thread_listing
from tests.fakes.fixtures import fake_reddit  # noqa: F401
from tests.sources.test_reddit_source import make_source  # noqa: F401

RECORDINGS = Path(__file__).resolve().parents[2].parent / "shared" / "reddit_api"
THREAD = RECORDINGS / "comments__3hahrw_limit10__2017-03-16.json"
MORE = RECORDINGS / "morechildren__3hahrw__2017-03-16__trimmed.json"
BIG_THREAD = RECORDINGS / "comments__6wmniq_context100__2017-08-31.json"
INFO = RECORDINGS / "api_info_by_ids__2016-11-17.json"
LISTING = RECORDINGS / "subreddit_new__r_askreddit__2016-03-01.json"

pytestmark = pytest.mark.skipif(
    not all(p.is_file() for p in (THREAD, MORE, BIG_THREAD, INFO, LISTING)),
    reason=f"the recorded Reddit responses are not in {RECORDINGS} (../shared beside the repository)",
)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# GET /comments/3hahrw?limit=10&sort=confidence: ten comments, depth-first, best first.
PAGE_COMMENTS = [
    ("cu5pebp", 0, "t3_3hahrw", "johnnwho"),
    ("cu5sye5", 1, "t1_cu5pebp", "Lommo97"),
    ("cu5tgzu", 2, "t1_cu5sye5", "mcampo84"),
    ("cu5oif1", 0, "t3_3hahrw", "frittenlord"),
    ("cu5t516", 1, "t1_cu5oif1", "Rivster79"),
    ("cu5s3hd", 0, "t3_3hahrw", "stupiddie"),
    ("cu5uluu", 1, "t1_cu5s3hd", "Antrikshy"),
    ("cu5q4m5", 0, "t3_3hahrw", "FrostyAce81"),
    ("cu5p1hh", 0, "t3_3hahrw", "TheProphetBroses"),
    ("cu5th6m", 1, "t1_cu5p1hh", None),  # author "[deleted]", text still there
]
# Its eleven ``more`` stubs in the order they appear: (parent, depth, how many ids, first ids).
PAGE_STUBS = [
    ("t1_cu5tgzu", 3, 3, ["cu638nc", "cu5tlz5", "cu5tzj5"]),
    ("t1_cu5sye5", 2, 6, ["cu5zo4i", "cu5tyhz", "cu5udrw"]),
    ("t1_cu5pebp", 1, 4, ["cu5tovd", "cu6dave", "cu5ujqr"]),
    ("t1_cu5t516", 2, 5, ["cu5tazd", "cu5tb0y", "cu5tl6b"]),
    ("t1_cu5oif1", 1, 8, ["cu63tao", "cu5tmix", "cu5wwcs"]),
    ("t1_cu5uluu", 2, 1, ["cu5uu41"]),
    ("t1_cu5s3hd", 1, 2, ["cu65raf", "cu5wg0v"]),
    ("t1_cu5q4m5", 1, 5, ["cu5ukar", "cu5v16a", "cu6a2ar"]),
    ("t1_cu5th6m", 2, 2, ["cu5txc4", "cu5tqy7"]),
    ("t1_cu5p1hh", 1, 8, ["cu6055x", "cu5w3uv", "cu5t0tk"]),
    ("t3_3hahrw", 0, 156, ["cu5u1vm", "cu5uca3", "cu5tx53"]),
]
# POST /api/morechildren (trimmed to 40 things): the 29 comments, flat, parents first.
MORE_COMMENTS = [
    ("cu5spl9", 0, "t3_3hahrw"),
    ("cu5w5tg", 1, "t1_cu5spl9"),
    ("cu5x0y7", 2, "t1_cu5w5tg"),
    ("cu5ym3r", 3, "t1_cu5x0y7"),
    ("cu63ror", 4, "t1_cu5ym3r"),
    ("cu5zzgp", 2, "t1_cu5w5tg"),
    ("cu5w7za", 0, "t3_3hahrw"),
    ("cu5v77p", 0, "t3_3hahrw"),
    ("cu5tcm9", 0, "t3_3hahrw"),
    ("cu5ujk8", 1, "t1_cu5tcm9"),
    ("cu5v2e6", 1, "t1_cu5tcm9"),
    ("cu600u7", 1, "t1_cu5tcm9"),
    ("cu5pr4y", 0, "t3_3hahrw"),
    ("cu5qhfy", 1, "t1_cu5pr4y"),
    ("cu5t1uw", 2, "t1_cu5qhfy"),
    ("cu5tqhn", 3, "t1_cu5t1uw"),
    ("cu5u0ci", 4, "t1_cu5tqhn"),
    ("cu5uamk", 5, "t1_cu5u0ci"),
    ("cu5uth8", 6, "t1_cu5uamk"),
    ("cu5u3du", 3, "t1_cu5t1uw"),
    ("cu5wcp3", 4, "t1_cu5u3du"),
    ("cu5tz31", 3, "t1_cu5t1uw"),
    ("cu5u1zy", 2, "t1_cu5qhfy"),
    ("cu5w02a", 3, "t1_cu5u1zy"),
    ("cu5s3ui", 2, "t1_cu5qhfy"),
    ("cu5sxxf", 3, "t1_cu5s3ui"),
    ("cu5to9q", 4, "t1_cu5sxxf"),
    ("cu5tsc2", 5, "t1_cu5to9q"),
    ("cu5tuy4", 6, "t1_cu5tsc2"),
]
# ... and its eleven ``more`` stubs (all their ids: small ones).
MORE_STUBS = [
    ("t1_cu5x0y7", 3, ["cu63crv"]),
    ("t1_cu5zzgp", 3, ["cz9hu6w"]),
    ("t1_cu5w5tg", 2, ["cu6ofeg"]),
    ("t1_cu5spl9", 1, ["cu5vbyu"]),
    ("t1_cu5v77p", 1, ["cu5w0qp"]),
    ("t1_cu5ujk8", 2, ["cu5wnt5", "cu61215"]),
    ("t1_cu5tcm9", 1, ["cu5w8g9", "cu5wwg7", "cu696sc", "cu68vnd"]),
    ("t1_cu5uth8", 7, ["cu5vcu1"]),
    ("t1_cu5uamk", 6, ["cu6fea2"]),
    ("t1_cu5u3du", 4, ["cu5ze1k"]),
    ("t1_cu5t1uw", 3, ["cvdz0ux", "cu5v6dh", "cu5w3f3"]),
]


def read_page(limit: int = 500, max_depth: int = 8) -> ThreadReader:
    parsed = thread_listing(load(THREAD))
    assert parsed is not None
    post, children = parsed
    assert post is not None and post["id"] == "3hahrw" and post["num_comments"] == 537
    reader = ThreadReader(post_id=post["id"], limit=limit, max_depth=max_depth)
    reader.read_tree(children)
    return reader


def test_the_recorded_page_gives_its_comments_depths_parents_and_stubs() -> None:
    reader = read_page()
    assert [(c.id, c.depth, c.parent_id, c.author) for c in reader.comments] == PAGE_COMMENTS
    assert all(c.post_id == "3hahrw" and c.body and not c.is_deleted for c in reader.comments)
    first = reader.comments[0]
    assert first.upvotes == 1127
    assert first.created_utc == datetime(2015, 8, 17, 8, 45, 51, tzinfo=UTC)
    assert first.body.startswith("Man I am glad there isn't some")
    assert reader.comments[-1].body.startswith("With that kind of comedic timi")
    assert [(s.parent_id, s.depth, len(s.children), s.children[:3]) for s in reader.stubs] == PAGE_STUBS
    assert reader.skipped_deep == 0


def test_the_recorded_stubs_are_asked_for_in_batches_best_first() -> None:
    reader = read_page()
    nested = [cid for stub in list(reader.stubs)[:-1] for cid in stub.children]
    top = list(reader.stubs[-1].children)
    assert len(nested) == 44 and len(top) == 156

    first, second = reader.next_batch(), reader.next_batch()
    # The replies' stubs first (in the order of the thread), then the top level's, 100 a call.
    assert first == nested + top[:56]
    assert second == top[56:]
    assert reader.next_batch() == [] and not reader.stubs


def test_the_batches_never_ask_for_more_than_the_limit_leaves() -> None:
    reader = read_page(limit=25)
    queued = [cid for stub in reader.stubs for cid in stub.children]
    assert reader.next_batch() == queued[:15]  # 10 read, 15 to go: the first stubs' 3+6+4+2
    assert [len(s.children) for s in list(reader.stubs)[:2]] == [3, 8]  # the 4th stub goes on
    assert read_page(limit=10).next_batch() == []  # the page alone fills it
    assert [c.id for c in read_page(limit=4).comments] == [c[0] for c in PAGE_COMMENTS[:4]]


def test_the_recorded_morechildren_answer_joins_the_tree() -> None:
    reader = read_page()
    reader.next_batch(), reader.next_batch()
    things = morechildren_things(load(MORE))
    assert things is not None and len(things) == 40
    reader.read_things(things)

    added = reader.comments[len(PAGE_COMMENTS) :]
    assert [(c.id, c.depth, c.parent_id) for c in added] == MORE_COMMENTS
    # A deleted account's comment keeps its text and place, without the author.
    tcm9 = next(c for c in added if c.id == "cu5tcm9")
    assert (tcm9.author, tcm9.is_deleted) == (None, False) and tcm9.body.startswith("Wtf that kid")
    assert [(s.parent_id, s.depth, s.children) for s in reader.stubs] == MORE_STUBS
    assert reader.next_batch() == [cid for _, _, ids in MORE_STUBS for cid in ids]

    # Read again (a retried or repeated answer): nothing twice, no stub asked for again.
    reader.read_things(things)
    assert len(reader.comments) == len(PAGE_COMMENTS) + len(MORE_COMMENTS)
    assert not reader.stubs


def test_the_depth_limit_cuts_the_recorded_answer() -> None:
    reader = read_page(max_depth=3)
    reader.next_batch(), reader.next_batch()
    reader.read_things(morechildren_things(load(MORE)))
    added = reader.comments[len(PAGE_COMMENTS) :]
    assert [c[0] for c in MORE_COMMENTS if c[1] <= 3] == [c.id for c in added]
    # Eight comments at depth 4-6 and the ids of three stubs at depth 4, 6 and 7 are left out.
    assert reader.skipped_deep == 8 + 3
    assert all(s.depth <= 3 for s in reader.stubs)


def test_a_large_recorded_thread_reads_whole() -> None:
    """~390 things of ``/comments/6wmniq``: every comment once, at the depth and under the
    parent Reddit gives, and a stub for every ``more``."""
    parsed = thread_listing(load(BIG_THREAD))
    assert parsed is not None
    post, children = parsed
    assert post is not None and post["id"] == "6wmniq"
    reader = ThreadReader(post_id="6wmniq", limit=500, max_depth=8)
    reader.read_tree(children)
    assert len(reader.comments) == len({c.id for c in reader.comments}) == 200
    assert Counter(c.depth for c in reader.comments) == {0: 31, 1: 59, 2: 45, 3: 31, 4: 21, 5: 9, 6: 4}
    ids = {c.id for c in reader.comments}
    for c in reader.comments:
        assert (c.parent_id == "t3_6wmniq") if c.depth == 0 else (c.parent_id.removeprefix("t1_") in ids)
    assert len(reader.stubs) == 192 and reader.skipped_deep == 0
    assert reader.comments[0].id == "dm9lopq" and reader.stubs[0].parent_id == "t1_dm9noj4"

    shallow = ThreadReader(post_id="6wmniq", limit=500, max_depth=2)
    shallow.read_tree(children)
    assert len(shallow.comments) == 31 + 59 + 45


def test_recorded_deleted_and_removed_posts_are_told_apart() -> None:
    """``/api/info`` as Reddit answered it in 2016 (before ``removed_by_category``): two
    posts deleted by their authors, two removed by moderators, the rest standing."""
    posts = {c["data"]["id"]: c["data"] for c in load(INFO)["data"]["children"] if c["kind"] == "t3"}
    assert {pid: taken_down(p) for pid, p in posts.items() if taken_down(p)} == {
        "5dec01": "deleted",
        "5dec18": "deleted",
        "5dec21": "removed",
        "5dec30": "removed",
    }
    assert len(posts) > 10
    listed = [c["data"] for c in load(LISTING)["data"]["children"]]
    assert len(listed) == 100 and not any(taken_down(p) for p in listed)


async def test_the_recorded_answers_through_the_reddit_source(fake_reddit, make_source) -> None:  # noqa: F811
    """Over HTTP, as Reddit sent them: the page, then one ``/api/morechildren`` call for
    what the limit leaves (the recorded answer stands in for whatever ids are asked)."""
    fake_reddit.answer_recorded("/comments/3hahrw", load(THREAD))
    fake_reddit.answer_recorded("/api/morechildren", load(MORE))
    request = CommentRequest(post_id="3hahrw", subreddit="funny", limit=39, max_depth=8)
    result = await make_source().fetch_comments(request)

    assert not result.post_gone
    assert [(c.id, c.depth, c.parent_id) for c in result.comments] == [
        *[(cid, depth, parent) for cid, depth, parent, _ in PAGE_COMMENTS],
        *MORE_COMMENTS,
    ]
    page, more = fake_reddit.comment_requests()
    assert page.path == "/comments/3hahrw" and page.query["sort"] == "confidence"
    assert more.path == "/api/morechildren" and more.query["link_id"] == "t3_3hahrw"
    queued = [cid for stub in read_page().stubs for cid in stub.children]
    assert more.query["children"].split(",") == queued[:29]  # 29 wanted: the first stubs' ids
