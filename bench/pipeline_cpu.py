"""CPU cost of the content-quality stages: pre-filter → classify (rules) → score.

Replicates the bundled corpus (fresh ids, same texts) up to ``n`` posts and runs it the way
the pipeline does: one ``PreFilter`` per run, with a campaign's keywords and product context
(each replica of the corpus is one run, so the duplicate-text rule sees realistic input),
per subreddit the top 10% of survivors by relevance are classified, and every survivor is
scored against its subreddit. Single process, no I/O inside the timed section.

Usage: python bench/pipeline_cpu.py  (prints 10k and 100k figures)
"""

from __future__ import annotations

import time
from dataclasses import replace

from bcrao.collection.classify import RulesClassifier, select_for_classification
from bcrao.collection.model import ModelClassifier
from bcrao.collection.prefilter import PreFilter
from bcrao.collection.scoring import SubredditScorer
from bcrao.sources.base import NormalizedPost
from bcrao.sources.sample import load_corpus

KEYWORDS = ["pricing", "landing page", "feedback", "churn", "onboarding", "customers"]
# A product context, so relevance does its whole work (keywords and context terms).
CONTEXT = (
    "A churn and onboarding analytics tool for SaaS founders: see why customers cancel, fix the "
    "landing page and pricing that lose them, and collect feedback from users in one place."
)


def _runs(n: int) -> list[dict[str, list[NormalizedPost]]]:
    """``n`` posts as a list of runs, each run = posts by subreddit (one corpus replica max)."""
    corpus = load_corpus()
    runs: list[dict[str, list[NormalizedPost]]] = []
    made, replica = 0, 0
    while made < n:
        run: dict[str, list[NormalizedPost]] = {}
        for sub, posts in corpus.items():
            take = posts[: n - made]
            run[sub] = [replace(p, id=f"{p.id}r{replica}") for p in take]
            made += len(take)
            if made >= n:
                break
        runs.append(run)
        replica += 1
    return runs


def run_cpu_bench(n: int, *, classify_fraction: float = 1.0, classifier=None) -> dict:
    """Time filter + classify + score over ``n`` posts; returns counts and posts/second.

    The product labels every kept post with the trained model (``classify_fraction`` 1.0);
    the filter's title model judges link and title-only posts on the way.
    """
    runs = _runs(n)
    classifier = classifier if classifier is not None else ModelClassifier()
    passed = classified = scored = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for run in runs:
        prefilter = PreFilter(KEYWORDS, context=CONTEXT)
        for posts in run.values():
            survivors = []
            for post in posts:
                decision = prefilter.evaluate(post)
                if decision.reason is None:
                    survivors.append((post, decision.relevance_score))
            for post, _ in select_for_classification(survivors, classify_fraction, key=lambda s: s[1]):
                classifier.classify(post)
                classified += 1
            scorer = SubredditScorer(posts)
            for post, _ in survivors:
                scorer.score(post)
                scored += 1
            passed += len(survivors)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "posts": n,
        "passed": passed,
        "classified": classified,
        "scored": scored,
        "seconds": round(elapsed, 4),
        "posts_per_second": round(n / elapsed) if elapsed else 0,
        # CPU time of this process: the figure that does not drop when other work shares the cores.
        "cpu_seconds": round(cpu, 4),
        "cpu_posts_per_second": round(n / cpu) if cpu else 0,
    }


def main() -> None:
    load_corpus()  # decompression and conversion are not part of the per-post cost
    for n in (10_000, 100_000):
        result = run_cpu_bench(n)
        print(
            f"{n:>7} posts, model labels every kept post: {result['posts_per_second']:>7} posts/s wall, "
            f"{result['cpu_posts_per_second']:>7} posts/s CPU "
            f"({result['seconds']} s; passed {result['passed']}, classified {result['classified']})"
        )
    rules = run_cpu_bench(10_000, classifier=RulesClassifier())
    print(
        f"  10000 posts, rules label every kept post (side by side): {rules['posts_per_second']} posts/s wall, "
        f"{rules['cpu_posts_per_second']} posts/s CPU"
    )
    model = ModelClassifier()
    posts = [p for run in _runs(10_000) for ps in run.values() for p in ps]
    started = time.process_time()
    for post in posts:
        model.classify(post)
    cpu = time.process_time() - started
    print(f"  model.classify alone: {round(len(posts) / cpu)} posts/s CPU on one core")


if __name__ == "__main__":
    main()
