"""A lint or diff document as a response, rendered by the same functions the CLI prints with."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse, Response

from .formats import SARIF_MEDIA_TYPE

MEDIA_TYPES = {"text": "text/plain; charset=utf-8", "markdown": "text/markdown; charset=utf-8"}


def document_response(doc: dict[str, Any], fmt: str, render: Callable[[dict[str, Any], str], str]) -> Response:
    """`doc` in `fmt`: JSON as is; SARIF without the server's own directory (the caller's checkout is the root)."""
    if fmt == "json":
        return JSONResponse(doc)
    if fmt == "sarif":
        log = json.loads(render(doc, "sarif"))
        for run in log.get("runs", ()):
            run.pop("originalUriBaseIds", None)
        return JSONResponse(log, media_type=SARIF_MEDIA_TYPE)
    return Response(render(doc, fmt), media_type=MEDIA_TYPES[fmt])
