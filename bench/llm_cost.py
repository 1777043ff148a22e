"""What the LLM classifier costs per 1,000 real posts, by posts per request.

The product's real client code (``LLMClassifier`` through the openai SDK) labels the kept
posts of the held-out test split (``data/labels/``) against the loopback fake LLM, which
reports ``usage`` with a real tokenizer when one is available: OpenAI's ``o200k_base``
(gpt-4o, gpt-4o-mini) through ``tiktoken``. tiktoken downloads its vocabulary at first use,
so it is read here from the npm package ``js-tiktoken`` instead (no run-time download):

    pip install tiktoken && (cd /tmp && npm pack js-tiktoken && tar xzf js-tiktoken-*.tgz)
    .venv/bin/python bench/llm_cost.py --ranks /tmp/package/dist/ranks/o200k_base.js

Without ``--ranks`` tokens are estimated at 4 characters each (and the table says so). The
answer side is the fake's ("cues in the title and body" per post): real models write a
similar one-sentence reason, capped by ``max_completion_tokens``. Prices are the settings'
(gpt-4o-mini on OpenRouter by default). Figures: ``bench/README.md``, "LLM cost".
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.labelled import load  # noqa: E402
from tests.fakes.llm import FakeLLM  # noqa: E402

from bcrao.collection.llm import LLMClassifier  # noqa: E402
from bcrao.collection.prefilter import PreFilter  # noqa: E402
from bcrao.config import Settings  # noqa: E402

# Chat formatting around each message (role, separators) and the reply's priming, as
# OpenAI counts them for gpt-4o-class models.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


def o200k_counter(ranks_path: Path) -> Callable[[str], int]:
    import tiktoken

    source = ranks_path.read_text()
    data = json.loads(source[source.index("{") : source.rindex("}") + 1])
    ranks: dict[bytes, int] = {}
    for line in data["bpe_ranks"].split("\n"):
        if line:
            _, offset, *tokens = line.split(" ")
            for i, token in enumerate(tokens):
                ranks[base64.b64decode(token)] = int(offset) + i
    encoding = tiktoken.Encoding(
        name="o200k_base",
        pat_str=data["pat_str"],
        mergeable_ranks=ranks,
        special_tokens=data["special_tokens"],
    )
    return lambda text: len(encoding.encode(text, disallowed_special=()))


async def cost(posts: list, batch_size: int, fake: FakeLLM, settings: Settings) -> dict:
    classifier = LLMClassifier(settings.model_copy(update={"llm_batch_size": batch_size}), max_retries=0)
    result = await classifier.classify_many(posts)
    per_thousand = 1000 / len(posts)
    return {
        "batch": batch_size,
        "requests": result.requests,
        "prompt": result.prompt_tokens * per_thousand,
        "completion": result.completion_tokens * per_thousand,
        "usd": result.estimated_cost_usd * per_thousand,
        "fallbacks": result.fallbacks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--ranks", type=Path, help="js-tiktoken's ranks/o200k_base.js (else 4 chars per token)"
    )
    parser.add_argument("--batches", default="1,4,8,16")
    args = parser.parse_args()

    prefilter = PreFilter([])  # the default pre-filter, no campaign keywords
    posts = [item.post for item in load("test") if prefilter.evaluate(item.post).reason is None]
    fake = FakeLLM(latency=0.0).start()
    tokenizer = "4 characters per token (estimate)"
    if args.ranks:
        count = o200k_counter(args.ranks)
        fake.count_tokens = count
        tokenizer = "o200k_base (tiktoken)"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp),
                classifier="llm",
                llm_api_key=fake.api_key,
                llm_base_url=fake.base_url,
                llm_concurrency=4,
            )
            rows = [asyncio.run(cost(posts, int(b), fake, settings)) for b in args.batches.split(",")]
    finally:
        fake.stop()
    overhead = TOKENS_PER_REPLY + 2 * TOKENS_PER_MESSAGE  # per request: system + user messages
    print(f"{len(posts)} kept posts of the test split; tokenizer: {tokenizer}; model {settings.llm_model} at")
    print(
        f"${settings.llm_input_cost_per_mtok}/M input, ${settings.llm_output_cost_per_mtok}/M output tokens"
    )
    print(
        f"{'posts/request':>13} {'requests':>9} {'input tok/1k posts':>19} {'output tok/1k':>14} {'$/1k posts':>11}"
    )
    for row in rows:
        prompt = row["prompt"] + overhead * row["requests"] * 1000 / len(posts)
        usd = row["usd"] + overhead * row["requests"] / len(posts) * settings.llm_input_cost_per_mtok / 1000
        print(
            f"{row['batch']:>13} {row['requests']:>9,} {prompt:>19,.0f} {row['completion']:>14,.0f} {usd:>11.4f}"
            + (f"  ({row['fallbacks']} fallbacks)" if row["fallbacks"] else "")
        )


if __name__ == "__main__":
    main()
