"""Where the pipeline's CPU work runs off the event loop: the caller's executor, else the loop's default.

The pipeline (shared by the CLI and the service) hands its CPU-heavy steps (rendering the brief,
planning slices, checking claims) to `run_cpu`. The service sets `use_executor` to its work pool's
threads for each admitted request, so every CPU-bound thread of an analysis is one of the pool's
NETREASON_WORK_THREADS: more threads competing for the GIL would starve the event loop, and with it
`/healthz` and `/readyz`. The CLI sets nothing and gets `asyncio.to_thread`'s behaviour.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_EXECUTOR: contextvars.ContextVar[Executor | None] = contextvars.ContextVar("netreason_cpu_executor", default=None)


async def run_cpu(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on the current executor (as `asyncio.to_thread` does: in a copy of the context)."""
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_EXECUTOR.get(), call)


@contextmanager
def use_executor(executor: Executor) -> Iterator[None]:
    """Within the block (and tasks it starts), `run_cpu` runs on `executor`."""
    token = _EXECUTOR.set(executor)
    try:
        yield
    finally:
        _EXECUTOR.reset(token)
