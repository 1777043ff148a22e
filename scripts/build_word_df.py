"""Build ``src/bcrao/data/word_df.json.gz``: how many ordinary Reddit posts use each word.

The product-context half of relevance (``bcrao.collection.relevance``) weighs a context's
words by their rarity (an IDF): "people" says little about what a post is about, "invoice"
says a lot. The frequencies come from the shared corpus's **train-split** subreddits only
(``data/labels/split.json``; the test split is never read), one document per post (title +
text), counted on the same tokens and stems the product uses. Stems used by fewer than
``MIN_DF`` posts are left out (the product treats them as just under that floor).

Deterministic: sorted keys, zero gzip time; the same corpus gives the same file.

Run: python scripts/build_word_df.py ../shared/corpus/reddit_top_2013
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bcrao.collection.relevance import WORD_DF_FILE, _is_content_word, stem  # noqa: E402
from bcrao.collection.text import tokenize  # noqa: E402

MIN_DF = 5
OUT = ROOT / "src" / "bcrao" / "data" / WORD_DF_FILE


def build(corpus_dir: Path) -> dict:
    split = json.loads((ROOT / "data" / "labels" / "split.json").read_text())
    df: Counter[str] = Counter()
    documents = 0
    for sub in sorted(split["train_subreddits"], key=str.lower):
        with gzip.open(corpus_dir / f"{sub}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                post = json.loads(line)
                tokens = tokenize(f"{post.get('title') or ''}\n{post.get('selftext') or ''}")
                df.update({stem(t) for t in tokens if _is_content_word(t)})
                documents += 1
    return {
        "source": "shared corpus reddit_top_2013, train-split subreddits (PDDL 1.0)",
        "documents": documents,
        "min_df": MIN_DF,
        "df": {s: n for s, n in sorted(df.items()) if n >= MIN_DF},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus_dir", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = build(args.corpus_dir)
    data = json.dumps(table, sort_keys=True, separators=(",", ":")).encode()
    args.out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(
        f"{args.out}: {table['documents']} documents, {len(table['df'])} stems, {args.out.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
