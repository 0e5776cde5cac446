"""Heavy work (parsing, the verifier, rendering) on a bounded pool, with admission control.

Every analysis-sized request (`/v1/analyze`, `/v1/review`, `/v1/chat`, Slack answers) first takes one
of NETREASON_MAX_ACTIVE_ANALYSES slots; up to NETREASON_MAX_QUEUED_ANALYSES more wait for one, and
beyond that the request is refused at once with 503 and `Retry-After`. The routes' requests are counted
from the edge of the app (`entry`, before their body is read), not from when the route asks for a slot:
in a herd of connections every body would otherwise be read and parsed on the event loop before the
first of them reached `admit`, only to be refused there. Inside a slot, CPU work runs on
the pool's own NETREASON_WORK_THREADS threads (`offload`), never on the event loop and never on the
thread pool that `/readyz` and the store share, so `/healthz` and `/readyz` answer while the pool is busy.
The number of admitted requests also bounds memory: each holds its bundle and truth until it answers.
Once the pool has been idle for IDLE_RELEASE_S, the memory the requests freed is handed back to the OS on
one of its threads (`service.memtrim`): glibc would otherwise keep it mapped after a burst.

Each admitted request also has a CPU budget (NETREASON_MAX_REQUEST_CPU_S): the CPU time its work uses on
the pool's threads, read from the thread's own CPU clock. Past it the request gets 422
`cpu-budget-exceeded` at once, even while a step is still running; that step cannot be interrupted (a
thread cannot be killed), so it is abandoned: it finishes on its pool thread, its result is dropped, and
nothing after it runs or is stored. The pool's fixed threads bound how much abandoned work there can be.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from ..cpu import use_executor
from ..memtrim import release_memory
from .errors import ApiProblem

T = TypeVar("T")
log = logging.getLogger("netreason.api")

_CURRENT: contextvars.ContextVar[WorkPool | None] = contextvars.ContextVar("netreason_work_pool", default=None)
_BUDGET: contextvars.ContextVar[CpuBudget | None] = contextvars.ContextVar("netreason_cpu_budget", default=None)
_ENTRY: contextvars.ContextVar[Entry | None] = contextvars.ContextVar("netreason_work_entry", default=None)
#: How often a running step's CPU clock is read once its budget could be spent (never busier than this).
MIN_CHECK_INTERVAL_S = 0.05
#: Seconds without an admitted request before freed memory is returned to the OS (a new request cancels it).
IDLE_RELEASE_S = 0.5


class Saturated(ApiProblem):
    """503: every slot is taken and the queue is full."""

    def __init__(self, retry_after_s: int, active: int, queued: int) -> None:
        super().__init__(503, "busy", "Server busy",
                         f"{active} analyses are running and {queued} waiting, the most this server takes "
                         f"(NETREASON_MAX_ACTIVE_ANALYSES, NETREASON_MAX_QUEUED_ANALYSES); retry after "
                         f"{retry_after_s}s", headers={"Retry-After": str(retry_after_s)})


class CpuBudgetExceeded(ApiProblem):
    """422: the request's work used more CPU time than NETREASON_MAX_REQUEST_CPU_S allows."""

    def __init__(self, spent_s: float, limit_s: float) -> None:
        super().__init__(422, "cpu-budget-exceeded", "CPU budget exceeded",
                         f"the request used {spent_s:.2f} CPU seconds, over the {limit_s:g} one request may use "
                         "(NETREASON_MAX_REQUEST_CPU_S); its work was stopped and nothing was stored; analyze "
                         "fewer namespaces at a time")


@dataclass
class CpuBudget:
    """The CPU seconds one admitted request may still spend on the pool."""

    limit_s: float
    spent_s: float = 0.0
    exceeded: bool = False

    def check(self) -> None:
        """Raises:
            CpuBudgetExceeded: the budget is spent (and stays spent: nothing more runs for the request).
        """
        if self.exceeded or self.spent_s > self.limit_s:
            self.exceeded = True
            raise CpuBudgetExceeded(self.spent_s, self.limit_s)


class _Step:
    """One call on a pool thread: which thread, and its CPU clock when the call started and ended."""

    def __init__(self) -> None:
        self.thread: int | None = None
        self.start = 0.0
        self.cpu: float | None = None  # set when the call returns or raises

    def run(self, ctx: contextvars.Context, fn: Callable[..., T], args: Any, kwargs: Any) -> T:
        self.thread, self.start = threading.get_ident(), time.thread_time()
        try:
            return ctx.run(fn, *args, **kwargs)
        finally:
            self.cpu = time.thread_time() - self.start

    def used(self) -> float:
        """CPU seconds so far, read from the running thread's own clock (0 before it starts)."""
        if self.cpu is not None:
            return self.cpu
        if self.thread is None:
            return 0.0
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(self.thread)) - self.start
        except (OSError, AttributeError):  # no per-thread clocks here: nothing to measure it by
            return 0.0


@dataclass
class Entry:
    """A request let in at the edge (`WorkPool.entry`), counted until its route takes its place in `admit`
    or it leaves without (`leave`)."""

    pool: WorkPool
    counted: bool = True

    def take(self) -> bool:
        """Hand the place over to `admit`; False when it was already given back or handed over."""
        counted, self.counted = self.counted, False
        if counted:
            self.pool.entering -= 1
        return counted

    def leave(self) -> None:
        """Give the place back (a request that answers without reaching `admit`: 401, 422, ...)."""
        self.take()


class WorkPool:
    """Slots for analysis-sized requests and the threads their CPU work runs on."""

    def __init__(self, *, threads: int, max_active: int, max_queued: int, retry_after_s: int = 2,
                 max_cpu_s: float | None = None) -> None:
        self.max_active, self.max_queued, self.retry_after_s = max_active, max_queued, retry_after_s
        self.max_cpu_s = max_cpu_s
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="netreason-work")
        self._slots = asyncio.Semaphore(max_active)
        self.active = 0
        self.queued = 0
        #: Requests let in by `entry` whose route has not reached `admit` yet (their body is being read).
        self.entering = 0
        self._release: asyncio.TimerHandle | None = None
        #: Times freed memory was returned to the OS (`_release_memory`), for tests and curiosity.
        self.releases = 0

    @property
    def saturated(self) -> bool:
        """Every slot taken and the queue full, counting the requests on their way in: `admit` would refuse."""
        return self.active + self.queued + self.entering >= self.max_active + self.max_queued

    def refusal(self) -> Saturated:
        return Saturated(self.retry_after_s, self.active, self.queued + self.entering)

    @contextmanager
    def entry(self) -> Iterator[Entry]:
        """Count the request from here (the edge of the app, before its body is read) as one waiting for a
        slot; the `admit` it reaches inside the block takes its place without counting it again, else the
        place is given back when the block ends (or earlier, with `Entry.leave`). Enter it only when the
        pool is not `saturated` (and with no await between the two: nothing else runs meanwhile).
        """
        entry = Entry(self)
        self.entering += 1
        token = _ENTRY.set(entry)
        try:
            yield entry
        finally:
            _ENTRY.reset(token)
            entry.leave()

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold a slot for the block; `offload` inside it runs on this pool.

        Raises:
            Saturated: every slot is taken and NETREASON_MAX_QUEUED_ANALYSES requests already wait.
        """
        entry = _ENTRY.get()
        # A request counted since the edge keeps the place it was given there.
        if not (entry is not None and entry.pool is self and entry.take()) and self.saturated:
            raise self.refusal()
        if self._release is not None:
            self._release.cancel()
            self._release = None
        self.queued += 1
        try:
            await self._slots.acquire()
        finally:
            self.queued -= 1
        self.active += 1
        token = _CURRENT.set(self)
        budget = _BUDGET.set(CpuBudget(self.max_cpu_s) if self.max_cpu_s is not None else None)
        try:
            with use_executor(self._executor):  # the pipeline's own CPU steps too (`service.cpu`)
                yield
        finally:
            _BUDGET.reset(budget)
            _CURRENT.reset(token)
            self.active -= 1
            self._slots.release()
            if self.active == 0 and self.queued == 0:
                self._release = asyncio.get_running_loop().call_later(IDLE_RELEASE_S, self._release_memory)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on one of the pool's threads, within the admitted request's CPU budget.

        Raises:
            CpuBudgetExceeded: the budget was spent before, during or by this call (a running call is
                abandoned: its result is dropped).
        """
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        budget, step = _BUDGET.get(), _Step()
        if budget is not None:
            budget.check()
        future = loop.run_in_executor(self._executor, step.run, ctx, fn, args, kwargs)
        if budget is None:
            return await future
        return await _within(budget, step, future)

    def _release_memory(self) -> asyncio.Future[bool]:
        self._release = None
        idle = self.active == 0 and self.queued == 0 and self.entering == 0
        future = asyncio.get_running_loop().run_in_executor(self._executor, partial(release_memory, idle=idle))
        future.add_done_callback(self._released)
        return future

    def _released(self, future: asyncio.Future[bool]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.releases += 1

    async def collect_every(self, interval_s: float) -> None:
        """Collect and return freed memory every `interval_s` seconds, busy or not (run it as a task): the
        collector's own full collections are off in the server (`memtrim.server_heap`), and a server that is
        never idle must still collect its reference cycles."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self._release_memory()
            except Exception:  # one failed round must not end the schedule
                log.exception("returning freed memory failed")

    def shutdown(self) -> None:
        """Stop the threads (queued work is cancelled; running work finishes on its own)."""
        if self._release is not None:
            self._release.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _within(budget: CpuBudget, step: _Step, future: asyncio.Future[T]) -> T:
    """`future`'s result, unless the step's CPU time takes `budget` over its limit first."""
    while True:
        wait = max(budget.limit_s - budget.spent_s - step.used(), MIN_CHECK_INTERVAL_S)
        await asyncio.wait({future}, timeout=wait)
        if future.done():
            budget.spent_s += step.used()
            budget.check()
            return future.result()
        if budget.spent_s + step.used() > budget.limit_s:
            budget.spent_s += step.used()
            # Abandoned: the thread finishes the step on its own; its result (or error) is dropped.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
            budget.check()

async def offload(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run CPU work off the event loop: on the admitted request's pool, else on Starlette's threads."""
    pool = _CURRENT.get()
    if pool is None:
        return await run_in_threadpool(fn, *args, **kwargs)
    return await pool.run(fn, *args, **kwargs)
