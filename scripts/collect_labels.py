"""Gather the labellers' files into ``data/labels/`` with the posts they labelled.

One-off, kept for provenance: ``label_sample.py`` drew the sample, labellers wrote one JSONL
file each (``<slice>.labels.jsonl``, one object per post: id, useful, archetype,
confidence), and this script checks them and writes

- ``labels.jsonl``: the primary label of every sampled post, with subreddit, split and labeller;
- ``second_labels.jsonl``: the independent second labels of the agreement sample;
- ``posts.jsonl.gz``: the labelled posts themselves, as the corpus holds them (PDDL), so
  training and the quality report need nothing outside the repository.

Run: python scripts/collect_labels.py ../shared/corpus/reddit_top_2013 /path/to/labelling data/labels

Later rounds (``label_sample.py --more N``): ``--round N`` adds that round's labels (round 2:
slices 10-14; round 3: slices 20-23, and ``overlap3`` labelled blind a second time; rounds 4
and 5 likewise) to the ones already in ``labels.jsonl``/``second_labels.jsonl`` (earlier
labelling directories are not needed again) and rewrites ``posts.jsonl.gz`` with every
sampled post. With ``--allow-missing`` a slice may end early (its labelled part is a prefix
of a shuffled slice, so still a uniform sample): the round's posts nobody labelled leave
``sample.jsonl``.
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
# Later rounds: primary slices, and the blind second labels of part of them (agreement).
LATER_ROUNDS = {
    2: ({f"slice_{k}": f"annotator-{k}" for k in range(10, 15)}, {}),
    3: ({f"slice_{k}": f"annotator-{k}" for k in range(20, 24)}, {"overlap3": "annotator-24"}),
    4: ({f"slice_{k}": f"annotator-{k}" for k in range(30, 37)}, {"overlap4": "annotator-37"}),
    5: ({f"slice_{k}": f"annotator-{k}" for k in range(40, 68)}, {"overlap5": "annotator-68"}),
}


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


def _slice_labels(labelling_dir: Path, slice_name: str, labeller: str) -> dict[str, dict]:
    labels = {
        i: {**row, "labeller": labeller}
        for i, row in _read(labelling_dir / f"{slice_name}.labels.jsonl").items()
    }
    if slice_name in FALLBACK:
        other, other_labeller = FALLBACK[slice_name]
        path = labelling_dir / f"{other}.labels.jsonl"
        for i, row in (_read(path) if path.exists() else {}).items():
            labels.setdefault(i, {**row, "labeller": other_labeller})
    return labels


def _gather(
    labelling_dir: Path,
    by_id: dict[str, dict],
    files: dict[str, str],
    out: Path,
    *,
    keep: list[dict] | None = None,
    allow_missing: bool = False,
) -> None:
    rows = list(keep or [])
    for slice_name, labeller in files.items():
        ids = (labelling_dir / f"{slice_name}.ids").read_text().split()
        labels = _slice_labels(labelling_dir, slice_name, labeller)
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
    with out.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    print(f"{out.name}: {len(rows)} labels")


def _write_posts(corpus_dir: Path, by_id: dict[str, dict], out: Path) -> None:
    posts: dict[str, dict] = {}
    for f in sorted(corpus_dir.glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                post = json.loads(line)
                if post["id"] in by_id:
                    posts[post["id"]] = post
    ordered = sorted(posts.values(), key=lambda p: (p["subreddit"].lower(), p["id"]))
    with gzip.GzipFile(out, "wb", mtime=0) as gz:
        gz.write("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in ordered).encode())
    print(f"{out.name}: {len(ordered)} posts")


def main(
    corpus_dir: Path, labelling_dir: Path, out_dir: Path, allow_missing: bool = False, round_no: int = 1
) -> None:
    sample = [json.loads(line) for line in (out_dir / "sample.jsonl").read_text().splitlines()]
    by_id = {row["id"]: row for row in sample}
    if round_no == 1:
        jobs = [(PRIMARY, "labels.jsonl"), (SECOND, "second_labels.jsonl")]
    else:
        primary, second = LATER_ROUNDS[round_no]
        jobs = [
            (files, name)
            for files, name in ((primary, "labels.jsonl"), (second, "second_labels.jsonl"))
            if files
        ]
    for files, name in jobs:
        keep = None
        if round_no > 1:  # the earlier rounds' labels stay as they are
            earlier = [json.loads(line) for line in (out_dir / name).read_text().splitlines()]
            keep = [r for r in earlier if by_id[r["id"]].get("round", 1) < round_no]
        _gather(labelling_dir, by_id, files, out_dir / name, keep=keep, allow_missing=allow_missing)
    if allow_missing and round_no > 1:
        labelled = {json.loads(line)["id"] for line in (out_dir / "labels.jsonl").read_text().splitlines()}
        sample = [r for r in sample if r.get("round", 1) != round_no or r["id"] in labelled]
        by_id = {row["id"]: row for row in sample}
        with (out_dir / "sample.jsonl").open("w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in sample)
        print(f"sample.jsonl: {len(sample)} posts (the round's unlabelled posts left it)")
    _write_posts(corpus_dir, by_id, out_dir / "posts.jsonl.gz")


if __name__ == "__main__":
    argv = sys.argv[1:]
    round_no = int(argv[argv.index("--round") + 1]) if "--round" in argv else 1
    args = [a for a in argv if not a.startswith("--") and a != str(round_no)]
    main(
        Path(args[0]),
        Path(args[1]),
        Path(args[2]),
        allow_missing="--allow-missing" in argv,
        round_no=round_no,
    )
