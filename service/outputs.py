"""The one set of renderings of the truth's documents, shared by the CLI and the HTTP API.

Each document kind (lint, diff, analysis) has its formats here; `netreason lint -o X` and
`POST /v1/lint {"format": "X"}` call the same function on the same document, so they print the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

LINT_FORMATS = ("text", "json", "sarif", "markdown")
DIFF_FORMATS = LINT_FORMATS
ANALYSIS_FORMATS = ("text", "markdown", "html", "json")

Renderer = Callable[[dict[str, Any]], str]


def _json(doc: dict[str, Any]) -> str:
    from .renderers.jsontext import dumps_indented

    return dumps_indented(doc)


def _lint_renderers() -> dict[str, Renderer]:
    from .renderers import findings
    from .renderers.sarif import render_sarif

    return {"json": _json, "markdown": findings.render_markdown, "text": findings.render_text, "sarif": render_sarif}


def _diff_renderers() -> dict[str, Renderer]:
    from .renderers import findings
    from .renderers.sarif import sarif_log

    return {"json": _json, "text": findings.render_diff_text, "markdown": findings.render_diff_markdown,
            "sarif": lambda d: _json(sarif_log(d["findings_introduced"]))}


def _analysis_renderers() -> dict[str, Renderer]:
    from .renderers import analysis

    return {"json": _json, "markdown": analysis.render_markdown, "html": analysis.render_html,
            "text": analysis.render_text}


def command_output(doc: dict[str, Any], fmt: str, render: Callable[[dict[str, Any], str], str]) -> str | bytes:
    """What a command writes for `doc` in `fmt`: `render(doc, fmt)`, except JSON, which is the encoder's bytes
    themselves (`render` gives the same text decoded; an 18 MB document is not decoded to be encoded again)."""
    if fmt == "json":
        from .renderers.jsontext import dumps_indented_bytes

        return dumps_indented_bytes(doc)
    return render(doc, fmt)


def render_lint(doc: dict[str, Any], fmt: str, texts: Mapping[str, str] | None = None) -> str:
    """A `netreason.lint/v1` document as text, json, sarif or markdown.

    `texts` (the input files by name) let SARIF fixes say which lines a patch replaces.
    """
    if fmt == "json":  # the other formats' renderers (SARIF's, the text ones) are not even imported
        return _json(doc)
    if fmt == "sarif" and texts:
        from .renderers.sarif import render_sarif

        return render_sarif(doc, texts=texts)
    return _lint_renderers()[fmt](doc)


def render_diff(doc: dict[str, Any], fmt: str) -> str:
    """A `netreason.diff/v1` document as text, json, sarif (introduced findings) or markdown."""
    return _json(doc) if fmt == "json" else _diff_renderers()[fmt](doc)


def render_analysis(doc: dict[str, Any], fmt: str) -> str:
    """A `netreason.analysis/v1` document as text, markdown, html or json."""
    return _json(doc) if fmt == "json" else _analysis_renderers()[fmt](doc)  # json: rich and HTML not imported
