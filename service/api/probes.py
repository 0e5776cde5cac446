"""`/healthz` and `/readyz` answered at the edge of the ASGI stack, ahead of routing.

Under a burst the event loop shares the GIL with the work pool's CPU-bound threads, and each step the loop
takes for a request (middleware, routing, dependency resolution, validation, serialization) may wait its
turn for the GIL. A probe answered here costs the loop one small step: no router, no dependency
injection, no exception middleware, no FastAPI serialization. The routes in `health.py` stay for the
OpenAPI document and answer the same bytes.

The readiness query runs on a thread of its own (`PROBE_THREADS`), not on the thread pool the store's
requests share: behind a burst of saves it would wait its turn there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..metrics import Metrics
from .errors import problem

log = logging.getLogger("netreason.api")

#: Threads the readiness queries run on (one query at a time is all a probe needs).
PROBE_THREADS = 1
_PROBE_POOL = ThreadPoolExecutor(max_workers=PROBE_THREADS, thread_name_prefix="netreason-probe")


def healthz_response() -> JSONResponse:
    """Liveness: the process serves requests."""
    return JSONResponse({"status": "ok"})


async def readyz_response(store: Any) -> JSONResponse:
    """Readiness: 200 when a trivial query succeeds, else 503 (the error goes to the log, not the response)."""
    try:
        await asyncio.get_running_loop().run_in_executor(_PROBE_POOL, store.ping)
    except SQLAlchemyError as e:
        log.warning("readiness check failed: database unreachable (%s)", type(e).__name__)
        return problem(503, "not-ready", "Not ready", "the database is unreachable", "/readyz")
    return JSONResponse({"status": "ready", "database": store.engine.dialect.name})


class HealthProbes:
    """Answer `GET /healthz` and `GET /readyz` before the rest of the stack; count them as the routes would be."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" and scope["method"] == "GET" else None
        service = getattr(getattr(scope.get("app"), "state", None), "service", None)
        if path not in ("/healthz", "/readyz") or service is None:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        response: Response = healthz_response() if path == "/healthz" else await readyz_response(service.store)
        await response(scope, receive, send)
        self.metrics.record_request("GET", path, response.status_code, time.perf_counter() - start)
