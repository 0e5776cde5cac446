"""GET /v1/analyses/{id}: a stored analysis, review or chat turn; and the links to it.

This route has its own auth (`deps.require_token_or_link`): a bearer token as on every /v1 route, or a
signed link (`service.links`), which is what reports posted to Slack and returned as `report_url` carry,
so that people who hold no API token can open them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .deps import ServiceState, State, require_token_or_link
from .formats import Format, render

router = APIRouter(prefix="/v1", tags=["analysis"])


def analysis_link(state: ServiceState, analysis_id: str, fmt: str = "html", *, signed: bool = False) -> str:
    """Where a stored analysis can be read (absolute when NETREASON_PUBLIC_URL is set).

    `signed` links open without a bearer token until NETREASON_LINK_TTL_S has passed: use them for
    people (Slack, PR comments), and plain links for API clients, which hold a token.
    """
    url = f"{state.settings.public_url.rstrip('/')}/v1/analyses/{analysis_id}?format={fmt}"
    return f"{url}&{state.signed_link_query(analysis_id)}" if signed else url


@router.get("/analyses/{analysis_id}", summary="A stored analysis or review, in the format asked for",
            dependencies=[Depends(require_token_or_link)])
async def get_analysis(analysis_id: str, state: State,
                       format: Format = Query("json")) -> Response:  # noqa: A002 (the public parameter name)
    """A result kept by POST /v1/analyze, /v1/review or /v1/chat; a bearer token or a signed link opens it.

    Raises:
        AnalysisNotFound: 404. ApiProblem: 401 without either. LinkInvalid, LinkExpired: 403.
    """
    stored = await run_in_threadpool(state.store.get_analysis, analysis_id)
    if stored.kind == "chat":
        from .chat import render_chat_report

        return render_chat_report(stored.result, format)
    if stored.kind == "review":
        from .review import render_review

        return render_review(stored.result, format)
    return render(stored.result, format)
