"""An SDK client that belongs to the event loop it was built on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar


class _Closable(Protocol):
    def close(self) -> Awaitable[None]: ...


C = TypeVar("C", bound=_Closable)


class LoopBoundClient(Generic[C]):
    """Builds the client lazily, and again per event loop.

    The SDKs' connection pools belong to the loop that opened them, and a CLI may run
    several `asyncio.run` calls with one provider.
    """

    def __init__(self, factory: Callable[[], C]) -> None:
        self._factory = factory
        self._client: C | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> C:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = self._factory()
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the client's connections (optional; they are also dropped with the provider)."""
        if self._client is not None:
            await self._client.close()
            self._client = None
