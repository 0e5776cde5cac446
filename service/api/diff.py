"""POST /v1/diff: what a change does to flows, dependencies and findings, the same document as `netreason diff`.

`/v1/review` adds the model's checked summary and a PR comment on top of this diff.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..outputs import render_diff
from ..truth import diff_doc
from .deps import State
from .documents import document_response
from .manifests import Snapshot
from .running import bounded
from .sides import side_truths
from .workpool import offload

router = APIRouter(prefix="/v1", tags=["review"])

DiffFormat = Literal["json", "text", "markdown", "sarif"]


class DiffRequest(BaseModel):
    """The manifests before (`base`) and after (`head`); deps apply to both unless a side has its own."""

    model_config = ConfigDict(extra="forbid")

    base: Snapshot
    head: Snapshot
    deps: str | list[dict[str, Any]] | None = Field(None, description="Declared dependencies for both sides.")
    observed: str | list[dict[str, Any]] | None = Field(None, description="Observed flows (Hubble export), both sides.")
    format: DiffFormat = "json"
    strict: bool = False


@router.post("/diff", summary="Diff two snapshots: flows, outside egress, dependencies and findings that change")
async def diff(body: DiffRequest, state: State) -> Response:
    """The same document as `netreason diff --format json` (or its text, markdown or SARIF)."""
    async with state.work.admit():
        _, _, t_base, t_head = await side_truths(body.base, body.head, body.deps, state, strict=body.strict,
                                                 observed=body.observed)
        doc = await offload(diff_doc, t_base, t_head)
        return bounded(state, await offload(document_response, doc, body.format, render_diff))
