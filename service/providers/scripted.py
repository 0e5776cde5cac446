"""A provider that answers from a script, for demos and tests (inspect's `mockllm`).

Replies come from a queue (a dict is an answer, a str is raw text, a `ProviderError` is raised) and,
once the queue is empty, from an optional `responder(request)`. Every reply is labelled `simulated=True`.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .base import ProviderReply, ProviderRequest, Usage
from .errors import ProviderConfigError, ProviderError
from .retry import Stopwatch
from .structured import parse_json_object

ScriptedAnswer = Mapping[str, Any] | str
ScriptedItem = Mapping[str, Any] | str | ProviderError
Responder = Callable[[ProviderRequest], ScriptedAnswer]


class ScriptedProvider:
    """Answers from `replies` in order, then from `responder`; records every request in `requests`."""

    provider_name = "scripted"

    def __init__(
        self,
        replies: Iterable[ScriptedItem] = (),
        *,
        responder: Responder | None = None,
        model: str = "script",
        provider_name: str = "scripted",
    ) -> None:
        self._queue: deque[ScriptedItem] = deque(replies)
        self._responder = responder
        self.model = model
        self.provider_name = provider_name
        self.requests: list[ProviderRequest] = []

    def push(self, *replies: ScriptedItem) -> None:
        """Append `replies` to the queue."""
        self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """How many queued replies have not been served yet."""
        return len(self._queue)

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """Return the next scripted reply for `request`.

        Raises:
            ProviderError: a queued error, or ProviderConfigError when the script has run out.
        """
        watch = Stopwatch(time.monotonic)
        self.requests.append(request)
        item = self._next(request)
        if isinstance(item, ProviderError):
            raise item
        text = item if isinstance(item, str) else json.dumps(dict(item))
        return ProviderReply(
            text=text,
            data=parse_json_object(text),
            model=self.model,
            provider=self.provider_name,
            usage=Usage(_rough_tokens(request), _rough_tokens_of(text)),
            latency_ms=watch.elapsed_ms(),
            simulated=True,
        )

    def _next(self, request: ProviderRequest) -> ScriptedItem:
        if self._queue:
            return self._queue.popleft()
        if self._responder is not None:
            return self._responder(request)
        raise ProviderConfigError(
            f"scripted provider {self.model!r} has no replies left after {len(self.requests) - 1} request(s); "
            "queue more with push() or give it a responder",
            provider=self.provider_name,
        )


def _rough_tokens(request: ProviderRequest) -> int:
    return _rough_tokens_of(request.system) + sum(_rough_tokens_of(m.content) for m in request.messages)


def _rough_tokens_of(text: str) -> int:
    # About four characters per token for English text; only used to make simulated usage non-zero.
    return (len(text) + 3) // 4
