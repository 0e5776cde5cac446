"""What every SDK-backed provider shares: the key and base URL, one SDK client per event loop, the retry
loop, and the translation of SDK failures and HTTP statuses into `ProviderError`s.

A provider on top of an official SDK subclasses `SdkProvider` and writes only what is its own: how to build
the client (`_make_client`), one attempt (`_attempt`, sending through `_call`), how its SDK's exceptions
map (`map_error`, usually one `map_sdk_error` call) and how its reply reads. SDK types stay in the
subclass's file; everything leaving it is a `ProviderReply` or a `ProviderError`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from .base import ProviderReply, ProviderRequest
from .errors import (
    MALFORMED_BODY_ERRORS,
    MissingApiKey,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderRateLimited,
    ProviderRequestRejected,
    ProviderTimeout,
    ProviderUnavailable,
    malformed_reply,
)
from .loopclient import LoopBoundClient
from .retry import AttemptLog, Clock, RetryPolicy, Sleep, parse_retry_after, timed_with_retries

T = TypeVar("T")


class SdkProvider:
    """Base of the SDK-backed providers. The SDK's own retries must be off (`max_retries=0`): `retry`
    governs every retry, once, here."""

    provider_name = "sdk"
    #: The environment variables read when no `api_key` / `base_url` is passed.
    key_env = ""
    base_url_env = ""

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 retry: RetryPolicy | None = None, sleep: Sleep = asyncio.sleep, clock: Clock = time.monotonic) -> None:
        self.model = model
        self._api_key = api_key or os.environ.get(self.key_env) or ""
        if not self._api_key:
            raise MissingApiKey(self.provider_name, self.key_env)
        self.base_url = base_url or os.environ.get(self.base_url_env) or None
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._clients = LoopBoundClient(self._make_client)

    # -- what a subclass writes --------------------------------------------------------------------------
    def _make_client(self) -> Any:
        """A new SDK client for the running event loop (with `max_retries=0`)."""
        raise NotImplementedError

    async def _attempt(self, request: ProviderRequest, log: AttemptLog) -> ProviderReply:
        """One attempt (the retry loop calls it again on a retryable `ProviderError`)."""
        raise NotImplementedError

    def map_error(self, exc: Exception) -> ProviderError:
        """The `ProviderError` for one of the SDK's own exceptions."""
        raise NotImplementedError

    #: The SDK's base exception class, whose instances `map_error` translates.
    sdk_error: type[Exception] = Exception

    # -- shared ------------------------------------------------------------------------------------------
    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """Send `request` to the model; see `Provider.complete`.

        Raises:
            ProviderError: the mapped SDK failure once retries are exhausted.
        """
        return await timed_with_retries(lambda log: self._attempt(request, log), self._retry, self._sleep, self._clock)

    async def _call(self, send: Callable[[], Awaitable[T]], read: Callable[[T], ProviderReply]) -> ProviderReply:
        """`read(await send())`, every failure a `ProviderError`: the SDK's own mapped by `map_error`, and a
        body that is not what the SDK promised (an HTML error page, an empty body, a missing field)
        reported as a malformed reply."""
        try:
            response = await send()
        except self.sdk_error as exc:
            raise self.map_error(exc) from exc
        except MALFORMED_BODY_ERRORS as exc:
            # The SDK parses the body itself: a 200 that is not JSON raises from inside it, outside its types.
            raise malformed_reply(exc, self.provider_name) from exc
        try:
            return read(response)
        except MALFORMED_BODY_ERRORS as exc:
            raise malformed_reply(exc, self.provider_name) from exc

    def _client_once(self) -> Any:
        return self._clients.get()

    async def aclose(self) -> None:
        """Close the SDK client's connections (optional; they are also dropped with the provider)."""
        await self._clients.aclose()


def map_sdk_error(exc: Exception, provider: str, *, timeout: type[Exception], connection: type[Exception],
                  status: type[Exception], on_status: Callable[[Any], ProviderError]) -> ProviderError:
    """The usual SDK shape (a timeout, a connection error, an HTTP status error) as `ProviderError`s."""
    if isinstance(exc, timeout):  # before `connection`: SDKs derive their timeout error from it
        return ProviderTimeout("no answer before the request timeout", provider=provider)
    if isinstance(exc, connection):
        return ProviderUnavailable(f"cannot connect: {exc}", provider=provider)
    if isinstance(exc, status):
        return on_status(exc)
    return ProviderConfigError(str(exc), provider=provider)


def map_http_status(status: int, message: str, headers: Mapping[str, str], provider: str) -> ProviderError:
    """An HTTP error status as a `ProviderError`: 429 rate limited (with Retry-After), 401/403 a refused key,
    5xx and the transient 408/409 unavailable (retried), any other 4xx a rejected request (not retried)."""
    if status == 429:
        return ProviderRateLimited(message, retry_after=parse_retry_after(dict(headers)), provider=provider)
    if status in (401, 403):
        return ProviderAuthError(f"key refused (HTTP {status}): {message}", provider=provider, status=status)
    if status >= 500 or status in (408, 409):  # Anthropic's 529 "overloaded" is in the 5xx
        return ProviderUnavailable(f"HTTP {status}: {message}", provider=provider, status=status)
    return ProviderRequestRejected(f"HTTP {status}: {message}", provider=provider, status=status)
