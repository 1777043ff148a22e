"""The deployment files agree with the code: no Docker engine needed to catch a typo.

Every BCRAO_* variable the compose file or the Dockerfile sets is a real setting, every
command is a real `bcrao` subcommand with real options, and the compose environment is a
configuration the service accepts in production.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from bcrao.cli import app as cli_app
from bcrao.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # safe_load resolves `<<:` merges
DOCKERFILE = (ROOT / "Dockerfile").read_text()
CLI = get_command(cli_app)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _interpolate(value: str) -> str:
    """Compose's ``${VAR:?message}`` / ``${VAR:-default}`` with a stand-in value."""
    return re.sub(r"\$\{(\w+)(?::[?-][^}]*)?\}", lambda m: f"test-{m.group(1).lower()}", value)


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for block in re.findall(r"^ENV (.+?)(?<!\\)$", DOCKERFILE, flags=re.M | re.S):
        for key, value in re.findall(r"(\w+)=(\S+)", block.replace("\\\n", " ")):
            env[key] = value
    return env


def _bcrao_commands() -> list[tuple[str, list[str]]]:
    commands = [(name, svc["command"]) for name, svc in SERVICES.items() if "command" in svc]
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, flags=re.M)
    assert cmd, "Dockerfile has no exec-form CMD"
    commands.append(("Dockerfile CMD", json.loads(cmd.group(1))))
    return [(where, argv) for where, argv in commands if argv and argv[0] == "bcrao"]


def test_every_bcrao_variable_is_a_setting() -> None:
    fields = {f"BCRAO_{name.upper()}" for name in Settings.model_fields}
    seen = {}
    for name, service in SERVICES.items():
        for key in _environment(service):
            if key.startswith("BCRAO_"):
                seen[key] = name
    for key in _dockerfile_env():
        if key.startswith("BCRAO_"):
            seen[key] = "Dockerfile"
    assert seen, "no BCRAO_* variables found: the parser is broken"
    unknown = {key: where for key, where in seen.items() if key not in fields}
    assert not unknown, f"not settings (typo?): {unknown}"


@pytest.mark.parametrize("where,argv", _bcrao_commands(), ids=[w for w, _ in _bcrao_commands()])
def test_commands_are_real_bcrao_subcommands_with_real_options(where: str, argv: list[str]) -> None:
    assert len(argv) >= 2, f"{where}: `bcrao` without a subcommand"
    command = CLI.commands.get(argv[1])  # type: ignore[attr-defined]
    assert command is not None, f"{where}: `bcrao {argv[1]}` is not a subcommand"
    options = {opt for param in command.params for opt in param.opts}
    given = [arg.split("=", 1)[0] for arg in argv[2:] if arg.startswith("-")]
    assert set(given) <= options, f"{where}: unknown options {set(given) - options} for `bcrao {argv[1]}`"


def test_the_stack_has_the_documented_shape() -> None:
    assert {"postgres", "redis", "migrate", "worker", "flower"} <= set(SERVICES)
    apis = [name for name, svc in SERVICES.items() if svc.get("command", [None, None])[1:2] == ["serve"]]
    workers = [name for name, svc in SERVICES.items() if svc.get("command", [None, None])[1:2] == ["worker"]]
    replicas = sum(SERVICES[n].get("deploy", {}).get("replicas", 1) for n in apis)
    assert replicas >= 2, "two API processes, like the scale-out test"
    assert workers
    assert SERVICES["postgres"]["image"].startswith("postgres:15")
    assert SERVICES["migrate"]["command"] == ["bcrao", "migrate"]
    for name in [*apis, *workers]:
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert SERVICES["flower"].get("profiles"), "flower is optional (under a profile)"
    for name in [*apis, *workers]:
        env = _environment(SERVICES[name])
        assert env["BCRAO_DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert env["BCRAO_REDIS_URL"].startswith("redis://"), name
        assert ".env" in SERVICES[name]["env_file"], f"{name}: secrets come from the env file"


def test_the_compose_environment_is_a_valid_production_configuration() -> None:
    for name in ("api1", "worker", "migrate"):
        env = {k: _interpolate(v) for k, v in _environment(SERVICES[name]).items() if k.startswith("BCRAO_")}
        env["BCRAO_SECRET_KEY"] = "x" * 48  # from .env in a real deployment
        values = {key.removeprefix("BCRAO_").lower(): value for key, value in env.items()}
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        assert settings.environment == "production"
        assert settings.effective_executor == "celery"
        assert not settings.is_sqlite


def test_the_image_runs_as_a_non_root_user_and_checks_health() -> None:
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, flags=re.M)
    user = re.findall(r"^USER (\S+)$", DOCKERFILE, flags=re.M)
    assert user and user[-1] not in ("root", "0")
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    assert '"--host", "0.0.0.0"' in DOCKERFILE


def test_secrets_stay_out_of_the_image_and_the_compose_file() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored and ".git" in ignored and ".venv" in ignored
    compose_text = (ROOT / "docker-compose.yml").read_text()
    assert "BCRAO_SECRET_KEY:" not in compose_text, "the signing key belongs in .env, not in the compose file"


def test_deploy_doc_lists_every_variable_the_stack_sets() -> None:
    doc = (ROOT / "docs" / "DEPLOY.md").read_text()
    keys = {k for svc in SERVICES.values() for k in _environment(svc) if k.startswith("BCRAO_")}
    missing = sorted(k for k in keys if k not in doc)
    assert not missing, f"docs/DEPLOY.md does not mention {missing}"
