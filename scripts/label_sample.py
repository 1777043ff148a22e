"""Draw the labelling sample from the shared corpus and split it by subreddit, once.

Why a script: the sample and the split must be reproducible and nobody's choice. Posts are
drawn uniformly within each subreddit (so link, image and title-only posts come in at their
real share), and whole subreddits are held out as the test split so that figures measured on
it say how the product does on communities it was never tuned on.

Run: python scripts/label_sample.py ../shared/corpus/reddit_top_2013 data/labels
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

SEED = 2013
PER_SUBREDDIT = 67
TEST_SUBREDDITS = 13  # of 39: about a third of the labelled posts


def main(corpus_dir: Path, out_dir: Path) -> None:
    rng = random.Random(SEED)
    files = sorted(corpus_dir.glob("*.jsonl.gz"), key=lambda p: p.name.lower())
    subreddits = [f.name.removesuffix(".jsonl.gz") for f in files]
    held_out = sorted(rng.sample(subreddits, TEST_SUBREDDITS), key=str.lower)
    sample = []
    for f, name in zip(files, subreddits, strict=True):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            posts = [json.loads(line) for line in fh]
        for p in rng.sample(posts, min(PER_SUBREDDIT, len(posts))):
            sample.append(
                {"id": p["id"], "subreddit": name, "split": "test" if name in held_out else "train"}
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "split.json").write_text(
        json.dumps(
            {
                "seed": SEED,
                "test_subreddits": held_out,
                "train_subreddits": [s for s in subreddits if s not in held_out],
            },
            indent=2,
        )
        + "\n"
    )
    with (out_dir / "sample.jsonl").open("w") as fh:
        for row in sample:
            fh.write(json.dumps(row) + "\n")
    print(f"{len(sample)} posts, test subreddits: {', '.join(held_out)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
