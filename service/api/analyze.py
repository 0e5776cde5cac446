"""POST /v1/analyze: ground truth, the model's claims checked, findings (stored results: `analyses.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from .. import pipeline
from ..budgets import budget_for
from ..scoping import apply_scope, check_scope, resolve_focus
from ..scope import Scope
from ..truth import Truth
from .results import analysis_link
from ..providers.specs import display_spec
from .deps import ServiceState, State
from .encoded import EncodedJson
from .formats import Format, render
from .manifests import Snapshot, load_snapshot
from .running import bounded, choose_model, compute_truth, encode_bounded, prompt_ref, run_model, within_budget
from .workpool import offload

router = APIRouter(prefix="/v1", tags=["analysis"])


class ScopeRequest(BaseModel):
    """Analyze part of the cluster: whole namespaces, or one workload and its neighbourhood."""

    namespaces: list[str] = Field(default_factory=list, description="Namespaces to ask and report on.")
    focus: str | None = Field(None, description="One workload (namespace/name): it, the policies that select it, "
                                                "what it reaches and what reaches it.")


class AnalyzeRequest(Snapshot):
    """Manifests (or a stored cluster) plus optional deps, model and prompt."""

    observed: str | list[dict[str, Any]] | None = Field(
        None, description="Observed flows: a Hubble export (`hubble observe -o json`) as text or records.")
    infer: bool = Field(True, description="Also infer dependencies from env values that name a Service.")
    model: str | None = Field(None, description="Model spec (default: NETREASON_MODEL; none: ground truth only).",
                              examples=["openai:gpt-4.1-mini"])
    prompt: str = Field("flows@1", description="Prompt NAME[@VERSION]: flows, breakage, dns, review, ask.")
    format: Format = "json"
    strict: bool = Field(False, description="Refuse manifests with validation errors (422) instead of reporting them.")
    anonymize: bool = Field(False, description="Pseudonymize names and labels in the prompt.")
    timeout_s: float | None = Field(None, gt=0, description="Seconds to wait for the model (capped by the server).")
    save: bool = Field(True, description="Keep the result, linkable at /v1/analyses/{id}.")
    scope: ScopeRequest | None = Field(None, description="Ask and report on part of the cluster only; claims are "
                                                         "still checked against the whole cluster.")
    budget: str | None = Field(None, description="The model's context and output limit in tokens (CONTEXT[:OUTPUT]); "
                                                 "clusters over it are asked in slices.", examples=["128k:16k"])
    map_namespace: str | None = Field(None, max_length=253,
                                      description="format=html: the namespace whose workloads the map details when "
                                                  "the cluster is too large for one map (default: the most broken).")


@router.post("/analyze", summary="Analyze manifests: ground truth beside the model's checked claims")
async def analyze(body: AnalyzeRequest, state: State) -> Response:
    """The same document as `netreason analyze --format json` (or markdown, html, sarif of it).

    When saved, the `Location` header links the stored result.
    """
    spec = choose_model(body.model, state)
    ref = prompt_ref(body.prompt)
    field = "files" if body.files is not None else "manifests"
    async with state.work.admit():
        loaded = await load_snapshot(body, state.store, field=field, strict=body.strict)
        within_budget(state, loaded)
        truth = await compute_truth(loaded, observed=body.observed, infer=body.infer)
        scope = _scope(truth, body.scope)
        budget_for(spec, body.budget)  # an unreadable budget is a 422 before any work
        timeout = state.settings.model_timeout(body.timeout_s)
        options = pipeline.SliceOptions(budget=body.budget, scope=scope)
        result = await run_model(truth, spec=spec, state=state, prompt=ref, timeout_s=timeout,
                                 anonymize=body.anonymize, options=options)
        # The document is encoded once, on the pool: the size check, the stored copy and a JSON answer share it.
        encoded = await offload(_encoded_document, state, result, truth, scope)
        doc = encoded.doc
        state.metrics.record_model(doc["model"])
        headers = {}
        if body.save:
            summary = {"source": loaded.ref, "model": display_spec(spec), "prompt": ref, "strict": body.strict}
            stored = await run_in_threadpool(state.store.save_analysis, "analyze", summary, encoded.stored())
            headers = {"Location": analysis_link(state, stored.id, "json"), "X-Netreason-Analysis-Id": stored.id}
        if body.format == "json":
            return bounded(state, encoded.response(headers))
        # Serializing is CPU work too: built on the pool, off the event loop.
        html = _html_for(body.map_namespace)
        return bounded(state, await offload(render, doc, body.format, headers=headers, html=html))


def _encoded_document(state: ServiceState, result: pipeline.Analysis, truth: Truth, scope: Scope) -> EncodedJson:
    """The analysis document of `result` within `scope`, encoded (422 when over the response size limit)."""
    return encode_bounded(state, apply_scope(pipeline.analysis_json(result), truth, scope), "analysis")


def _html_for(map_namespace: str | None) -> Callable[[dict[str, Any]], str] | None:
    """The HTML renderer with the map detailing `map_namespace`, or the default one."""
    if map_namespace is None:
        return None
    from ..renderers.report import render_report

    return lambda doc: render_report(doc, focus=map_namespace)


def _scope(truth: Truth, req: ScopeRequest | None) -> Scope:
    """The request's scope, checked against the manifests (ScopeError: 422)."""
    if req is None:
        return Scope()
    scope = Scope(tuple(dict.fromkeys(req.namespaces)), resolve_focus(truth, req.focus) if req.focus else None)
    check_scope(truth, scope)
    return scope
