"""One settings object for the whole service.

Every knob is an environment variable with the ``BCRAO_`` prefix (or a line in ``.env``).
With nothing set the service runs embedded: SQLite in the data dir, the in-process
executor, the bundled sample corpus and the offline rules classifier.
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bcrao import __version__ as _VERSION

# Reddit's API rules: "<platform>:<app ID>:<version string> (by /u/<reddit username>)".
USER_AGENT = re.compile(r"[\w.-]+:[\w.-]+:v?[\w.-]+ \(by /u/[\w-]{3,20}\)")
UA_PLACEHOLDER = "your_reddit_username"


class Executor(StrEnum):
    local = "local"
    celery = "celery"


class SourceName(StrEnum):
    sample = "sample"
    reddit = "reddit"
    apify = "apify"


class ClassifierName(StrEnum):
    model = "model"  # the trained offline model (default)
    rules = "rules"  # the hand-written cues (the first default, kept for comparison)
    llm = "llm"  # an OpenAI-compatible model refines the top posts; the offline model labels the rest


class Environment(StrEnum):
    development = "development"
    production = "production"
    test = "test"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BCRAO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Field(
        Environment.development, description="production refuses unsafe defaults"
    )
    data_dir: Path = Field(Path("~/.bcrao"), description="Where the embedded database and secret live")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    redis_url: str | None = Field(None, description="Enables the celery executor and shared state")
    executor: Executor | None = Field(
        None, description="local | celery; default: celery when redis_url is set"
    )
    secret_key: SecretStr | None = Field(
        None, description="JWT signing key; generated and persisted when unset"
    )

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=list, description="Allowed browser origins")
    log_level: str = "INFO"
    log_json: bool = True

    access_token_ttl_seconds: int = Field(60 * 60 * 24, ge=60)
    stream_token_ttl_seconds: int = Field(900, ge=10)
    jwt_issuer: str = "bcrao"
    jwt_audience: str = "bcrao-api"
    # Login throttling (bcrao.auth.throttle): per account and address, per address, and
    # failures per account from addresses that never logged in to it.
    login_max_attempts: int = Field(10, ge=1)
    login_max_attempts_per_address: int = Field(50, ge=1)
    login_max_failures_per_account: int = Field(50, ge=1)
    login_window_seconds: int = Field(900, ge=1)
    # Reverse proxies whose X-Forwarded-For names the client (IPs or CIDRs). Empty: the TCP
    # peer is the client, and no header can change that.
    trusted_proxies: list[str] = Field(default_factory=list)
    # /metrics shows totals across users: with a token, only requests bearing it may read
    # it; without one, only scrapers on the same machine (loopback peers).
    metrics_token: SecretStr | None = None
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    # An import's upload (POST /v1/campaigns/{id}/imports) may be this large instead.
    import_max_bytes: int = Field(2 * 1024**3, ge=1024)
    # Connection bounds of `bcrao serve` (bcrao.server, bcrao.middleware.BodyReadTimeout):
    # a request's headers must be complete this long after its first byte; its body may not
    # pause longer than this; connections idle between requests close after this; and one
    # process holds at most this many connections (503 beyond).
    http_header_timeout_seconds: float = Field(10.0, gt=0)
    http_body_timeout_seconds: float = Field(15.0, gt=0)
    http_keepalive_timeout_seconds: int = Field(5, ge=1)
    http_max_connections: int = Field(4096, ge=10)

    # Plans: weekly run allowance (rolling 7 days); 0 means unlimited.
    plan_trial_runs_per_week: int = Field(5, ge=0)
    plan_starter_runs_per_week: int = Field(20, ge=0)
    plan_growth_runs_per_week: int = Field(50, ge=0)

    # Collection pipeline
    source: SourceName = SourceName.sample
    classifier: ClassifierName = ClassifierName.model
    classify_fraction: float = Field(
        0.10, gt=0, le=1, description="Share of kept posts (by relevance) the llm classifier refines"
    )
    rejected_samples_per_reason: int = Field(50, ge=0)
    adapt_after_corrections: int = Field(
        10, ge=0, description="Label corrections before a user's runs use their adapted model (0 = never)"
    )
    # Comments of each kept post, best first; a collect body's ``comments_per_post`` overrides.
    comments_per_post: int = Field(50, ge=0, le=500, description="Default comments per kept post (0 = none)")
    comments_max_depth: int = Field(
        8,
        ge=0,
        le=20,
        description=(
            "Deepest reply level collected (0 = top level); Reddit shows 10 levels a page, the"
            ' deeper replies are read through its "continue this thread" links'
        ),
    )
    # Compliance: posts and comments are purged this many days after collection (0 = kept)
    retention_days: int = Field(
        0, ge=0, le=3650, description="Purge collected content after N days (0: never)"
    )
    # Monitoring: scheduled collections, alert deliveries (bcrao.monitoring)
    scheduler_interval_seconds: float = Field(
        30.0, gt=0, description="How often due schedules and digests are looked for"
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Where users reach this server (links in emails)"
    )
    alert_max_attempts: int = Field(4, ge=1, le=10)
    alert_retry_base_seconds: float = Field(
        2.0, ge=0, description="First retry delay of a failed delivery; doubles"
    )
    alert_timeout_seconds: float = Field(10.0, gt=0)
    alert_resend_after_seconds: float = Field(
        300.0,
        gt=0,
        description=(
            "A delivery left retrying with no attempt for this long (its sender stopped) is sent"
            " again under the same id; never sooner than a live sender's longest quiet spell"
        ),
    )
    smtp_host: str | None = Field(
        None, description="SMTP server for email alerts (unset: email alerts fail, saying so)"
    )
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "BC-RAO Collector <alerts@localhost>"
    run_max_attempts: int = Field(
        3, ge=1, le=20, description="Lost attempts after which a run fails instead of rerunning"
    )
    run_stale_after_seconds: int = Field(900, ge=2, description="A running run without heartbeat is failed")
    # A run beats every 5 s; silent this long, its executor is taken to be gone: a cancel
    # ends it at once, and another worker takes it over (re-queued by the reaper loop).
    heartbeat_lost_seconds: int = Field(60, ge=2)
    # How long a worker keeps retrying to write a finished run's result through a database outage.
    run_finish_retry_seconds: float = Field(600.0, ge=0)
    progress_ttl_seconds: int = Field(24 * 3600, ge=1, description="Progress history kept after a run ends")
    progress_maxlen: int = Field(10_000, ge=100)
    # What an API process holds in memory per watched run (older events come from Redis).
    progress_memory_tail: int = Field(200, ge=10)
    # A watched run silent this long is re-read from its stream (a lost pub/sub message).
    progress_sweep_seconds: float = Field(5.0, gt=0)
    # Commands take ~0.1 ms on a LAN, so a few connections carry thousands a second; one of
    # them is the progress subscription of an API process.
    redis_max_connections: int = Field(4, ge=2, description="Redis connections per process (a bounded pool)")
    reaper_interval_seconds: float = Field(30.0, gt=0)
    celery_visibility_timeout: int = Field(
        3600, ge=1, description="Seconds before an unacked task is redelivered"
    )
    celery_worker_concurrency: int = Field(2, ge=1)
    sse_keepalive_seconds: float = Field(15.0, gt=0)
    sse_retry_ms: int = 2000
    # Open progress streams per user and API process; beyond it a new stream is a 429.
    sse_max_streams_per_user: int = Field(20, ge=1)
    sse_max_connection_seconds: float = Field(
        0.0, ge=0, description="Close streams after this long (0 = never); clients resume with Last-Event-ID"
    )
    gc_freeze: bool = Field(
        False,
        description="Freeze start-up objects out of the garbage collector (`bcrao serve` turns it on)",
    )
    sample_latency_seconds: float = Field(
        0.0, ge=0, description="Simulated network latency per subreddit fetch of the sample source (demos)"
    )

    # Reddit (official OAuth API)
    reddit_client_id: str | None = None
    reddit_client_secret: SecretStr | None = None
    # Reddit's required form: <platform>:<app id>:<version> (by /u/<username>); production
    # refuses anything else, and the placeholder username.
    reddit_user_agent: str = f"python:bcrao-collector:{_VERSION} (by /u/{UA_PLACEHOLDER})"
    reddit_oauth_url: str = "https://oauth.reddit.com"
    reddit_www_url: str = "https://www.reddit.com"
    reddit_timeout_seconds: float = Field(16.0, gt=0)
    reddit_max_retries: int = Field(4, ge=0)
    reddit_max_wait_seconds: float = Field(600.0, ge=0, description="Longest 429 wait before giving up")

    # Apify
    apify_token: SecretStr | None = None
    apify_actor_id: str = "trudax/reddit-scraper-lite"
    apify_base_url: str = "https://api.apify.com"
    # Real runs take 3-9 minutes per subreddit; a run still going at the deadline is aborted
    # and what it found is kept.
    apify_timeout_seconds: float = Field(900.0, gt=0)
    apify_max_charge_usd: float | None = Field(
        1.0, gt=0, description="Most an actor run may charge (pay-per-event actors); unset: no cap"
    )
    # What the actor charges per result (post or comment item), for the cost preview:
    # trudax/reddit-scraper-lite lists $3.40 per 1,000 results (pay per result).
    apify_usd_per_result: float = Field(0.0034, ge=0)

    # LLM (OpenAI-compatible)
    llm_base_url: str = "https://openrouter.ai/api/v1"
    llm_api_key: SecretStr | None = None
    llm_model: str = "openai/gpt-4o-mini"
    llm_concurrency: int = Field(4, ge=1)
    # Posts per request: the instructions are paid once per request (bench/README.md "LLM cost").
    llm_batch_size: int = Field(8, ge=1, le=25)
    llm_timeout_seconds: float = Field(20.0, gt=0)
    llm_input_cost_per_mtok: float = Field(0.15, ge=0)
    llm_output_cost_per_mtok: float = Field(0.60, ge=0)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("database_url")
    @classmethod
    def _normalize_db_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        driver = {
            "sqlite": "sqlite+aiosqlite",
            "postgresql": "postgresql+asyncpg",
            "postgres": "postgresql+asyncpg",
            "postgresql+psycopg": "postgresql+asyncpg",
            "postgresql+psycopg2": "postgresql+asyncpg",
        }.get(url.drivername, url.drivername)
        if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(f"unsupported database {url.drivername!r} (use sqlite or postgresql)")
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _check_redis(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"not a Redis URL: {value!r}")
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        if self.executor is Executor.celery and not self.redis_url:
            raise ValueError("executor 'celery' needs BCRAO_REDIS_URL")
        weak_key = self.secret_key is None or len(self.secret_key.get_secret_value()) < 32
        if self.environment is Environment.production and weak_key:
            raise ValueError("production needs BCRAO_SECRET_KEY of at least 32 characters")
        if self.source is SourceName.reddit and not (self.reddit_client_id and self.reddit_client_secret):
            raise ValueError("source 'reddit' needs BCRAO_REDDIT_CLIENT_ID and BCRAO_REDDIT_CLIENT_SECRET")
        reddit_in_production = self.source is SourceName.reddit and self.environment is Environment.production
        if reddit_in_production and (
            not USER_AGENT.fullmatch(self.reddit_user_agent) or UA_PLACEHOLDER in self.reddit_user_agent
        ):
            raise ValueError(
                "BCRAO_REDDIT_USER_AGENT must be Reddit's form <platform>:<app id>:<version> (by /u/<your"
                " Reddit username>), e.g. 'python:acme-research:1.0 (by /u/acme_founder)'"
            )
        if (
            self.effective_executor is Executor.celery
            and self.run_stale_after_seconds >= self.celery_visibility_timeout
        ):
            raise ValueError(
                "BCRAO_RUN_STALE_AFTER_SECONDS must be below BCRAO_CELERY_VISIBILITY_TIMEOUT: a run would be"
                " failed as stale while its redelivered task could still take it over"
            )
        if self.source is SourceName.apify and not self.apify_token:
            raise ValueError("source 'apify' needs BCRAO_APIFY_TOKEN")
        if self.classifier is ClassifierName.llm and not self.llm_api_key:
            raise ValueError("classifier 'llm' needs BCRAO_LLM_API_KEY")
        return self

    # -- derived values -------------------------------------------------------------

    @property
    def effective_executor(self) -> Executor:
        if self.executor is not None:
            return self.executor
        return Executor.celery if self.redis_url else Executor.local

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'bcrao.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    def runs_per_week(self, plan: str) -> int:
        return {
            "trial": self.plan_trial_runs_per_week,
            "starter": self.plan_starter_runs_per_week,
            "growth": self.plan_growth_runs_per_week,
        }.get(plan, self.plan_trial_runs_per_week)

    def signing_key(self) -> str:
        """The JWT key: configured, or generated once and kept beside the database.

        Persisting it means tokens survive a restart of the embedded service without the
        operator having to invent a secret.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


class ConfigError(RuntimeError):
    """Settings could not be loaded; the message is one line fit for a terminal."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        name = f"BCRAO_{where.upper()}" if first["loc"] else "configuration"
        msg = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid {name}: {msg}") from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
