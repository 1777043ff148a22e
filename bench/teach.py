"""Learning from corrections: does a user's model get better on their own community?

For each held-out subreddit of the test split (whole communities the shipped model never saw)
with enough labelled posts, a simulated founder corrects ``--corrections`` posts (25) and the
archetype accuracy on the *rest* of that subreddit is measured with the shipped model
(before) and with the user's adapted model (after, ``bcrao.collection.adapt``). Repeated over
``--repeats`` random draws of the corrected posts; the figures are means over draws.

Two founders are simulated:

- *reviews and labels*: reads 25 posts and sets each one's archetype (agreeing with the
  machine or not): 25 label corrections;
- *fixes mistakes only*: reads the first 25 posts and corrects only those the machine got
  wrong (about a quarter of them): fewer corrections, all of them disagreements; as in the
  product, the model adapts only once there are ``adapt_after_corrections`` (10) of them.

Corrected posts are learnt from as the product reads them (title and text of the stored
post, ``adapt.stored_features``); the posts measured are classified as a run sees them.

``--dev`` runs the same simulation on the train split with models trained by
``scripts/train_model.py`` on the other grouped folds, over a grid of the adaptation's
parameters: that is where ``MARGIN`` and ``PASSES`` were chosen (needs
scikit-learn, ``pip install -e .[dev]``). The test split is only ever measured.

Run: .venv/bin/python bench/teach.py [--dev] [--repeats 20] [--corrections 25]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.labelled import ARCHETYPES, Labelled, load  # noqa: E402

from bcrao.collection import adapt  # noqa: E402
from bcrao.collection.model import ModelClassifier, PostModel, features_of, load_model  # noqa: E402
from bcrao.config import Settings  # noqa: E402

ADAPT_AFTER = Settings.model_fields["adapt_after_corrections"].default  # the product's threshold
MIN_REST = 10  # a subreddit is measured only if this many posts are left after the corrections


def archetype_items(items: Sequence[Labelled]) -> list[Labelled]:
    return [i for i in items if i.useful and i.archetype in ARCHETYPES]


def example(item: Labelled) -> adapt.Example:
    return adapt.Example(item.post.id, adapt.stored_features(item.post.title, item.post.text), item.archetype)


def accuracy(clf: ModelClassifier, items: Sequence[Labelled]) -> float:
    return sum(clf.classify(i.post, features_of(i.post)).archetype == i.archetype for i in items) / len(items)


Fitter = Callable[[PostModel, Sequence[adapt.Example]], PostModel]


def simulate(base: PostModel, items: Sequence[Labelled], *, corrections: int, repeats: int,
             fitter: Fitter, adapt_after: int = ADAPT_AFTER) -> list[dict]:  # fmt: skip
    """Per subreddit: mean accuracy on the rest before / after, for both founders."""
    shipped = ModelClassifier(base)
    out = []
    for sub in sorted({i.subreddit for i in items}, key=str.lower):
        posts = [i for i in items if i.subreddit == sub]
        if len(posts) < corrections + MIN_REST:
            continue
        before, after_all, after_fixes, n_fixes = [], [], [], []
        for seed in range(repeats):
            order = list(posts)
            random.Random(f"{sub}/{seed}").shuffle(order)
            read, rest = order[:corrections], order[corrections:]
            before.append(accuracy(shipped, rest))
            after_all.append(accuracy(ModelClassifier(fitter(base, [example(i) for i in read])), rest))
            wrong = [i for i in read if shipped.classify(i.post).archetype != i.archetype]
            n_fixes.append(len(wrong))
            # The product adapts only past its threshold; below it the user keeps the shipped model.
            fixed = fitter(base, [example(i) for i in wrong]) if len(wrong) >= adapt_after else base
            after_fixes.append(accuracy(ModelClassifier(fixed), rest))
        out.append(
            {
                "subreddit": sub,
                "posts": len(posts),
                "rest": len(posts) - corrections,
                "before": statistics.mean(before),
                "after": statistics.mean(after_all),
                "fixes": statistics.mean(n_fixes),
                "after_fixes": statistics.mean(after_fixes),
            }
        )
    return out


def report(rows: list[dict], title: str) -> tuple[float, float, float]:
    print(title)
    print(f"  {'subreddit':<18} {'posts':>5} {'rest':>5}   before  labels 25  fixes (n)")
    for r in rows:
        print(
            f"  r/{r['subreddit']:<16} {r['posts']:>5} {r['rest']:>5}   {r['before']:.3f}   {r['after']:.3f}"
            f"      {r['after_fixes']:.3f} ({r['fixes']:.1f})"
        )
    weight = sum(r["rest"] for r in rows)
    b, a, f = (sum(r[k] * r["rest"] for r in rows) / weight for k in ("before", "after", "after_fixes"))
    print(f"  {'all (weighted by rest)':<30} {b:.3f}   {a:.3f}      {f:.3f}")
    return b, a, f


def build_times(base: PostModel) -> None:
    items = archetype_items(load("train"))
    for n in (25, 100, 300, 1000):
        examples = [example(i) for i in items[:n]]
        start = time.perf_counter()
        adapt.fit(base, examples)
        print(f"  fit on {n:>4} corrections: {1000 * (time.perf_counter() - start):.0f} ms")


def fold_models() -> list[tuple[PostModel, list[Labelled]]]:
    """(model trained on the other folds, held-out fold's items), as training chose on dev."""
    from scripts.train_model import FOLDS, _features, _fit, _folds

    items = archetype_items(load("train"))
    folds = _folds(items)
    params = load_model().about["params"]["archetype"]
    out = []
    for k in range(FOLDS):
        train = [i for i, f in zip(items, folds, strict=True) if f != k]
        held = [i for i, f in zip(items, folds, strict=True) if f == k]
        clf, names = _fit(_features(train), [i.archetype for i in train], C=params["C"],
                          class_weight=params["class_weight"])  # fmt: skip
        weights = {n: tuple(float(v) for v in clf.coef_[:, j]) for j, n in enumerate(names)}
        shipped = load_model()
        model = PostModel(
            archetypes=adapt._Archetypes(
                classes=tuple(str(c) for c in clf.classes_),
                bias=tuple(float(b) for b in clf.intercept_),
                weights=weights,
            ),
            useful=shipped.useful,
            about={},
        )
        out.append((model, held))
    return out


def dev(corrections: int, repeats: int) -> None:
    folds = fold_models()
    grid = [(m, p) for m in (1.0, 2.0, 4.0, 6.0, 8.0, 12.0) for p in (1, 4)]
    print(f"dev (train split, grouped folds), {corrections} corrections, {repeats} draws:")
    for margin, passes in grid:

        def fitter(base, examples, margin=margin, passes=passes):
            return adapt.fit(base, examples, margin=margin, passes=passes)

        rows = [r for model, held in folds for r in simulate(model, held, corrections=corrections,
                                                            repeats=repeats, fitter=fitter)]  # fmt: skip
        weight = sum(r["rest"] for r in rows)
        b, a, f = (sum(r[k] * r["rest"] for r in rows) / weight for k in ("before", "after", "after_fixes"))
        print(f"  margin={margin:<4} passes={passes}: before {b:.3f}  labels {a:.3f}  "
              f"fixes {f:.3f}  ({len(rows)} subreddits)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="choose parameters on the train split's folds")
    parser.add_argument("--corrections", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    if args.dev:
        dev(args.corrections, args.repeats)
        return
    base = load_model()
    rows = simulate(
        base,
        archetype_items(load("test")),
        corrections=args.corrections,
        repeats=args.repeats,
        fitter=lambda b, ex: adapt.fit(b, ex),
    )
    report(
        rows,
        f"test split: archetype accuracy on the rest of each subreddit, {args.corrections} corrections, "
        f"mean of {args.repeats} draws (margin {adapt.MARGIN}, {adapt.PASSES} passes)",
    )
    print("building a user's model (pure Python):")
    build_times(base)


if __name__ == "__main__":
    main()
