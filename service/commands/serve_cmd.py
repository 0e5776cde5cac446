"""`netreason serve`: the HTTP API under uvicorn."""

from __future__ import annotations

from typing import Any

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every one).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0: any free one).")
@click.option("--database-url", envvar="NETREASON_DATABASE_URL",
              help="sqlite:///FILE or postgresql+psycopg://... (default: $NETREASON_DATABASE_URL, else a SQLite "
                   "file in the user data dir).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (the analysis is CPU-bound: one per core scales throughput).")
@click.option("--insecure-no-auth", is_flag=True,
              help="Serve a non-loopback address without bearer tokens (anyone who can connect may use the API).")
def serve(host: str, port: int, database_url: str | None, log_level: str, workers: int,
          insecure_no_auth: bool) -> None:
    """Serve the HTTP API for review tooling (OpenAPI docs at /docs).

    Configuration comes from NETREASON_* environment variables: NETREASON_API_TOKENS
    (comma-separated bearer tokens; /v1 needs one when set), NETREASON_MODEL,
    NETREASON_DATABASE_URL, NETREASON_MAX_BODY_BYTES, NETREASON_MODEL_TIMEOUT_S,
    NETREASON_SLACK_SIGNING_SECRET and NETREASON_SLACK_BOT_TOKEN. The database schema is
    created on first start.

    \b
    Examples:
      netreason serve --port 8080
      NETREASON_API_TOKENS=s3cret NETREASON_MODEL=openai:gpt-4.1-mini netreason serve --host 0.0.0.0
    """
    import os
    import sys

    import uvicorn

    from service.app import create_app
    from service.metrics_dir import shared_metrics_dir
    from service.settings import Settings
    from service.store import Store

    from pydantic import ValidationError

    from service.api.access_log import scrub_access_log
    from service.exposure import AuthMissing, check_exposure

    if database_url:
        os.environ["NETREASON_DATABASE_URL"] = database_url  # worker processes read the environment
    try:
        settings = Settings()
        check_exposure(host, settings, insecure_no_auth=insecure_no_auth)
    except ValidationError as e:
        raise click.UsageError("; ".join(str(err["msg"]) for err in e.errors())) from None
    except AuthMissing as e:
        raise click.UsageError(str(e)) from None
    scrub_access_log()
    # Analyses run on worker threads; a shorter GIL switch interval (5 ms by default) lets the event
    # loop thread in sooner, so /healthz and /readyz answer promptly while every worker is busy.
    sys.setswitchinterval(0.001)
    # proxy_headers off: behind a proxy, configure it there; the access log shows paths, never headers.
    options: dict[str, Any] = dict(host=host, port=port, log_level=log_level, proxy_headers=False)
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Migrate once here, so the workers' lifespans do not race to create the schema.
    Store.open(settings.database_url).close()
    with shared_metrics_dir():  # counters whole across workers: any scrape adds up every worker's
        uvicorn.run("service.app:create_app", factory=True, workers=workers, **options)
