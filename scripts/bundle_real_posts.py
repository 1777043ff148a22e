"""Bundle real Reddit posts into the offline sample source: src/bcrao/data/real_posts.json.gz.

Why: the templated sample corpus (``gen_sample_corpus.py``) keeps tests exact, but a founder's
first look must be at the product's real quality. These are real posts of real communities,
taken from ``../shared/corpus/reddit_top_2013`` (the public repository
umbrae/reddit-top-2.5-million, PDDL 1.0: free to copy and redistribute; authors removed by
that repository), under their real subreddit names and permalinks, with their real dates
(2008-2013).

Deterministic: a fixed seed picks ``PER_SUBREDDIT`` posts of each subreddit (so link and
title-only posts come in at their real share), stored in Reddit's t3 ``data`` shape with
sorted keys and gzip ``mtime=0``.

Usage: python scripts/bundle_real_posts.py [corpus-dir] [output-path]
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "reddit_top_2013"
OUTPUT = ROOT / "src" / "bcrao" / "data" / "real_posts.json.gz"
SEED = 20261202
PER_SUBREDDIT = 400
# Communities where freelancers and small businesses talk about money, clients and tools:
# the demo campaign's research question (bcrao.demo).
SUBREDDITS = ("Accounting", "forhire", "personalfinance", "Frugal", "jobs")
KEPT_FIELDS = (
    "id",
    "subreddit",
    "title",
    "selftext",
    "author",
    "score",
    "num_comments",
    "upvote_ratio",
    "created_utc",
    "permalink",
    "url",
    "over_18",
    "stickied",
    "distinguished",
    "link_flair_text",
    "is_self",
    "domain",
)
CREDIT = (
    "Real posts from umbrae/reddit-top-2.5-million (all-time top posts as of August 2013), "
    "Open Data Commons PDDL 1.0; authors removed by that repository."
)


def build(corpus: Path = CORPUS) -> bytes:
    rng = Random(SEED)
    subreddits: dict[str, list[dict]] = {}
    for name in SUBREDDITS:
        with gzip.open(corpus / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        rows.sort(key=lambda r: r["id"])
        chosen = rng.sample(rows, min(PER_SUBREDDIT, len(rows)))
        chosen.sort(key=lambda r: (-r["created_utc"], r["id"]))
        subreddits[name] = [
            {**{k: row.get(k) for k in KEPT_FIELDS}, "name": f"t3_{row['id']}", "ups": row.get("score")}
            for row in chosen
        ]
    document = {"format": 1, "credit": CREDIT, "seed": SEED, "subreddits": subreddits}
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else OUTPUT
    data = build(corpus)
    output.write_bytes(data)
    print(f"wrote {output} ({len(data) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
