"""POST /v1/plan: the verified default-deny rollout of a snapshot, the same document as `netreason plan -o json`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from verifier.exposure import ExternalActors
from verifier.plan import make_plan, plan_json

from ..planfiles import parse_controllers, render_runbook, routed_backends
from .deps import State
from .manifests import Snapshot, load_snapshot
from .running import compute_truth

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
    format: Literal["json", "markdown"] = "json"


@router.post("/plan", summary="Plan the default-deny rollout: namespace by namespace, every step verified")
async def plan(body: PlanRequest, state: State) -> Response:
    """`plan.json` (or the runbook as markdown): per namespace DNS, the dependencies' allows, default deny."""
    loaded = await load_snapshot(body, state.store, field="manifests" if body.files is None else "files", strict=False)
    truth = await compute_truth(loaded, observed=None, infer=body.infer)
    defaults = ExternalActors()
    actors = ExternalActors(tuple(body.external_cidrs or defaults.cidrs),
                            parse_controllers(body.ingress_controllers) if body.ingress_controllers else defaults.controllers)

    def build() -> dict[str, Any]:
        result = make_plan(truth.bundle, [r.dependency for r in truth.dependencies], actors=actors,
                           backends=routed_backends(loaded.texts, body.namespace), replace=body.replace)
        return plan_json(result)

    doc = await run_in_threadpool(build)
    if body.format == "markdown":
        return Response(render_runbook(doc), media_type="text/markdown; charset=utf-8")
    return JSONResponse(doc)
