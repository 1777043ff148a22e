"""A user's own model: the shipped linear model plus a small layer fitted on their corrections.

Why a layer on top and not a retrain: the shipped model was learned from 24,492 posts of 26
communities; a founder's corrections are tens to hundreds of posts of *their* communities.
Retraining on their posts alone would forget what the shipped model knows, and retraining on
both needs the training data and scikit-learn at run time. Instead the user's corrections move
the shipped weights only as far as needed to get those posts right:

- each corrected post is a (features, archetype) example, with the same features the model
  reads (``bcrao.collection.features``);
- a few passes of a multiclass passive-aggressive update (PA) over the examples, starting
  from the shipped weights: a post the current weights do not put ahead of every other class
  by ``MARGIN`` (in logits) moves its features' weights (and the class biases) towards its
  label and away from the strongest rival, by the smallest step that fixes it. Words of a
  founder's community that the shipped model never saw get weights this way, and the words
  behind the model's mistakes lose weight. The shape features and the biases every post
  shares move too, so many corrections towards one archetype also raise that archetype's
  prior for the user's other posts: on a new community that is most of the gain.

The result is an ordinary ``PostModel`` (shipped weights with the user's deltas added), so the
user's model explains itself exactly like the shipped one (its heaviest words are the reasons),
and building it is pure Python: ~O(examples x features x passes), milliseconds for hundreds of
corrections (``bench/teach.py`` measures it). ``MARGIN`` and ``PASSES`` were
chosen on the train split's grouped folds (``bench/teach.py --dev``), never on the test split.

A post the user labelled keeps that label wherever it is collected again (``UserClassifier``):
within a campaign the store never overwrites a stored post, and in another campaign of the
same user the label is looked up by its Reddit id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bcrao.collection.classify import Classification
from bcrao.collection.features import post_features
from bcrao.collection.model import ModelClassifier, PostModel, _Archetypes, features_of, load_model
from bcrao.sources.base import NormalizedPost

MARGIN = 6.0
PASSES = 4
BIAS = "\x00bias"  # the constant feature every example has (no real feature name starts with NUL)
KNOWN_REASON = "you labelled this post"


@dataclass(frozen=True, slots=True)
class Example:
    """One corrected post, as the user labelled it."""

    reddit_post_id: str
    features: frozenset[str]
    archetype: str


def stored_features(title: str, text: str) -> frozenset[str]:
    """The features of a stored post, for learning from it.

    A stored post keeps its title and text but not whether it was a link post or where the
    link pointed, so it is read as a self post (``s:self post`` / ``s:title only``); the
    words, which carry almost all of a correction's information, are exactly what a run sees.
    """
    return frozenset(post_features(title or "", text or "", is_self=True))


def fit(
    base: PostModel, examples: Sequence[Example], *, margin: float = MARGIN, passes: int = PASSES
) -> PostModel:
    """The shipped model moved towards ``examples`` (see the module docstring)."""
    arch = base.archetypes
    index = {name: k for k, name in enumerate(arch.classes)}
    n = len(arch.classes)
    weights: dict[str, list[float]] = {}  # only the features the examples touch, as edited copies

    def weight(feature: str) -> list[float]:
        w = weights.get(feature)
        if w is None:
            shipped = arch.bias if feature == BIAS else arch.weights.get(feature)
            w = weights[feature] = list(shipped) if shipped is not None else [0.0] * n
        return w

    prepared = [
        ([*sorted(ex.features), BIAS], index[ex.archetype]) for ex in examples if ex.archetype in index
    ]
    for _ in range(passes):
        moved = False
        for feats, gold in prepared:
            rows = [weight(f) for f in feats]
            scores = [sum(row[k] for row in rows) for k in range(n)]
            rival = max((k for k in range(n) if k != gold), key=lambda k: scores[k])
            loss = margin - (scores[gold] - scores[rival])
            if loss <= 0:
                continue
            # The smallest step putting gold ``margin`` ahead: x is binary, so |x|^2 = len(rows).
            step = loss / (2 * len(rows))
            for row in rows:
                row[gold] += step
                row[rival] -= step
            moved = True
        if not moved:
            break
    bias = tuple(weights.pop(BIAS, arch.bias))
    merged = dict(arch.weights)
    merged.update((f, tuple(w)) for f, w in weights.items())
    return PostModel(
        archetypes=_Archetypes(classes=arch.classes, bias=bias, weights=merged),
        useful=base.useful,
        about={**base.about, "adapted_to_corrections": len(prepared)},
    )


class UserClassifier:
    """Labels posts for one user: their own label for a post they labelled, else their model.

    ``name`` stays ``model``: it is the same offline model, moved by the user's corrections.
    """

    name = "model"

    def __init__(self, inner: ModelClassifier, known: Mapping[str, str] | None = None) -> None:
        self._inner = inner
        self._known = dict(known or {})

    def classify(self, post: NormalizedPost, features: set[str] | None = None) -> Classification:
        label = self._known.get(post.id)
        if label is not None:
            return Classification(label, 1.0, [KNOWN_REASON])
        return self._inner.classify(post, features if features is not None else features_of(post))


def for_examples(
    examples: Sequence[Example], *, adapt_after: int, base: PostModel | None = None
) -> UserClassifier:
    """The user's classifier: adapted once they have ``adapt_after`` corrections (0 = never)."""
    model = base or load_model()
    if adapt_after and len(examples) >= adapt_after:
        model = fit(model, examples)
    return UserClassifier(ModelClassifier(model), {ex.reddit_post_id: ex.archetype for ex in examples})
