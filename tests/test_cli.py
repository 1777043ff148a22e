"""The `bcrao` command, run in-process with its own embedded data dir."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bcrao import __version__
from bcrao.cli import app
from bcrao.config import get_settings


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("BCRAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BCRAO_DATABASE_URL", raising=False)
    monkeypatch.setenv("BCRAO_LOG_JSON", "false")
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
    assert "passed filter" in out and "classified" in out and "stored" in out
    for archetype in ("Journey", "ProblemSolution", "Feedback", "Unclassified"):
        assert archetype in out


def test_collect_without_a_campaign_or_subreddit_explains_what_to_give(cli):
    result = cli("collect")
    assert result.exit_code != 0 and "--campaign" in result.output
    assert "not found" in cli("collect", "--campaign", "00000000-0000-0000-0000-000000000000").output
    assert "subreddit" in cli("collect", "-s", "bad name!").output
