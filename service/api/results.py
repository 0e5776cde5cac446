"""Stored results as the routes return them: the links to them, and a stored chat turn or review in each format.

`GET /v1/analyses/{id}` serves what POST /v1/analyze, /v1/review and /v1/chat stored; those routes link to
it. Both sides use this module, so no router imports another.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from ..renderers.chat import render_reply_markdown
from ..renderers.review import render_review_html
from .deps import ServiceState
from .formats import Format, analysis_sarif, render


def analysis_link(state: ServiceState, analysis_id: str, fmt: str = "html", *, signed: bool = False) -> str:
    """Where a stored analysis can be read (absolute when NETREASON_PUBLIC_URL is set).

    `signed` links open without a bearer token until NETREASON_LINK_TTL_S has passed: use them for
    people (Slack, PR comments), and plain links for API clients, which hold a token.
    """
    url = f"{state.settings.public_url.rstrip('/')}/v1/analyses/{analysis_id}?format={fmt}"
    return f"{url}&{state.signed_link_query(analysis_id)}" if signed else url


def render_stored(kind: str, doc: dict[str, Any], fmt: Format) -> Response:
    """A stored result of `kind` (analysis, review or chat) in `fmt`."""
    if kind == "chat":
        return render_chat_report(doc, fmt)
    if kind == "review":
        return render_review(doc, fmt)
    return render(doc, fmt)


def render_review(doc: dict[str, Any], fmt: Format, *, headers: dict[str, str] | None = None) -> Response:
    """A review document in `fmt`: json (all of it), markdown (the PR comment), sarif (introduced findings),
    html (one page: the verifier's diff beside the model's checked summary)."""
    return render(doc, fmt, headers=headers, markdown=lambda d: d["comment_markdown"],
                  html=render_review_html, sarif=lambda d: d["sarif"])


def render_chat_report(doc: dict[str, Any], fmt: Format) -> Response:
    """A stored chat turn in `fmt`: every verdict (not the reply's summary), then the analysis behind it."""
    full = {**doc, "report_url": None}
    return render(doc, fmt, markdown=lambda d: _report_markdown(full), html=lambda d: _report_html(full),
                  sarif=lambda d: analysis_sarif(d["analysis"]))


def _report_markdown(doc: dict[str, Any]) -> str:
    from ..renderers.analysis import render_markdown

    body = render_reply_markdown(doc, max_verdicts=None)
    return body + ("\n" + render_markdown(doc["analysis"]) if doc.get("analysis") else "")


def _report_html(doc: dict[str, Any]) -> str:
    from ..renderers.report import render_report

    return render_report(doc)
