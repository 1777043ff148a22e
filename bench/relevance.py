"""Relevance to a campaign, before/after, on the held-out labelled posts (#13 item 1).

For every test-split subreddit (``data/labels/split.json``) a founder campaign is defined in
``bench/relevance_campaigns.py`` (keywords + a one-sentence product context, written before
any figure here was computed). Its posts are ranked by relevance, highest first (ties by
post id, as the API's ``sort=-relevance_score``), the old way and the new way, and the
figure is the share of **keyword-relevant** posts among the top 20.

Keyword-relevant (the judge's rule, fixed with the campaigns): the post was labelled
``useful`` by the labellers *and* its title or text mentions one of the campaign's keywords
or one of its ``topic`` words (the judge's list, never shown to the product). "Mentions"
is the product's search rule (``bcrao.posts.search.words_of``): each word of a term begins
a word of the post, the words of a term in a row ("etf" finds "ETFs", "price" finds
"pricing").

Scorings compared:
- ``old``: relevance as shipped before #13 (keywords as whole words, 2.5 of 10 points, the
  product context ignored), copied below as ``OldRelevance`` (checked against the old code);
- ``new, keywords only``: the new relevance with the campaign's product context left empty;
- ``new``: the new relevance, keywords and product context (``bcrao.collection.relevance``).

Two views: the posts the pre-filter keeps (what a founder sees: the filter is the same
before and after), and all 67 labelled posts of the subreddit (more room to rank; rejected
posts scored as a post a user keeps anyway, ``PreFilter.kept_anyway``).

Run: .venv/bin/python bench/relevance.py   (``--speed``: the old and the new pre-filter's CPU
cost and the whole CPU stage with each, side by side in one process)
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
import types
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.relevance_campaigns import CAMPAIGNS  # noqa: E402
from scripts.labelled import Labelled, load  # noqa: E402

from bcrao.collection.prefilter import PreFilter  # noqa: E402
from bcrao.collection.text import (  # noqa: E402
    QUESTION_STARTERS,
    PhraseSet,
    count_numbers,
    tokenize,
    vocab_counts,
)
from bcrao.posts.search import words_of  # noqa: E402
from bcrao.sources.base import NormalizedPost  # noqa: E402

TOP = 20
OLD_COMMIT = "003beb1"  # the last commit with the old relevance


class OldRelevance:
    """Relevance as ``PreFilter._relevance`` computed it before #13 (commit 003beb1)."""

    WEIGHTS = {
        "keywords": 2.5,
        "personal_voice": 1.5,
        "question": 1.0,
        "emotion": 1.0,
        "specifics": 1.5,
        "story": 1.0,
        "length": 0.75,
        "engagement": 0.75,
    }
    _LOG_FULL_LENGTH = math.log1p(250)
    _LOG_FULL_ENGAGEMENT = math.log1p(500)

    def __init__(self, keywords: Sequence[str]) -> None:
        phrases = {k: [" ".join(tokenize(k))] for k in keywords if k and tokenize(k)}
        self._keywords = PhraseSet(phrases) if phrases else None

    def score(self, post: NormalizedPost) -> float:
        title, body = post.title or "", (post.text or "").strip()
        title_tokens = tokenize(title)
        tokens = title_tokens + (tokenize(body) if body else [])
        if not tokens:
            return 0.0
        vocab = vocab_counts(tokens)
        keyword_weight = 0.0
        if self._keywords is not None:
            title_hits = self._keywords.find(title_tokens).total()
            keyword_weight = 2.0 * title_hits + self._keywords.find(tokens).total() - title_hits
        if "?" in title or (title_tokens and title_tokens[0] in QUESTION_STARTERS):
            question = 1.0
        elif "?" in body:
            question = 0.6
        else:
            question = 0.0
        specifics = count_numbers(tokens) + vocab["metric"]
        engagement = max(0, post.upvotes) + 2 * max(0, post.comment_count)
        scaled = {
            "keywords": 1.0 - math.exp(-keyword_weight / 3.0),
            "personal_voice": min(1.0, vocab["first_person"] / len(tokens) / 0.06),
            "question": question,
            "emotion": min(1.0, vocab["emotion"] / 3.0),
            "specifics": min(1.0, specifics / 5.0),
            "story": min(1.0, vocab["story"] / 3.0),
            "length": min(1.0, math.log1p(len(tokens)) / self._LOG_FULL_LENGTH),
            "engagement": min(1.0, math.log1p(engagement) / self._LOG_FULL_ENGAGEMENT),
        }
        signals = {name: round(self.WEIGHTS[name] * value, 3) for name, value in scaled.items()}
        return round(min(10.0, sum(signals.values())), 2)


def mentions(post: NormalizedPost, terms: Sequence[str]) -> bool:
    """The search rule: each word of a term begins a post word, a term's words in a row."""
    words = words_of(f"{post.title}\n{post.text or ''}")
    for term in terms:
        parts = words_of(term)
        if not parts:
            continue
        for i in range(len(words) - len(parts) + 1):
            if all(words[i + k].startswith(p) for k, p in enumerate(parts)):
                return True
    return False


def is_keyword_relevant(item: Labelled, campaign: dict) -> bool:
    return item.useful and mentions(item.post, [*campaign["keywords"], *campaign["topic"]])


def top(items: list[Labelled], score: Callable[[NormalizedPost], float]) -> list[Labelled]:
    ranked = sorted(items, key=lambda i: (-score(i.post), i.post.id))
    return ranked[:TOP]


def scorers(campaign: dict) -> dict[str, Callable[[NormalizedPost], float]]:
    """Scoring → (post → relevance). ``kept_anyway`` is the survivor's half of ``evaluate``:
    the same relevance as a kept post gets, with no duplicate-text state."""
    keywords = campaign["keywords"]
    new_kw = PreFilter(keywords)
    new = PreFilter(keywords, context=campaign["context"])
    return {
        "old": OldRelevance(keywords).score,
        "new, keywords only": lambda p: new_kw.kept_anyway(p).relevance_score,
        "new": lambda p: new.kept_anyway(p).relevance_score,
    }


SCORINGS = ("old", "new, keywords only", "new")


def evaluate() -> dict:
    items = load("test")
    out: dict = {"kept": {}, "all": {}}
    for sub in sorted(CAMPAIGNS, key=str.lower):
        campaign = CAMPAIGNS[sub]
        posts = [i for i in items if i.subreddit == sub]
        prefilter = PreFilter([])  # one run per subreddit; the rules do not depend on the campaign
        kept = [i for i in posts if prefilter.evaluate(i.post).reason is None]
        fns = scorers(campaign)
        for view, pool in (("kept", kept), ("all", posts)):
            row = {
                "posts": len(pool),
                "relevant": sum(is_keyword_relevant(i, campaign) for i in pool),
                "useful": sum(i.useful for i in pool),
            }
            for name in SCORINGS:
                chosen = top(pool, fns[name])
                row[name] = {
                    "top": len(chosen),
                    "relevant": sum(is_keyword_relevant(i, campaign) for i in chosen),
                    "useful": sum(i.useful for i in chosen),
                }
            out[view][sub] = row
    return out


def old_prefilter_module() -> types.ModuleType | None:
    """The pre-filter as it was before #13, from git (None outside a checkout)."""
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:src/bcrao/collection/prefilter.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("old_prefilter")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, "old_prefilter.py", "exec"), module.__dict__)
    return module


def check_old_copy() -> int:
    """``OldRelevance`` gives the scores the old pre-filter stored (if its code is at hand)."""
    module = old_prefilter_module()
    if module is None:
        return -1
    checked = 0
    for sub, campaign in CAMPAIGNS.items():
        old_filter = module.PreFilter(campaign["keywords"])
        copy = OldRelevance(campaign["keywords"])
        for item in load("test"):
            if item.subreddit == sub:
                decision = old_filter.kept_anyway(item.post)
                assert decision.relevance_score == copy.score(item.post), item.post.id
                checked += 1
    return checked


def _best(row: dict) -> int:
    """The most keyword-relevant posts a top 20 of this pool can hold."""
    return min(row["relevant"], row["old"]["top"])


def _share(rows: dict, name: str, what: str) -> str:
    hits = sum(r[name][what] for r in rows.values())
    shown = sum(r[name]["top"] for r in rows.values())
    return f"{hits}/{shown} = {hits / shown:.1%}"


def report(out: dict) -> None:
    titles = {
        "kept": "Posts the pre-filter keeps (what a founder sees)",
        "all": "All labelled posts of the subreddit (rejected ones scored as if kept anyway)",
    }
    for view, rows in out.items():
        print(f"\n{titles[view]}: keyword-relevant posts in the top {TOP} by relevance\n")
        print("| subreddit | posts | keyword-relevant | best possible | old | new, keywords only | new |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for sub, r in rows.items():
            cells = " | ".join(f"{r[n]['relevant']}/{r[n]['top']}" for n in SCORINGS)
            print(f"| {sub} | {r['posts']} | {r['relevant']} | {_best(r)}/{r['old']['top']} | {cells} |")
        total = sum(r["posts"] for r in rows.values())
        relevant = sum(r["relevant"] for r in rows.values())
        shown = sum(r["old"]["top"] for r in rows.values())
        best = sum(_best(r) for r in rows.values())
        print(
            f"| **all 13** | {total} | {relevant} ({relevant / total:.1%}) | {best}/{shown} = {best / shown:.1%} | "
            + " | ".join(f"**{_share(rows, n, 'relevant')}**" for n in SCORINGS)
            + " |"
        )
        print(
            "| useful (any topic) in the top 20 | | | | "
            + " | ".join(_share(rows, n, "useful") for n in SCORINGS)
            + " |"
        )
        better = sum(r["new"]["relevant"] > r["old"]["relevant"] for r in rows.values())
        worse = sum(r["new"]["relevant"] < r["old"]["relevant"] for r in rows.values())
        print(
            f"\nnew vs old per subreddit: {better} better, {worse} worse, {len(rows) - better - worse} equal"
        )


def speed() -> None:
    """Old and new pre-filter, then the whole CPU stage (``bench/pipeline_cpu.py``) with each,
    alternating in one process so both see the same machine load; best and median."""
    import pipeline_cpu

    module = old_prefilter_module()
    if module is None:
        sys.exit("--speed needs the git history (the old pre-filter)")
    keywords, context = pipeline_cpu.KEYWORDS, pipeline_cpu.CONTEXT
    makers = {
        "old": lambda kw, context=None: module.PreFilter(kw),
        "new": PreFilter,
    }
    posts = [p for run in pipeline_cpu._runs(10_000) for ps in run.values() for p in ps]
    alone: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(7):
        for name, make in makers.items():
            prefilter = make(keywords, context=context)
            started = time.process_time()
            for post in posts:
                prefilter.evaluate(post)
            alone[name].append((time.process_time() - started) / len(posts) * 1e6)
    stage: dict[str, list[int]] = {"old": [], "new": []}
    for _ in range(3):
        for name, make in makers.items():
            pipeline_cpu.PreFilter = make
            stage[name].append(pipeline_cpu.run_cpu_bench(10_000)["cpu_posts_per_second"])
    for name in makers:
        a, s = sorted(alone[name]), sorted(stage[name])
        print(
            f"{name}: pre-filter {a[0]:.1f} µs/post (median {a[3]:.1f}); "
            f"CPU stage, 10,000 posts: {s[-1]} posts/s CPU (median {s[1]})"
        )


def main() -> None:
    if "--speed" in sys.argv[1:]:
        speed()
        return
    checked = check_old_copy()
    if checked >= 0:
        print(f"OldRelevance matches the old pre-filter's relevance on {checked} posts")
    report(evaluate())


if __name__ == "__main__":
    main()
