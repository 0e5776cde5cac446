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
              help="Worker processes (the analysis is CPU-bound: one per core scales throughput), each listening on "
                   "its own socket (SO_REUSEPORT), so the kernel spreads connections over them.")
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
    from service.api.listener import reuse_port_supported
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
        if not reuse_port_supported():
            uvicorn.run("service.app:create_app", factory=True, workers=workers, **options)
            return
        _serve_workers(host, port, workers, options)


def _serve_workers(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """uvicorn's supervisor over `workers` processes, each listening on a socket of its own (`service.api.listener`).

    What `uvicorn.run(workers=N)` does, with the port reserved by a socket that allows port reuse.
    """
    import logging
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from service.api.listener import REUSE_PORT_ENV, reserve_port

    config = uvicorn.Config("service.app:create_app", factory=True, workers=workers, **options)
    try:
        sock = reserve_port(host, port)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    os.environ[REUSE_PORT_ENV] = "1"  # the workers read it in their lifespan
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown,
                                            sock.getsockname()[1])
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
