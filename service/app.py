"""The FastAPI application: `create_app()` wires settings, store, metrics, middleware and routers.

The database is opened (and its schema created or migrated) in the lifespan, so importing this module
touches nothing; `netreason serve` and the tests call `create_app(settings)` and run it under uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from .api import V1_ROUTERS, errors, public_routers
from .api.access_log import scrub_access_log
from .api.listener import listen_on_own_sockets, own_sockets_wanted
from .api.deps import ServiceState, require_token
from .api.workpool import WorkPool
from .api.probes import HealthProbes
from .api.middleware import BodySizeLimit, RequestMetrics, ShedWhenSaturated
from .links import resolve_link_secret
from .memtrim import FULL_COLLECTION_EVERY_S, server_heap
from .metrics import Metrics
from .model_loop import ModelLoop, OffLoopProvider
from .provider_pool import ProviderPool
from .providers.registry import get_provider
from .settings import Settings
from .store import Store, safe_url

log = logging.getLogger("netreason.api")

API_VERSION = "v1"


def _lifespan(settings: Settings, metrics: Metrics) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if own_sockets_wanted():  # before uvicorn starts serving, which it does after this startup
            listen_on_own_sockets(asyncio.get_running_loop())
        store = await run_in_threadpool(Store.open, settings.database_url)
        log.info("database ready: %s", safe_url(settings.database_url))
        link_secret = await run_in_threadpool(resolve_link_secret, settings.link_secret, store)
        await run_in_threadpool(warm_up)
        work = WorkPool(threads=settings.work_threads, max_active=settings.max_active_analyses,
                        max_queued=settings.max_queued_analyses, max_cpu_s=settings.max_request_cpu_s)
        models = ModelLoop()
        providers = ProviderPool(factory=lambda spec: OffLoopProvider(get_provider(spec), models))
        app.state.service = ServiceState(settings, store, metrics, providers=providers, work=work,
                                         link_secret=link_secret)
        collector = asyncio.create_task(work.collect_every(FULL_COLLECTION_EVERY_S))
        try:
            with server_heap():
                yield
        finally:
            collector.cancel()
            work.shutdown()
            await app.state.service.providers.aclose()
            models.close()
            store.close()
    return lifespan


def warm_up() -> None:
    """Load the prompt library once before serving: every analysis route checks its prompt on the event
    loop, and the first load (templates, schemas) would hold the loop, and /healthz with it. (Model SDKs
    are imported off the loop when their first provider is built: `provider_pool`.)"""
    from prompts.library import list_prompts

    list_prompts()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The netreason HTTP API (OpenAPI at /docs); `settings` default to the environment's.

    Raises:
        pydantic.ValidationError: a NETREASON_* variable has a value of the wrong type.
    """
    settings = settings or Settings()
    metrics = Metrics()
    app = FastAPI(
        title="netreason",
        summary="Which pods can talk to which under your NetworkPolicies, with every model claim checked.",
        version=API_VERSION,
        lifespan=_lifespan(settings, metrics),
    )
    errors.install(app)
    scrub_access_log()  # here too: `--workers N` builds the app in each worker process
    # Added innermost first: metrics see every request, 413s included (the probes count themselves).
    app.add_middleware(ShedWhenSaturated)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(HealthProbes, metrics=metrics)  # outermost: probes skip everything else
    for router in V1_ROUTERS:
        app.include_router(router, dependencies=[Depends(require_token)])
    for router in public_routers(settings):
        app.include_router(router)
    return app
