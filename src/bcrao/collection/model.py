"""The ``model`` classifier: two small logistic regressions learned from labelled real posts.

Why learned weights: every cue and threshold the team wrote by hand was tuned on text the
team wrote itself and got the archetype of real posts right about half the time. The
weights here come from posts people labelled by reading them (``data/labels/``), learned
by ``scripts/train_model.py`` with a fixed seed; the file it writes ships in the package
(``bcrao/data/post_model.json.gz``) and is all this module reads: no scikit-learn, no
network, no download at run time.

- ``archetype``: multinomial over Journey / ProblemSolution / Feedback. The confidence is
  the winning class's probability; on held-out communities a post labelled with 0.8 is right
  about four times in five (``bench/quality.md`` measures it per bucket). A post that fits
  none of the three still gets the best one, with a low confidence.
- ``useful``: would a founder want this post at all? The pre-filter asks it about link and
  very short posts, whose worth rests on what their title says.

Scoring is a sum of the weights of the features present (``bcrao.collection.features``),
so the heaviest of them are the decision's reasons.
"""

from __future__ import annotations

import gzip
import heapq
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import repeat
from typing import Any

from bcrao.collection.classify import ARCHETYPES, Classification
from bcrao.collection.features import describe, post_features
from bcrao.sources.base import NormalizedPost

MODEL_PACKAGE = "bcrao.data"
MODEL_FILE = "post_model.json.gz"
MAX_REASONS = 5


@dataclass(frozen=True, slots=True)
class _Archetypes:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class _Useful:
    bias: float
    weights: dict[str, float]
    threshold: float  # P(useful) at or above which a link or short post is kept


@dataclass(frozen=True, slots=True)
class PostModel:
    archetypes: _Archetypes
    useful: _Useful
    about: dict[str, Any]  # provenance: data, split, parameters, dev figures

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PostModel:
        arch, useful = doc["archetype"], doc["useful"]
        return cls(
            archetypes=_Archetypes(
                classes=tuple(arch["classes"]),
                bias=tuple(arch["bias"]),
                weights={name: tuple(w) for name, w in arch["weights"].items()},
            ),
            useful=_Useful(
                bias=useful["bias"], weights=dict(useful["weights"]), threshold=useful["threshold"]
            ),
            about=doc.get("about", {}),
        )


@lru_cache(maxsize=1)
def load_model() -> PostModel:
    """The shipped model, read once per process (~0.1 s)."""
    raw = resources.files(MODEL_PACKAGE).joinpath(MODEL_FILE).read_bytes()
    return PostModel.from_document(json.loads(gzip.decompress(raw)))


def keeps(post: NormalizedPost) -> bool:
    """The shipped ``useful`` model's verdict on a link or very short post (the pre-filter's)."""
    return _shipped().keeps(post)


@lru_cache(maxsize=1)
def _shipped() -> ModelClassifier:
    return ModelClassifier()


def features_of(post: NormalizedPost) -> set[str]:
    return post_features(post.title or "", post.text or "", is_self=post.is_self, url=post.url)


class ModelClassifier:
    name = "model"

    def __init__(self, model: PostModel | None = None) -> None:
        self._model = model or load_model()
        arch = self._model.archetypes
        if set(arch.classes) != set(ARCHETYPES):
            raise ValueError(f"model classes {arch.classes} are not {ARCHETYPES}")

    def classify(self, post: NormalizedPost, features: set[str] | None = None) -> Classification:
        arch = self._model.archetypes
        feats = features if features is not None else features_of(post)
        weights = arch.weights
        present = [(f, w) for f in feats if (w := weights.get(f)) is not None]
        # Per class, the bias plus the column sum of the present features' weights.
        columns = zip(*(w for _, w in present), strict=True)
        scores = [b + sum(c) for b, c in zip(arch.bias, columns, strict=True)] if present else list(arch.bias)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        best = scores.index(top)
        confidence = exps[best] / sum(exps)
        share = 1 / (len(scores) - 1)
        # How much each feature pushed the winner above the average of the others, negated:
        # the five smallest are the five strongest pushes (ties by feature name, as before).
        pushes = heapq.nsmallest(
            MAX_REASONS, ((share * sum(w) - (1 + share) * w[best], f) for f, w in present)
        )
        reasons = [describe(f) for push, f in pushes if push < 0]
        return Classification(arch.classes[best], round(confidence, 3), reasons or ["no single strong cue"])

    def usefulness(self, post: NormalizedPost, features: set[str] | None = None) -> float:
        """P(a founder would want this post), from its title, text and shape."""
        useful = self._model.useful
        feats = features if features is not None else features_of(post)
        weights = useful.weights
        z = useful.bias + sum(map(weights.get, feats, repeat(0.0)))
        return 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0

    def keeps(self, post: NormalizedPost) -> bool:
        return self.usefulness(post) >= self._model.useful.threshold
