"""The ``bcrao`` command: the same services the API uses, for operators and founders."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bcrao import __version__
from bcrao.cli_format import base_url
from bcrao.config import ConfigError, Settings, load_settings

app = typer.Typer(
    name="bcrao",
    help="BC-RAO Collector: collect, filter, label and score Reddit posts for market research.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    """Errors are one clear line and a non-zero exit, never a traceback."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), 2)
        raise  # unreachable; keeps type checkers happy


def _version(value: bool) -> None:
    if value:
        console.print(f"bcrao {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Run `bcrao COMMAND --help` for the options of each command."""


@app.command()
def migrate() -> None:
    """Apply database migrations (BCRAO_DATABASE_URL, default: SQLite in BCRAO_DATA_DIR)."""
    from bcrao.migrate import upgrade

    settings = settings_or_exit()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.effective_database_url)
    except Exception as exc:  # one line for the operator, not a traceback
        fail(f"migration failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    console.print("[green]database is up to date[/]")


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port``, found by binding it first the way
    uvicorn will (SO_REUSEADDR, so a port in TIME_WAIT is free) and letting go at once:
    a taken port is then one clear line before any banner, not a traceback after it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            other = port + 1 if port < 65535 else 8001
            return (
                f"Port {port} is already in use. Start on another one with "
                f"`bcrao serve --port {other}` or BCRAO_PORT={other}"
            )
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default BCRAO_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default BCRAO_PORT, 8000).")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create a demo account and campaign and print how to log in.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes (needs Redis for more than 1).")] = 1,
) -> None:
    """Serve the API and dashboard (embedded defaults: SQLite, local executor, sample data)."""
    import uvicorn

    from bcrao.logs import configure_logging
    from bcrao.migrate import upgrade
    from bcrao.server import BoundedHttpToolsProtocol

    settings = settings_or_exit()
    if workers > 1 and not settings.redis_url:
        fail("more than one worker process needs BCRAO_REDIS_URL (runs and progress must be shared)")
    host = host or settings.host
    port = port or settings.port
    problem = port_problem(host, port)
    if problem:
        fail(problem)
    configure_logging(settings.log_level, settings.log_json)
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
    url = base_url(settings, host, port)
    if demo:
        from bcrao.demo import ensure_demo

        if "BCRAO_SAMPLE_LATENCY_SECONDS" not in os.environ:
            # The offline corpus is instant; a little latency lets a newcomer watch the funnel fill.
            os.environ["BCRAO_SAMPLE_LATENCY_SECONDS"] = "0.8"

        email, password, campaign = asyncio.run(ensure_demo(settings))
        console.rule("[bold]BC-RAO Collector demo")
        console.print(f"  Open      [bold cyan]{url}[/]")
        console.print(f"  Email     [bold]{email}[/]")
        console.print(f"  Password  [bold]{password}[/]")
        console.print(f"  Campaign  {campaign} (real posts of five communities, offline)")
        console.rule()
    else:
        console.print(f"Serving on [bold cyan]{url}[/]")
    os.environ.setdefault("BCRAO_GC_FREEZE", "1")  # a long-lived server process: see freeze_startup_objects
    uvicorn.run(
        "bcrao.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # X-Forwarded-For is believed only from the configured proxies (login throttling
        # keys on the client address; a spoofed header must not reset it).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        # bcrao.middleware.AccessLog writes the one access line per request.
        access_log=False,
        server_header=False,
        # Bounded connections (bcrao.server): header deadline, idle keep-alive, a cap.
        http=BoundedHttpToolsProtocol,
        timeout_keep_alive=settings.http_keepalive_timeout_seconds,
        limit_concurrency=settings.http_max_connections,
    )


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues to consume.")
    ] = "scraping,analysis,generation,monitoring",
    concurrency: Annotated[
        int | None, typer.Option(help="Parallel tasks (default BCRAO_CELERY_WORKER_CONCURRENCY).")
    ] = None,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork | threads | solo.")] = "prefork",
    hostname: Annotated[str | None, typer.Option(help="Worker node name (default celery@host).")] = None,
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
) -> None:
    """Start a Celery worker that runs collections (needs BCRAO_REDIS_URL)."""
    from bcrao.logs import configure_logging

    settings = settings_or_exit()
    if not settings.redis_url:
        fail("the worker needs BCRAO_REDIS_URL (the broker, result backend and progress bus)")
    if pool not in ("prefork", "threads", "solo"):
        fail(f"unknown pool {pool!r} (choose prefork, threads or solo)")
    configure_logging(loglevel, settings.log_json)
    from bcrao.tasks.celery_app import celery_app

    argv = [
        "worker",
        "-Q",
        queues,
        "--pool",
        pool,
        "--loglevel",
        loglevel,
        "--concurrency",
        str(concurrency or settings.celery_worker_concurrency),
    ]
    if hostname:
        argv += ["--hostname", hostname]
    celery_app.worker_main(argv)


class Mode(StrEnum):
    hybrid = "hybrid"
    fresh = "fresh"
    historical = "historical"


def _collect_error(exc: Exception) -> None:
    """A CollectError that names an option is Typer's usage error for that option."""
    option = getattr(exc, "option", None)
    if option:
        raise typer.BadParameter(str(exc), param_hint=f"'{option}'")
    fail(str(exc))


@app.command()
def collect(
    campaign: Annotated[
        str | None,
        typer.Option("--campaign", help="Id of an existing campaign to collect (instead of -s/-k)."),
    ] = None,
    subreddit: Annotated[
        list[str] | None,
        typer.Option("--subreddit", "-s", help="Subreddit to collect (repeat, 1-10); r/ allowed."),
    ] = None,
    keyword: Annotated[
        list[str] | None, typer.Option("--keyword", "-k", help="Keyword (repeat, 1-15; default: feedback).")
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(help="Account the run belongs to (default: the demo account demo@bcrao.dev)."),
    ] = None,
    mode: Annotated[
        Mode, typer.Option(help="Which posts: newest, top of the year, or half each.")
    ] = Mode.hybrid,
    max_posts: Annotated[int, typer.Option(min=1, max=1000, help="Posts per subreddit (1-1000).")] = 100,
    export_to: Annotated[
        Path | None,
        typer.Option(
            "--export", help="Also write the campaign's posts to this file (.csv or .jsonl).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Run a collection here with live progress, then print the funnel, the archetypes and
    the dashboard address of the results.

    The same subreddits and keywords (in any order or case) collect into the same campaign
    again, so re-runs add new posts instead of making a campaign each time.

    Examples: `bcrao collect -s SaaS -s startups -k churn -k pricing --export posts.csv` or
    `bcrao collect --campaign 3f2c...`.
    """
    from bcrao.cli_collect import CollectError, export_format
    from bcrao.cli_collect import collect as run_collect
    from bcrao.migrate import upgrade

    if export_to is not None:
        try:
            export_format(export_to)
        except CollectError as exc:
            _collect_error(exc)
        if not export_to.parent.is_dir():
            raise typer.BadParameter(
                f"folder {str(export_to.parent)!r} does not exist", param_hint="'--export'"
            )
    settings = settings_or_exit()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
    try:
        run = asyncio.run(
            run_collect(
                settings,
                console,
                campaign_id=campaign,
                subreddits=subreddit or [],
                keywords=keyword or [],
                email=email,
                mode=mode.value,
                max_posts=max_posts,
                export_to=export_to,
            )
        )
    except CollectError as exc:
        _collect_error(exc)
    if run.status == "failed":
        raise typer.Exit(1)


@app.command()
def posts(
    campaign: Annotated[
        str, typer.Option("--campaign", help="Id of the campaign (printed by `bcrao collect`).")
    ],
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many posts (1-100).")] = 20,
) -> None:
    """Print a campaign's top posts (highest success score first) as a table."""
    from bcrao.cli_collect import CollectError
    from bcrao.cli_posts import show_top_posts

    settings = settings_or_exit()
    try:
        asyncio.run(show_top_posts(settings, console, campaign_id=campaign, limit=limit))
    except CollectError as exc:
        _collect_error(exc)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="Email address of the new user.")],
    plan: Annotated[str, typer.Option(help="trial | starter | growth")] = "trial",
    password: Annotated[
        str | None,
        typer.Option(help="Password (prompted when omitted; avoid on shared shells).", hidden=True),
    ] = None,
) -> None:
    """Create a user account (prompts for the password)."""
    from bcrao.auth import service
    from bcrao.auth.models import PLANS
    from bcrao.auth.schemas import Credentials
    from bcrao.errors import AppError

    settings = settings_or_exit()
    if settings.is_sqlite:  # like serve and collect: the embedded database needs no migrate step
        from bcrao.migrate import upgrade

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
    if plan not in PLANS:
        fail(f"unknown plan {plan!r} (choose from {', '.join(PLANS)})")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        Credentials(email=email, password=password)
    except Exception as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": ["input"], "msg": str(exc)}
        fail(f"invalid {first['loc'][0]}: {first['msg']}")

    async def create() -> str:
        from bcrao.db import make_engine, make_sessionmaker, session_scope

        engine = make_engine(settings.effective_database_url)
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                user = await service.create_user(session, email=email, password=password, plan=plan)
                return str(user.id)
        finally:
            await engine.dispose()

    try:
        user_id = asyncio.run(create())
    except AppError as exc:
        fail(exc.message)
    console.print(f"[green]created[/] {email.lower()} ({plan}) id={user_id}")


def run() -> None:  # pragma: no cover - console entry point convenience
    sys.exit(app())
