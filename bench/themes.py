"""Themes benchmark: quality on real posts of the corpus, and speed/memory at 100,000 posts.

Quality, per subreddit of ``../shared/corpus`` (each subreddit is one "campaign"): the share
of posts assigned to a theme (target ≥ 80%), the coherence of each theme's top 8 terms
(mean NPMI over that subreddit's posts) next to a baseline of random term sets drawn from the
same themes' vocabulary, and a sample of labels with their archetype mix, pain and 3-5
quotes a reader can judge; written to ``bench/themes.md``. Each post is labelled as the
product labels it before theming: its archetype from the shipped offline model
(``ModelClassifier``) and its success score from ``SubredditScorer`` against its
subreddit's posts. The corpus has no comments, so every quote here is from a post. Scale: the corpus repeated to ``--scale`` posts, themed on one core
(BLAS threads pinned to 1), wall time and peak RSS (target ≤ 60 s, ≤ 1.5 GB).

    .venv/bin/python bench/themes.py [--scale 100000] [--subreddits 10]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as the target says (before numpy loads)

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from bcrao.collection.model import ModelClassifier  # noqa: E402
from bcrao.collection.scoring import SubredditScorer  # noqa: E402
from bcrao.sources.normalize import from_reddit_json  # noqa: E402
from bcrao.themes.engine import ThemeDoc, build_themes, doc_grams, npmi  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "reddit_top_2013"
REPORT = Path(__file__).with_name("themes.md")
SAMPLED = ("Accounting", "Frugal", "RealEstate")  # whose themes are printed with quotes
CLASSIFIER = ModelClassifier()


def load(name: str) -> list[ThemeDoc]:
    """A subreddit's posts, labelled like kept posts: archetype (the shipped model) and
    success score (against the subreddit's own posts)."""
    with gzip.open(CORPUS / f"{name}.jsonl.gz", "rt") as fh:
        posts = [from_reddit_json(json.loads(line)) for line in fh]
    scorer = SubredditScorer(posts)
    return [
        ThemeDoc(
            post_id=uuid.uuid5(uuid.NAMESPACE_URL, p.id),
            title=p.title,
            text=p.text,
            archetype=CLASSIFIER.classify(p).archetype,
            success_score=scorer.score(p)[0],
            upvotes=p.upvotes,
            comment_count=p.comment_count,
            created=p.created_utc,
            reddit_url=p.permalink,
        )
        for p in posts
    ]


def mix(by_archetype: dict[str, int]) -> str:
    total = sum(by_archetype.values()) or 1
    return ", ".join(f"{a} {n / total:.0%}" for a, n in by_archetype.items() if n)


def quality(names: list[str]) -> tuple[list[str], list[str], dict[str, float]]:
    rows, samples = [], []
    quotes = {"themes": 0, "quotes": 0, "under_3": 0, "from_comments": 0, "pain_is_largest": 0}
    rng = random.Random(0)
    for name in names:
        docs = load(name)
        started = time.perf_counter()
        result = build_themes(docs)
        seconds = time.perf_counter() - started
        grams = [doc_grams(d) for d in docs]
        scores = [npmi(t["terms"][:8], grams) for t in result.themes]
        vocabulary = sorted({term for t in result.themes for term in t["terms"]})
        baseline = [npmi(rng.sample(vocabulary, min(8, len(vocabulary))), grams) for _ in result.themes]
        assigned = 1 - result.unassigned / result.total_posts
        largest = max(t["share"] for t in result.themes)
        problems = sum(d.archetype == "ProblemSolution" for d in docs) / len(docs)
        # Pain counts problem posts and negative sentences: how often is it just the biggest theme?
        quotes["pain_is_largest"] += max(result.themes, key=lambda t: t["pain_score"])["id"] == 1
        for theme in result.themes:
            quotes["themes"] += 1
            quotes["quotes"] += len(theme["quotes"])
            quotes["under_3"] += len(theme["quotes"]) < 3
            quotes["from_comments"] += sum(q["comment_id"] is not None for q in theme["quotes"])
        rows.append(
            f"| r/{name} | {result.total_posts:,} | {len(result.themes)} | {assigned:.1%} | {largest:.0%} | "
            f"{sum(scores) / len(scores):.3f} | {sum(baseline) / len(baseline):.3f} | {problems:.0%} | "
            f"{min(len(t['quotes']) for t in result.themes)}-{max(len(t['quotes']) for t in result.themes)} | "
            f"{seconds:.1f} s |"
        )
        print(rows[-1], flush=True)
        if name in SAMPLED:
            pains = sorted(result.themes, key=lambda t: (-t["pain_score"], t["id"]))[:3]
            samples.append(f"\n### r/{name}\n")
            samples.append(
                "Pain points: "
                + "; ".join(f"**{t['label']}** {t['pain_score']}" for t in pains)
                + f". Archetypes over the subreddit: {mix(_archetypes(docs))}.\n"
            )
            for theme in result.themes[:5]:
                samples.append(
                    f"- **{theme['label']}** — {theme['size']} posts, {theme['direction']}, pain "
                    f"{theme['pain_score']}, avg success {theme['avg_success_score']}; "
                    f"{mix(theme['by_archetype'])}; terms: {', '.join(theme['terms'])}"
                )
                for quote in theme["quotes"]:
                    where = "comment" if quote["comment_id"] else "post"
                    samples.append(
                        f"  - “{quote['text']}” ({where}, ↑{quote['upvotes']}, {quote['reddit_url']})"
                    )
    return rows, samples, quotes


def _archetypes(docs: list[ThemeDoc]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in docs:
        counts[d.archetype] = counts.get(d.archetype, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def scale(count: int) -> str:
    names = sorted(p.name.removesuffix(".jsonl.gz") for p in CORPUS.glob("*.jsonl.gz"))
    base = [d for name in names for d in load(name)]
    docs = []
    for n in range(count):
        d = base[n % len(base)]
        docs.append(
            ThemeDoc(uuid.UUID(int=n + 1), d.title, d.text, d.archetype, d.success_score, d.upvotes,
                     d.comment_count, d.created, d.reddit_url)
        )  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    cpu = time.process_time()
    result = build_themes(docs)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = (
        f"{count:,} posts ({len(base):,} distinct real posts, repeated): {len(result.themes)} themes, "
        f"{1 - result.unassigned / result.total_posts:.1%} assigned, wall {wall:.1f} s, CPU {cpu:.1f} s, "
        f"peak RSS {peak:.0f} MB (the posts alone: {before:.0f} MB)"
    )
    print(line, flush=True)
    return line


async def api_latency(posts: int = 5000, calls: int = 200) -> str:
    """``GET .../themes`` once computed: the service call a request makes, fresh session each."""
    import asyncio
    import statistics
    import tempfile

    from bcrao.auth.models import User
    from bcrao.campaigns.models import Campaign
    from bcrao.collection import store
    from bcrao.config import Settings
    from bcrao.db import make_engine, make_sessionmaker, session_scope
    from bcrao.migrate import upgrade
    from bcrao.themes import compute, service

    names = sorted(p.name.removesuffix(".jsonl.gz") for p in CORPUS.glob("*.jsonl.gz"))
    docs = [d for name in names[:8] for d in load(name)][:posts]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/themes.db"
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        maker = make_sessionmaker(engine)
        settings = Settings(database_url=url, secret_key="x" * 40, data_dir=Path(tmp))
        async with session_scope(maker) as s:
            user = User(email="bench@example.com", password_hash="x")
            s.add(user)
            await s.flush()
            campaign = Campaign(user_id=user.id, name="bench", keywords=["x"], target_subreddits=names[:8])
            s.add(campaign)
            await s.flush()
            rows = [
                {
                    "campaign_id": campaign.id,
                    "user_id": user.id,
                    "run_id": None,
                    "subreddit": "x",
                    "subreddit_key": "x",
                    "reddit_post_id": f"p{i}",
                    "reddit_url": d.reddit_url,
                    "author": None,
                    "title": d.title,
                    "raw_text": d.text,
                    "upvotes": d.upvotes,
                    "comment_count": d.comment_count,
                    "upvote_ratio": None,
                    "reddit_created_at": d.created,
                    "archetype": d.archetype,
                    "relevance_score": 1.0,
                    "success_score": d.success_score,
                    "score_breakdown": {},
                    "is_ai_processed": False,
                    "classifier": "model",
                }
                for i, d in enumerate(docs)
            ]
            await store.insert_posts(s, campaign_id=campaign.id, run_id=uuid.uuid4(), rows=rows)
        started = time.perf_counter()
        assert await compute.compute_themes(maker, campaign.id) == "ready"
        computed = time.perf_counter() - started
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            async with maker() as s:
                body = await service.get_themes(
                    s, settings=settings, sessionmaker=maker, campaign_id=campaign.id
                )
            times.append((time.perf_counter() - t0) * 1000)
            assert body.status == "ready"
        await engine.dispose()
    times.sort()
    line = (
        f"GET themes once computed ({len(docs):,} posts, SQLite, {calls} calls): p50 {statistics.median(times):.1f} ms,"
        f" p95 {times[int(calls * 0.95) - 1]:.1f} ms (target p95 <= 30 ms); computing them took {computed:.1f} s"
    )
    print(line, flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--subreddits", type=int, default=12)
    args = parser.parse_args()
    names = sorted(p.name.removesuffix(".jsonl.gz") for p in CORPUS.glob("*.jsonl.gz"))
    names = [n for i, n in enumerate(names) if i % max(1, len(names) // args.subreddits) == 0]
    names = sorted(set(names[: args.subreddits]) | set(SAMPLED))
    header = [
        f"# Themes on real posts ({datetime.now(UTC).date()}, `bench/themes.py`)",
        "",
        f"Python {platform.python_version()}, one BLAS thread. Each subreddit of the corpus is one campaign;",
        "coherence is the mean NPMI of each theme's top 8 terms over that subreddit's posts (1 = always",
        "together, 0 = independent), next to random 8-term sets from the same themes' terms. Posts are",
        "labelled before theming as the product labels them: archetype by the shipped offline model",
        "(`ModelClassifier`), success score by `SubredditScorer` against the subreddit's posts.",
        "",
        "| subreddit | posts | themes | assigned (≥ 80%) | largest theme | NPMI | NPMI, random terms "
        "| ProblemSolution posts | quotes per theme | time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows, samples, quotes = quality(names)
    quote_line = (
        f"Quotes: {quotes['quotes']:,} over {quotes['themes']} themes "
        f"({quotes['quotes'] / quotes['themes']:.2f} a theme), {quotes['under_3']} themes with fewer than 3, "
        f"{quotes['from_comments']} from comments: the corpus has no comments (its posts carry only "
        "`num_comments`), so every quote here is a sentence of a post's title or text. Quotes cut from "
        "comments are covered by `tests/themes/test_quotes_api.py` and `tests/themes/test_engine.py`.\n\n"
        f"Pain: the most painful theme is the largest one in {quotes['pain_is_largest']} of {len(names)} "
        "subreddits: the score counts problem posts and negative sentences (not their share), so size "
        "weighs in, then engagement (1 + the mean log of upvotes and comments) multiplies it."
    )
    print(quote_line, flush=True)
    line = scale(args.scale)
    import asyncio

    latency = asyncio.run(api_latency())
    REPORT.write_text(
        "\n".join(
            [
                *header,
                *rows,
                "",
                quote_line,
                "",
                "## Scale",
                "",
                line,
                "",
                latency,
                "",
                "## Theme labels and quotes",
                *samples,
            ]
        )
        + "\n"
    )
    print(f"written: {REPORT}")


if __name__ == "__main__":
    main()
