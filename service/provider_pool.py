"""The service's provider clients: built once per allowed spec, bounded, closed when evicted.

Each provider holds an SDK client with an HTTP connection pool (open sockets, ~1 MB). A cache keyed by
whatever spec a request names grows without bound; this one keeps at most `max_size` providers, least
recently used out first, and closes an evicted one as soon as no request still uses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from .providers.base import Provider
from .providers.registry import get_provider
from .providers.specs import display_spec

log = logging.getLogger("netreason.api")

DEFAULT_MAX_PROVIDERS = 8


@dataclass
class _Entry:
    provider: Provider
    users: int = 0
    evicted: bool = False


class ProviderPool:
    """An LRU of providers by spec, leased per request (`async with pool.lease(spec) as provider`)."""

    def __init__(self, max_size: int = DEFAULT_MAX_PROVIDERS,
                 factory: Callable[[str], Provider] = get_provider) -> None:
        self.max_size = max(1, max_size)
        self._factory = factory
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def lease(self, spec: str) -> AsyncIterator[Provider]:
        """The provider for `spec`, built on first use.

        Raises:
            ProviderConfigError: the spec is malformed, unknown, or its API key is missing.
        """
        entry = self._entries.get(spec)
        if entry is None:
            # Building one imports its SDK the first time (`openai` takes a second or more): on a thread, so
            # the event loop, and /healthz with it, never waits for an import.
            provider = await asyncio.to_thread(self._factory, spec)
            entry = self._entries.get(spec)
            if entry is None:
                entry = _Entry(provider)
                self._entries[spec] = entry
            else:  # another request built it meanwhile
                await _close(spec, _Entry(provider))
        self._entries.move_to_end(spec)
        entry.users += 1
        await self._evict_over_limit()
        try:
            yield entry.provider
        finally:
            entry.users -= 1
            if entry.evicted and entry.users == 0:
                await _close(spec, entry)

    async def _evict_over_limit(self) -> None:
        while len(self._entries) > self.max_size:
            spec, entry = self._entries.popitem(last=False)
            entry.evicted = True  # still leased: closed when its last user is done
            if entry.users == 0:
                await _close(spec, entry)

    async def aclose(self) -> None:
        """Close every provider (at shutdown)."""
        while self._entries:
            spec, entry = self._entries.popitem(last=False)
            await _close(spec, entry)


async def _close(spec: str, entry: _Entry) -> None:
    close = getattr(entry.provider, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except Exception as e:
        log.warning("closing the provider for %s failed: %s", display_spec(spec), type(e).__name__)
