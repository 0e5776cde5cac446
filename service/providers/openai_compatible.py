"""Any server speaking OpenAI Chat Completions (Ollama, vLLM, LM Studio), by base URL, usually with no key.

Local servers differ in which `response_format` they accept. The provider starts with a JSON-schema
response format and, when the server answers 400/422 naming `response_format`, steps down to JSON mode
(`{"type": "json_object"}`) and then to no response_format (the schema is then spelled out in the system
text). The step it settles on is remembered, so later calls don't repeat the rejected request.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from openai import Omit

from .base import ProviderReply, ProviderRequest
from .errors import ProviderConfigError, ProviderRequestRejected
from .openai_chat import FORMATS, OpenAIChatProvider
from .retry import AttemptLog, Clock, RetryPolicy, Sleep


class OpenAICompatibleProvider(OpenAIChatProvider):
    """A model behind an OpenAI-compatible endpoint (`openai-compatible:BASE_URL#MODEL`).

    OPENAI_API_KEY is deliberately not read: a local server must not receive the OpenAI key. Without
    `api_key` no Authorization header is sent at all.
    """

    provider_name = "openai-compatible"

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        if not base_url:
            raise ProviderConfigError(
                "an OpenAI-compatible provider needs a base URL, e.g. "
                "'openai-compatible:http://localhost:11434/v1#llama3.1'",
                provider=self.provider_name,
            )
        self._has_key = bool(api_key)
        # The SDK refuses to build a client without some key; the placeholder is never sent (see below).
        super().__init__(
            model, api_key=api_key or "no-key", base_url=base_url, retry=retry, sleep=sleep, clock=clock
        )
        self._format_floor = 0  # index into FORMATS of the most constrained format the server accepted

    async def _attempt(self, request: ProviderRequest, log: AttemptLog) -> ProviderReply:
        if request.json_schema is None:
            return await self._send(request, "none")
        while True:
            step = self._format_floor
            try:
                return await self._send(request, FORMATS[step])
            except ProviderRequestRejected as rejected:
                if FORMATS[step] == "none" or not _rejects_response_format(rejected):
                    raise
                # Another request goes out within this attempt; count it.
                self._format_floor = max(self._format_floor, step + 1)
                log.attempts += 1

    def _request_headers(self) -> dict[str, Any]:
        # Omit() removes the header the SDK would build from the placeholder key.
        return {} if self._has_key else {"Authorization": Omit()}

    def _token_limit(self, request: ProviderRequest) -> dict[str, int]:
        # Local servers know the classic name; several ignore `max_completion_tokens`.
        return {"max_tokens": request.max_tokens}

    @property
    def response_format(self) -> str:
        """The response format currently used for schema requests: json_schema, json_object or none."""
        return FORMATS[self._format_floor]


def _rejects_response_format(error: ProviderRequestRejected) -> bool:
    return error.status in (400, 422) and "response_format" in error.detail.lower()
