"""Import a file and see the cost preview in the dashboard (real server, headless Chromium)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from .conftest import Server
from .test_dashboard import sign_up, token_of

pytestmark = pytest.mark.browser

TEXT = (
    "We run a small billing tool for agencies and churn doubled after our price change. I asked every "
    "customer who left why, and most never connected their payment provider. What would you change first?"
)


def archive(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def post(i: int) -> dict:
    return {"id": f"im{i}", "subreddit": "SaaS", "title": f"Churn after a price change, lesson {i}",
            "selftext": TEXT, "author": f"f{i}", "score": 5 + i, "num_comments": 0,
            "created_utc": 1_700_000_000 + i * 60}  # fmt: skip


def test_preview_under_the_collect_button_and_a_file_import(page, server: Server, tmp_path: Path) -> None:
    sign_up(page, server)
    api = server.client(token_of(page))
    campaign = api.post(
        "/v1/campaigns", json={"name": "Imports", "keywords": ["churn"], "target_subreddits": ["SaaS"]}
    ).json()
    page.goto(f"{server.url}/#/campaigns/{campaign['id']}")
    preview = page.get_by_test_id("collect-preview")
    preview.wait_for()
    assert "no Reddit requests" in preview.inner_text()  # the sample source is offline

    bad = archive(
        tmp_path / "bad.ndjson", [post(1), post(2), {"id": "x", "title": "no subreddit", "created_utc": 1}]
    )
    page.get_by_test_id("import-file").set_input_files(str(bad))
    alert = page.locator(".notice-slot .alert-error")
    alert.wait_for()
    assert "Line 3" in alert.inner_text() and "nothing was imported" in alert.inner_text()

    good = archive(tmp_path / "RS_good.ndjson", [post(i) for i in range(1, 8)])
    page.get_by_test_id("import-file").set_input_files(str(good))
    page.locator(".notice-slot .alert-error").wait_for(state="detached")
    deadline = time.monotonic() + 60
    while not (runs := api.get(f"/v1/campaigns/{campaign['id']}/runs").json()["runs"]) or runs[0][
        "status"
    ] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert runs[0]["source"] == "import" and runs[0]["status"] == "complete" and runs[0]["scraped"] == 7
    page.get_by_text(re.compile(r"Churn after a price change, lesson \d")).first.wait_for()
