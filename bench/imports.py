"""Import a large archive-shaped NDJSON file through the real server; report rows/s and peak RSS.

Generates ``--gb`` GB of flat submission records (the public Reddit archives' shape, ~60
keys a line, padded like the real dumps) over ``--subreddits`` subreddits, of which the
campaign targets two; starts ``bcrao serve`` (SQLite, local executor) on a free loopback
port, uploads the file as a streamed multipart request and waits for the run. Peak RSS is
the server process's ``VmHWM``, read before and after, so what the file's size costs in
memory shows directly.

    .venv/bin/python bench/imports.py            # 1 GB
    .venv/bin/python bench/imports.py --gb 0.05  # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import proc_kib  # noqa: E402
from tests.system.processes import running_api  # noqa: E402

from bcrao.config import Settings  # noqa: E402

TARGETS = ["SaaS", "startups"]
WORDS = [
    "churn",
    "pricing",
    "invoice",
    "customers",
    "onboarding",
    "users",
    "founder",
    "launch",
    "growth",
    "marketing",
    "feedback",
    "subscription",
    "billing",
    "revenue",
    "agency",
    "client",
    "trial",
    "retention",
    "product",
    "support",
]


def record(i: int, sub: str, rng: random.Random) -> dict:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90)))
    return {
        "id": f"b{i:x}",
        "name": f"t3_b{i:x}",
        "subreddit": sub,
        "subreddit_id": "t5_abc",
        "subreddit_name_prefixed": f"r/{sub}",
        "title": f"I lost {rng.randint(2, 40)} customers to churn: what would you change? #{i}",
        "selftext": f"We run a small tool for agencies and I am trying to understand why. {body}",
        "author": f"user{rng.randint(1, 50_000)}",
        "author_fullname": f"t2_{rng.randint(1, 10**9):x}",
        "score": rng.randint(0, 500),
        "ups": rng.randint(0, 500),
        "downs": 0,
        "num_comments": rng.randint(0, 80),
        "upvote_ratio": round(rng.random(), 2),
        "created_utc": 1_600_000_000 + i * 37,
        "retrieved_on": 1_700_000_000,
        "permalink": f"/r/{sub}/comments/b{i:x}/post/",
        "url": f"https://www.reddit.com/r/{sub}/comments/b{i:x}/post/",
        "domain": f"self.{sub}",
        "is_self": True,
        "over_18": False,
        "stickied": False,
        "locked": False,
        "spoiler": False,
        "gilded": 0,
        "gildings": {},
        "all_awardings": [],
        "awarders": [],
        "treatment_tags": [],
        "link_flair_richtext": [],
        "author_flair_richtext": [],
        "media_embed": {},
        "secure_media_embed": {},
        "thumbnail": "self",
        "whitelist_status": "all_ads",
        "wls": 6,
        "pwls": 6,
        "contest_mode": False,
        "send_replies": True,
        "is_video": False,
        "is_original_content": False,
        "is_reddit_media_domain": False,
        "is_meta": False,
        "is_crosspostable": True,
        "no_follow": False,
        "pinned": False,
        "archived": False,
        "can_gild": True,
        "parent_whitelist_status": "all_ads",
        "suggested_sort": None,
        "total_awards_received": 0,
        "link_flair_text": None,
        "distinguished": None,
    }


def generate(path: Path, gigabytes: float, subreddits: int) -> int:
    names = TARGETS + [f"other{i}" for i in range(subreddits - len(TARGETS))]
    rng = random.Random(7)
    limit = int(gigabytes * 1024**3)
    written = lines = 0
    with path.open("wb") as out:
        while written < limit:
            line = json.dumps(record(lines, names[lines % len(names)], rng)).encode() + b"\n"
            out.write(line)
            written += len(line)
            lines += 1
    return lines


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    return proc_kib(field, pid) / 1024


class RssSampler(threading.Thread):
    """The server's resident memory every 0.2 s, peak per phase (upload, run)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.phase, self.peaks, self.done = (
            pid,
            "upload",
            {"upload": 0.0, "run": 0.0, "after": 0.0},
            False,
        )

    def run(self) -> None:
        while not self.done:
            with contextlib.suppress(OSError):
                rss = rss_mb(self.pid, "VmRSS")
                self.peaks[self.phase] = max(self.peaks[self.phase], rss)
            time.sleep(0.2)


def import_file(client: httpx.Client, pid: int, file: Path) -> dict:
    """Sign up, create the campaign, upload ``file`` and wait for the run; RSS meanwhile."""
    idle_mb = rss_mb(pid)
    token = client.post(
        "/v1/auth/signup", json={"email": "bench@example.com", "password": "bench-password"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    campaign = client.post(
        "/v1/campaigns",
        json={"name": "bench", "keywords": ["churn"], "target_subreddits": TARGETS},
        headers=headers,
    ).json()
    sampler = RssSampler(pid)
    sampler.start()
    started = time.monotonic()
    with file.open("rb") as handle:
        resp = client.post(
            f"/v1/campaigns/{campaign['id']}/imports",
            files={"file": (file.name, handle, "application/x-ndjson")},
            headers=headers,
        )
    accepted = time.monotonic() - started
    sampler.phase = "run"
    assert resp.status_code == 202, resp.text
    task = resp.json()["task_id"]
    while (run := client.get(f"/v1/collection/{task}", headers=headers).json())["status"] in (
        "queued",
        "running",
    ):
        time.sleep(0.2)
    total = time.monotonic() - started
    # What follows a run (themes over the campaign's posts) is not the import's memory.
    sampler.phase = "after"
    time.sleep(15)
    sampler.done = True
    return {"run": run, "accepted": accepted, "total": total, "idle_mb": idle_mb, "peak_mb": rss_mb(pid),
            "peaks": sampler.peaks}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--subreddits", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "RS_bench.ndjson"
        started = time.monotonic()
        lines = generate(file, args.gb, args.subreddits)
        size = file.stat().st_size
        print(f"generated {lines:,} records, {size / 1024**2:,.0f} MiB in {time.monotonic() - started:.0f} s")
        settings = Settings(
            data_dir=Path(tmp) / "data",
            secret_key="bench-secret-key-that-is-long-enough-0123456789",
            log_level="WARNING",
            comments_per_post=0,
            http_body_timeout_seconds=120,
        )
        # `bcrao serve` (SQLite, local executor), started as the tests start it.
        with running_api(settings) as server, httpx.Client(base_url=server.url, timeout=3600) as client:
            r = import_file(client, server.pid, file)
    run, accepted, total, peaks = r["run"], r["accepted"], r["total"], r["peaks"]
    print(f"upload + validation + index: {accepted:.0f} s ({lines / accepted:,.0f} records/s read)")
    print(
        f"run {run['status']}: scraped {run['scraped']:,}, filtered {run['filtered']:,}, "
        f"stored {run['stored']:,}, duplicates {run['duplicates']:,}; warnings {run['warnings']}"
    )
    print(
        f"total {total:.0f} s: {lines / total:,.0f} records/s of the file, {run['scraped'] / total:,.0f} posts/s imported"
    )
    print(
        f"server peak RSS: {r['idle_mb']:.0f} MiB idle, {r['peak_mb']:.0f} MiB after the import; sampled peaks: "
        f"{peaks['upload']:.0f} MiB while uploading and indexing, {peaks['run']:.0f} MiB in the run, "
        f"{peaks['after']:.0f} MiB in the 15 s after it (themes of the campaign's posts)"
    )


if __name__ == "__main__":
    sys.exit(main())
