"""Service configuration from the environment (`NETREASON_*`), read once at startup.

    NETREASON_DATABASE_URL          sqlite:///path.db (default: a file in the user data dir) or postgresql+psycopg://...
    NETREASON_API_TOKENS            comma-separated bearer tokens; when set (or tokens exist in the database),
                                    every /v1 call needs `Authorization: Bearer <token>`
    NETREASON_MODEL                 default model spec (openai:gpt-4.1-mini, ...); unset = ground truth only
    NETREASON_SLACK_SIGNING_SECRET  with NETREASON_SLACK_BOT_TOKEN, turns the Slack routes on
    NETREASON_SLACK_BOT_TOKEN
    NETREASON_SLACK_API_URL         Slack Web API base (tests point it at a fake)
    NETREASON_SLACK_RESPONSE_URL_PREFIX  slash-command response_url allowed prefix (default https://hooks.slack.com/)
    NETREASON_SLACK_EVENT_STALE_S   seconds before a retry may take over an unfinished Slack delivery (default 120)
    NETREASON_PUBLIC_URL            prefix of report links (Slack replies, `report_url`); empty = relative links
    NETREASON_LINK_SECRET           key of the HMAC that signs report links; unset = a random key kept in the database
    NETREASON_LINK_TTL_S            how long a signed report link opens without a token (default: 7 days)
    NETREASON_ALLOWED_MODELS        model specs a request may name (default: NETREASON_MODEL alone)
    NETREASON_MAX_RESPONSE_BYTES    largest response or stored report (default 16 MiB; larger: 422)
    NETREASON_MAX_WORKLOADS         most workloads one request may analyze (default 3,000; more: 413)
    NETREASON_MAX_ACTIVE_ANALYSES   analyses running at once (default 8); NETREASON_MAX_QUEUED_ANALYSES
                                    more wait (default 64), beyond that 503 + Retry-After
    NETREASON_WORK_THREADS          threads the analyses' CPU work runs on (default: CPUs, at most 4)
    NETREASON_MAX_REQUEST_CPU_S     CPU seconds one analysis-sized request may use (default 120; more: 422)

Secrets are `SecretStr`, so they never show in a repr, a log line or an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_LINK_TTL_S = 7 * 24 * 3600
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_WORKLOADS = 3_000


def default_database_url() -> str:
    """`sqlite:///` a file under $XDG_DATA_HOME/netreason (~/.local/share/netreason when unset)."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'netreason' / 'netreason.db'}"


class Settings(BaseSettings):
    """Everything `netreason serve` can be told; see the module docstring for the variables."""

    model_config = SettingsConfigDict(env_prefix="NETREASON_", extra="ignore", frozen=True)

    database_url: str = Field(default_factory=default_database_url)
    api_tokens: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    model: str | None = None
    #: The model specs a request may name (a spec can carry a URL: this stops callers from aiming the
    #: server at hosts of their choosing); empty = NETREASON_MODEL alone.
    allowed_models: Annotated[tuple[str, ...], NoDecode] = ()
    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    #: A slash command's `response_url` is posted to only under this prefix (never an arbitrary URL from a request).
    slack_response_url_prefix: str = "https://hooks.slack.com/"
    #: A Slack delivery `processing` longer than this is taken over by Slack's retry of it.
    slack_event_stale_s: float = Field(default=120.0, gt=0)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    #: Budgets of one request: a response or stored report over this is refused (422), never built
    #: without bound; a bundle with more workloads than this is refused (413) before any analysis.
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    max_workloads: int = Field(default=DEFAULT_MAX_WORKLOADS, gt=0)
    #: Analysis-sized requests running at once, waiting beyond those (then 503), and the threads
    #: their CPU work runs on (`service.api.workpool`).
    max_active_analyses: int = Field(default=8, gt=0)
    max_queued_analyses: int = Field(default=64, ge=0)
    work_threads: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)), gt=0)
    #: CPU seconds the pool's threads may spend on one admitted request (`service.api.workpool`).
    max_request_cpu_s: float = Field(default=120.0, gt=0)
    model_timeout_s: float = Field(default=60.0, gt=0)
    max_model_timeout_s: float = Field(default=180.0, gt=0)
    public_url: str = ""  # prefix for links to stored analyses; empty = relative links
    #: Signs report links (`service.links`); unset, every server on one database shares a stored random key.
    link_secret: SecretStr | None = None
    link_ttl_s: int = Field(default=DEFAULT_LINK_TTL_S, gt=0)

    @field_validator("api_tokens", "allowed_models", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _tokens_not_blank(cls, value: object) -> object:
        # Set but empty (or " , ") used to turn authentication off without a word: fail closed instead.
        if isinstance(value, str) and not any(part.strip() for part in value.split(",")):
            raise ValueError("NETREASON_API_TOKENS is set but holds no token; give comma-separated tokens, "
                             "or unset it to serve without authentication on 127.0.0.1")
        return value

    @property
    def slack_enabled(self) -> bool:
        """The Slack routes are mounted only when both the signing secret and the bot token are set."""
        return bool(self.slack_signing_secret and self.slack_bot_token)

    def model_timeout(self, requested: float | None) -> float:
        """The model timeout for one request: what it asked for (or the default), capped by the maximum."""
        return min(requested or self.model_timeout_s, self.max_model_timeout_s)

    def allowed_model_specs(self) -> tuple[str, ...]:
        """NETREASON_ALLOWED_MODELS, or NETREASON_MODEL alone when no allow-list is set (or none at all)."""
        return self.allowed_models or ((self.model,) if self.model else ())

    def model_allowed(self, spec: str) -> bool:
        """Whether a request may name model `spec`: only from `allowed_model_specs()`."""
        return spec in self.allowed_model_specs()
