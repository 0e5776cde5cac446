"""Every error the API returns, as RFC 7807 problem details (`application/problem+json`).

One handler maps exception types to statuses, most specific type first (as polar does). Problems
about manifests carry an `errors` list with the `file`, `line` and `field` of each one. Unexpected
exceptions become a bare 500: their text may hold secrets or internals, so it goes to the log only.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from prompts.library import PromptError
from verifier.model.errors import InputError, ManifestSyntaxError, NetreasonError, UnknownWorkload, ValidationFailed
from verifier.engine.export import issue_json

from ..links import LinkExpired, LinkInvalid
from ..providers.errors import ProviderConfigError
from ..store import NotFound, StoreError

log = logging.getLogger("netreason.api")

PROBLEM_JSON = "application/problem+json"

#: (exception type, HTTP status, problem slug, title); the first type that matches wins.
_MAPPING: list[tuple[type[Exception], int, str, str]] = [
    (ValidationFailed, 422, "validation-failed", "Manifests failed validation"),
    (ManifestSyntaxError, 422, "manifest-syntax", "Manifests are not valid YAML or JSON"),
    (UnknownWorkload, 422, "unknown-workload", "No such workload"),
    (InputError, 422, "bad-input", "Bad input"),
    (NotFound, 404, "not-found", "Not found"),
    (PromptError, 422, "bad-prompt", "Bad prompt"),
    (ProviderConfigError, 422, "bad-model", "Model cannot be used"),
    (StoreError, 503, "store-unavailable", "Database unavailable"),
    (LinkExpired, 403, "link-expired", "Report link expired"),
    (LinkInvalid, 403, "link-invalid", "Report link not valid"),
    (NetreasonError, 400, "bad-request", "Bad request"),
]


class ApiProblem(Exception):
    """Raise from a route to answer with a problem: `status`, a slug for `type`, a title and a detail."""

    def __init__(self, status: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None,
                 **extensions: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}
        self.extensions = extensions


def problem_type(slug: str) -> str:
    """The `type` URI of a problem: a URN, since no documentation site is promised."""
    return f"urn:netreason:problem:{slug}"


def problem(status: int, slug: str, title: str, detail: str, instance: str = "",
            headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {"type": problem_type(slug), "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _error_items(exc: Exception) -> list[dict[str, Any]]:
    """The located problems of an input error: one per issue, each with file, line and field."""
    if isinstance(exc, ValidationFailed):
        return [issue_json(i) for i in exc.issues]
    if isinstance(exc, InputError):
        src = exc.source
        return [{"severity": "error", "message": exc.detail, "field": exc.field_path, "object": "",
                 "file": src.file if src else None, "line": src.line if src else None, "text": str(exc)}]
    return []


async def netreason_error(request: Request, exc: Exception) -> JSONResponse:
    """Map a NetreasonError (and the few other expected types) to its status and problem."""
    for kind, status, slug, title in _MAPPING:
        if isinstance(exc, kind):
            errors = _error_items(exc)
            if errors:
                return problem(status, slug, title, str(exc), request.url.path, errors=errors)
            return problem(status, slug, title, str(exc), request.url.path)
    return await unexpected_error(request, exc)


async def api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem(exc.status, exc.slug, exc.title, exc.detail, request.url.path, exc.headers, **exc.extensions)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem(exc.status_code, slug, _reason(exc.status_code), str(exc.detail), request.url.path,
                   dict(exc.headers or {}))


async def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A request body that does not match the endpoint's schema: each error with its JSON path."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
              for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(422, "invalid-request", "Request body does not match the schema", detail, request.url.path,
                   errors=errors)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The message may carry internals (paths, SQL, keys in URLs): log it, never return it.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal", "Internal server error", "the server failed; the log has the details",
                   request.url.path)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install(app: FastAPI) -> None:
    """Register every handler on `app`."""
    app.add_exception_handler(ApiProblem, api_problem)
    app.add_exception_handler(NetreasonError, netreason_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(Exception, unexpected_error)
