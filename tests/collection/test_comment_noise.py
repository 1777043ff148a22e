"""The noise rules for comments: bots and one-word reactions go, deleted ones keep their place."""

from __future__ import annotations

from datetime import UTC, datetime

from bcrao.comments.noise import is_bot, screen
from bcrao.sources.base import NormalizedComment


def comment(cid: str, parent: str = "t3_p", body: str | None = "A real answer about invoicing", **kw):
    return NormalizedComment(
        id=cid,
        post_id="p",
        parent_id=parent,
        depth=0 if parent.startswith("t3_") else 1,
        author=kw.pop("author", "someone"),
        body=body,
        upvotes=1,
        created_utc=datetime(2026, 11, 1, tzinfo=UTC),
        **kw,
    )


def test_bots_and_their_replies_are_dropped():
    thread = [
        comment("a", author="AutoModerator", body="Please read the rules."),
        comment("b", "t1_a", body="Why was my post flagged by the bot?"),
        comment("c", author="helper", body="Here is the summary. ^^^I'm a bot"),
        comment("d", author="mod", body="Weekly thread rules", distinguished="moderator", stickied=True),
        comment("e", author="mod", body="As a founder I'd charge more", distinguished="moderator"),
        comment("f"),
    ]
    verdicts = screen(thread)
    assert [c.id for c in verdicts.kept] == ["e", "f"]
    assert (verdicts.bots, verdicts.filler, verdicts.dropped) == (4, 0, 4)
    assert is_bot(thread[0]) and not is_bot(thread[4])


def test_one_word_reactions_go_unless_someone_replied():
    thread = [
        comment("a", body="This."),
        comment("b", body="+1"),
        comment("c", body="Same"),
        comment("d", "t1_c", body="Same here, we left Stripe over it"),
        comment("e", body="Two words"),
    ]
    verdicts = screen(thread)
    assert [c.id for c in verdicts.kept] == ["c", "d", "e"]
    assert verdicts.filler == 2


def test_deleted_comments_are_kept_flagged():
    gone = comment("a", author=None, body=None, is_deleted=True)
    verdicts = screen([gone, comment("b", "t1_a")])
    assert [c.id for c in verdicts.kept] == ["a", "b"] and verdicts.dropped == 0
