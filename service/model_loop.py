"""The server's model calls, on an event loop of their own in a thread of its own.

A model call through an SDK costs its event loop milliseconds of CPU per request: the SDK builds the request
(parameter transforms, JSON encoding), its connection pool checks every pooled connection (a system call
each), and while the work pool's threads are busy each system call then waits its turn for the GIL. During a
burst of 200 `/v1/analyze` (`benchmarks/bench_load.py`) that was about 40% of the server loop's busy time,
in steps of 20-30 ms that `/healthz` and `/readyz` waited behind. On this loop they delay no probe and no
response: the server's loop only waits for the reply.

Only `complete` and `aclose` cross over (the `Provider` seam); the SDK clients are built and used on this
loop alone (`providers.loopclient`), so every provider the server leases goes through `OffLoopProvider`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .providers.base import Provider, ProviderReply, ProviderRequest

T = TypeVar("T")


class ModelLoop:
    """An event loop running in the thread `netreason-models` until `close`."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="netreason-models", daemon=True)
        self._thread.start()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """`await coro` on this loop. Cancelling the caller cancels it there too."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the loop (calls still running there are dropped) and release it."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self._loop.close()


class OffLoopProvider:
    """`inner`, with its calls made on `loop`; anything else is read from `inner`."""

    def __init__(self, inner: Provider, loop: ModelLoop) -> None:
        self._inner = inner
        self._loop = loop

    @property
    def name(self) -> str:
        """What a model run is labelled with when no spec is given (as the pipeline reads it from `inner`)."""
        return str(getattr(self._inner, "name", type(self._inner).__name__))

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """`inner.complete(request)` on the model loop.

        Raises:
            ProviderError: as `inner` raises it.
        """
        return await self._loop.run(self._inner.complete(request))

    async def aclose(self) -> None:
        """Close `inner`'s connections, on the loop they were opened on."""
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await self._loop.run(close())

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)
