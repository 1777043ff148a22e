"""The pre-filter's noise rules, applied to comments before they are stored.

A thread is read for what people say, so what no person said is dropped: bots' comments
(AutoModerator's rules reminders, "I am a bot" helpers) and moderators' stickied notices,
together with the replies under them (answers to a bot are about the bot). One-word
reactions with nothing under them ("this", "lol", "+1") are dropped too. Deleted and removed
comments are kept, flagged ``is_deleted`` and without author or text: they hold their
replies' place in the tree, and a thread read on Reddit shows them too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bcrao.sources.base import NormalizedComment

# Accounts that only ever post automated text on the subreddits founders research.
BOT_AUTHORS = frozenset(
    {"automoderator", "remindmebot", "savevideo", "sneakpeekbot", "wikisummarizerbot", "repostsleuthbot"}
)
_BOT_SIGNATURE = re.compile(r"\bI am a bot\b|\^\^\^I'm a bot|\bbeep boop\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


@dataclass(slots=True)
class CommentVerdicts:
    kept: list[NormalizedComment]
    bots: int = 0
    filler: int = 0

    @property
    def dropped(self) -> int:
        return self.bots + self.filler


def is_bot(comment: NormalizedComment) -> bool:
    author = (comment.author or "").lower()
    if author in BOT_AUTHORS:
        return True
    if comment.distinguished == "moderator" and comment.stickied:
        return True
    return bool(comment.body and _BOT_SIGNATURE.search(comment.body))


def is_filler(comment: NormalizedComment) -> bool:
    """A one-word reaction: nothing a founder can learn from on its own."""
    return comment.body is not None and len(_WORD.findall(comment.body)) <= 1


def screen(comments: Sequence[NormalizedComment]) -> CommentVerdicts:
    """The comments worth storing, in their order; parents always before their replies."""
    has_replies = {c.parent_id.removeprefix("t1_") for c in comments if c.parent_id.startswith("t1_")}
    dropped_bots: set[str] = set()
    verdicts = CommentVerdicts(kept=[])
    for comment in comments:
        parent = comment.parent_id.removeprefix("t1_")
        if parent in dropped_bots or is_bot(comment):
            dropped_bots.add(comment.id)
            verdicts.bots += 1
        elif comment.id not in has_replies and is_filler(comment):
            verdicts.filler += 1
        else:
            verdicts.kept.append(comment)
    return verdicts
