"""Draw the labelling sample from the shared corpus and split it by subreddit, once.

Why a script: the sample and the split must be reproducible and nobody's choice. Posts are
drawn uniformly within each subreddit (so link, image and title-only posts come in at their
real share), and whole subreddits are held out as the test split so that figures measured on
it say how the product does on communities it was never tuned on.

Run: python scripts/label_sample.py ../shared/corpus/reddit_top_2013 data/labels

Round 2 (more training data, the test split untouched): ``--more 2 DIR CORPUS data/labels`` draws 77
further posts of every *train* subreddit, uniformly and excluding round 1, appends them to
``sample.jsonl`` with ``"round": 2`` and writes the labellers' slices into DIR
(``slice_N.ids`` and ``slice_N.posts.jsonl``, the posts to read, shuffled across subreddits).
Round 3 (``--more 3 ...``) does the same for 57 more posts of every *test* subreddit. Round 4
draws 170 more of every train and 150 more of every test subreddit into seven mixed slices;
round 5 draws every post left (the whole corpus is then labelled) into 28 mixed slices.
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
# Later rounds: ({split: posts per subreddit}, seed, slice numbers). Round 2 doubled the train
# data; round 3 drew test posts so that the test split stays above 30% of all labels; round 4
# draws from both splits in that proportion and deals them into mixed slices, so no labeller's
# habits fall on one split only; round 5 takes the rest of the corpus.
ROUNDS = {
    2: ({"train": 77}, 2026, range(10, 15)),
    3: ({"test": 57}, 2027, range(20, 24)),
    4: ({"train": 170, "test": 150}, 2028, range(30, 37)),
    5: ({"train": 1000, "test": 1000}, 2029, range(40, 68)),  # every post not drawn yet
}
READ_FIELDS = ("id", "subreddit", "title", "selftext", "url", "domain", "is_self", "link_flair_text")


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


def more(corpus_dir: Path, out_dir: Path, labelling_dir: Path, round_no: int) -> None:
    per_split, seed, slices = ROUNDS[round_no]
    rng = random.Random(seed)
    split = json.loads((out_dir / "split.json").read_text())
    sample_path = out_dir / "sample.jsonl"
    sample = [json.loads(line) for line in sample_path.read_text().splitlines()]
    if any(row.get("round") == round_no for row in sample):
        raise SystemExit(f"round {round_no} is already drawn")
    taken = {row["id"] for row in sample}
    drawn = []
    for which, per_subreddit in per_split.items():
        for name in split[f"{which}_subreddits"]:
            with gzip.open(corpus_dir / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
                posts = [json.loads(line) for line in fh]
            fresh = [p for p in posts if p["id"] not in taken]
            drawn += [(which, p) for p in rng.sample(fresh, min(per_subreddit, len(fresh)))]
    with sample_path.open("a") as fh:
        for which, p in drawn:
            row = {"id": p["id"], "subreddit": p["subreddit"], "split": which, "round": round_no}
            fh.write(json.dumps(row) + "\n")
    rng.shuffle(drawn)
    labelling_dir.mkdir(parents=True, exist_ok=True)
    for k, number in enumerate(slices):
        part = [p for _, p in drawn[k :: len(slices)]]
        (labelling_dir / f"slice_{number}.ids").write_text("\n".join(p["id"] for p in part) + "\n")
        with (labelling_dir / f"slice_{number}.posts.jsonl").open("w", encoding="utf-8") as fh:
            for p in part:
                fh.write(json.dumps({f: p.get(f) for f in READ_FIELDS}, ensure_ascii=False) + "\n")
    counts = ", ".join(f"{sum(w == which for w, _ in drawn)} {which}" for which in per_split)
    print(f"round {round_no}: {counts} posts in {len(slices)} slices under {labelling_dir}")


if __name__ == "__main__":
    if sys.argv[1] == "--more":
        more(Path(sys.argv[4]), Path(sys.argv[5]), Path(sys.argv[3]), int(sys.argv[2]))
    else:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
