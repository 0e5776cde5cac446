"""Answering with a document in the format a request asked for: json, markdown, html or sarif."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

from fastapi.responses import JSONResponse, Response

from ..renderers import analysis as analysis_renderer
from ..renderers import sarif

Format = Literal["json", "markdown", "html", "sarif"]

SARIF_MEDIA_TYPE = "application/sarif+json"


def findings_sarif(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """SARIF 2.1.0 of findings (the `netreason lint --format sarif` renderer).

    Paths in the request are relative to the caller's repository root, so the log carries no
    `originalUriBaseIds`: the consumer (code scanning) supplies %SRCROOT% itself. A request's paths
    are never resolved on the server (`/proc/self/exe`, `../x.yaml` would disclose its files and
    directories): each becomes a repository-relative URI by string rules alone.
    """
    log = sarif.sarif_log([{**f, "file": None} for f in findings], root="/")
    for run in log["runs"]:
        run.pop("originalUriBaseIds", None)
        for finding, result in zip(findings, run["results"]):
            location = _request_location(finding)
            if location is not None:
                result["locations"] = [location]
    return log


def request_uri(path: str) -> str | None:
    """A request file path as a URI relative to the caller's repository root, by string rules alone:
    control characters and leading `/`, `./` and `../` are dropped; None when nothing is left."""
    cleaned = "".join(ch for ch in path.replace("\\", "/") if ch.isprintable())
    parts = [p for p in posixpath.normpath("/" + cleaned).split("/") if p not in ("", ".", "..")]
    return quote("/".join(parts)) if parts else None


def _request_location(f: dict[str, Any]) -> dict[str, Any] | None:
    uri = request_uri(str(f.get("file") or "")) if f.get("file") not in (None, "-") else None
    if uri is None:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if f.get("line"):
        physical["region"] = {"startLine": int(f["line"])}
    return {"physicalLocation": physical, "logicalLocations": [{"fullyQualifiedName": f["object"]}]}


def analysis_sarif(doc: dict[str, Any]) -> dict[str, Any]:
    """SARIF of an analysis document's findings."""
    return findings_sarif(doc["ground_truth"]["findings"])


def render(doc: dict[str, Any], fmt: Format, *, headers: dict[str, str] | None = None,
           status_code: int = 200, markdown: Callable[[dict[str, Any]], str] | None = None,
           html: Callable[[dict[str, Any]], str] | None = None,
           sarif: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Response:
    """`doc` as a response in `fmt`; the renderers default to those of an analysis document."""
    if fmt == "json":
        return JSONResponse(doc, status_code=status_code, headers=headers)
    if fmt == "sarif":
        return JSONResponse((sarif or analysis_sarif)(doc), status_code=status_code, headers=headers,
                            media_type=SARIF_MEDIA_TYPE)
    if fmt == "markdown":
        text = (markdown or analysis_renderer.render_markdown)(doc)
        return Response(text, status_code=status_code, headers=headers, media_type="text/markdown; charset=utf-8")
    text = (html or analysis_renderer.render_html)(doc)
    return Response(text, status_code=status_code, headers=headers, media_type="text/html; charset=utf-8")
