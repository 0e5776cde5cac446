"""POST /v1/lint: the review findings of a snapshot, the same document as `netreason lint`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from ..outputs import render_lint
from ..truth import lint_doc
from .deps import State
from .documents import document_response
from .manifests import Snapshot, load_snapshot
from .running import compute_truth
from .workpool import offload

router = APIRouter(prefix="/v1", tags=["review"])

LintFormat = Literal["json", "text", "markdown", "sarif"]


class LintRequest(Snapshot):
    """Manifests (or a stored cluster) plus optional deps and observed flows."""

    observed: str | list[dict[str, Any]] | None = Field(
        None, description="Observed flows: a Hubble export (`hubble observe -o json`) as text or records.")
    infer: bool = Field(True, description="Also infer dependencies from env values that name a Service.")
    format: LintFormat = "json"
    strict: bool = Field(False, description="Refuse manifests with validation errors (422) instead of reporting them.")
    fixes: bool = Field(True, description="Compute each finding's converged fixes (false: findings only, faster on "
                                          "large clusters).")


@router.post("/lint", summary="Lint manifests: findings, dependency verdicts, rollout coverage")
async def lint(body: LintRequest, state: State) -> Response:
    """The same document as `netreason lint --format json` (or its text, markdown or SARIF)."""
    async with state.work.admit():  # analysis-sized: a slot, and its CPU work on the bounded pool
        loaded = await load_snapshot(body, state.store, field="manifests" if body.files is None else "files",
                                     strict=body.strict)
        truth = await compute_truth(loaded, observed=body.observed, infer=body.infer, fixes=body.fixes)
        doc = await offload(lint_doc, truth)
        texts = truth.texts

        def render(d: dict[str, Any], fmt: str) -> str:
            return render_lint(d, fmt, texts=texts)
        return await offload(document_response, doc, body.format, render)
