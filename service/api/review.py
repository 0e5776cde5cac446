"""POST /v1/review: what a change (base → head) does to flows, dependencies and findings, explained by the model.

This is the call a CI job makes on a pull request. The verifier's diff is the review; the model
(prompt `review@1`) summarizes it, and every claim it makes is checked against the head's ground truth.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .. import pipeline
from ..truth import diff_doc
from ..renderers.review import render_review_comment
from .results import analysis_link, render_review
from ..providers.specs import display_spec
from .deps import ServiceState, State
from ..store import new_analysis_id
from .formats import Format, findings_sarif
from .sides import side_truths
from .manifests import Snapshot
from ..blast import blast_radius
from ..scope import Scope
from .running import bounded, bounded_json_size, choose_model, prompt_ref, run_model
from .workpool import offload

router = APIRouter(prefix="/v1", tags=["review"])

#: Lines per diff section handed to the model; the rest is summarized as a count.
MAX_PROMPT_LINES = 200

ReviewStatus = Literal["breaks-dependencies", "introduces-findings", "clean"]


class ReviewRequest(BaseModel):
    """The manifests before (`base`) and after (`head`) a change; deps apply to both unless a side has its own."""

    model_config = ConfigDict(extra="forbid")

    base: Snapshot
    head: Snapshot
    deps: str | list[dict[str, Any]] | None = Field(None, description="Declared dependencies for both sides.")
    model: str | None = Field(None, description="Model spec (default: NETREASON_MODEL; none: the diff alone).")
    prompt: str = Field("review@1", description="Prompt NAME[@VERSION] given the diff.")
    format: Format = Field("json",
                           description="json: everything; markdown: the PR comment; sarif: introduced findings.")
    strict: bool = False
    anonymize: bool = False
    timeout_s: float | None = Field(None, gt=0)
    save: bool = Field(True, description="Keep the result, linkable at /v1/analyses/{id}.")


def _lines(items: list[str]) -> str:
    if not items:
        return "none"
    shown = items[:MAX_PROMPT_LINES]
    more = [f"... and {len(items) - len(shown)} more"] if len(items) > len(shown) else []
    return "\n".join(shown + more)


def _flow_line(f: dict[str, Any]) -> str:
    ports = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in f["ports"])
    return f"{f['from']} -> {f['to']} {f['protocol']}/{ports}"


def prompt_variables(diff: dict[str, Any]) -> dict[str, str]:
    """The `review@1` variables from a diff document: one line per flow or finding."""
    def finding(f: dict[str, Any]) -> str:
        return f"{f['rule']} {f['object']}: {f['message']}"

    def outside(e: dict[str, Any]) -> dict[str, Any]:
        return {"from": e["workload"], "to": f"{e['cidr']} (outside)", **e}

    return {
        "flows_added": _lines([_flow_line(f) for f in diff["flows_added"]]
                              + [_flow_line(outside(e)) for e in diff.get("external_added", [])]),
        "flows_removed": _lines([_flow_line(f) for f in diff["flows_removed"]]
                                + [_flow_line(outside(e)) for e in diff.get("external_removed", [])]),
        "findings_introduced": _lines([finding(f) for f in diff["findings_introduced"]]),
        "findings_resolved": _lines([finding(f) for f in diff["findings_resolved"]]),
    }


def review_status(diff: dict[str, Any]) -> ReviewStatus:
    """What a CI job gates on: a broken dependency first, then any introduced finding."""
    if diff["dependencies_broken"]:
        return "breaks-dependencies"
    return "introduces-findings" if diff["findings_introduced"] else "clean"


@router.post("/review", summary="Review a change: the diff, the model's checked summary, a PR comment, SARIF")
async def review(body: ReviewRequest, state: State) -> Response:
    """Diff base → head; ask the model to explain it; check its claims against the head's ground truth."""
    spec = choose_model(body.model, state)
    ref = prompt_ref(body.prompt)
    async with state.work.admit():
        return await _review(body, state, spec, ref)


async def _review(body: ReviewRequest, state: ServiceState, spec: str | None, ref: str) -> Response:
    # Each side's truth is computed once; the diff and the model's check reuse them.
    base, head, t_base, t_head = await side_truths(body.base, body.head, body.deps, state, strict=body.strict)
    diff = await offload(diff_doc, t_base, t_head)
    timeout = state.settings.model_timeout(body.timeout_s)
    # The model is asked about the change's blast radius only; its claims are checked against the whole head.
    radius = await offload(blast_radius, diff, t_head)
    options = pipeline.SliceOptions(scope=Scope(workloads=tuple(radius))) if radius else pipeline.SliceOptions()
    result = await run_model(t_head, spec=spec, state=state, prompt=ref, timeout_s=timeout,
                             anonymize=body.anonymize, variables=prompt_variables(diff), options=options)
    analysis = await offload(pipeline.analysis_json, result)
    state.metrics.record_model(analysis["model"])
    analysis_id = new_analysis_id() if body.save else None
    report_url = analysis_link(state, analysis_id, "html", signed=True) if analysis_id else None
    doc: dict[str, Any] = {"schema": "netreason.review/v1", "status": review_status(diff), "base": base.ref,
                           "head": head.ref, "diff": diff, "analysis": analysis, "id": analysis_id,
                           "report_url": report_url}
    doc["comment_markdown"] = await offload(render_review_comment, doc, report_url)
    doc["sarif"] = await offload(findings_sarif, diff["findings_introduced"])
    await offload(bounded_json_size, state, doc, "review")
    headers: dict[str, str] = {}
    if analysis_id:
        summary = {"base": base.ref, "head": head.ref, "model": display_spec(spec), "prompt": ref,
                   "strict": body.strict}
        await run_in_threadpool(state.store.save_analysis, "review", summary, doc, analysis_id)
        headers = {"Location": analysis_link(state, analysis_id, "json"), "X-Netreason-Analysis-Id": analysis_id}
    return bounded(state, await offload(render_review, doc, body.format, headers=headers))

