"""Floors under the measured quality of the shipped filter and model (bench/quality.md).

Each floor sits a few points below the figure measured on the held-out test split, so a
change that makes the product worse on real posts fails here; none is a timing.
"""

from __future__ import annotations

import gzip
import json
import time
from importlib import resources

import pytest
from bench.quality import evaluate
from scripts.labelled import load, second_labels, split_info
from scripts.train_model import build

from bcrao.collection.model import MODEL_FILE, MODEL_PACKAGE, PostModel


@pytest.fixture(scope="module")
def report() -> dict:
    return evaluate("test")


def test_the_labelled_data_is_large_stratified_and_split_by_whole_subreddits():
    labels = load()
    split = split_info()
    assert len(labels) >= 2500
    assert len({i.subreddit for i in labels}) == 39
    assert len(second_labels()) >= 250
    test_subs = {i.subreddit for i in labels if i.split == "test"}
    assert test_subs == set(split["test_subreddits"])
    assert not test_subs & {i.subreddit for i in labels if i.split == "train"}
    assert sum(i.split == "test" for i in labels) / len(labels) >= 0.30
    assert sum(not i.post.is_self for i in labels) > 300  # link posts are in the sample
    assert sum(i.post.is_self and not i.post.text.strip() for i in labels) > 10  # and title-only ones


def test_the_filter_keeps_useful_posts_and_rejects_noise(report):
    assert report["filter"]["useful_recall"] >= 0.95
    assert report["filter"]["noise_rejected"] >= 0.70


def test_the_model_labels_real_posts_better_than_the_rules(report):
    model, rules = report["model"], report["rules"]
    assert model["accuracy"] >= 0.75 and model["macro_f1"] >= 0.71
    assert model["accuracy"] >= rules["accuracy"] + 0.10
    assert min(pc["recall"] for pc in model["per_class"].values()) >= 0.55


def test_confidence_means_something(report):
    buckets = report["model"]["calibration"]
    low = [acc for lo, _, _, acc in buckets if lo < 0.6]
    top = [acc for lo, _, _, acc in buckets if lo >= 0.9]
    assert top and top[0] > max(low) + 0.2


def test_the_shipped_model_is_small_loads_fast_and_is_what_training_produces():
    raw = resources.files(MODEL_PACKAGE).joinpath(MODEL_FILE).read_bytes()
    assert len(raw) < 10_000_000
    started = time.perf_counter()
    shipped = json.loads(gzip.decompress(raw))
    PostModel.from_document(shipped)
    # The target is 1 s (~0.1 s measured, bench/quality.md); loose here: the CI cores are shared.
    assert time.perf_counter() - started < 3.0
    rebuilt = build(load("train"), shipped["about"]["params"])
    assert rebuilt["archetype"]["classes"] == shipped["archetype"]["classes"]
    assert rebuilt["useful"]["threshold"] == shipped["useful"]["threshold"]
    for part in ("archetype", "useful"):
        assert set(rebuilt[part]["weights"]) == set(shipped[part]["weights"])
    diffs = [
        abs(a - b)
        for name, ws in rebuilt["archetype"]["weights"].items()
        for a, b in zip(ws, shipped["archetype"]["weights"][name], strict=True)
    ]
    assert max(diffs) < 1e-3
