"""The ``bcrao`` command: the same services the API uses, for operators and founders."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from typing import Annotated

import typer
from rich.console import Console

from bcrao import __version__
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
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/"
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


@app.command()
def collect(
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Id of an existing campaign to collect.")
    ] = None,
    subreddit: Annotated[
        list[str] | None, typer.Option("--subreddit", "-s", help="Subreddit (repeat); r/ allowed.")
    ] = None,
    keyword: Annotated[list[str] | None, typer.Option("--keyword", "-k", help="Keyword (repeat).")] = None,
    email: Annotated[
        str | None, typer.Option(help="Owner of an ad-hoc campaign (default a local CLI user).")
    ] = None,
    mode: Annotated[str, typer.Option(help="hybrid | fresh | historical")] = "hybrid",
    max_posts: Annotated[int, typer.Option(help="Posts per subreddit (1-1000).")] = 100,
) -> None:
    """Run a collection here with live progress, then print the funnel and archetypes.

    Examples: `bcrao collect --campaign 3f2c...` or
    `bcrao collect -s SaaS -s startups -k churn -k pricing`.
    """
    from bcrao.cli_collect import CollectError
    from bcrao.cli_collect import collect as run_collect
    from bcrao.migrate import upgrade

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
                mode=mode,
                max_posts=max_posts,
            )
        )
    except CollectError as exc:
        fail(str(exc))
    if run.status == "failed":
        raise typer.Exit(1)


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
