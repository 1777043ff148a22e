"""Gather the labellers' files into ``data/labels/`` with the posts they labelled.

One-off, kept for provenance: ``label_sample.py`` drew the sample, labellers wrote one JSONL
file each (``<slice>.labels.jsonl``, one object per post: id, useful, archetype,
confidence), and this script checks them and writes

- ``labels.jsonl``: the primary label of every sampled post, with subreddit, split and labeller;
- ``second_labels.jsonl``: the independent second labels of the agreement sample;
- ``posts.jsonl.gz``: the labelled posts themselves, as the corpus holds them (PDDL), so
  training and the quality report need nothing outside the repository.

Run: python scripts/collect_labels.py ../shared/corpus/reddit_top_2013 /path/to/labelling data/labels

Round 2 (``label_sample.py --more``): ``--round 2`` adds the labels of slices 10-14 to the
ones already in ``labels.jsonl`` (round 1's labelling directory is not needed again) and
rewrites ``posts.jsonl.gz`` with every sampled post.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

VALUES = {
    "useful": {"yes", "no"},
    "archetype": {"Journey", "ProblemSolution", "Feedback", "Other"},
    "confidence": {"high", "low"},
}
PRIMARY = {f"slice_{k}": f"annotator-{k}" for k in range(1, 8)}
SECOND = {"overlap": "annotator-8"}
# The end of slice 5 was also given to a ninth labeller (in reverse order) when its first
# labeller fell behind; a post labelled by both keeps the slice's own labeller's label.
FALLBACK = {"slice_5": ("slice_5b", "annotator-9")}
ROUND_2 = {f"slice_{k}": f"annotator-{k}" for k in range(10, 15)}


def _read(path: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            for key, allowed in VALUES.items():
                if row[key] not in allowed:
                    raise SystemExit(f"{path}: {row['id']}: {key}={row[key]!r}")
            out[row["id"]] = row
    return out


def main(
    corpus_dir: Path, labelling_dir: Path, out_dir: Path, allow_missing: bool = False, round_2: bool = False
) -> None:
    sample = [json.loads(line) for line in (out_dir / "sample.jsonl").read_text().splitlines()]
    by_id = {row["id"]: row for row in sample}
    posts: dict[str, dict] = {}
    for f in sorted(corpus_dir.glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                post = json.loads(line)
                if post["id"] in by_id:
                    posts[post["id"]] = post

    def gather(files: dict[str, str], name: str, keep: list[dict] | None = None) -> None:
        rows = list(keep or [])
        for slice_name, labeller in files.items():
            ids = (labelling_dir / f"{slice_name}.ids").read_text().split()
            labels = {
                i: {**row, "labeller": labeller}
                for i, row in _read(labelling_dir / f"{slice_name}.labels.jsonl").items()
            }
            if slice_name in FALLBACK:
                other, other_labeller = FALLBACK[slice_name]
                path = labelling_dir / f"{other}.labels.jsonl"
                extra = _read(path) if path.exists() else {}
                for i, row in extra.items():
                    labels.setdefault(i, {**row, "labeller": other_labeller})
            missing = [i for i in ids if i not in labels]
            if missing and not allow_missing:
                raise SystemExit(f"{slice_name}: {len(missing)} posts unlabelled, e.g. {missing[:3]}")
            for post_id in (i for i in ids if i in labels):
                meta, label = by_id[post_id], labels[post_id]
                rows.append(
                    {
                        "id": post_id,
                        "subreddit": meta["subreddit"],
                        "split": meta["split"],
                        "useful": label["useful"],
                        "archetype": label["archetype"],
                        "confidence": label["confidence"],
                        "labeller": label["labeller"],
                    }
                )
        rows.sort(key=lambda r: (r["subreddit"].lower(), r["id"]))
        with (out_dir / name).open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
        print(f"{name}: {len(rows)} labels")

    if round_2:
        first = [json.loads(line) for line in (out_dir / "labels.jsonl").read_text().splitlines()]
        gather(ROUND_2, "labels.jsonl", keep=[r for r in first if by_id[r["id"]].get("round", 1) == 1])
    else:
        gather(PRIMARY, "labels.jsonl")
        gather(SECOND, "second_labels.jsonl")
    ordered = sorted(posts.values(), key=lambda p: (p["subreddit"].lower(), p["id"]))
    with gzip.GzipFile(out_dir / "posts.jsonl.gz", "wb", mtime=0) as gz:
        gz.write("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in ordered).encode())
    print(f"posts.jsonl.gz: {len(ordered)} posts")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--") and a != "2"]
    main(
        Path(args[0]),
        Path(args[1]),
        Path(args[2]),
        allow_missing="--allow-missing" in sys.argv,
        round_2="--round" in sys.argv,
    )
