"""Retries with exponential backoff and jitter, honouring `Retry-After`, plus per-call timing.

The SDKs' own retries are switched off (`max_retries=0`) so this module is the only place that retries:
one policy for every provider, and tests can drive it with an injected `sleep` and `clock`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, UTC
from typing import TypeVar

from .base import ProviderReply
from .errors import ProviderError, ProviderRateLimited, ProviderTimeout

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry transient failures (429, 5xx, connection errors).

    The wait before retry n (1-based) is `base_delay_s * 2**(n-1)`, capped at `max_delay_s`, then scaled by a
    random factor in [1 - jitter, 1]. A `Retry-After` hint replaces that wait when present, capped at
    `max_retry_after_s` so one server cannot park a request for an hour.
    Timeouts are not retried unless `retry_timeouts` is set: a timeout has already spent the caller's budget.
    """

    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    jitter: float = 0.5
    max_retry_after_s: float = 30.0
    retry_timeouts: bool = False

    def backoff_s(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """Return the jittered exponential wait before retry number `retry` (1-based)."""
        raw = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry - 1))
        return raw * (1.0 - self.jitter * rng())

    def wait_s(self, error: ProviderError, retry: int) -> float:
        """Return how long to wait after `error` before retry number `retry`."""
        if isinstance(error, ProviderRateLimited) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_retry_after_s)
        return self.backoff_s(retry)

    def should_retry(self, error: ProviderError, attempt: int) -> bool:
        """Whether to send attempt `attempt + 1` after `error` ended attempt `attempt`."""
        if attempt >= self.max_attempts:
            return False
        return error.retryable or (self.retry_timeouts and isinstance(error, ProviderTimeout))


@dataclass
class AttemptLog:
    """What `call_with_retries` observed: attempts sent and the waits between them (seconds)."""

    attempts: int = 0
    waits_s: list[float] = field(default_factory=list)


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    log: AttemptLog | None = None,
) -> T:
    """Await `attempt()` until it succeeds or `policy` says stop; record attempts and waits in `log`.

    Raises:
        ProviderError: the last attempt's error once retries are exhausted or the error is not retryable.
    """
    log = log if log is not None else AttemptLog()
    while True:
        log.attempts += 1
        try:
            return await attempt()
        except ProviderError as error:
            if not policy.should_retry(error, log.attempts):
                raise
            wait = policy.wait_s(error, log.attempts)
            log.waits_s.append(wait)
            await sleep(wait)


def parse_retry_after(headers: Mapping[str, str], now: Callable[[], datetime] | None = None) -> float | None:
    """Return the server's retry hint in seconds from `retry-after-ms` or `Retry-After`, or None.

    RFC 9110 §10.2.3: "Retry-After = HTTP-date / delay-seconds". OpenAI also sends the non-standard
    `retry-after-ms`, which is more precise. A date in the past means "now" (0 seconds).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = _as_float(lowered.get("retry-after-ms"))
    if millis is not None:
        return max(millis / 1000.0, 0.0)
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _as_float(value)
    if seconds is not None:
        return max(seconds, 0.0)
    return _seconds_until_http_date(value, now or (lambda: datetime.now(UTC)))


def _as_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _seconds_until_http_date(value: str, now: Callable[[], datetime]) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # RFC 9110 §5.6.7: HTTP-date is always GMT.
        when = when.replace(tzinfo=UTC)
    return max((when - now()).total_seconds(), 0.0)


class Stopwatch:
    """Wall-clock milliseconds since construction, from an injectable monotonic clock."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()

    def elapsed_ms(self) -> float:
        """Milliseconds elapsed since this stopwatch was created."""
        return (self._clock() - self._start) * 1000.0


async def timed_with_retries(
    attempt: Callable[[AttemptLog], Awaitable[ProviderReply]],
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
) -> ProviderReply:
    """Run `attempt` under `policy` and stamp the reply with total latency and the number of requests sent.

    `attempt` receives the call's `AttemptLog` so a provider that sends an extra request inside one attempt
    (the OpenAI-compatible response-format fallback) can count it.

    Raises:
        ProviderError: as `call_with_retries`.
    """
    watch = Stopwatch(clock)
    log = AttemptLog()
    reply = await call_with_retries(lambda: attempt(log), policy, sleep, log)
    return dataclasses.replace(reply, latency_ms=watch.elapsed_ms(), attempts=log.attempts)
