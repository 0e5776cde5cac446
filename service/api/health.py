"""Unauthenticated operational endpoints: liveness, readiness (database reachable), Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from ..metrics import CONTENT_TYPE
from .deps import State
from .probes import readyz_response

router = APIRouter(tags=["operations"])


# `probes.HealthProbes` answers these two ahead of routing; the routes document them and answer the same.
@router.get("/healthz", summary="Liveness: the process serves requests")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers")
async def readyz(state: State) -> JSONResponse:
    """200 when a trivial query succeeds, else 503 (the error goes to the log, not the response)."""
    return await readyz_response(state.store)


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics (text format 0.0.4)")
async def metrics(state: State) -> PlainTextResponse:
    return PlainTextResponse(state.metrics.render(), media_type=CONTENT_TYPE)
