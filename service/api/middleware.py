"""Pure ASGI middleware: the request body size limit, and per-request metrics.

Pure ASGI rather than `BaseHTTPMiddleware`, so the body limit can refuse a request before anything
reads it and the metrics layer adds no task or copy per request.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..metrics import Metrics
from .errors import PROBLEM_JSON, problem_type
from .workpool import Entry


class BodySizeLimit:
    """Answer 413 to any request whose body is over `max_bytes`.

    A `Content-Length` over the limit is refused before the body is read. A body without one
    (chunked) is read into memory up to the limit, refused when it crosses it, else replayed to
    the app: frameworks turn errors raised while they read a body into a 400, not a 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                await self._refuse(scope, send, f"request body ({declared:,} bytes)")
                return
            await self.app(scope, receive, send)
            return
        buffered = await self._read_within_limit(receive)
        if buffered is None:
            await self._refuse(scope, send, "request body")
            return
        await self.app(scope, _replay(buffered, receive), send)

    async def _read_within_limit(self, receive: Receive) -> list[Message] | None:
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # a disconnect: let the app see it
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, scope: Scope, send: Send, what: str) -> None:
        body = json.dumps({
            "type": problem_type("body-too-large"), "title": "Request body too large", "status": 413,
            "detail": f"{what} is over the {self.max_bytes:,}-byte limit (NETREASON_MAX_BODY_BYTES); "
                      "send fewer manifests per call or store them with POST /v1/clusters/{name}",
            "instance": scope.get("path", ""),
        }).encode()
        headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()
    return replayed


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


#: Routes whose requests take a work-pool slot (`workpool.WorkPool.admit`).
ANALYSIS_ROUTES = frozenset({"/v1/analyze", "/v1/review", "/v1/diff", "/v1/chat", "/v1/plan", "/v1/lint"})


class ShedWhenSaturated:
    """Let an analysis-sized POST into the work pool's count before its body is read (`WorkPool.entry`), or
    answer 503 + Retry-After at once when the pool is saturated: a burst's excess costs the event loop
    almost nothing (no body read, parsed or validated there), so /healthz keeps answering.

    The route's `admit` takes the place the request was given here; a request that fails before it
    (401, 422) gives its place back when it ends.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in ANALYSIS_ROUTES:
            service = getattr(getattr(scope.get("app"), "state", None), "service", None)
            work = getattr(service, "work", None)
            if work is not None and work.saturated:
                await _send_problem(send, work.refusal(), scope.get("path", ""))
                return
            if work is not None:
                with work.entry() as entry:
                    await self.app(scope, receive, _leaving_on_answer(entry, send))
                return
        await self.app(scope, receive, send)


def _leaving_on_answer(entry: Entry, send: Send) -> Send:
    """`send` that gives the request's place back as its answer starts, when no slot took it (a 401 or 422):
    a client that sends its next request on reading this one's answer finds the place free."""
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            entry.leave()
        await send(message)
    return sending


async def _send_problem(send: Send, problem: Any, instance: str) -> None:
    body = json.dumps({"type": problem_type(problem.slug), "title": problem.title, "status": problem.status,
                       "detail": problem.detail, "instance": instance}).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
               *((k.lower().encode(), v.encode()) for k, v in problem.headers.items())]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestMetrics:
    """Count every HTTP request by method, route template and status, and time it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.metrics.record_request(scope["method"], _route(scope), status, time.perf_counter() - start)


def _route(scope: Scope) -> str:
    # The route template (/v1/clusters/{name}), not the path: one series per endpoint, not per name.
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "other"
