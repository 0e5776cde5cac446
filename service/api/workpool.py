"""Heavy work (parsing, the verifier, rendering) on a bounded pool, with admission control.

Every analysis-sized request (`/v1/analyze`, `/v1/review`, `/v1/chat`, Slack answers) first takes one
of NETREASON_MAX_ACTIVE_ANALYSES slots; up to NETREASON_MAX_QUEUED_ANALYSES more wait for one, and
beyond that the request is refused at once with 503 and `Retry-After`. Inside a slot, CPU work runs on
the pool's own NETREASON_WORK_THREADS threads (`offload`), never on the event loop and never on the
thread pool that `/readyz` and the store share, so `/healthz` and `/readyz` answer while the pool is busy.
The number of admitted requests also bounds memory: each holds its bundle and truth until it answers.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from .errors import ApiProblem

T = TypeVar("T")

_CURRENT: contextvars.ContextVar[WorkPool | None] = contextvars.ContextVar("netreason_work_pool", default=None)


class Saturated(ApiProblem):
    """503: every slot is taken and the queue is full."""

    def __init__(self, retry_after_s: int, active: int, queued: int) -> None:
        super().__init__(503, "busy", "Server busy",
                         f"{active} analyses are running and {queued} waiting, the most this server takes "
                         f"(NETREASON_MAX_ACTIVE_ANALYSES, NETREASON_MAX_QUEUED_ANALYSES); retry after "
                         f"{retry_after_s}s", headers={"Retry-After": str(retry_after_s)})


class WorkPool:
    """Slots for analysis-sized requests and the threads their CPU work runs on."""

    def __init__(self, *, threads: int, max_active: int, max_queued: int, retry_after_s: int = 2) -> None:
        self.max_active, self.max_queued, self.retry_after_s = max_active, max_queued, retry_after_s
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="netreason-work")
        self._slots = asyncio.Semaphore(max_active)
        self.active = 0
        self.queued = 0

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold a slot for the block; `offload` inside it runs on this pool.

        Raises:
            Saturated: every slot is taken and NETREASON_MAX_QUEUED_ANALYSES requests already wait.
        """
        if self.active >= self.max_active and self.queued >= self.max_queued:
            raise Saturated(self.retry_after_s, self.active, self.queued)
        self.queued += 1
        try:
            await self._slots.acquire()
        finally:
            self.queued -= 1
        self.active += 1
        token = _CURRENT.set(self)
        try:
            yield
        finally:
            _CURRENT.reset(token)
            self.active -= 1
            self._slots.release()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on one of the pool's threads."""
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, functools.partial(ctx.run, fn, *args, **kwargs))

    def shutdown(self) -> None:
        """Stop the threads (queued work is cancelled; running work finishes on its own)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


async def offload(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run CPU work off the event loop: on the admitted request's pool, else on Starlette's threads."""
    pool = _CURRENT.get()
    if pool is None:
        return await run_in_threadpool(fn, *args, **kwargs)
    return await pool.run(fn, *args, **kwargs)
