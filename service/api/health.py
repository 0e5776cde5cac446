"""Unauthenticated operational endpoints: liveness, readiness (database reachable), Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from ..metrics import CONTENT_TYPE
from .deps import State
from .errors import problem

router = APIRouter(tags=["operations"])
log = logging.getLogger("netreason.api")


@router.get("/healthz", summary="Liveness: the process serves requests")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers")
async def readyz(state: State) -> JSONResponse:
    """200 when a trivial query succeeds, else 503 (the error goes to the log, not the response)."""
    try:
        await run_in_threadpool(state.store.ping)
    except SQLAlchemyError as e:
        log.warning("readiness check failed: database unreachable (%s)", type(e).__name__)
        return problem(503, "not-ready", "Not ready", "the database is unreachable", "/readyz")
    return JSONResponse({"status": "ready", "database": state.store.engine.dialect.name})


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics (text format 0.0.4)")
async def metrics(state: State) -> PlainTextResponse:
    return PlainTextResponse(state.metrics.render(), media_type=CONTENT_TYPE)
