"""Quality report: the pipeline's real filter and classifiers on the held-out test split.

The test split is whole subreddits that no rule, threshold or weight was tuned on
(``data/labels/split.json``). Prints useful recall, noise rejected, false rejections per
reason, archetype accuracy and macro-F1, per-class precision and recall, the confusion
matrix and accuracy by confidence bucket, next to the human agreement ceiling (two
independent labellers on the same posts) and next to the hand-written ``rules`` classifier.

Run: .venv/bin/python bench/quality.py [--split test|train]
``evaluate()`` is importable: ``tests/collection/test_quality.py`` holds the floors.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.labelled import ARCHETYPES, Labelled, load, second_labels  # noqa: E402

from bcrao.collection.classify import RulesClassifier  # noqa: E402
from bcrao.collection.model import ModelClassifier  # noqa: E402
from bcrao.collection.prefilter import PreFilter  # noqa: E402

BUCKETS = ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01))


def filter_figures(items: list[Labelled], prefilter_factory) -> dict:
    reasons: dict[str, str | None] = {}
    for sub in sorted({i.subreddit for i in items}):
        prefilter = prefilter_factory()  # one run per subreddit, as the pipeline does
        for item in (i for i in items if i.subreddit == sub):
            reasons[item.post.id] = prefilter.evaluate(item.post).reason
    useful = [i for i in items if i.useful]
    noise = [i for i in items if not i.useful]
    false_rejections = Counter(reasons[i.post.id] for i in useful if reasons[i.post.id] is not None)
    kept_noise = Counter(
        "link or title-only" if not i.post.is_self or not i.post.text.strip() else "self post with text"
        for i in noise
        if reasons[i.post.id] is None
    )
    return {
        "posts": len(items),
        "useful": len(useful),
        "useful_recall": sum(reasons[i.post.id] is None for i in useful) / max(1, len(useful)),
        "noise_rejected": sum(reasons[i.post.id] is not None for i in noise) / max(1, len(noise)),
        "false_rejections": dict(false_rejections.most_common()),
        "kept_noise": dict(kept_noise),
        "kept": [i for i in items if reasons[i.post.id] is None],
    }


def archetype_figures(pairs: list[tuple[str, str, float]]) -> dict:
    """``pairs``: (gold, predicted, confidence)."""
    n = len(pairs)
    confusion = {g: dict.fromkeys(ARCHETYPES, 0) for g in ARCHETYPES}
    for gold, pred, _ in pairs:
        confusion[gold][pred] += 1
    per_class = {}
    for a in ARCHETYPES:
        predicted = sum(confusion[g][a] for g in ARCHETYPES)
        actual = sum(confusion[a].values())
        p = confusion[a][a] / predicted if predicted else 0.0
        r = confusion[a][a] / actual if actual else 0.0
        per_class[a] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "n": actual}
    calibration = []
    for lo, hi in BUCKETS:
        inside = [(g, p) for g, p, c in pairs if lo <= c < hi]
        if inside:
            calibration.append((lo, min(hi, 1.0), len(inside), sum(g == p for g, p in inside) / len(inside)))
    return {
        "n": n,
        "accuracy": sum(g == p for g, p, _ in pairs) / max(1, n),
        "macro_f1": sum(m["f1"] for m in per_class.values()) / len(ARCHETYPES),
        "per_class": per_class,
        "confusion": confusion,
        "calibration": calibration,
    }


def agreement() -> dict:
    """Two labellers, independently, on the same posts: the ceiling."""
    first = {i.post.id: i for i in load()}
    second = second_labels()
    both = [(first[k], second[k]) for k in second if k in first]
    useful_agree = sum(a.useful == b.useful for a, b in both) / max(1, len(both))
    arch = [
        (a, b)
        for a, b in both
        if a.useful and b.useful and a.archetype in ARCHETYPES and b.archetype in ARCHETYPES
    ]
    arch_agree = sum(a.archetype == b.archetype for a, b in arch) / max(1, len(arch))
    high = [(a, b) for a, b in arch if a.confidence == "high" and b.confidence == "high"]
    return {
        "posts": len(both),
        "useful_agreement": useful_agree,
        "archetype_posts": len(arch),
        "archetype_agreement": arch_agree,
        "archetype_agreement_both_high": sum(a.archetype == b.archetype for a, b in high) / max(1, len(high)),
        "both_high_posts": len(high),
    }


def evaluate(split: str = "test") -> dict:
    items = load(split)
    model = ModelClassifier()
    rules = RulesClassifier()
    shipped = filter_figures(items, lambda: PreFilter([]))
    first_rules = filter_figures(items, lambda: PreFilter([], title_judge=None))
    gold = [i for i in items if i.useful and i.archetype in ARCHETYPES]
    kept_ids = {i.post.id for i in shipped["kept"]}
    model_pairs = [(i.archetype, *_label(model.classify(i.post))) for i in gold]
    rules_pairs = [(i.archetype, *_label(rules.classify(i.post))) for i in gold]
    kept_pairs = [p for p, i in zip(model_pairs, gold, strict=True) if i.post.id in kept_ids]
    other_useful = [i for i in items if i.useful and i.archetype == "Other"]
    return {
        "split": split,
        "subreddits": sorted({i.subreddit for i in items}, key=str.lower),
        "filter": shipped,
        "filter_without_title_model": first_rules,
        "model": archetype_figures(model_pairs),
        "model_on_kept": archetype_figures(kept_pairs),
        "model_by_label_confidence": {
            level: archetype_figures(
                [p for p, i in zip(model_pairs, gold, strict=True) if i.confidence == level]
            )
            for level in ("high", "low")
        },
        "rules": archetype_figures(rules_pairs),
        "useful_other": len(other_useful),
        "labelled_share_of_kept": 1.0,  # every kept post is classified by the model
        "agreement": agreement(),
    }


def _label(c) -> tuple[str, float]:
    return c.archetype, c.confidence


def _print_filter(name: str, f: dict) -> None:
    print(f"  {name:<38} useful recall {f['useful_recall']:.3f}  noise rejected {f['noise_rejected']:.3f}")
    print(f"    false rejections (useful posts thrown away): {f['false_rejections']}")
    print(f"    noise kept: {f['kept_noise']}")


def _print_archetype(name: str, m: dict) -> None:
    print(f"  {name:<38} n={m['n']}  accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}")
    for a, pc in m["per_class"].items():
        print(f"    {a:<16} precision {pc['precision']:.3f}  recall {pc['recall']:.3f}  n={pc['n']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="test", choices=["test", "train"])
    r = evaluate(parser.parse_args().split)
    a = r["agreement"]
    print(f"split: {r['split']} ({r['filter']['posts']} posts; {', '.join(r['subreddits'])})")
    print(f"human agreement ceiling ({a['posts']} posts labelled twice, blind):")
    print(
        f"  useful {a['useful_agreement']:.3f}; archetype {a['archetype_agreement']:.3f} on {a['archetype_posts']} "
        f"posts both called useful ({a['archetype_agreement_both_high']:.3f} where both were sure, n={a['both_high_posts']})"
    )
    print("pre-filter:")
    _print_filter("shipped (rules + title model)", r["filter"])
    _print_filter("rules alone (no title model)", r["filter_without_title_model"])
    print("archetype (gold: useful posts labelled Journey/ProblemSolution/Feedback):")
    _print_archetype("model (shipped default)", r["model"])
    _print_archetype("model, kept posts only", r["model_on_kept"])
    sure, close = r["model_by_label_confidence"]["high"], r["model_by_label_confidence"]["low"]
    print(
        f"    where the labeller was sure: n={sure['n']} accuracy {sure['accuracy']:.3f}; "
        f"a close call to the labeller: n={close['n']} accuracy {close['accuracy']:.3f}"
    )
    _print_archetype("rules (the previous default)", r["rules"])
    print("  confusion of the model (rows = label, columns = predicted):")
    print("    " + " " * 16 + "".join(f"{x[:14]:>16}" for x in ARCHETYPES))
    for g in ARCHETYPES:
        print(f"    {g:<16}" + "".join(f"{r['model']['confusion'][g][p]:>16}" for p in ARCHETYPES))
    print("  model accuracy by confidence (calibration):")
    for lo, hi, n, acc in r["model"]["calibration"]:
        print(f"    {lo:.1f}-{hi:.1f}: n={n:<4} accuracy {acc:.3f}")
    print(
        f"  useful posts labelled Other by people (the model gives them the closest of three): {r['useful_other']}"
    )


if __name__ == "__main__":
    main()
