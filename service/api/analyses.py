"""GET /v1/analyses/{id}: a stored analysis, review or chat turn; and the links to it.

This route has its own auth (`deps.require_token_or_link`): a bearer token as on every /v1 route, or a
signed link (`service.links`), which is what reports posted to Slack and returned as `report_url` carry,
so that people who hold no API token can open them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .deps import State, require_token_or_link
from .formats import Format
from .results import render_stored

router = APIRouter(prefix="/v1", tags=["analysis"])


@router.get("/analyses/{analysis_id}", summary="A stored analysis or review, in the format asked for",
            dependencies=[Depends(require_token_or_link)])
async def get_analysis(analysis_id: str, state: State,
                       format: Format = Query("json")) -> Response:
    """A result kept by POST /v1/analyze, /v1/review or /v1/chat; a bearer token or a signed link opens it.

    Raises:
        AnalysisNotFound: 404. ApiProblem: 401 without either. LinkInvalid, LinkExpired: 403.
    """
    stored = await run_in_threadpool(state.store.get_analysis, analysis_id)
    return render_stored(stored.kind, stored.result, format)
