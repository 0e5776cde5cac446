"""OpenAI through the official `openai` SDK: Chat Completions with a strict JSON-schema response format.

`OpenAICompatibleProvider` (openai_compatible.py) reuses this transport for Ollama, vLLM and LM Studio.
SDK types stay in these two files; everything leaving them is a `ProviderReply` or a `ProviderError`.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import openai

from .base import ProviderReply, ProviderRequest, Usage, system_with_schema, tool_name
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
from .structured import parse_json_object

#: Response formats from most to least constrained; "none" sends no response_format at all.
FORMATS = ("json_schema", "json_object", "none")

# Reasoning models accept only their default temperature and reject any other value with a 400.
_FIXED_TEMPERATURE_PREFIXES = ("o1", "o3", "o4", "gpt-5")


class OpenAIChatProvider:
    """A model served by the OpenAI API (`openai:MODEL`).

    The key comes from `api_key` or OPENAI_API_KEY, the base URL from `base_url` or OPENAI_BASE_URL.
    The SDK's own retries are off; `retry` governs every retry.
    """

    provider_name = "openai"

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.model = model
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or ""
        if not self._api_key:
            raise MissingApiKey(self.provider_name, "OPENAI_API_KEY")
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._clients = LoopBoundClient(
            lambda: openai.AsyncOpenAI(api_key=self._api_key, base_url=self.base_url, max_retries=0))

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """Send `request` to Chat Completions; see `Provider.complete`.

        Raises:
            ProviderError: the mapped SDK failure once retries are exhausted.
        """
        return await timed_with_retries(lambda log: self._attempt(request, log), self._retry, self._sleep, self._clock)

    async def _attempt(self, request: ProviderRequest, log: AttemptLog) -> ProviderReply:
        return await self._send(request, "json_schema" if request.json_schema is not None else "none")

    async def _send(self, request: ProviderRequest, response_format: str) -> ProviderReply:
        try:
            completion = await self._client_once().chat.completions.create(
                **self._params(request, response_format), timeout=request.timeout_s
            )
        except openai.OpenAIError as exc:
            raise map_openai_error(exc, self.provider_name) from exc
        except MALFORMED_BODY_ERRORS as exc:
            # The SDK parses the body itself: a 200 that is not JSON (an HTML error page, an empty body)
            # raises from inside it, outside its own error types.
            raise malformed_reply(exc, self.provider_name) from exc
        try:
            return self._reply(completion)
        except MALFORMED_BODY_ERRORS as exc:
            raise malformed_reply(exc, self.provider_name) from exc

    def _client_once(self) -> openai.AsyncOpenAI:
        return self._clients.get()

    async def aclose(self) -> None:
        """Close the SDK client's connections (optional; they are also dropped with the provider)."""
        await self._clients.aclose()

    def _request_headers(self) -> dict[str, Any]:
        return {}

    def _params(self, request: ProviderRequest, response_format: str) -> dict[str, Any]:
        system = request.system if response_format == "json_schema" else system_with_schema(request)
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}]
            + [{"role": m.role, "content": m.content} for m in request.messages],
            **self._token_limit(request),
        }
        if request.temperature is not None and not self.model.startswith(_FIXED_TEMPERATURE_PREFIXES):
            params["temperature"] = request.temperature
        if response_format != "none":
            params["response_format"] = _response_format(request, response_format)
        if headers := self._request_headers():
            params["extra_headers"] = headers
        return params

    def _token_limit(self, request: ProviderRequest) -> dict[str, int]:
        # The OpenAI API deprecated `max_tokens` for `max_completion_tokens`; reasoning models reject the old name.
        return {"max_completion_tokens": request.max_tokens}

    def _reply(self, completion: Any) -> ProviderReply:
        message = completion.choices[0].message if completion.choices else None
        text = (message.content or message.refusal or "") if message is not None else ""
        if not isinstance(text, str):
            raise TypeError(f"message content is a {type(text).__name__}, not text")
        usage = completion.usage
        return ProviderReply(
            text=text,
            data=parse_json_object(text),
            model=completion.model or self.model,
            provider=self.provider_name,
            usage=Usage(
                (usage.prompt_tokens or 0) if usage else 0,
                (usage.completion_tokens or 0) if usage else 0,
            ),
        )


def _response_format(request: ProviderRequest, kind: str) -> dict[str, Any]:
    if kind == "json_object":
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {
            "name": tool_name(request),
            "schema": dict(request.json_schema or {}),
            "strict": request.strict_schema,
        },
    }


def map_openai_error(exc: Exception, provider: str) -> ProviderError:
    """Translate an `openai` SDK exception into the matching `ProviderError` subclass."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout("no answer before the request timeout", provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderUnavailable(f"cannot connect: {exc}", provider=provider)
    if isinstance(exc, openai.APIStatusError):
        return _map_status(exc, provider)
    return ProviderConfigError(str(exc), provider=provider)


def _map_status(exc: openai.APIStatusError, provider: str) -> ProviderError:
    status, message = exc.status_code, _error_message(exc)
    if status == 429 and exc.code == "insufficient_quota":
        quota = f"quota exhausted, check the account's billing: {message}"
        return ProviderConfigError(quota, provider=provider, status=status)
    if status == 429:
        retry_after = parse_retry_after(dict(exc.response.headers))
        return ProviderRateLimited(message, retry_after=retry_after, provider=provider)
    if status in (401, 403):
        return ProviderAuthError(f"key refused (HTTP {status}): {message}", provider=provider, status=status)
    # 408 and 409 are transient on OpenAI's side; the SDK retries them too.
    if status >= 500 or status in (408, 409):
        return ProviderUnavailable(f"HTTP {status}: {message}", provider=provider, status=status)
    return ProviderRequestRejected(f"HTTP {status}: {message}", provider=provider, status=status)


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return exc.message
