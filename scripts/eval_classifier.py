"""Measure the rules classifier against the hand-labelled set in tests/data.

Prints accuracy, per-class precision/recall and a confusion matrix (rows = truth,
columns = prediction). ``evaluate()`` is importable so the test suite checks the same
numbers this script prints.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bcrao.collection.classify import ARCHETYPES, RulesClassifier
from bcrao.sources.base import NormalizedPost

LABELS_PATH = Path(__file__).resolve().parents[1] / "tests" / "data" / "archetype_labels.jsonl"


def load_labels(path: Path = LABELS_PATH) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _post(row: dict, index: int) -> NormalizedPost:
    return NormalizedPost(
        id=f"eval{index}",
        subreddit=row["subreddit"],
        title=row["title"],
        text=row["text"],
        author="eval",
        url="",
        permalink="",
        upvotes=0,
        comment_count=0,
        upvote_ratio=None,
        created_utc=datetime(2026, 1, 1, tzinfo=UTC),
    )


def evaluate(rows: list[dict] | None = None) -> dict:
    rows = rows if rows is not None else load_labels()
    classifier = RulesClassifier()
    confusion = {t: dict.fromkeys(ARCHETYPES, 0) for t in ARCHETYPES}
    mistakes = []
    for i, row in enumerate(rows):
        got = classifier.classify(_post(row, i))
        confusion[row["label"]][got.archetype] += 1
        if got.archetype != row["label"]:
            mistakes.append((row["label"], got.archetype, row["title"], got.reasons))
    correct = sum(confusion[a][a] for a in ARCHETYPES)
    per_class = {}
    for a in ARCHETYPES:
        predicted = sum(confusion[t][a] for t in ARCHETYPES)
        actual = sum(confusion[a].values())
        per_class[a] = {
            "precision": confusion[a][a] / predicted if predicted else 0.0,
            "recall": confusion[a][a] / actual if actual else 0.0,
            "support": actual,
        }
    return {
        "accuracy": correct / len(rows) if rows else 0.0,
        "per_class": per_class,
        "confusion": confusion,
        "mistakes": mistakes,
        "n": len(rows),
    }


def main() -> int:
    result = evaluate()
    print(f"posts: {result['n']}  accuracy: {result['accuracy']:.3f}")
    print(f"{'class':<16}{'precision':>10}{'recall':>8}{'n':>5}")
    for a, m in result["per_class"].items():
        print(f"{a:<16}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['support']:>5}")
    print("\nconfusion (rows = label, columns = predicted)")
    print(" " * 16 + "".join(f"{a[:12]:>14}" for a in ARCHETYPES))
    for t in ARCHETYPES:
        print(f"{t:<16}" + "".join(f"{result['confusion'][t][a]:>14}" for a in ARCHETYPES))
    if "-v" in sys.argv:
        print("\nmistakes:")
        for label, got, title, reasons in result["mistakes"]:
            print(f"  {label:>15} -> {got:<15} {title}  {reasons}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
