"""The labelled real posts of ``data/labels/`` as pipeline inputs (training, quality report, tests).

A post's gold labels say what a founder would want (``useful``) and what the author wants
from readers (``archetype``, incl. ``Other``); see ``data/labels/README.md``.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bcrao.sources.base import NormalizedPost
from bcrao.sources.normalize import from_reddit_json

LABELS_DIR = Path(__file__).resolve().parents[1] / "data" / "labels"
ARCHETYPES = ("Journey", "ProblemSolution", "Feedback")


@dataclass(frozen=True, slots=True)
class Labelled:
    post: NormalizedPost
    subreddit: str
    split: str  # "train" (tuning and training, by subreddit folds) or "test" (held out)
    useful: bool
    archetype: str  # Journey | ProblemSolution | Feedback | Other
    confidence: str  # high | low: the labeller's own certainty


@lru_cache(maxsize=1)
def _posts() -> dict[str, NormalizedPost]:
    with gzip.open(LABELS_DIR / "posts.jsonl.gz", "rt", encoding="utf-8") as fh:
        return {p.id: p for p in (from_reddit_json(json.loads(line)) for line in fh)}


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (LABELS_DIR / name).read_text().splitlines() if line.strip()]


def load(split: str | None = None, *, file: str = "labels.jsonl") -> list[Labelled]:
    posts = _posts()
    out = []
    for row in _rows(file):
        if split is None or row["split"] == split:
            out.append(
                Labelled(
                    post=posts[row["id"]],
                    subreddit=row["subreddit"],
                    split=row["split"],
                    useful=row["useful"] == "yes",
                    archetype=row["archetype"],
                    confidence=row["confidence"],
                )
            )
    return out


def second_labels() -> dict[str, Labelled]:
    """The independent second labels of the agreement sample, by post id."""
    return {item.post.id: item for item in load(file="second_labels.jsonl")}


def split_info() -> dict:
    return json.loads((LABELS_DIR / "split.json").read_text())
