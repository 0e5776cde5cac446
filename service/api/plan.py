"""POST /v1/plan: the verified default-deny rollout of a snapshot, the same document as `netreason plan -o json`.

With a model (the request's, else NETREASON_MODEL), prompt `plan@1` explains the plan and every claim is
checked against the manifests after the plan, as `netreason plan --model` does (`explanation`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field

from verifier.review.exposure import ExternalActors
from verifier.rollout.plan import Plan, make_plan, plan_json

from ..plan_explain import PLAN_PROMPT, after_truth, plan_variables, with_explanation
from ..planfiles import parse_controllers, render_runbook, routed_backends
from ..truth import Truth, truth_json
from .. import pipeline
from .deps import ServiceState, State
from .manifests import LoadedSnapshot, Snapshot, load_snapshot
from .running import bounded, bounded_json_size, choose_model, compute_truth, prompt_ref, run_model, within_budget
from .workpool import offload

router = APIRouter(prefix="/v1", tags=["review"])


class PlanRequest(Snapshot):
    """Manifests (or a stored cluster), the dependencies, and who outside ingress comes from."""

    replace: bool = Field(False, description="Replace each namespace's existing policies instead of keeping them.")
    external_cidrs: list[str] | None = Field(
        None, description="Where outside ingress to LoadBalancer/NodePort workloads comes from (default 0.0.0.0/0).")
    ingress_controllers: list[str] | None = Field(
        None, description="Ingress controller pods as NS or NS/key=value,... (default ingress-nginx/"
                          "app.kubernetes.io/name=ingress-nginx).")
    infer: bool = Field(True, description="Also infer dependencies from env values that name a Service.")
    format: Literal["json", "markdown", "html"] = "json"
    model: str | None = Field(None, description="Model spec to explain the plan (default: NETREASON_MODEL; none: "
                                                "the plan alone).")
    prompt: str = Field(PLAN_PROMPT, description="Prompt NAME[@VERSION] for the explanation.")
    anonymize: bool = Field(False, description="Pseudonymize names and labels in the prompt.")
    timeout_s: float | None = Field(None, gt=0, description="Seconds to wait for the model (capped by the server).")


@router.post("/plan", summary="Plan the default-deny rollout: namespace by namespace, every step verified")
async def plan(body: PlanRequest, state: State) -> Response:
    """`plan.json` (or the runbook as markdown): per namespace DNS, the dependencies' allows, default deny;
    with a model, its explanation with every claim checked (`explanation`)."""
    spec = choose_model(body.model, state)
    ref = prompt_ref(body.prompt)
    async with state.work.admit():
        loaded = await load_snapshot(body, state.store, field="manifests" if body.files is None else "files",
                                     strict=False)
        within_budget(state, loaded)
        truth = await compute_truth(loaded, observed=None, infer=body.infer)
        result = await offload(_make_plan, body, loaded, truth)
        doc = plan_json(result)
        after = await offload(after_truth, truth, result, deps=loaded.deps, deps_origin=loaded.deps_origin,
                              infer=body.infer) if spec or body.format == "html" else None
        if spec is not None and after is not None:
            doc = await _explained(doc, after, body, state, spec, ref)
        if body.format == "html" and after is not None:
            doc = {**doc, "after": await offload(truth_json, after)}
        await offload(bounded_json_size, state, doc, "plan")
        return bounded(state, await offload(_render, doc, body.format))


def _make_plan(body: PlanRequest, loaded: LoadedSnapshot, truth: Truth) -> Plan:
    defaults = ExternalActors()
    actors = ExternalActors(tuple(body.external_cidrs or defaults.cidrs),
                            parse_controllers(body.ingress_controllers) if body.ingress_controllers
                            else defaults.controllers)
    return make_plan(truth.bundle, [r.dependency for r in truth.dependencies], actors=actors,
                     backends=routed_backends(loaded.texts, body.namespace), replace=body.replace)


async def _explained(doc: dict[str, Any], after: Truth, body: PlanRequest, state: ServiceState, spec: str,
                     ref: str) -> dict[str, Any]:
    """`doc` with the model's explanation, its claims checked against `after` (the same path as /v1/analyze)."""
    analysis = await run_model(after, spec=spec, state=state, prompt=ref,
                               timeout_s=state.settings.model_timeout(body.timeout_s),
                               anonymize=body.anonymize, variables=plan_variables(doc))
    checked = await offload(pipeline.analysis_json, analysis)
    state.metrics.record_model(checked["model"])
    return with_explanation(doc, checked)


def _render(doc: dict[str, Any], fmt: str) -> Response:
    if fmt == "html":
        from ..renderers.report import render_report

        return HTMLResponse(render_report(doc))
    if fmt == "markdown":
        return Response(render_runbook(doc), media_type="text/markdown; charset=utf-8")
    return JSONResponse(doc)
