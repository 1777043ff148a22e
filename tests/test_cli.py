"""The `bcrao` command, run in-process with its own embedded data dir."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bcrao import __version__
from bcrao.cli import app, console, err
from bcrao.config import get_settings
from bcrao.demo import DEMO_EMAIL, DEMO_PASSWORD
from bcrao.main import create_app

BCRAO = Path(sys.executable).with_name("bcrao")


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("BCRAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BCRAO_DATABASE_URL", raising=False)
    monkeypatch.setenv("BCRAO_LOG_JSON", "false")
    # Error panels and tables on one line each, whatever terminal (or none) the suite runs in:
    # the consoles are built at import, before any environment variable of a test is seen.
    for shown in (console, err):
        monkeypatch.setattr(shown, "width", 200)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    yield invoke
    get_settings.cache_clear()


def test_version_and_help(cli):
    assert cli("--version").stdout.strip() == f"bcrao {__version__}"
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("serve", "worker", "collect", "migrate", "user"):
        assert command in result.stdout
    for command in ("serve", "worker", "collect", "migrate"):
        assert cli(command, "--help").exit_code == 0


def test_migrate_then_create_a_user_with_a_prompted_password(cli):
    assert cli("migrate").exit_code == 0
    result = cli("user", "create", "Ops@Example.com", input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert "ops@example.com" in result.stdout
    again = cli("user", "create", "ops@example.com", input="s3cret-pass\ns3cret-pass\n")
    assert again.exit_code != 0
    assert "already exists" in again.output
    assert len(again.output.strip().splitlines()) <= 3  # the prompts, then one error line


def test_bad_input_is_one_clear_line_and_a_nonzero_exit(cli, monkeypatch):
    assert "invalid email" in cli("user", "create", "nope", input="s3cret-pass\ns3cret-pass\n").output
    bad_plan = cli("user", "create", "a@example.com", "--plan", "gold")
    assert bad_plan.exit_code != 0 and "unknown plan" in bad_plan.output
    monkeypatch.setenv("BCRAO_EXECUTOR", "threads")
    get_settings.cache_clear()
    result = cli("migrate")
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: invalid BCRAO_EXECUTOR")
    assert "Traceback" not in result.output


def test_worker_refuses_to_start_without_redis(cli):
    result = cli("worker")
    assert result.exit_code != 0 and "BCRAO_REDIS_URL" in result.output


def test_collect_runs_the_pipeline_and_prints_the_funnel_and_archetypes(cli):
    result = cli("collect", "-s", "r/SaaS", "-s", "startups", "-k", "churn", "--max-posts", "150")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "COMPLETE" in out
    assert "kept by the filter" in out and "rejected →" in out and "classified" in out and "stored" in out
    for label in ("Journey", "Problem / Solution", "Feedback", "Unclassified"):
        assert label in out
    assert "ProblemSolution" not in out and "too_short" not in out  # labels, not codes


def test_collect_without_a_campaign_or_subreddit_explains_what_to_give(cli):
    result = cli("collect")
    assert result.exit_code != 0 and "--campaign" in result.output
    assert "not found" in cli("collect", "--campaign", "00000000-0000-0000-0000-000000000000").output
    assert "subreddit" in cli("collect", "-s", "bad name!").output


def rows(tmp_path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(tmp_path / "data" / "bcrao.db") as db:
        return db.execute(sql, params).fetchall()


def campaign_id_in(output: str) -> str:
    match = re.search(r"#/campaigns/([0-9a-f-]{36})", output)
    assert match, output
    return match.group(1)


def test_collect_reuses_one_campaign_per_subreddit_and_keyword_set(cli, tmp_path):
    first = cli("collect", "-s", "r/SaaS", "-s", "startups", "-k", "churn", "--max-posts", "20")
    same = cli("collect", "-s", "STARTUPS", "-s", "saas", "-k", "Churn", "--max-posts", "20")
    other = cli("collect", "-s", "SaaS", "-k", "churn", "--max-posts", "20")

    assert first.exit_code == same.exit_code == other.exit_code == 0, first.output + same.output
    assert "New campaign CLI: r/SaaS, r/startups (churn)" in first.stdout
    assert "Collecting CLI: r/SaaS, r/startups (churn)" in same.stdout
    assert campaign_id_in(first.stdout) == campaign_id_in(same.stdout) != campaign_id_in(other.stdout)
    runs = rows(
        tmp_path,
        "SELECT c.name, count(r.id) FROM campaigns c JOIN collection_runs r ON r.campaign_id = c.id"
        " GROUP BY c.id ORDER BY c.name",
    )
    assert runs == [("CLI: r/SaaS (churn)", 1), ("CLI: r/SaaS, r/startups (churn)", 2)]


def test_collect_runs_as_the_demo_user_who_can_log_in_and_prints_where_to_look(cli, monkeypatch):
    monkeypatch.setenv("BCRAO_PORT", "8123")
    get_settings.cache_clear()
    result = cli("collect", "-s", "SaaS", "--max-posts", "20")
    assert result.exit_code == 0, result.output
    campaign_id = campaign_id_in(result.stdout)
    assert f"http://localhost:8123/#/campaigns/{campaign_id}" in result.stdout
    assert "log in as demo@bcrao.dev / demo-password" in result.stdout
    assert f"bcrao posts --campaign {campaign_id}" in result.stdout

    async def dashboard_view() -> tuple[list[str], int]:
        app = create_app(get_settings())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                login = await client.post(
                    "/v1/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
                )
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                campaigns = (await client.get("/v1/campaigns", headers=headers)).json()["campaigns"]
                posts = await client.get(f"/v1/campaigns/{campaign_id}/posts", headers=headers)
                return [c["id"] for c in campaigns], posts.json()["total"]

    ids, total = asyncio.run(dashboard_view())
    assert ids == [campaign_id] and total > 0


def test_collect_as_another_account_with_email(cli, tmp_path):
    assert cli("user", "create", "ops@example.com", input="s3cret-pass\ns3cret-pass\n").exit_code == 0
    result = cli("collect", "-s", "SaaS", "--email", "Ops@Example.com", "--max-posts", "20")
    assert result.exit_code == 0, result.output
    assert "log in as ops@example.com" in result.stdout
    owners = rows(tmp_path, "SELECT u.email FROM campaigns c JOIN users u ON u.id = c.user_id")
    assert owners == [("ops@example.com",)]
    assert rows(tmp_path, "SELECT count(*) FROM users WHERE email = 'demo@bcrao.dev'") == [(0,)]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_collect_writes_the_export_asked_for(cli, tmp_path, suffix):
    target = tmp_path / f"posts.{suffix}"
    result = cli("collect", "-s", "SaaS", "-s", "startups", "--max-posts", "30", "--export", str(target))
    assert result.exit_code == 0, result.output
    stored = rows(tmp_path, "SELECT count(*) FROM raw_posts")[0][0]
    assert stored > 0 and f"Exported {stored:,} posts to" in result.stdout
    text = target.read_text(encoding="utf-8-sig")
    if suffix == "csv":
        records = list(csv.DictReader(io.StringIO(text)))
        assert {"id", "title", "archetype", "success_score", "reddit_url"} <= set(records[0])
    else:
        records = [json.loads(line) for line in text.splitlines()]
        assert "score_breakdown" in records[0]
    assert len(records) == stored
    scores = [float(r["success_score"]) for r in records]
    assert scores == sorted(scores, reverse=True)  # the dashboard's default order


@pytest.mark.parametrize(
    ("args", "option", "words"),
    [
        (["-s", "SaaS", "-s", "bad name!"], "'--subreddit'", "'bad name!' must be a subreddit name"),
        (
            [f"--subreddit=sub{i}" for i in range(11)],
            "'--subreddit'",
            "at most 10 subreddits per campaign (11 given)",
        ),
        (["-s", "SaaS", *[f"--keyword=kw{i}" for i in range(16)]], "'--keyword'", "1-15 distinct keywords"),
        (["--campaign", "not-an-id"], "'--campaign'", "not a campaign id"),
        (["--campaign", "00000000-0000-0000-0000-000000000000", "-s", "SaaS"], "'--campaign'", "not both"),
        (
            ["-s", "SaaS", "--email", "nobody@example.com"],
            "'--email'",
            "bcrao user create nobody@example.com",
        ),
        (["-s", "SaaS", "--export", "posts.xlsx"], "'--export'", "must end in .csv or .jsonl"),
        (["-s", "SaaS", "--export", "/no/such/folder/posts.csv"], "'--export'", "does not exist"),
        (["-s", "SaaS", "--max-posts", "0"], "'--max-posts'", ""),
        (["-s", "SaaS", "--mode", "newest"], "'--mode'", "hybrid"),
    ],
)
def test_collect_errors_name_the_option_and_change_nothing(cli, tmp_path, args, option, words):
    result = cli("collect", *args)

    assert result.exit_code == 2, result.output
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())
    assert f"Invalid value for {option}" in flat and words in flat
    assert "Traceback" not in result.output
    database = tmp_path / "data" / "bcrao.db"
    assert not database.exists() or rows(tmp_path, "SELECT count(*) FROM campaigns") == [(0,)]


def test_posts_prints_the_top_posts_of_a_campaign(cli, tmp_path):
    collected = cli("collect", "-s", "SaaS", "--max-posts", "40")
    campaign_id = campaign_id_in(collected.stdout)

    result = cli("posts", "--campaign", campaign_id, "--limit", "5")

    assert result.exit_code == 0, result.output
    top = rows(
        tmp_path,
        "SELECT title, success_score FROM raw_posts ORDER BY success_score DESC, id DESC LIMIT 5",
    )
    total = rows(tmp_path, "SELECT count(*) FROM raw_posts")[0][0]
    assert f"Top 5 of {total} posts" in result.stdout
    lines = result.stdout.splitlines()
    for rank, (title, score) in enumerate(top, 1):
        row = next(line for line in lines if re.match(rf"\W*{rank} \W+{score:.1f} ", line))
        assert title[:20] in row
    assert f"/#/campaigns/{campaign_id}" in result.stdout


def test_posts_errors_name_the_option(cli):
    assert cli("migrate").exit_code == 0
    missing = cli("posts", "--campaign", "00000000-0000-0000-0000-000000000000")
    too_many = cli("posts", "--campaign", "00000000-0000-0000-0000-000000000000", "--limit", "101")
    nothing = cli("posts")

    assert missing.exit_code == too_many.exit_code == nothing.exit_code == 2
    assert "'--campaign'" in missing.output and "not found" in missing.output
    assert "'--limit'" in too_many.output
    assert "--campaign" in nothing.output


def _serve_env(data_dir) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCRAO_")}
    env.update(BCRAO_DATA_DIR=str(data_dir), BCRAO_LOG_JSON="false")
    return env


@pytest.mark.parametrize("how", ["option", "env"])
def test_serve_on_a_taken_port_says_which_and_how_to_pick_another_before_any_banner(tmp_path, how):
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _serve_env(data_dir)
        args = [str(BCRAO), "serve", "--demo", "--host", "127.0.0.1"]
        if how == "option":
            args += ["--port", str(port)]
        else:
            env["BCRAO_PORT"] = str(port)
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    other = port + 1
    assert done.stderr.strip() == (
        f"error: Port {port} is already in use. Start on another one with "
        f"`bcrao serve --port {other}` or BCRAO_PORT={other}"
    )
    assert done.stdout == ""  # no banner, no demo login
    assert not data_dir.exists()  # nothing was migrated or created


def test_serve_refuses_a_port_out_of_range_naming_the_option(cli):
    result = cli("serve", "--port", "70000")
    assert result.exit_code == 2 and "--port" in result.output


def test_production_refuses_a_reddit_user_agent_not_in_reddits_form():
    from pydantic import ValidationError

    from bcrao.config import Settings

    base = {"environment": "production", "secret_key": "k" * 40, "source": "reddit",
            "reddit_client_id": "id", "reddit_client_secret": "secret"}  # fmt: skip
    for bad in (
        "bcrao-collector/0.1 (market research)",
        "python:bcrao-collector:0.1.0 (by /u/your_reddit_username)",
    ):
        try:
            Settings(**base, reddit_user_agent=bad)
        except ValidationError as exc:
            assert "BCRAO_REDDIT_USER_AGENT" in str(exc)
        else:
            raise AssertionError(f"accepted {bad!r}")
    ok = Settings(**base, reddit_user_agent="python:acme-research:1.2 (by /u/acme_founder)")
    assert ok.reddit_user_agent.endswith("(by /u/acme_founder)")


def test_the_stale_timeout_must_be_below_the_visibility_timeout():
    from pydantic import ValidationError

    from bcrao.config import Settings

    try:
        Settings(secret_key="k" * 40, redis_url="redis://127.0.0.1:1/0", run_stale_after_seconds=3600,
                 celery_visibility_timeout=3600)  # fmt: skip
    except ValidationError as exc:
        assert "BCRAO_RUN_STALE_AFTER_SECONDS" in str(exc)
    else:
        raise AssertionError("accepted a stale timeout equal to the visibility timeout")
