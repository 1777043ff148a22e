"""The `bcrao` command, run in-process with its own embedded data dir."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcrao import __version__
from bcrao.cli import app
from bcrao.config import get_settings

BCRAO = Path(sys.executable).with_name("bcrao")


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
