"""`netreason serve`: the HTTP API under uvicorn."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: every one).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any free one).")
@click.option("--database-url", envvar="NETREASON_DATABASE_URL",
              help="sqlite:///FILE or postgresql+psycopg://... (default: $NETREASON_DATABASE_URL, else a SQLite "
                   "file in the user data dir).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(host: str, port: int, database_url: str | None, log_level: str) -> None:
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
    import uvicorn

    from service.app import create_app
    from service.settings import Settings

    settings = Settings(database_url=database_url) if database_url else Settings()
    # proxy_headers off: behind a proxy, configure it there; the access log shows paths, never headers.
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, proxy_headers=False)
